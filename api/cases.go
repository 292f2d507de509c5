package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/kb"
	"handoff/payments"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Named string types carry their allowed values into the OpenAPI document
// and into huma's validation, from the lists the workflow itself uses.
type (
	categoryName string
	priorityName string
	teamName     string
	statusName   string
	localeName   string
)

func enumSchema[T ~string](values []T) *huma.Schema {
	s := &huma.Schema{Type: "string"}
	for _, v := range values {
		s.Enum = append(s.Enum, string(v))
	}
	return s
}

// Schema lists every category.
func (categoryName) Schema(huma.Registry) *huma.Schema { return enumSchema(vocab.Categories) }

// Schema lists every priority.
func (priorityName) Schema(huma.Registry) *huma.Schema { return enumSchema(vocab.Priorities) }

// Schema lists every team.
func (teamName) Schema(huma.Registry) *huma.Schema { return enumSchema(vocab.Teams) }

// Schema lists every status.
func (statusName) Schema(huma.Registry) *huma.Schema {
	return enumSchema(cases.Statuses)
}

// Schema lists every locale.
func (localeName) Schema(huma.Registry) *huma.Schema { return enumSchema(vocab.Locales) }

type customerBody struct {
	ID     string     `json:"id" minLength:"1" maxLength:"100" doc:"The marketplace's customer id."`
	Email  string     `json:"email" format:"email" maxLength:"254"`
	Name   string     `json:"name,omitempty" maxLength:"200"`
	Locale localeName `json:"locale" doc:"The language the customer is written to in."`
}

type openCaseBody struct {
	Category    categoryName `json:"category"`
	Priority    priorityName `json:"priority,omitempty" doc:"Empty takes the category's default."`
	Subject     string       `json:"subject" minLength:"1" maxLength:"200"`
	Description string       `json:"description,omitempty" maxLength:"20000" doc:"The customer's first message."`
	Customer    customerBody `json:"customer"`
	AccountID   string       `json:"account_id,omitempty" maxLength:"100"`
	OrderID     string       `json:"order_id,omitempty" maxLength:"100"`
	Channel     string       `json:"channel,omitempty" maxLength:"50" doc:"Where the case came from: web, email, chat, phone, ..."`
}

// IdempotencyParam is the Idempotency-Key header of a write. (Embedded
// parameter structs must be exported for huma to fill them.)
type IdempotencyParam struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes a retried request act once: the same key answers the first result."`
}

type openCaseInput struct {
	IdempotencyParam
	Body openCaseBody
}

type caseOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     cases.CaseView
}

// requestIDMemo keeps the fingerprint of the request that opened a case, so
// a retry with the same Idempotency-Key and another body is caught.
const requestIDMemo = "request_sha256"

func (s *server) openCase(ctx context.Context, in *openCaseInput) (*caseOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	who := callerFrom(ctx)
	fingerprint := fingerprintOf(in.Body)
	opener := cases.Opener{Temporal: s.temporal, Book: s.book, TaskQueue: s.taskQueue}
	caseIn, started, err := opener.OpenNew(ctx, cases.OpenRequest{
		Category: vocab.Category(in.Body.Category), Priority: vocab.Priority(in.Body.Priority),
		Subject: in.Body.Subject, Description: in.Body.Description,
		Customer: vocab.Customer{ID: in.Body.Customer.ID, Email: in.Body.Customer.Email,
			Name: in.Body.Customer.Name, Locale: string(in.Body.Customer.Locale)},
		AccountID: in.Body.AccountID, OrderID: in.Body.OrderID, Channel: in.Body.Channel, OpenedBy: who.actor(),
	}, vocab.Once{
		// The key becomes the workflow id, scoped to the API key that sent it.
		Key: in.IdempotencyKey, KeyScope: strconv.FormatInt(who.KeyID, 10),
		Memo: map[string]any{requestIDMemo: fingerprint},
	})
	if err != nil {
		return nil, s.caseError(ctx, caseIn.ID, err)
	}
	id := caseIn.ID
	if started {
		// A new case: its first state is known from its input, so the
		// open is one round trip and no query (a billable action, and one
		// a busy worker may answer late).
		if view, ok, err := cases.InitialView(caseIn); err == nil && ok {
			return &caseOutput{Status: http.StatusCreated, Location: "/v1/cases/" + id, Body: view}, nil
		}
	} else if err := s.sameRequest(ctx, cases.CaseWorkflowID(id), fingerprint); err != nil {
		return nil, err
	}
	view, err := s.readCase(ctx, id)
	if err != nil {
		return nil, err
	}
	// A replay answers exactly as the first request did.
	return &caseOutput{Status: http.StatusCreated, Location: "/v1/cases/" + id, Body: view}, nil
}

