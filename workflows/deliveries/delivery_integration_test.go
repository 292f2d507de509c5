//go:build integration

package deliveries_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"handoff/accounts"
	"handoff/codes"
	"handoff/config"
	"handoff/evidence"
	"handoff/stacktest"
	"handoff/stacktest/stackworker"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// TestADeliveryRunsFromReadyToRetiredOnTheRealStack delivers an account
// with its screenshot in MinIO, reads the delivery email in Mailpit, reports
// a problem that opens a linked case, resolves that case (the delivery is
// delivered again) and lets the short warranty retire it.
// HANDOFF_RECORD_HISTORY=<name> keeps its history for the replay test.
func TestADeliveryRunsFromReadyToRetiredOnTheRealStack(t *testing.T) {
	c, queue, cfg := startWorker(t)
	ctx := stacktest.Context(t)
	id := fmt.Sprintf("D-T%d", time.Now().UnixNano())
	buyer := vocab.Customer{ID: "buy-" + id, Email: "buyer-" + id + "@example.com", Name: "Bea", Locale: "fr"}
	policy := sla.DeliveryPolicy{ConfirmationWindow: 4 * time.Second, Warranty: 12 * time.Second, WarrantyNotice: 3 * time.Second}
	in, err := deliveries.Starter{Temporal: c, Policy: policy, TaskQueue: queue}.Start(ctx, deliveries.StartRequest{
		ID: id, AccountID: "acc-" + id, OrderID: "ord-" + id, Buyer: buyer, SellerID: "sel-1", Product: "valorant",
		AllowedUse: "personal play", Region: "EU", StartedBy: "integration:test",
		RecoveryPath: deliveries.RecoveryPath{Email: buyer.Email, ResetBy: "buyer", Instructions: "Changez le mot de passe."},
	}, vocab.Once{})
	require.NoError(t, err)
	wid := deliveries.DeliveryWorkflowID(in.ID)

	// The screenshot goes to MinIO under the delivery's key, then on the delivery.
	files := evidence.NewStore(stacktest.S3(t), cfg.S3.Bucket, cfg.Evidence)
	eid := evidence.NewID()
	obj, err := files.PutBytes(ctx, evidence.DeliveryKey(id, eid), map[string]string{"delivery": id}, "image/png",
		append([]byte("\x89PNG\r\n\x1a\n"), []byte(id)...), false)
	require.NoError(t, err)
	update[vocab.EvidenceResult](t, c, wid, deliveries.UpdateAddEvidence, vocab.EvidenceInput{Actor: "integration:test",
		Evidence: vocab.Evidence{ID: eid, Kind: "delivery_screenshot", Key: obj.Key, SHA256: obj.SHA256, Size: obj.Size, ContentType: obj.ContentType}})
	v := update[deliveries.DeliveryView](t, c, wid, deliveries.UpdateDeliver, deliveries.ActorInput{Actor: "integration:test"})
	assert.Equal(t, deliveries.StatusDelivered, v.Status)
	assert.Empty(t, v.Handoff.Missing, "every handoff answer is known once delivered")

	require.Eventually(t, func() bool {
		msgs, err := stacktest.MailpitSearch(ctx, fmt.Sprintf(`to:%s subject:"[%s]"`, buyer.Email, id))
		return err == nil && len(msgs) >= 1
	}, 15*time.Second, 200*time.Millisecond, "the delivery email never reached the buyer")

	v = update[deliveries.DeliveryView](t, c, wid, deliveries.UpdateReportProblem, deliveries.ProblemInput{Actor: "integration:test", Description: "Le compte est bloqué"})
	assert.Equal(t, deliveries.StatusUnderReview, v.Status)
	var caseID string
	require.Eventually(t, func() bool {
		v = query(t, c, wid)
		if len(v.LinkedCases) == 1 {
			caseID = v.LinkedCases[0].CaseID
		}
		return caseID != ""
	}, 15*time.Second, 200*time.Millisecond, "no linked case opened")
	res, err := c.QueryWorkflow(ctx, cases.CaseWorkflowID(caseID), "", cases.QueryCase)
	require.NoError(t, err)
	var linked cases.CaseView
	require.NoError(t, res.Get(&linked))
	assert.Equal(t, id, linked.DeliveryID)
	assert.Equal(t, buyer.ID, linked.Customer.ID)
	assert.Contains(t, linked.Description, "Order: ord-"+id)
	update[cases.CaseView](t, c, cases.CaseWorkflowID(caseID), cases.UpdateResolve, cases.ResolveInput{Actor: "agent:bo", Resolution: "nouveau mot de passe"})
	require.Eventually(t, func() bool { return query(t, c, wid).Status == deliveries.StatusDelivered },
		15*time.Second, 200*time.Millisecond, "the case's resolution never came back")
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, cases.CaseWorkflowID(caseID), "", "test over") })

	var final deliveries.DeliveryView
	require.NoError(t, c.GetWorkflow(ctx, wid, "").Get(ctx, &final))
	assert.Equal(t, deliveries.StatusRetired, final.Status)
	assert.Equal(t, "warranty ended", final.RetireReason)
	row, err := stacktest.Store(t).GetDelivery(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, deliveries.StatusRetired, row.Status, "the read model has the end")

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		recordHistory(t, c, wid, "accountdelivery-"+name+".json")
	}
}

