package erasure

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"handoff/workflows/vocab"
)

var testErasure = Input{ID: "E-1", CustomerID: "cus-1", RequestedBy: "admin:dpo", RequestedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}

// erasureTest runs one Erasure on the SDK's test environment with stand-in
// activities: the read-model step refuses until the running cases have
// projected (notYet attempts), as the real one does.
type erasureTest struct {
	env    *testsuite.TestWorkflowEnvironment
	reads  []ReadModelInput
	notYet int
}

func newErasureTest(t *testing.T, caseIDs []string, running map[string]bool) *erasureTest {
	return newErasureTestOf(t, CustomerCases{CaseIDs: caseIDs}, running)
}

// newErasureTestOf is newErasureTest of a customer with found's records;
// running names the ids whose workflows take the signal.
func newErasureTestOf(t *testing.T, found CustomerCases, running map[string]bool) *erasureTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	et := &erasureTest{env: s.NewTestWorkflowEnvironment()}
	et.env.RegisterWorkflow(Erasure)
	et.env.RegisterActivityWithOptions(func(_ context.Context, customerID string) (CustomerCases, error) {
		assert.Equal(t, testErasure.CustomerID, customerID)
		return found, nil
	}, activity.RegisterOptions{Name: ActivityFindCustomerCases})
	et.env.RegisterActivityWithOptions(func(_ context.Context, in ReadModelInput) (ReadModelErasure, error) {
		et.reads = append(et.reads, in)
		if len(in.Running)+len(in.RunningReturns)+len(in.RunningDisputes) > 0 && et.notYet > 0 {
			et.notYet--
			return ReadModelErasure{}, temporal.NewApplicationError("not projected", ErrCaseNotErased)
		}
		return ReadModelErasure{Cases: len(in.Running) + len(in.Ended), TimelineEvents: 7}, nil
	}, activity.RegisterOptions{Name: ActivityEraseReadModel})
	et.env.RegisterActivityWithOptions(func(_ context.Context, _ string) (EvidenceErasure, error) {
		return EvidenceErasure{Deleted: []string{"cases/C-1/a"}, Held: []HeldFile{{CaseID: "C-2", Key: "cases/C-2/b",
			RetainUntil: time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC)}}}, nil
	}, activity.RegisterOptions{Name: ActivityEraseEvidence})
	for _, records := range []struct {
		ids        []string
		workflowID func(string) string
	}{
		{found.CaseIDs, vocab.CaseWorkflowID}, {found.DeliveryIDs, vocab.DeliveryWorkflowID},
		{found.ReturnIDs, vocab.ReturnWorkflowID}, {found.DisputeIDs, vocab.DisputeWorkflowID},
	} {
		for _, id := range records.ids {
			var err error
			if !running[id] {
				err = errors.New("unknown external workflow execution")
			}
			et.env.OnSignalExternalWorkflow(mock.Anything, records.workflowID(id), "", vocab.SignalEraseCustomer,
				vocab.EraseCustomer{ErasureID: "E-1", CustomerID: "cus-1", RequestedBy: "admin:dpo"}).Return(err).Once()
		}
	}
	return et
}

func (et *erasureTest) run(t *testing.T) Result {
	et.env.ExecuteWorkflow(Erasure, testErasure)
	require.True(t, et.env.IsWorkflowCompleted())
	require.NoError(t, et.env.GetWorkflowError())
	var r Result
	require.NoError(t, et.env.GetWorkflowResult(&r))
	et.env.AssertExpectations(t)
	return r
}

func TestErasureTellsRunningCasesThenErasesTheReadModelAndTheFiles(t *testing.T) {
	et := newErasureTest(t, []string{"C-1", "C-2"}, map[string]bool{"C-1": true})
	et.notYet = 2
	r := et.run(t)
	assert.Equal(t, StatusErased, r.Status)
	assert.Equal(t, []string{"C-1", "C-2"}, r.Cases)
	assert.Equal(t, []string{"C-1"}, r.RunningCases)
	require.Len(t, et.reads, 3, "the read-model step waits for the running case's own projection")
	assert.Equal(t, ReadModelInput{Erasure: testErasure, Running: []string{"C-1"}, Ended: []string{"C-2"}}, et.reads[2])
	assert.Equal(t, 2, r.ReadModel.Cases)
	assert.Equal(t, []string{"cases/C-1/a"}, r.Evidence.Deleted)
	require.Len(t, r.Evidence.Held, 1)
	assert.Equal(t, "cases/C-2/b", r.Evidence.Held[0].Key)
	assert.NotNil(t, r.FinishedAt)
}

func TestErasureTellsTheRunningReturnsAndDisputesAndCountsThem(t *testing.T) {
	et := newErasureTestOf(t, CustomerCases{CaseIDs: []string{"C-1"}, ReturnIDs: []string{"R-1", "R-2"}, DisputeIDs: []string{"DP-1", "DP-2"}},
		map[string]bool{"C-1": true, "R-1": true, "DP-2": true})
	et.notYet = 1
	r := et.run(t)
	assert.Equal(t, StatusErased, r.Status)
	assert.Equal(t, []string{"R-1", "R-2"}, r.Returns)
	assert.Equal(t, []string{"R-1"}, r.RunningReturns)
	assert.Equal(t, []string{"DP-1", "DP-2"}, r.Disputes)
	assert.Equal(t, []string{"DP-2"}, r.RunningDisputes)
	require.Len(t, et.reads, 2, "the read-model step waits for the running ones' own projection")
	assert.Equal(t, ReadModelInput{Erasure: testErasure, Running: []string{"C-1"},
		RunningReturns: []string{"R-1"}, EndedReturns: []string{"R-2"},
		RunningDisputes: []string{"DP-2"}, EndedDisputes: []string{"DP-1"}}, et.reads[1])
}

func TestReturnsAndDisputesThatNeverProjectAreErasedAsEnded(t *testing.T) {
	et := newErasureTestOf(t, CustomerCases{ReturnIDs: []string{"R-1"}, DisputeIDs: []string{"DP-1"}},
		map[string]bool{"R-1": true, "DP-1": true})
	et.notYet = 1000
	r := et.run(t)
	assert.Equal(t, StatusErased, r.Status)
	assert.Equal(t, []string{"R-1"}, r.RunningReturns)
	last := et.reads[len(et.reads)-1]
	assert.Empty(t, last.RunningReturns)
	assert.Empty(t, last.RunningDisputes)
	assert.Equal(t, []string{"R-1"}, last.EndedReturns)
	assert.Equal(t, []string{"DP-1"}, last.EndedDisputes)
}

func TestACaseThatNeverProjectsIsErasedAsEnded(t *testing.T) {
	et := newErasureTest(t, []string{"C-1"}, map[string]bool{"C-1": true})
	et.notYet = 1000 // it ended before it took the signal
	r := et.run(t)
	assert.Equal(t, StatusErased, r.Status)
	last := et.reads[len(et.reads)-1]
	assert.Empty(t, last.Running)
	assert.Equal(t, []string{"C-1"}, last.Ended)
}

func TestAnErasureOfNoCasesStillSucceeds(t *testing.T) {
	et := newErasureTest(t, nil, nil)
	r := et.run(t)
	assert.Equal(t, StatusErased, r.Status)
	assert.Empty(t, r.Cases)
}

func TestAnErasureWithoutACustomerIsRefused(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(Erasure, Input{ID: "E-1", RequestedBy: "admin:dpo"})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	assert.Equal(t, "InvalidErasure", appErr.Type())
	assert.Contains(t, appErr.Error(), "customer_id")
}