// fingerprintOf answers the SHA-256 of a request body's JSON, in hex: what
// an Idempotency-Key's first request is remembered by.
func fingerprintOf(body any) string {
	data, _ := json.Marshal(body)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// sameRequest refuses (409) an Idempotency-Key that opened its case with
// another request body.
func (s *server) sameRequest(ctx context.Context, workflowID, fingerprint string) error {
	desc, err := s.temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return s.caseError(ctx, "", err)
	}
	var stored string
	if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[requestIDMemo]; p != nil {
		_ = s.dataConverter().FromPayload(p, &stored)
	}
	if stored != fingerprint {
		return newProblem(http.StatusConflict, "this Idempotency-Key was used with another request body")
	}
	return nil
}

// CaseIDParam is the case id in a path.
type CaseIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The case id."`
}

func (s *server) getCase(ctx context.Context, in *CaseIDParam) (*caseReadOutput, error) {
	v, err := s.readCase(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &caseReadOutput{Body: caseRead{CaseView: v}}
	if v.Status != cases.StatusClosed {
		out.Body.SuggestedArticles = s.suggestArticles(ctx, v)
	}
	if v.Category == vocab.CategorySellerPayment {
		holds, err := s.store.PayoutHolds(ctx, v.Customer.ID)
		if err != nil {
			return nil, s.sellerStoreError(ctx, v.Customer.ID, err)
		}
		sp := &sellerPayments{SellerID: v.Customer.ID, PayoutsHeld: slices.ContainsFunc(holds,
			func(h vocab.PayoutHold) bool { return h.State == vocab.PayoutHoldHeld }), Holds: holds}
		if s.payments != nil {
			// The provider's record is a bonus to what Handoff knows: a
			// provider down or slow costs the movements, never the case.
			const providerTimeout = 3 * time.Second
			pctx, cancel := context.WithTimeout(ctx, providerTimeout)
			ms, err := s.payments.SellerMovements(pctx, v.Customer.ID)
			cancel()
			if err != nil {
				s.logger.WarnContext(ctx, "seller_payment case read without the provider's movements",
					"case_id", v.ID, "seller_id", v.Customer.ID, "error", err)
				sp.MovementsError = "the payment provider did not answer: " + err.Error()
			} else {
				sp.Movements = providerMovements(ms)
			}
		}
		out.Body.SellerPayments = sp
	}
	return out, nil
}

// caseReadOutput is a case as GET /v1/cases/{id} answers it.
type caseReadOutput struct {
	Body caseRead
}

// caseRead is a case with, for a seller_payment case, the seller's payout
// holds: why the money is held, since and until when, and by whom released.
type caseRead struct {
	cases.CaseView
	SellerPayments    *sellerPayments    `json:"seller_payments,omitempty" doc:"For a seller_payment case: the payout holds of the seller (the case's customer), newest first."`
	SuggestedArticles []store.ArticleHit `json:"suggested_articles,omitempty" doc:"Up to 3 published knowledge-base articles in the customer's language that match the case's category and text; a reply may insert one (article_id)."`
}

// maxSuggestions is how many articles a case suggests.
const maxSuggestions = 3

// suggestArticles answers the articles that may answer case v. The case
// reads without them when the knowledge base cannot answer: they are a help,
// not the case.
func (s *server) suggestArticles(ctx context.Context, v cases.CaseView) []store.ArticleHit {
	locale := kb.Locale(v.Customer.Locale)
	if kb.CheckLocale(string(locale)) != "" {
		locale = kb.LocaleEN
	}
	hits, err := s.store.SuggestArticles(ctx, v.Category, locale, v.Subject+" "+v.Description, maxSuggestions)
	if err != nil {
		s.logger.WarnContext(ctx, "no article suggestions", "case", v.ID, "error", err)
		return nil
	}
	return hits
}

// sellerPayments are a seller's payout holds as a seller_payment case
// shows them: Handoff's own (Holds), and the payment provider's record of
// the seller's money (Movements), which may be missing when the provider
// does not answer.
type sellerPayments struct {
	SellerID    string             `json:"seller_id"`
	PayoutsHeld bool               `json:"payouts_held" doc:"True while any hold keeps the seller's payouts."`
	Holds       []vocab.PayoutHold `json:"holds"`
	// Movements is nil, and left out, when the provider was not asked or
	// did not answer; a seller without movements has an empty list.
	Movements      []providerMovement `json:"movements,omitzero" doc:"The payment provider's record of the seller: payout holds, their releases, holds on orders' funds, payouts; oldest first. Absent when the provider did not answer (see movements_error)."`
	MovementsError string             `json:"movements_error,omitempty" doc:"Why movements is absent: the payment provider did not answer in time or answered an error. The rest of the case is Handoff's own and complete."`
}

// providerMovement is a payments.Movement as the API shows it. It is a type
// of its own because the document already names vocab's Money and Movement
// (huma refuses two types under one name); its JSON is payments.Movement's.
type providerMovement struct {
	ID             string      `json:"id"`
	Kind           string      `json:"kind" doc:"payout_hold, release, payout, hold (of an order's funds), refund or store_credit."`
	Status         string      `json:"status" doc:"held or released for a hold or payout hold; succeeded, pending or failed otherwise."`
	Amount         vocab.Money `json:"amount" doc:"Minor units; zero with no currency for a payout hold and its release."`
	OrderID        string      `json:"order_id,omitempty"`
	BuyerID        string      `json:"buyer_id,omitempty"`
	SellerID       string      `json:"seller_id,omitempty"`
	HoldID         string      `json:"hold_id,omitempty" doc:"The hold a release released."`
	ReleasedBy     string      `json:"released_by,omitempty" doc:"The release of a released hold."`
	Reason         string      `json:"reason,omitempty"`
	IdempotencyKey string      `json:"idempotency_key" doc:"The key Handoff (or the marketplace) sent: Handoff's start with the workflow that moved the money."`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
}

// providerMovements answers ms as the API shows them, never nil.
func providerMovements(ms []payments.Movement) []providerMovement {
	out := make([]providerMovement, 0, len(ms))
	for _, m := range ms {
		out = append(out, providerMovement{
			ID: m.ID, Kind: m.Kind, Status: m.Status, Amount: vocab.Money{Minor: m.Amount.Minor, Currency: m.Amount.Currency},
			OrderID: m.OrderID, BuyerID: m.BuyerID, SellerID: m.SellerID, HoldID: m.HoldID, ReleasedBy: m.ReleasedBy,
			Reason: m.Reason, IdempotencyKey: m.IdempotencyKey, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		})
	}
	return out
}

// readCase answers a case from its workflow while it runs (so a write is
// seen at once) and from the read model once it has ended, without its
// timeline.
func (s *server) readCase(ctx context.Context, id string) (cases.CaseView, error) {
	v, err := readView(ctx, s, cases.CaseWorkflowID(id), cases.QueryCase, "case", id, s.store.GetCase, s.caseError)
	v.Timeline = nil
	return v, err
}

// readView answers the view of kind id (a case, a delivery) from query on
// its running workflow, else from its read model (stored), 404 when
// neither has it; fail maps any other error to the kind's problem.
func readView[V any](ctx context.Context, s *server, workflowID, query, kind, id string,
	stored func(context.Context, string) (V, error), fail func(context.Context, string, error) error) (V, error) {
	var v V
	err := s.queryRunning(ctx, workflowID, query, &v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, errNotRunning) {
		return v, fail(ctx, id, err)
	}
	v, err = stored(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return v, newProblem(http.StatusNotFound, "no "+kind+" "+id)
	}
	if err != nil {
		return v, fail(ctx, id, err)
	}
	return v, nil
}

// projectedCase answers the case as the read model has it, for a check an
// update repeats anyway (its validator has the last word): a Postgres read
// instead of a query that waits on a worker and is billed as an action. A
// case the read model does not have yet (opened a moment ago) is read from
// its workflow, and so is one while Postgres cannot be read: an action
// does not need the read model.
func (s *server) projectedCase(ctx context.Context, id string) (cases.CaseView, error) {
	v, err := s.store.GetCase(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.logger.WarnContext(ctx, "read model unreadable; asking the case", "case", id, "error", err)
		}
		return s.readCase(ctx, id)
	}
	return v, nil
}

