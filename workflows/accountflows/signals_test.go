package accountflows

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"handoff/workflows/vocab"
)

// openedAt is a Monday 10:00 UTC, far from any DST change.
var openedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newTestEnv() *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(openedAt)
	return env
}

func TestABurstOfSignalsOpensOneSecurityCase(t *testing.T) {
	env := newTestEnv()
	env.RegisterWorkflowWithOptions(AccountSignals, workflowOptions(WorkflowAccountSignals))
	var mu sync.Mutex
	var opened []vocab.OpenCaseRequest
	env.RegisterActivityWithOptions(func(ctx context.Context, r vocab.OpenCaseRequest) (vocab.OpenCaseResult, error) {
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, r)
		return vocab.OpenCaseResult{CaseID: "C-SEC"}, nil
	}, activity.RegisterOptions{Name: vocab.ActivityOpenCase})
	env.OnSignalExternalWorkflow(mock.Anything, vocab.CaseWorkflowID("C-SEC"), "", vocab.SignalCaseEvent, mock.Anything).Return(nil)
	for i := range 8 {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(SignalAccountSignal, AccountSignal{Kind: SignalFailedLogin, ReportedBy: "integration:shop", Detail: "bad password"})
		}, time.Duration(i+1)*time.Minute)
	}
	// One more after a quiet window: a new burst, below the threshold.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalAccountSignal, AccountSignal{Kind: SignalFailedLogin, ReportedBy: "integration:shop"})
	}, 28*time.Minute)
	env.ExecuteWorkflow(WorkflowAccountSignals, SignalsInput{AccountID: "acc-1", Threshold: 5, Window: 15 * time.Minute})
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, opened, 1, "eight failed logins in eight minutes open one case")
	assert.Equal(t, vocab.CategorySecurityAlert, opened[0].Category)
	assert.Equal(t, "acc-1", opened[0].AccountID)
	assert.Contains(t, opened[0].Subject, "5 failed logins")
	// The three signals after the fifth join the case it opened.
	env.AssertNumberOfCalls(t, "workflow.SignalExternalWorkflow", 3)
}