// TestAProblemRecoveredOnTheRealStackMakesTheDeliveryRecovered takes the
// other way out of a review: the linked case recovers the account (a real
// AccountRecovery, its code derived as the worker derives it), so the
// delivery is recovered; then its warranty retires it.
func TestAProblemRecoveredOnTheRealStackMakesTheDeliveryRecovered(t *testing.T) {
	c, queue, cfg := startWorker(t)
	ctx := stacktest.Context(t)
	id := fmt.Sprintf("D-R%d", time.Now().UnixNano())
	buyer := vocab.Customer{ID: "buy-" + id, Email: "buyer-" + id + "@example.com", Name: "Bea", Locale: "en"}
	_, err := accounts.NewPostgres(stacktest.Store(t).Pool()).Create(ctx, accounts.Account{
		ID: "acc-" + id, Status: accounts.StatusActive, Email: buyer.Email, ActiveSessions: 1, CredentialVersion: 1})
	require.NoError(t, err)
	policy := sla.DeliveryPolicy{ConfirmationWindow: time.Minute, Warranty: 15 * time.Second, WarrantyNotice: 2 * time.Second}
	in, err := deliveries.Starter{Temporal: c, Policy: policy, TaskQueue: queue}.Start(ctx, deliveries.StartRequest{
		ID: id, AccountID: "acc-" + id, OrderID: "ord-" + id, Buyer: buyer, SellerID: "sel-1", Product: "steam",
		AllowedUse: "personal play", Region: "EU", StartedBy: "integration:test",
		RecoveryPath: deliveries.RecoveryPath{Email: buyer.Email, ResetBy: "marketplace"},
	}, vocab.Once{})
	require.NoError(t, err)
	wid := deliveries.DeliveryWorkflowID(in.ID)
	files := evidence.NewStore(stacktest.S3(t), cfg.S3.Bucket, cfg.Evidence)
	obj, err := files.PutBytes(ctx, evidence.DeliveryKey(id, "E-"+id), map[string]string{"delivery": id},
		"text/plain; charset=utf-8", []byte("login: bea, password sent by the seller's chat"), false)
	require.NoError(t, err)
	update[vocab.EvidenceResult](t, c, wid, deliveries.UpdateAddEvidence, vocab.EvidenceInput{Actor: "integration:test",
		Evidence: vocab.Evidence{ID: "E-" + id, Kind: "login_note", Key: obj.Key, SHA256: obj.SHA256, Size: obj.Size, ContentType: obj.ContentType}})
	update[deliveries.DeliveryView](t, c, wid, deliveries.UpdateDeliver, deliveries.ActorInput{Actor: "integration:test"})
	update[deliveries.DeliveryView](t, c, wid, deliveries.UpdateReportProblem, deliveries.ProblemInput{Actor: "integration:test", Description: "the seller took it back"})
	// Operators find it in the Web UI by its status.
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s' AND DeliveryStatus = 'under_review' AND SellerId = 'sel-1'", wid)})
		return err == nil && len(resp.GetExecutions()) == 1
	}, 15*time.Second, 200*time.Millisecond, "visibility never listed the delivery under review")
	var caseID string
	require.Eventually(t, func() bool {
		if v := query(t, c, wid); len(v.LinkedCases) == 1 {
			caseID = v.LinkedCases[0].CaseID
		}
		return caseID != ""
	}, 15*time.Second, 200*time.Millisecond, "no linked case opened")
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, cases.CaseWorkflowID(caseID), "", "test over") })

	v := update[cases.CaseView](t, c, cases.CaseWorkflowID(caseID), cases.UpdateStartRecovery, cases.RecoveryRequest{Actor: "account_manager:al"})
	recovery := v.Recovery.WorkflowID
	secret := []byte(cfg.Notify.CodeSecret)
	codeID := accountflows.CodeID(recovery)
	require.Eventually(t, func() bool {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: recovery, UpdateName: accountflows.UpdateVerifyCode,
			Args:         []any{accountflows.VerifyInput{Actor: "integration:test", Digest: codes.Digest(secret, codeID, codes.Code(secret, codeID))}},
			WaitForStage: client.WorkflowUpdateStageCompleted})
		var r accountflows.VerifyResult
		return err == nil && h.Get(ctx, &r) == nil && r.Verified
	}, 15*time.Second, 200*time.Millisecond, "the recovery never took its code")
	require.Eventually(t, func() bool { return query(t, c, wid).Status == deliveries.StatusRecovered },
		20*time.Second, 200*time.Millisecond, "the completed recovery never came back to the delivery")
	h := query(t, c, wid).Handoff
	assert.Empty(t, h.Missing, "all six answers while recovered")

	var final deliveries.DeliveryView
	require.NoError(t, c.GetWorkflow(ctx, wid, "").Get(ctx, &final))
	assert.Equal(t, deliveries.StatusRetired, final.Status)
	assert.Equal(t, "warranty ended", final.RetireReason)

	// The delivery log names each notification after its cause: the
	// update, the deadline, the linked case's first outcome.
	rows, err := stacktest.Store(t).Pool().Query(ctx,
		`SELECT DISTINCT notification_id, event FROM notification_deliveries WHERE notification_id LIKE $1 || '/%'`, wid)
	require.NoError(t, err)
	told := map[string]string{}
	for rows.Next() {
		var nid, event string
		require.NoError(t, rows.Scan(&nid, &event))
		told[event] = nid
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, wid+"/linked-case/1/"+deliveries.EventRecovered+"/customer", told[deliveries.EventRecovered])
	named := map[string]*regexp.Regexp{
		deliveries.EventDelivered:       regexp.MustCompile(`^` + wid + `/update/.+/` + deliveries.EventDelivered + `/customer$`),
		deliveries.EventProblemReported: regexp.MustCompile(`^` + wid + `/update/.+/` + deliveries.EventProblemReported + `/customer$`),
		deliveries.EventWarrantyEnding:  regexp.MustCompile(`^` + wid + `/deadline/warranty_notice/\d+/` + deliveries.EventWarrantyEnding + `/customer$`),
		deliveries.EventRetired:         regexp.MustCompile(`^` + wid + `/deadline/warranty_end/\d+/` + deliveries.EventRetired + `/customer$`),
	}
	for event, re := range named {
		assert.Regexp(t, re, told[event], "the %s notification", event)
	}
	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		recordHistory(t, c, wid, "accountdelivery-recovered-"+name+".json")
	}
}

// startWorker runs every workflow and activity on a task queue of its own.
func startWorker(t *testing.T) (client.Client, string, config.Config) {
	t.Helper()
	cfg := stackworker.Start(t, stacktest.Config(t), "test-delivery")
	return stacktest.Temporal(t), cfg.Temporal.TaskQueue, cfg
}

// recordHistory writes workflowID's history under testdata for the replay test.
func recordHistory(t *testing.T, c client.Client, workflowID, name string) {
	stacktest.WriteHistory(t, c, workflowID, "", filepath.Join("testdata", name))
}

func update[T any](t *testing.T, c client.Client, workflowID, name string, arg any) T {
	t.Helper()
	h, err := c.UpdateWorkflow(stacktest.Context(t), client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err, name)
	var out T
	require.NoError(t, h.Get(stacktest.Context(t), &out), name)
	return out
}

func query(t *testing.T, c client.Client, workflowID string) deliveries.DeliveryView {
	t.Helper()
	res, err := c.QueryWorkflow(stacktest.Context(t), workflowID, "", deliveries.QueryDelivery)
	require.NoError(t, err)
	var v deliveries.DeliveryView
	require.NoError(t, res.Get(&v))
	return v
}