var errNotRunning = errors.New("case workflow is not running")

// Bounds on waiting for a worker: a query is answered by a worker replaying
// the case, an update by its handler; past these the answer is a 503.
const (
	queryTimeout  = 10 * time.Second
	updateTimeout = 30 * time.Second
)

// queryCase asks the running workflow for the case with its timeline.
func (s *server) queryCase(ctx context.Context, id string) (cases.CaseView, error) {
	var v cases.CaseView
	err := s.queryRunning(ctx, cases.CaseWorkflowID(id), cases.QueryCase, &v)
	return v, err
}

type timelineOutput struct {
	Body struct {
		Events []vocab.Event `json:"events"`
	}
}

func (s *server) getTimeline(ctx context.Context, in *CaseIDParam) (*timelineOutput, error) {
	out := &timelineOutput{}
	v, err := s.queryCase(ctx, in.ID)
	switch {
	case err == nil:
		out.Body.Events = v.Timeline
	case errors.Is(err, errNotRunning):
		events, err := s.store.Timeline(ctx, in.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, newProblem(http.StatusNotFound, "no case "+in.ID)
		}
		if err != nil {
			return nil, s.caseError(ctx, in.ID, err)
		}
		out.Body.Events = events
	default:
		return nil, s.caseError(ctx, in.ID, err)
	}
	if out.Body.Events == nil {
		out.Body.Events = []vocab.Event{}
	}
	return out, nil
}

