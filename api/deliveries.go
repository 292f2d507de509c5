package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"handoff/evidence"
	"handoff/store"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// Account deliveries: the marketplace starts a delivery with its handoff
// record, attaches the delivery evidence and hands the account over; the
// buyer confirms or reports a problem; support waits on the buyer, extends
// the warranty or retires the delivery. Each action is a Workflow Update
// of delivery/<id>, answered with the delivery view.

type (
	// resetByName is who can reset a delivered account, from the
	// workflow's own list.
	resetByName string
	// durationText is a duration as Go writes it: 336h, 90m, 1h30m.
	durationText string
)

// Schema lists who can reset an account.
func (resetByName) Schema(huma.Registry) *huma.Schema { return enumSchema(deliveries.ResetByValues) }

// Schema documents a Go duration: a sequence of numbers with units h, m, s.
func (durationText) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: "string", Pattern: durationPattern, Examples: []any{"336h"},
		Description: "A duration as Go writes it: hours, minutes and seconds (336h is 14 days, 1h30m an hour and a half)."}
}

// durationPattern is what time.ParseDuration reads, without a sign.
const durationPattern = `^([0-9]+(\.[0-9]+)?(h|m|s|ms|us|µs|ns))+$`

// maxWarranty bounds a warranty set at start: a year, so that a typo of a
// digit does not protect a delivery for a decade.
const maxWarranty = 365 * 24 * time.Hour

// parse answers d as a positive duration of at most max (none when max is
// 0), or the problem naming field.
func (d durationText) parse(field string, max time.Duration) (time.Duration, error) {
	v, err := time.ParseDuration(string(d))
	switch {
	case err != nil:
		return 0, newProblem(http.StatusUnprocessableEntity, "some fields are missing or invalid",
			fieldProblem{Field: field, Message: "want a duration such as 336h"})
	case v <= 0:
		return 0, newProblem(http.StatusUnprocessableEntity, "some fields are missing or invalid",
			fieldProblem{Field: field, Message: "must be positive"})
	case max > 0 && v > max:
		return 0, newProblem(http.StatusUnprocessableEntity, "some fields are missing or invalid",
			fieldProblem{Field: field, Message: "at most " + strconv.Itoa(int(max/time.Hour)) + "h"})
	}
	return v, nil
}

// The start body's fields are optional to huma, which only bounds their
// length and checks the values of its enums: the Starter checks every
// handoff field and names each one missing or malformed in one 422, so
// the integrator fixes them in one go.

type buyerBody struct {
	ID     string     `json:"id,omitempty" maxLength:"100" doc:"Required: the marketplace's customer id of the buyer."`
	Email  string     `json:"email,omitempty" maxLength:"254" doc:"Required: where the buyer is written to."`
	Name   string     `json:"name,omitempty" maxLength:"200"`
	Locale localeName `json:"locale,omitempty" doc:"Required: the language the buyer is written to in."`
}

type recoveryPathBody struct {
	Email           string      `json:"email,omitempty" maxLength:"254" doc:"The recovery email on file at the platform."`
	Phone           string      `json:"phone,omitempty" maxLength:"32" doc:"The recovery phone on file at the platform."`
	BackupCodesHeld bool        `json:"backup_codes_held,omitempty" doc:"The buyer was given the account's backup codes. One of email, phone or this is required."`
	ResetBy         resetByName `json:"reset_by,omitempty" doc:"Required: who can reset the account at the platform."`
	Instructions    string      `json:"instructions,omitempty" maxLength:"5000" doc:"How the buyer secures and recovers the account; sent with the delivery email."`
}

