//go:build integration

package cases_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"handoff/stacktest"
	"handoff/worker/registry"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// secondsPolicies are p1..p4 targets of a few seconds, so a real case
// breaches while the test watches.
func secondsPolicies() []sla.Policy {
	always := sla.Calendar{Name: "24x7", TimeZone: "UTC", AlwaysOpen: true}
	var out []sla.Policy
	for _, p := range vocab.Priorities {
		out = append(out, sla.Policy{Category: "login_failure", Priority: string(p), Calendar: always,
			WarningThreshold: 0.5,
			Targets:          sla.Targets{FirstResponse: 3 * time.Second, NextResponse: 10 * time.Second, Resolution: time.Minute}})
	}
	return out
}

// startWorker runs SupportCase with the real notifier on a queue of its own.
func startWorker(t *testing.T) (client.Client, string) {
	t.Helper()
	c := stacktest.Temporal(t)
	queue := fmt.Sprintf("test-case-%d", time.Now().UnixNano())
	w := workerOn(t, c, queue)
	t.Cleanup(w.Stop)
	return c, queue
}

// workerOn starts a worker of every workflow and activity on queue.
func workerOn(t *testing.T, c client.Client, queue string) worker.Worker {
	t.Helper()
	w := worker.New(c, queue, worker.Options{})
	cfg := stacktest.Config(t)
	cfg.Temporal.TaskQueue = queue
	require.NoError(t, registry.Register(w, registry.Deps{Config: cfg, Logger: slog.New(slog.DiscardHandler),
		Store: stacktest.Store(t), Temporal: c, S3: stacktest.S3(t)}))
	require.NoError(t, w.Start())
	return w
}

// The worker is down at the deadline, and the agent's reply waits for it:
// the next worker takes the due timer and the late reply in one workflow
// task, and must breach before it records the reply.
func TestAReplyWaitingOutADownWorkerIsLateAndBreachesOnce(t *testing.T) {
	c := stacktest.Temporal(t)
	ctx := stacktest.Context(t)
	queue := fmt.Sprintf("test-case-%d", time.Now().UnixNano())
	first := workerOn(t, c, queue)
	in := newCase(t)
	run, err := c.ExecuteWorkflow(ctx, cases.CaseStartOptions(in, queue), cases.SupportCase, in)
	require.NoError(t, err)
	require.Equal(t, cases.StatusNew, query(t, c, in.ID).Status)
	first.Stop()

	time.Sleep(4 * time.Second) // past the first response, due at 3 s
	replied := make(chan cases.CaseView, 1)
	go func() {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: cases.CaseWorkflowID(in.ID), UpdateID: "late-reply", UpdateName: cases.UpdateReply,
			Args: []any{cases.MessageInput{Actor: "agent:bo", Body: "Sorry for the wait"}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var v cases.CaseView
		if err == nil {
			err = h.Get(ctx, &v)
		}
		assert.NoError(t, err)
		replied <- v
	}()
	time.Sleep(time.Second) // the reply waits on the server
	second := workerOn(t, c, queue)
	defer second.Stop()

	var v cases.CaseView
	select {
	case v = <-replied:
	case <-time.After(30 * time.Second):
		t.Fatal("the reply was never taken")
	}
	require.Len(t, v.SLA.Breaches, 1, "the late reply breached first")
	assert.Equal(t, "first_response", v.SLA.Breaches[0].Target)
	kinds := map[string]int{}
	order := []string{}
	for _, e := range query(t, c, in.ID).Timeline {
		kinds[e.Kind]++
		order = append(order, e.Kind)
	}
	assert.Equal(t, 1, kinds[cases.EventSLAWarning], "%v", order)
	assert.Equal(t, 1, kinds[cases.EventSLABreach], "%v", order)
	assert.Equal(t, []string{cases.EventOpened, cases.EventSLAWarning, cases.EventSLABreach, cases.EventAgentReply}, order)

	update(t, c, in.ID, "resolve-1", cases.UpdateResolve, cases.ResolveInput{Actor: "agent:bo", Resolution: "New code sent"})
	var final cases.CaseView
	require.NoError(t, run.Get(ctx, &final))
	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		recordHistory(t, c, run, "supportcase-overdue-"+name+".json")
	}
}