type listCasesInput struct {
	Status     statusName   `query:"status"`
	Priority   priorityName `query:"priority"`
	Category   categoryName `query:"category"`
	Team       teamName     `query:"team"`
	Assignee   string       `query:"assignee" maxLength:"100"`
	CustomerID string       `query:"customer_id" maxLength:"100"`
	AccountID  string       `query:"account_id" maxLength:"100"`
	OrderID    string       `query:"order_id" maxLength:"100"`
	Breached   string       `query:"breached" enum:"true,false" doc:"Only cases that missed an SLA target (true) or that did not (false)."`
	DueBefore  time.Time    `query:"due_before" doc:"Only cases whose nearest SLA deadline is before this instant (RFC 3339)."`
	Q          string       `query:"q" maxLength:"200" doc:"Free text over subject and description."`
	Limit      int          `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor     string       `query:"cursor" maxLength:"500" doc:"next_cursor of the previous page."`
}

type listCasesOutput struct {
	Body struct {
		Cases      []caseJSON `json:"cases"`
		NextCursor string     `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last."`
	}
}

// caseJSON is a case view as the read model stores it, answered as it is:
// decoding and encoding again the fifty views of a page was most of a
// list's cost in the API. Its schema is the view's.
type caseJSON []byte

// MarshalJSON answers the stored JSON.
func (c caseJSON) MarshalJSON() ([]byte, error) { return c, nil }

// Schema documents caseJSON as a cases.CaseView.
func (caseJSON) Schema(r huma.Registry) *huma.Schema {
	return r.Schema(reflect.TypeFor[cases.CaseView](), true, "")
}

func (s *server) listCases(ctx context.Context, in *listCasesInput) (*listCasesOutput, error) {
	f := store.CaseFilter{
		Status: string(in.Status), Priority: string(in.Priority), Category: string(in.Category), Team: string(in.Team),
		Assignee: in.Assignee, CustomerID: in.CustomerID, AccountID: in.AccountID, OrderID: in.OrderID,
		Q: in.Q, Limit: in.Limit, Cursor: in.Cursor,
	}
	if in.Breached != "" {
		b := in.Breached == "true"
		f.Breached = &b
	}
	if !in.DueBefore.IsZero() {
		f.DueBefore = &in.DueBefore
	}
	page, err := s.store.ListCaseJSON(ctx, f)
	if err != nil {
		return nil, s.listError(ctx, err)
	}
	out := &listCasesOutput{}
	out.Body.Cases = make([]caseJSON, len(page.Cases))
	for i, c := range page.Cases {
		out.Body.Cases[i] = c
	}
	out.Body.NextCursor = page.NextCursor
	return out, nil
}

// listError maps what a list of the read model (cases, deliveries)
// answered to a problem: a cursor or a limit the store refused to a 422 on
// that field, anything else as caseError does.
func (s *server) listError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return newProblem(http.StatusUnprocessableEntity, "the cursor is not one this API gave",
			fieldProblem{Field: "cursor", Message: "not a cursor from next_cursor"})
	case errors.Is(err, store.ErrBadLimit):
		return newProblem(http.StatusUnprocessableEntity, "limit is out of range",
			fieldProblem{Field: "limit", Message: "want 1 to 200"})
	default:
		return s.caseError(ctx, "", err)
	}
}