type startDeliveryBody struct {
	AccountID    string           `json:"account_id,omitempty" maxLength:"100" doc:"Required: the marketplace account handed over."`
	OrderID      string           `json:"order_id,omitempty" maxLength:"100" doc:"Required: the order that bought it."`
	Buyer        buyerBody        `json:"buyer,omitempty"`
	SellerID     string           `json:"seller_id,omitempty" maxLength:"100" doc:"Required."`
	Product      string           `json:"product,omitempty" maxLength:"200" doc:"Required: the product or platform; it picks the warranty."`
	AllowedUse   string           `json:"allowed_use,omitempty" maxLength:"2000" doc:"Required: what the buyer may do with the account."`
	RecoveryPath recoveryPathBody `json:"recovery_path,omitempty"`
	Region       string           `json:"region,omitempty" maxLength:"50" doc:"Required."`
	Warranty     durationText     `json:"warranty,omitempty" doc:"This delivery's warranty, at most 8760h (a year); absent takes the product's from the policy file."`
}

// TransformSchema says in the document why no field is required to huma.
func (startDeliveryBody) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	s.Description = "The delivery's handoff record. The fields marked required are checked together: " +
		"a 422 names every one missing or malformed at once."
	return s
}

type startDeliveryInput struct {
	IdempotencyParam
	Body startDeliveryBody
}

type deliveryOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     deliveries.DeliveryView
}

// startDelivery starts a delivery, ready to be delivered once its evidence
// is attached. With an Idempotency-Key the key (scoped to the API key)
// names the delivery: the same key and body answer the same delivery, the
// same key with another body is refused (409).
func (s *server) startDelivery(ctx context.Context, in *startDeliveryInput) (*deliveryOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	b := in.Body
	var warranty time.Duration
	if b.Warranty != "" {
		var err error
		if warranty, err = b.Warranty.parse("warranty", maxWarranty); err != nil {
			return nil, err
		}
	}
	who := callerFrom(ctx)
	fingerprint := fingerprintOf(b)
	starter := deliveries.Starter{Temporal: s.temporal, Policy: s.book.Deliveries(), TaskQueue: s.taskQueue}
	started, err := starter.Start(ctx, deliveries.StartRequest{
		AccountID: b.AccountID, OrderID: b.OrderID,
		Buyer:    vocab.Customer{ID: b.Buyer.ID, Email: b.Buyer.Email, Name: b.Buyer.Name, Locale: string(b.Buyer.Locale)},
		SellerID: b.SellerID, Product: b.Product, AllowedUse: b.AllowedUse,
		RecoveryPath: deliveries.RecoveryPath{Email: b.RecoveryPath.Email, Phone: b.RecoveryPath.Phone,
			BackupCodesHeld: b.RecoveryPath.BackupCodesHeld, ResetBy: string(b.RecoveryPath.ResetBy),
			Instructions: b.RecoveryPath.Instructions},
		Region: b.Region, Warranty: warranty, StartedBy: who.actor(),
	}, vocab.Once{
		Key: in.IdempotencyKey, KeyScope: strconv.FormatInt(who.KeyID, 10),
		Memo: map[string]any{requestIDMemo: fingerprint},
	})
	if err != nil {
		// No id: a refused start names no delivery that could be missing.
		return nil, s.deliveryError(ctx, "", err)
	}
	if in.IdempotencyKey != "" {
		if err := s.sameRequest(ctx, deliveries.DeliveryWorkflowID(started.ID), fingerprint); err != nil {
			return nil, err
		}
	}
	if in.IdempotencyKey == "" {
		// A new delivery: its first state is known from its input, so the
		// start is one round trip and no query (a billable action).
		if view, ok := deliveries.InitialView(started); ok {
			return &deliveryOutput{Status: http.StatusCreated, Location: "/v1/deliveries/" + started.ID, Body: view}, nil
		}
	}
	view, err := s.readDelivery(ctx, started.ID)
	if err != nil {
		return nil, err
	}
	// Like an update's answer; a replay answers as the first request did.
	view.Timeline = nil
	return &deliveryOutput{Status: http.StatusCreated, Location: "/v1/deliveries/" + started.ID, Body: view}, nil
}

// DeliveryIDParam is the delivery id in a path.
type DeliveryIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The delivery id."`
}

