//go:build integration

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"handoff/stacktest"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// TestMain lets the test binary stand in for the worker process, so a test
// can SIGKILL a real worker and start another.
func TestMain(m *testing.M) {
	if os.Getenv("HANDOFF_WORKER_SUBPROCESS") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startWorkerProcess runs the worker command on queue in a child process
// and answers once it polls.
func startWorkerProcess(t *testing.T, queue string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cfg := stacktest.Config(t) // file paths made absolute for the child, which runs in worker/
	cmd.Env = append(os.Environ(), "HANDOFF_WORKER_SUBPROCESS=1", "HANDOFF_TASK_QUEUE="+queue,
		"WORKER_METRICS_ADDR=127.0.0.1:0", "LOG_LEVEL=info",
		"SLA_POLICY_FILE="+cfg.SLAPolicyFile, "NOTIFY_ROUTES_FILE="+cfg.Notify.RoutesFile,
		"PAYLOAD_KEYS_FILE="+cfg.Temporal.PayloadKeysFile)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"msg":"worker started"`) {
				close(started)
				break
			}
		}
		for sc.Scan() { // keep draining so the child never blocks on its pipe
		}
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("worker process did not start")
	}
	return cmd
}

func TestBreachEscalatesOnceAcrossAWorkerKill(t *testing.T) {
	c := stacktest.Temporal(t)
	ctx := stacktest.Context(t)
	queue := fmt.Sprintf("test-crash-%d", time.Now().UnixNano())
	a := startWorkerProcess(t, queue)

	id := fmt.Sprintf("K-%d", time.Now().UnixNano())
	always := sla.Calendar{Name: "24x7", TimeZone: "UTC", AlwaysOpen: true}
	var policies []sla.Policy
	for _, p := range vocab.Priorities {
		// The second-level breach (20s) falls well after the first (10s)
		// plus the 5s a dead worker's sticky task takes to time out.
		policies = append(policies, sla.Policy{Category: "locked_account", Priority: string(p), Calendar: always,
			WarningThreshold: 0.5, Targets: sla.Targets{FirstResponse: 10 * time.Second, NextResponse: time.Minute, Resolution: time.Hour}})
	}
	in := cases.CaseInput{
		ID: id, Category: vocab.CategoryLockedAccount, Priority: vocab.P1, Subject: "Locked out",
		Customer: vocab.Customer{ID: "cus-" + id, Email: "cus-" + id + "@example.com", Locale: "en"},
		Team:     vocab.TeamTier1Support, OpenedBy: "test", Policies: policies,
		Lifecycle: sla.Lifecycle{AutoCloseAfterWaiting: time.Hour, ReopenWindow: time.Second, CSATWindow: time.Second},
	}
	run, err := c.ExecuteWorkflow(ctx, cases.CaseStartOptions(in, queue), cases.SupportCase, in)
	require.NoError(t, err)
	t.Cleanup(func() {
		// t's own context is already cancelled when cleanups run.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, c.TerminateWorkflow(cctx, run.GetID(), "", "test over"))
	})

	// Kill the worker just before the deadline, once the warning is recorded.
	require.Eventually(t, func() bool {
		return strings.Contains(fmt.Sprint(historyKinds(t, run.GetID())), "sla_warning")
	}, 10*time.Second, 100*time.Millisecond)
	require.NoError(t, a.Process.Signal(syscall.SIGKILL))
	_ = a.Wait()

	// The deadline passes with no worker: the timer fires and its task waits.
	require.Eventually(t, func() bool {
		d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), "")
		return err == nil && d.GetPendingWorkflowTask() != nil &&
			d.GetPendingWorkflowTask().GetState() == enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
	}, 20*time.Second, 100*time.Millisecond, "the first-response timer never fired")

	startWorkerProcess(t, queue)
	// Read the escalation from the execution's own search attributes: a
	// query could be routed to the dead worker's sticky queue until it times out.
	require.Eventually(t, func() bool {
		d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), "")
		if err != nil {
			return false
		}
		p := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[vocab.CaseEscalationLevelKey.GetName()]
		return p != nil && string(p.GetData()) != "0"
	}, 30*time.Second, 200*time.Millisecond, "no escalation after the restart")
	var v cases.CaseView
	res, err := c.QueryWorkflow(ctx, run.GetID(), "", cases.QueryCase)
	require.NoError(t, err)
	require.NoError(t, res.Get(&v))
	assert.Equal(t, cases.LevelTeamLead, v.EscalationLevel)
	breaches := 0
	for _, k := range historyKinds(t, run.GetID()) {
		if k == "sla_breach" {
			breaches++
		}
	}
	assert.Equal(t, 1, breaches, "one breach on the timeline")
	assert.Len(t, v.SLA.Breaches, 1)
	require.Eventually(t, func() bool {
		msgs, err := stacktest.MailpitSearch(ctx, fmt.Sprintf(`subject:"[%s] SLA breached"`, id))
		return err == nil && len(msgs) == 1
	}, 10*time.Second, 200*time.Millisecond, "the team got no breach alert, or more than one")
}

// historyKinds answers the timeline kinds the case has recorded, read from
// the query when a worker answers and from nothing otherwise.
func historyKinds(t *testing.T, workflowID string) []string {
	c := stacktest.Temporal(t)
	ctx, cancel := context.WithTimeout(stacktest.Context(t), 2*time.Second)
	defer cancel()
	res, err := c.QueryWorkflow(ctx, workflowID, "", cases.QueryCase)
	if err != nil {
		return nil
	}
	var v cases.CaseView
	if res.Get(&v) != nil {
		return nil
	}
	kinds := make([]string, len(v.Timeline))
	for i, e := range v.Timeline {
		kinds[i] = e.Kind
	}
	return kinds
}