// act runs an update on a case: the Idempotency-Key, scoped to the caller's
// API key, becomes the update id, so a retry answers the first result
// without acting twice.
func (s *server) act(ctx context.Context, id, key, name string, arg any) (*caseOutput, error) {
	if err := checkBodyText(arg); err != nil {
		return nil, err
	}
	var v cases.CaseView
	if err := s.runUpdate(ctx, cases.CaseWorkflowID(id), name, scopedKey(ctx, key), arg, &v); err != nil {
		return nil, s.caseError(ctx, id, err)
	}
	return &caseOutput{Status: http.StatusOK, Body: v}, nil
}

// scopedKey answers an Idempotency-Key scoped to the caller's API key, or a
// fresh key when the request sent none.
func scopedKey(ctx context.Context, key string) string {
	if key == "" {
		key = cases.NewCaseID()
	}
	return strconv.FormatInt(callerFrom(ctx).KeyID, 10) + "/" + key
}

// runUpdate runs an update on a workflow, bounded by updateTimeout, and
// decodes its result into out; the update id is name/key, so the same key
// of another action is another update. Temporal's error is answered as is.
func (s *server) runUpdate(ctx context.Context, workflowID, name, key string, arg, out any) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateID: name + "/" + key, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

// caseError maps what Temporal, the workflow and Postgres answered about
// case id to a problem.
func (s *server) caseError(ctx context.Context, id string, err error) error {
	return s.workflowError(ctx, err, workflowRef{kind: "case", id: id, ended: "the case is closed",
		recorded: func(ctx context.Context) error { _, err := s.store.GetCase(ctx, id); return err }})
}

// workflowRef names what a workflow's answer is about, for workflowError:
// its kind ("case", "delivery") and id (empty when none is concerned), the
// detail of a conflict with one that has ended, and how its read model is
// asked whether it ever existed.
type workflowRef struct {
	kind, id, ended string
	recorded        func(ctx context.Context) error
}

// workflowError maps what Temporal, a workflow and Postgres answered to a
// problem: the vocabulary's refusals to 4xx (an invalid argument's
// "field: message; field: message" to a field list), a workflow that is
// gone to 409 when its read model has it and 404 when not, anything else
// to a 503 naming the part of the stack that failed (dependencyOf).
func (s *server) workflowError(ctx context.Context, err error, ref workflowRef) error {
	var p *problem
	if errors.As(err, &p) {
		return p
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		msg := appErr.Message()
		switch appErr.Type() {
		case vocab.ErrInvalidTransition:
			return newProblem(http.StatusConflict, msg)
		case vocab.ErrPermissionDenied:
			return newProblem(http.StatusForbidden, msg)
		case vocab.ErrMissingHandoffContext:
			var missing []string
			_ = appErr.Details(&missing)
			fields := make([]fieldProblem, len(missing))
			for i, f := range missing {
				fields[i] = fieldProblem{Field: f, Message: "needed by the receiving team"}
			}
			return newProblem(http.StatusUnprocessableEntity, msg, fields...)
		case vocab.ErrInvalidArgument:
			return newProblem(http.StatusUnprocessableEntity, msg, fieldsOf(msg)...)
		}
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) && ref.id != "" {
		if ref.recorded(ctx) == nil {
			return newProblem(http.StatusConflict, ref.ended)
		}
		return newProblem(http.StatusNotFound, "no "+ref.kind+" "+ref.id)
	}
	if errors.Is(err, context.Canceled) {
		return newProblem(499, "the request was cancelled")
	}
	s.logger.ErrorContext(ctx, "dependency failed", ref.kind, ref.id, "error", err)
	// Only the calls to Temporal are bounded here (a query, an update):
	// a deadline that no error in the chain claims is theirs.
	fallback := ""
	if errors.Is(err, context.DeadlineExceeded) {
		fallback = depTemporal
	}
	return unavailable(err, fallback)
}

// fieldsOf reads "field: message; field: message" as written by the
// workflow's validation.
func fieldsOf(msg string) []fieldProblem {
	var out []fieldProblem
	for _, part := range strings.Split(msg, "; ") {
		field, text, ok := strings.Cut(part, ": ")
		if ok && !strings.Contains(field, " ") {
			out = append(out, fieldProblem{Field: field, Message: text})
		}
	}
	return out
}