// getDelivery answers a delivery with its handoff record: from its
// workflow, with the timeline, while it runs; from the read model once it
// has ended.
func (s *server) getDelivery(ctx context.Context, in *DeliveryIDParam) (*deliveryOutput, error) {
	v, err := s.readDelivery(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &deliveryOutput{Status: http.StatusOK, Body: v}, nil
}

// readDelivery answers a delivery from its running workflow (so a write is
// seen at once), with its timeline, else from the read model.
func (s *server) readDelivery(ctx context.Context, id string) (deliveries.DeliveryView, error) {
	return readView(ctx, s, deliveries.DeliveryWorkflowID(id), deliveries.QueryDelivery, "delivery", id,
		s.store.GetDelivery, s.deliveryError)
}

// queryRunning runs query on the running workflow workflowID and decodes
// its answer into out: errNotRunning when the workflow has ended or never
// existed, bounded by queryTimeout.
func (s *server) queryRunning(ctx context.Context, workflowID, query string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	resp, err := s.temporal.QueryWorkflowWithOptions(ctx, &client.QueryWorkflowWithOptionsRequest{
		WorkflowID: workflowID, QueryType: query,
		QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN,
	})
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return errNotRunning
	case err != nil:
		return err
	case resp.QueryRejected != nil:
		return errNotRunning
	}
	if err := resp.QueryResult.Get(out); err != nil {
		return fmt.Errorf("decode %s of %s: %w", query, workflowID, err)
	}
	return nil
}

// actOnDelivery runs an update on a delivery: the Idempotency-Key, scoped
// to the caller's API key, becomes the update id, so a retry answers the
// first result without acting twice.
func (s *server) actOnDelivery(ctx context.Context, id, key, name string, arg any) (*deliveryOutput, error) {
	if err := checkBodyText(arg); err != nil {
		return nil, err
	}
	var v deliveries.DeliveryView
	if err := s.runUpdate(ctx, deliveries.DeliveryWorkflowID(id), name, scopedKey(ctx, key), arg, &v); err != nil {
		return nil, s.deliveryError(ctx, id, err)
	}
	return &deliveryOutput{Status: http.StatusOK, Body: v}, nil
}

// deliveryError maps what Temporal, the workflow and Postgres answered
// about delivery id to a problem, as caseError does for cases.
func (s *server) deliveryError(ctx context.Context, id string, err error) error {
	return s.workflowError(ctx, err, workflowRef{kind: "delivery", id: id, ended: "the delivery has ended",
		recorded: func(ctx context.Context) error { _, err := s.store.GetDelivery(ctx, id); return err }})
}

type deliveryNoteInput struct {
	DeliveryIDParam
	IdempotencyParam
	Body struct {
		Note string `json:"note,omitempty" maxLength:"2000" doc:"On the timeline."`
	}
}

// deliverAccount hands the account over; the delivery refuses (409)
// unless its delivery evidence is attached.
func (s *server) deliverAccount(ctx context.Context, in *deliveryNoteInput) (*deliveryOutput, error) {
	return s.actOnDelivery(ctx, in.ID, in.IdempotencyKey, deliveries.UpdateDeliver, deliveries.ActorInput{
		Actor: callerFrom(ctx).actor(), Note: in.Body.Note})
}

// confirmDelivery is the buyer's confirmation, relayed by the marketplace.
func (s *server) confirmDelivery(ctx context.Context, in *deliveryNoteInput) (*deliveryOutput, error) {
	return s.actOnDelivery(ctx, in.ID, in.IdempotencyKey, deliveries.UpdateConfirm, deliveries.ActorInput{
		Actor: callerFrom(ctx).actor(), Note: in.Body.Note})
}

type problemReportInput struct {
	DeliveryIDParam
	IdempotencyParam
	Body struct {
		Description string `json:"description" minLength:"1" maxLength:"20000" doc:"What is wrong with the account; the case it opens starts with it."`
	}
}

// reportDeliveryProblem puts the delivery under review and opens a case.
func (s *server) reportDeliveryProblem(ctx context.Context, in *problemReportInput) (*deliveryOutput, error) {
	return s.actOnDelivery(ctx, in.ID, in.IdempotencyKey, deliveries.UpdateReportProblem, deliveries.ProblemInput{
		Actor: callerFrom(ctx).actor(), Description: in.Body.Description})
}