func newCase(t *testing.T) cases.CaseInput {
	id := fmt.Sprintf("T-%d", time.Now().UnixNano())
	return cases.CaseInput{
		ID: id, Category: vocab.CategoryLoginFailure, Priority: vocab.P1,
		Subject: "Cannot log in", Description: "The code never arrives.",
		Customer:  vocab.Customer{ID: "cus-" + id, Email: "cus-" + id + "@example.com", Name: "Ada", Locale: "en"},
		AccountID: "acc-" + id, Team: vocab.TeamTier1Support, OpenedBy: "test",
		Policies:  secondsPolicies(),
		Lifecycle: sla.Lifecycle{AutoCloseAfterWaiting: time.Minute, ReopenWindow: 2 * time.Second, CSATWindow: 3 * time.Second},
		Revision:  cases.CaseRevision,
	}
}

func query(t *testing.T, c client.Client, id string) cases.CaseView {
	t.Helper()
	res, err := c.QueryWorkflow(stacktest.Context(t), cases.CaseWorkflowID(id), "", cases.QueryCase)
	require.NoError(t, err)
	var v cases.CaseView
	require.NoError(t, res.Get(&v))
	return v
}

func update(t *testing.T, c client.Client, id, updateID, name string, arg any) cases.CaseView {
	t.Helper()
	h, err := c.UpdateWorkflow(stacktest.Context(t), client.UpdateWorkflowOptions{
		WorkflowID: cases.CaseWorkflowID(id), UpdateID: updateID, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err, name)
	var v cases.CaseView
	require.NoError(t, h.Get(stacktest.Context(t), &v), name)
	return v
}

func TestUnansweredCaseEscalatesOnTheRealServer(t *testing.T) {
	c, queue := startWorker(t)
	ctx := stacktest.Context(t)
	in := newCase(t)
	run, err := c.ExecuteWorkflow(ctx, cases.CaseStartOptions(in, queue), cases.SupportCase, in)
	require.NoError(t, err)

	var v cases.CaseView
	require.Eventually(t, func() bool {
		v = query(t, c, in.ID)
		return v.EscalationLevel >= 1
	}, 20*time.Second, 200*time.Millisecond, "the first-response breach never escalated")
	assert.Equal(t, cases.StatusEscalated, v.Status)
	require.NotEmpty(t, v.SLA.Breaches)
	assert.Equal(t, "first_response", v.SLA.Breaches[0].Target)
	breaches := 0
	for _, e := range v.Timeline {
		if e.Kind == cases.EventSLABreach {
			breaches++
		}
	}
	assert.Equal(t, 1, breaches, "one breach on the timeline at level 1")

	// Operators find it in the Web UI by its search attributes.
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s' AND CaseEscalationLevel >= 1 AND SLABreached = true AND CaseStatus = 'escalated'",
				cases.CaseWorkflowID(in.ID)),
		})
		return err == nil && len(resp.GetExecutions()) == 1
	}, 10*time.Second, 200*time.Millisecond, "visibility never showed the breach")

	// The team channel heard of it.
	require.Eventually(t, func() bool {
		msgs, err := stacktest.MailpitSearch(ctx, fmt.Sprintf(`to:team-tier1_support subject:"[%s] SLA breached"`, in.ID))
		return err == nil && len(msgs) == 1
	}, 10*time.Second, 200*time.Millisecond, "no breach alert reached the team")

	// A retried update (same update id) acts once and answers the same.
	first := update(t, c, in.ID, "reply-1", cases.UpdateReply, cases.MessageInput{Actor: "agent:bo", Body: "On it"})
	again := update(t, c, in.ID, "reply-1", cases.UpdateReply, cases.MessageInput{Actor: "agent:bo", Body: "On it"})
	assert.Equal(t, first.LastSeq, again.LastSeq)
	replies := 0
	for _, e := range query(t, c, in.ID).Timeline {
		if e.Kind == cases.EventAgentReply {
			replies++
		}
	}
	assert.Equal(t, 1, replies)

	update(t, c, in.ID, "resolve-1", cases.UpdateResolve, cases.ResolveInput{Actor: "agent:bo", Resolution: "New code sent"})
	update(t, c, in.ID, "csat-1", cases.UpdateCSAT, cases.CSATInput{Actor: "customer", Rating: 4})
	var final cases.CaseView
	require.NoError(t, run.Get(ctx, &final))
	assert.Equal(t, cases.StatusClosed, final.Status)
	assert.Equal(t, 4, final.CSAT.Rating)

	// HANDOFF_RECORD_HISTORY=<name> keeps this run's history as
	// testdata/supportcase-<name>.json for the replay test.
	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		recordHistory(t, c, run, "supportcase-"+name+".json")
	}
}

// recordHistory writes run's history under testdata for the replay test.
func recordHistory(t *testing.T, c client.Client, run client.WorkflowRun, name string) {
	stacktest.WriteHistory(t, c, run.GetID(), run.GetRunID(), filepath.Join("testdata", name))
}
