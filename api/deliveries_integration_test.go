//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/accountflows"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// newDeliveryStack is the case stack whose API keeps locked evidence one
// day only (every delivery file is retained), so test files do not stay
// locked in the local MinIO for the default year.
func newDeliveryStack(t *testing.T) *caseStack {
	t.Helper()
	s := newCaseStack(t)
	s.base = s.evidenceAPI(t, nil)
	return s
}

// newDeliveryBody is a valid start body for an account and buyer of its own.
func newDeliveryBody() startDeliveryBody {
	id := unique()
	return startDeliveryBody{
		AccountID: "acc-" + id, OrderID: "ord-" + id, SellerID: "sel-" + id,
		Buyer:   buyerBody{ID: "cus-" + id, Email: "buyer-" + id + "@example.com", Name: "Ada", Locale: "en"},
		Product: "game-account", AllowedUse: "personal play, no resale", Region: "eu",
		RecoveryPath: recoveryPathBody{Email: "recovery-" + id + "@example.com", ResetBy: "buyer",
			Instructions: "Change the password, then turn on two-factor authentication."},
	}
}

// deliveryOf decodes a delivery view, requiring status.
func deliveryOf(t *testing.T, r reply, status int) deliveries.DeliveryView {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var v deliveries.DeliveryView
	require.NoError(t, json.Unmarshal(r.Body, &v))
	return v
}

// startDelivery starts a delivery as integration; its workflow is
// terminated when t ends (its worker stops with the test).
func (s *caseStack) startDelivery(t *testing.T, body startDeliveryBody, header ...string) deliveries.DeliveryView {
	t.Helper()
	r := s.as(t, store.RoleIntegration, http.MethodPost, "/v1/deliveries", body, header...)
	v := deliveryOf(t, r, http.StatusCreated)
	require.Equal(t, "/v1/deliveries/"+v.ID, r.Header.Get("Location"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.tc.TerminateWorkflow(ctx, deliveries.DeliveryWorkflowID(v.ID), "", "test over")
	})
	return v
}

// deliveryAct runs a delivery action as role and answers the reply.
func (s *caseStack) deliveryAct(t *testing.T, role store.Role, id, action string, body any, header ...string) reply {
	t.Helper()
	return s.as(t, role, http.MethodPost, "/v1/deliveries/"+id+"/"+action, body, header...)
}

func (s *caseStack) getDelivery(t *testing.T, role store.Role, id string) deliveries.DeliveryView {
	t.Helper()
	return deliveryOf(t, s.as(t, role, http.MethodGet, "/v1/deliveries/"+id, nil), http.StatusOK)
}

// uploadTo sends one small file as multipart to path as role, with its
// Content-Length.
func (s *caseStack) uploadTo(t *testing.T, role store.Role, path, kind string, file []byte) reply {
	t.Helper()
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	require.NoError(t, mw.WriteField("kind", kind))
	part, err := mw.CreateFormFile("file", "shot.png")
	require.NoError(t, err)
	_, err = part.Write(file)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return s.as(t, role, http.MethodPost, path, form.Bytes(), "Content-Type", mw.FormDataContentType())
}

// redirected GETs path as role without following its answer, requires a
// 302 and answers where it points.
func (s *caseStack) redirected(t *testing.T, role store.Role, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodGet, s.base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.keys[role].Secret)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	return resp.Header.Get("Location")
}

