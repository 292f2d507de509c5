package erasure

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Erasure erases one customer's personal data: running cases, deliveries,
// returns and disputes first (each drops it from its own state and
// projects that), then the read model of every one of them, then the
// evidence files. Each step is idempotent, so the whole erasure may run
// again under another id with the same outcome.
func Erasure(ctx workflow.Context, in Input) (Result, error) {
	if err := in.Validate(); err != nil {
		return Result{}, err
	}
	e := &erasure{in: in, result: Result{ID: in.ID, CustomerID: in.CustomerID, RequestedBy: in.RequestedBy,
		RequestedAt: in.RequestedAt, Status: StatusRunning, Cases: []string{}, RunningCases: []string{},
		Deliveries: []string{}, RunningDeliveries: []string{},
		Returns: []string{}, RunningReturns: []string{}, Disputes: []string{}, RunningDisputes: []string{},
		Evidence: EvidenceErasure{Deleted: []string{}, Held: []HeldFile{}}}}
	if err := e.setup(ctx); err != nil {
		return Result{}, err
	}
	return e.run(ctx)
}

// erasure is the workflow's state: the result as far as it has come.
type erasure struct {
	in     Input
	result Result
}

func (e *erasure) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryErasure, func() (Result, error) { return e.result, nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QueryErasure, err)
	}
	return nil
}

func (e *erasure) run(ctx workflow.Context) (Result, error) {
	var found CustomerCases
	if err := workflow.ExecuteActivity(activityContext(ctx, "find the customer's cases", time.Minute),
		ActivityFindCustomerCases, e.in.CustomerID).Get(ctx, &found); err != nil {
		return e.result, fmt.Errorf("find cases of customer %s: %w", e.in.CustomerID, err)
	}
	e.result.Cases = append(e.result.Cases, found.CaseIDs...)
	e.result.Deliveries = append(e.result.Deliveries, found.DeliveryIDs...)
	running, ended := e.tellRunning(ctx, found.CaseIDs, vocab.CaseWorkflowID)
	e.result.RunningCases = append(e.result.RunningCases, running...)
	runningDeliveries, endedDeliveries := e.tellRunning(ctx, found.DeliveryIDs, vocab.DeliveryWorkflowID)
	e.result.RunningDeliveries = append(e.result.RunningDeliveries, runningDeliveries...)
	// An erasure recorded before returns and disputes were erased found
	// none of them, so its replay sends no signal here.
	e.result.Returns = append(e.result.Returns, found.ReturnIDs...)
	e.result.Disputes = append(e.result.Disputes, found.DisputeIDs...)
	runningReturns, endedReturns := e.tellRunning(ctx, found.ReturnIDs, vocab.ReturnWorkflowID)
	e.result.RunningReturns = append(e.result.RunningReturns, runningReturns...)
	runningDisputes, endedDisputes := e.tellRunning(ctx, found.DisputeIDs, vocab.DisputeWorkflowID)
	e.result.RunningDisputes = append(e.result.RunningDisputes, runningDisputes...)

	in := ReadModelInput{Erasure: e.in, Running: running, Ended: ended,
		RunningDeliveries: runningDeliveries, EndedDeliveries: endedDeliveries,
		RunningReturns: runningReturns, EndedReturns: endedReturns,
		RunningDisputes: runningDisputes, EndedDisputes: endedDisputes}
	// A running case projects its erasure within seconds; one that ends
	// before it takes the signal never will, so after the wait every case
	// is erased as an ended one.
	err := workflow.ExecuteActivity(activityContext(ctx, "erase the read model", 2*time.Minute),
		ActivityEraseReadModel, in).Get(ctx, &e.result.ReadModel)
	if err != nil {
		workflow.GetLogger(ctx).Warn("running cases did not project their erasure; erasing them as ended", "error", err)
		in = ReadModelInput{Erasure: e.in, Ended: slices.Concat(running, ended),
			EndedDeliveries: slices.Concat(runningDeliveries, endedDeliveries),
			EndedReturns:    slices.Concat(runningReturns, endedReturns),
			EndedDisputes:   slices.Concat(runningDisputes, endedDisputes)}
		if err := workflow.ExecuteActivity(activityContext(ctx, "erase the read model of every case", 10*time.Minute),
			ActivityEraseReadModel, in).Get(ctx, &e.result.ReadModel); err != nil {
			return e.result, fmt.Errorf("erase read model of customer %s: %w", e.in.CustomerID, err)
		}
	}
	if err := workflow.ExecuteActivity(activityContext(ctx, "delete evidence files", 10*time.Minute),
		ActivityEraseEvidence, e.in.CustomerID).Get(ctx, &e.result.Evidence); err != nil {
		return e.result, fmt.Errorf("erase evidence of customer %s: %w", e.in.CustomerID, err)
	}
	now := workflow.Now(ctx)
	e.result.FinishedAt = &now
	e.result.Status = StatusErased
	return e.result, nil
}

// tellRunning signals the workflow of every id (named by workflowID) to
// erase the customer's data and answers which took it (running) and which
// had ended.
func (e *erasure) tellRunning(ctx workflow.Context, ids []string, workflowID func(string) string) (running, ended []string) {
	req := vocab.EraseCustomer{ErasureID: e.in.ID, CustomerID: e.in.CustomerID, RequestedBy: e.in.RequestedBy}
	futures := make([]workflow.Future, len(ids))
	for i, id := range ids {
		futures[i] = workflow.SignalExternalWorkflow(ctx, workflowID(id), "", vocab.SignalEraseCustomer, req)
	}
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			ended = append(ended, ids[i]) // the workflow is closed
			continue
		}
		running = append(running, ids[i])
	}
	return running, ended
}

// activityContext runs an erasure step with summary, retried with backoff
// until scheduleToClose.
func activityContext(ctx workflow.Context, summary string, scheduleToClose time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: scheduleToClose,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second},
	})
}