type deliveryReasonInput struct {
	DeliveryIDParam
	IdempotencyParam
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

// waitOnBuyer says the buyer must act (change the password, add MFA).
func (s *server) waitOnBuyer(ctx context.Context, in *deliveryReasonInput) (*deliveryOutput, error) {
	return s.actOnDelivery(ctx, in.ID, in.IdempotencyKey, deliveries.UpdateWaitOnBuyer, deliveries.ReasonInput{
		Actor: callerFrom(ctx).actor(), Reason: in.Body.Reason})
}

// retireDelivery ends the delivery before its warranty does.
func (s *server) retireDelivery(ctx context.Context, in *deliveryReasonInput) (*deliveryOutput, error) {
	return s.actOnDelivery(ctx, in.ID, in.IdempotencyKey, deliveries.UpdateRetire, deliveries.ReasonInput{
		Actor: callerFrom(ctx).actor(), Reason: in.Body.Reason})
}

type extendWarrantyInput struct {
	DeliveryIDParam
	IdempotencyParam
	Body struct {
		By     durationText `json:"by" doc:"How much longer the warranty runs."`
		Reason string       `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

// extendWarranty lengthens the warranty; the delivery bounds by how much.
func (s *server) extendWarranty(ctx context.Context, in *extendWarrantyInput) (*deliveryOutput, error) {
	by, err := in.Body.By.parse("by", 0)
	if err != nil {
		return nil, err
	}
	return s.actOnDelivery(ctx, in.ID, in.IdempotencyKey, deliveries.UpdateExtendWarranty, deliveries.ExtendInput{
		Actor: callerFrom(ctx).actor(), By: by, Reason: in.Body.Reason})
}

type uploadDeliveryEvidenceInput struct {
	DeliveryIDParam
	UploadStream
}

// uploadDeliveryEvidence stores a file in S3 and records it on the
// delivery, as a case's upload does. Every file of a delivery is retained
// (Object Lock): it is the proof of what was handed over, which a dispute
// or a chargeback after the delivery rests on.
func (s *server) uploadDeliveryEvidence(ctx context.Context, in *uploadDeliveryEvidenceInput) (*evidenceOutput, error) {
	boundary, err := in.boundary(s.evidence.MaxBytes())
	if err != nil {
		return nil, err
	}
	// The read model first (no query, which waits on a worker and is
	// billed); the update has the last word.
	view, err := s.store.GetDelivery(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) {
		view, err = s.readDelivery(ctx, in.ID)
	}
	if err != nil {
		return nil, s.deliveryError(ctx, in.ID, err)
	}
	if view.Status == deliveries.StatusRetired {
		return nil, newProblem(http.StatusConflict, "cannot add evidence: the delivery is retired")
	}
	return s.storeEvidence(ctx, in.body, boundary, in.contentLength, evidenceOwner{
		meta: "delivery-id", id: in.ID, key: evidence.DeliveryKey, update: deliveries.UpdateAddEvidence,
		workflowID: deliveries.DeliveryWorkflowID(in.ID), retained: true, fail: s.deliveryError,
	})
}

// runningDeliveriesQuery is the visibility query of the running deliveries
// of an account.
func runningDeliveriesQuery(accountID string) string {
	return fmt.Sprintf("WorkflowType = %s AND %s = %s AND ExecutionStatus = 'Running'",
		visibilityString(deliveries.WorkflowType), vocab.AccountIDKey.GetName(), visibilityString(accountID))
}

// visibilityString quotes s as a string literal of a Temporal visibility
// query: backslashes and single quotes are escaped, so no value ends the
// literal early.
func visibilityString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// signalDeliveries hands sig to every running delivery of the account and
// answers their ids. A delivery that ends between the list and its signal
// is skipped: there is nothing left to tell.
func (s *server) signalDeliveries(ctx context.Context, accountID string, sig deliveries.AccountSignal) ([]string, error) {
	told := []string{}
	req := &workflowservice.ListWorkflowExecutionsRequest{Query: runningDeliveriesQuery(accountID), PageSize: 100}
	for {
		resp, err := s.temporal.ListWorkflow(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("list the deliveries of account %s: %w", accountID, err)
		}
		for _, ex := range resp.GetExecutions() {
			wid := ex.GetExecution().GetWorkflowId()
			err := s.temporal.SignalWorkflow(ctx, wid, "", deliveries.SignalAccountSignal, sig)
			var ended *serviceerror.NotFound
			switch {
			case errors.As(err, &ended):
				continue
			case err != nil:
				return nil, fmt.Errorf("signal %s: %w", wid, err)
			}
			told = append(told, strings.TrimPrefix(wid, deliveries.DeliveryWorkflowID("")))
		}
		if len(resp.GetNextPageToken()) == 0 {
			return told, nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}

type downloadDeliveryEvidenceInput struct {
	DeliveryIDParam
	EvidenceID string `path:"evidence_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The evidence id."`
	RedirectParam
}

type deliveryDownloadBody struct {
	PresignedURL
	DeliveryID string         `json:"delivery_id"`
	Evidence   vocab.Evidence `json:"evidence"`
}

// downloadDeliveryEvidence answers a short-lived URL of one of a
// delivery's files, found in the delivery's view. The delivery has no
// update recording a download: unlike a case's, it is not on the timeline.
func (s *server) downloadDeliveryEvidence(ctx context.Context, in *downloadDeliveryEvidenceInput) (*download[deliveryDownloadBody], error) {
	view, err := s.readDelivery(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(view.Evidence, func(e vocab.Evidence) bool { return e.ID == in.EvidenceID })
	if i < 0 {
		return nil, newProblem(http.StatusNotFound, "no evidence "+in.EvidenceID+" on delivery "+in.ID)
	}
	e := view.Evidence[i]
	return presignedDownload(ctx, s, e.Key, in.Redirect, s.deliveryError, in.ID, func(u PresignedURL) *deliveryDownloadBody {
		return &deliveryDownloadBody{PresignedURL: u, DeliveryID: in.ID, Evidence: e}
	})
}

// RedirectParam is the ?redirect of a download route.
type RedirectParam struct {
	Redirect bool `query:"redirect" doc:"Answer 302 to the download URL instead of JSON."`
}

// PresignedURL is a short-lived download URL of a stored file, as the
// download routes answer it. (Embedded in their bodies, so it is exported:
// huma documents the fields of an exported embedded struct only.)
type PresignedURL struct {
	URL       string    `json:"url" doc:"A presigned GET URL of the file."`
	ExpiresAt time.Time `json:"expires_at" doc:"When the URL stops working."`
}

// download is the answer of a download route: 200 with body B, or 302 to
// the URL.
type download[B any] struct {
	Status   int
	Location string `header:"Location"`
	Body     *B
}

// presignedDownload presigns a GET of the object under key for linkTTL
// (EVIDENCE_LINK_TTL; evidence.Store.DownloadURL): a 302 to it when
// redirect, else 200 with the body that body makes of the URL. fail maps
// S3's error to the problem of the file's owner, ownerID (caseError,
// deliveryError).
func presignedDownload[B any](ctx context.Context, s *server, key string, redirect bool,
	fail func(ctx context.Context, id string, err error) error, ownerID string, body func(PresignedURL) *B) (*download[B], error) {
	ttl := s.linkTTL()
	expires := time.Now().Add(ttl)
	url, err := s.evidence.DownloadURL(ctx, key, ttl)
	if err != nil {
		return nil, fail(ctx, ownerID, err)
	}
	if redirect {
		return &download[B]{Status: http.StatusFound, Location: url}, nil
	}
	return &download[B]{Status: http.StatusOK, Body: body(PresignedURL{URL: url, ExpiresAt: expires.UTC()})}, nil
}