// downloadDeliveryFile asks for the URL of a delivery's file as role.
func (s *caseStack) downloadDeliveryFile(t *testing.T, role store.Role, deliveryID, evidenceID string) deliveryDownloadBody {
	t.Helper()
	r := s.as(t, role, http.MethodGet, "/v1/deliveries/"+deliveryID+"/evidence/"+evidenceID, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var out deliveryDownloadBody
	require.NoError(t, json.Unmarshal(r.Body, &out))
	return out
}

func TestDeliveryGoesFromStartToRetiredOverHTTP(t *testing.T) {
	s := newDeliveryStack(t)

	// An empty start names every missing handoff field at once.
	p := problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/deliveries", map[string]any{}), http.StatusUnprocessableEntity)
	assert.ElementsMatch(t, []string{"account_id", "order_id", "buyer.id", "buyer.email", "buyer.locale", "seller_id",
		"product", "allowed_use", "region", "recovery_path", "recovery_path.reset_by"}, fieldsOfProblem(p))

	body := newDeliveryBody()
	key := "order-" + unique()
	d := s.startDelivery(t, body, "Idempotency-Key", key)
	assert.Equal(t, deliveries.StatusReady, d.Status)
	assert.Equal(t, body.AccountID, d.Handoff.AccountID)
	assert.Equal(t, body.OrderID, d.Handoff.OrderID)
	assert.Nil(t, d.Handoff.DeliveredAt)
	assert.Contains(t, d.Handoff.Missing, "delivered_at")
	assert.Empty(t, d.Timeline, "a start answers like an update, without the timeline")

	// The same key and body answer the same delivery; another body is refused.
	again := s.startDelivery(t, body, "Idempotency-Key", key)
	assert.Equal(t, d.ID, again.ID)
	other := body
	other.Region = "us"
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/deliveries", other, "Idempotency-Key", key), http.StatusConflict)

	// No hand-over without delivery evidence.
	p = problemOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "deliver", map[string]string{}), http.StatusConflict)
	assert.Contains(t, p.Detail, "delivery evidence")

	shot := pngBytes(t, 2048)
	up := evidenceOf(t, s.uploadTo(t, store.RoleIntegration, "/v1/deliveries/"+d.ID+"/evidence", "delivery_screenshot", shot), http.StatusCreated)
	e := up.Evidence
	assert.Equal(t, "deliveries/"+d.ID+"/"+e.ID, e.Key)
	assert.Equal(t, sha256Hex(shot), e.SHA256)
	assert.Equal(t, "image/png", e.ContentType)
	assert.True(t, e.Retained, "a delivery's files are retained")
	assert.Equal(t, s.actor(store.RoleIntegration), e.UploadedBy)
	c3, bucket := stacktest.S3(t), s.cfg.S3.Bucket
	vs := versions(t, c3, bucket, e.Key)
	require.Len(t, vs, 1)
	ret, err := c3.GetObjectRetention(stacktest.Context(t), &s3.GetObjectRetentionInput{Bucket: &bucket, Key: &e.Key, VersionId: vs[0].VersionId})
	require.NoError(t, err)
	assert.Equal(t, s3types.ObjectLockRetentionModeGovernance, ret.Retention.Mode)
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), aws.ToTime(ret.Retention.RetainUntilDate), time.Minute)

	// Staff get a 5-minute URL of the screenshot, whose bytes are the ones uploaded.
	dl := s.downloadDeliveryFile(t, store.RoleAgent, d.ID, e.ID)
	assert.Equal(t, d.ID, dl.DeliveryID)
	assert.Equal(t, e, dl.Evidence)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), dl.ExpiresAt, 10*time.Second)
	sum, n := fetch(t, dl.URL)
	assert.Equal(t, e.SHA256, sum, "the downloaded bytes are the uploaded ones")
	assert.Equal(t, int64(len(shot)), n)
	sum, _ = fetch(t, s.redirected(t, store.RoleTrustSafety, "/v1/deliveries/"+d.ID+"/evidence/"+e.ID+"?redirect=true"))
	assert.Equal(t, e.SHA256, sum, "?redirect=true answers 302 to the URL")
	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodGet, "/v1/deliveries/"+d.ID+"/evidence/E-NONE", nil), http.StatusNotFound)
	assert.Equal(t, "no evidence E-NONE on delivery "+d.ID, p.Detail)
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodGet, "/v1/deliveries/"+d.ID+"/evidence/"+e.ID, nil), http.StatusForbidden)

	dup := evidenceOf(t, s.uploadTo(t, store.RoleAgent, "/v1/deliveries/"+d.ID+"/evidence", "delivery_screenshot", shot), http.StatusOK)
	assert.True(t, dup.Duplicate)
	assert.Equal(t, e.ID, dup.Evidence.ID)
	assert.Len(t, versions(t, c3, bucket, "deliveries/"+d.ID+"/"), 1, "a duplicate stores nothing")

	d = deliveryOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "deliver", map[string]string{"note": "credentials sent"},
		"Idempotency-Key", "deliver-"+key), http.StatusOK)
	assert.Equal(t, deliveries.StatusDelivered, d.Status)
	retry := deliveryOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "deliver", map[string]string{"note": "credentials sent"},
		"Idempotency-Key", "deliver-"+key), http.StatusOK)
	assert.Equal(t, d.LastSeq, retry.LastSeq, "a retried update acts once")

	// The six answers of the handoff record, to anyone who reads it.
	got := s.getDelivery(t, store.RoleAgent, d.ID)
	h := got.Handoff
	assert.Equal(t, body.AccountID, h.AccountID)
	assert.Equal(t, body.OrderID, h.OrderID)
	require.NotNil(t, h.DeliveredAt)
	assert.WithinDuration(t, time.Now(), *h.DeliveredAt, time.Minute)
	assert.Equal(t, deliveries.RecoveryPath{Email: body.RecoveryPath.Email, ResetBy: "buyer",
		Instructions: body.RecoveryPath.Instructions}, h.RecoveryPath)
	assert.Equal(t, body.AllowedUse, h.AllowedUse)
	require.NotNil(t, h.LatestCommunication)
	assert.Equal(t, "to_buyer", h.LatestCommunication.Direction)
	assert.Empty(t, h.Missing)
	assert.Len(t, got.Evidence, 1)
	assert.NotEmpty(t, got.Timeline, "the running workflow answers its timeline")

	// Only the marketplace (and admins) confirm or hand over.
	problemOf(t, s.deliveryAct(t, store.RoleAgent, d.ID, "confirm", map[string]string{}), http.StatusForbidden)

	d = deliveryOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "report-problem",
		map[string]string{"description": "The seller took the account back"}), http.StatusOK)
	assert.Equal(t, deliveries.StatusUnderReview, d.Status)
	var linked deliveries.LinkedCase
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got := s.getDelivery(t, store.RoleAgent, d.ID)
		assert.Equal(ct, deliveries.StatusUnderReview, got.Status)
		if assert.Len(ct, got.LinkedCases, 1) {
			linked = got.LinkedCases[0]
		}
	}, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, deliveries.LinkProblemReport, linked.Reason)
	require.NotEmpty(t, linked.CaseID)
	s.terminateAtEnd(t, linked.CaseID)
	c := s.get(t, linked.CaseID)
	assert.Equal(t, body.AccountID, c.AccountID)

	problemOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "retire", map[string]string{"reason": "refunded"}), http.StatusForbidden)
	d = deliveryOf(t, s.deliveryAct(t, store.RoleTrustSafety, d.ID, "retire", map[string]string{"reason": "refunded"}), http.StatusOK)
	assert.Equal(t, deliveries.StatusRetired, d.Status)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got := s.getDelivery(t, store.RoleIntegration, d.ID)
		assert.Equal(ct, deliveries.StatusRetired, got.Status)
		assert.Equal(ct, "refunded", got.RetireReason)
	}, 20*time.Second, 100*time.Millisecond)
	problemOf(t, s.uploadTo(t, store.RoleIntegration, "/v1/deliveries/"+d.ID+"/evidence", "other", pngBytes(t, 100)), http.StatusConflict)
	// A retired delivery's files are still served (from the read model once its workflow has ended).
	sum, _ = fetch(t, s.downloadDeliveryFile(t, store.RoleAdmin, d.ID, e.ID).URL)
	assert.Equal(t, e.SHA256, sum)
	problemOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/deliveries/D-NONE"+unique(), nil), http.StatusNotFound)
	problemOf(t, s.deliveryAct(t, store.RoleAdmin, "D-NONE"+unique(), "deliver", map[string]string{}), http.StatusNotFound)
}

func TestSignalOnAnAccountPutsItsRunningDeliveryUnderReview(t *testing.T) {
	s := newDeliveryStack(t)
	body := newDeliveryBody()
	d := s.startDelivery(t, body)
	evidenceOf(t, s.uploadTo(t, store.RoleIntegration, "/v1/deliveries/"+d.ID+"/evidence", "login_note", pngBytes(t, 512)), http.StatusCreated)
	deliveryOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "deliver", map[string]string{}), http.StatusOK)
	t.Cleanup(func() {
		_ = s.tc.TerminateWorkflow(context.Background(), accountflows.SignalsWorkflowID(body.AccountID), "", "test over")
	})

	// Visibility lags the start: wait until it lists the delivery.
	require.Eventually(t, func() bool {
		resp, err := s.tc.ListWorkflow(stacktest.Context(t), &workflowservice.ListWorkflowExecutionsRequest{Query: runningDeliveriesQuery(body.AccountID)})
		return err == nil && len(resp.GetExecutions()) == 1
	}, 20*time.Second, 100*time.Millisecond)

	r := s.as(t, store.RoleIntegration, http.MethodPost, "/v1/accounts/"+body.AccountID+"/signals",
		map[string]string{"kind": "credential_change", "detail": "password reset from the seller's device"})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	var out signalBody
	require.NoError(t, json.Unmarshal(r.Body, &out))
	assert.Equal(t, []string{d.ID}, out.Deliveries)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got := s.getDelivery(t, store.RoleAgent, d.ID)
		assert.Equal(ct, deliveries.StatusUnderReview, got.Status)
		assert.True(ct, slices.ContainsFunc(got.Timeline, func(e vocab.Event) bool { return e.Kind == deliveries.EventAccountSignal }))
		if assert.Len(ct, got.LinkedCases, 1, "a seller's signal opens a security case") {
			assert.Equal(ct, deliveries.LinkSellerSignal, got.LinkedCases[0].Reason)
		}
	}, 20*time.Second, 100*time.Millisecond)
	s.terminateAtEnd(t, s.getDelivery(t, store.RoleAdmin, d.ID).LinkedCases[0].CaseID)

	// Another account's signal tells none of its deliveries.
	otherAccount := "acc-other-" + unique()
	t.Cleanup(func() {
		_ = s.tc.TerminateWorkflow(context.Background(), accountflows.SignalsWorkflowID(otherAccount), "", "test over")
	})
	r = s.as(t, store.RoleIntegration, http.MethodPost, "/v1/accounts/"+otherAccount+"/signals", map[string]string{"kind": "new_device"})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	require.NoError(t, json.Unmarshal(r.Body, &out))
	assert.Empty(t, out.Deliveries)
}
