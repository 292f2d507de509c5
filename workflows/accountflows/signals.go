package accountflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// signalsPerRun bounds one run's history; then the watch continues as new.
const signalsPerRun = 1000

// AccountSignals watches what the marketplace reports about one account.
// When Threshold signals fall inside Window it opens one security case,
// which locks the account; the rest of the burst joins that case instead of
// opening more. It ends once the account has been quiet for a window.
func AccountSignals(ctx workflow.Context, in SignalsInput) (SignalsView, error) {
	if in.AccountID == "" || in.Threshold < 1 || in.Window <= 0 {
		return SignalsView{}, vocab.InvalidArgument("signals input: account_id, threshold and window are required")
	}
	w := &signalWatch{in: in, v: SignalsView{AccountID: in.AccountID, Recent: in.Recent, CaseID: in.CaseID}}
	if err := w.setup(ctx); err != nil {
		return w.v, err
	}
	return w.run(ctx)
}

// signalWatch is the AccountSignals workflow's state: the burst's recent
// signals and the case it opened.
type signalWatch struct {
	in       SignalsInput
	v        SignalsView
	received int
}

func (w *signalWatch) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QuerySignals, func() (SignalsView, error) { return w.v, nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QuerySignals, err)
	}
	return nil
}

// run takes signals until a window passes without one, continuing as new
// after signalsPerRun of them.
func (w *signalWatch) run(ctx workflow.Context) (SignalsView, error) {
	ch := workflow.GetSignalChannel(ctx, SignalAccountSignal)
	for {
		s, ok := w.awaitSignalOrQuiet(ctx, ch)
		if !ok {
			// Signals that arrived meanwhile are handled by the next run.
			if ch.Len() > 0 {
				w.v.Recent, w.v.CaseID = nil, ""
				return w.v, w.continueAsNew(ctx)
			}
			return w.v, nil
		}
		w.take(ctx, s)
		if w.received >= signalsPerRun {
			return w.v, w.continueAsNew(ctx)
		}
	}
}

// awaitSignalOrQuiet answers the next signal, or false once the account
// has been quiet for a whole window: the burst is over.
func (w *signalWatch) awaitSignalOrQuiet(ctx workflow.Context, ch workflow.ReceiveChannel) (AccountSignal, bool) {
	var s AccountSignal
	more := true
	timedOut := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { more = c.Receive(ctx, &s) })
	tctx, cancel := workflow.WithCancel(ctx)
	sel.AddFuture(workflow.NewTimerWithOptions(tctx, w.in.Window, workflow.TimerOptions{Summary: "quiet window"}),
		func(workflow.Future) { timedOut = true })
	sel.Select(ctx)
	cancel()
	return s, !timedOut && more
}

// take counts a signal into the burst: the one that reaches the threshold
// opens the security case, later ones join it.
func (w *signalWatch) take(ctx workflow.Context, s AccountSignal) {
	w.received++
	now := workflow.Now(ctx)
	if s.At.IsZero() || s.At.After(now) {
		s.At = now
	}
	w.v.Recent = append(w.v.Recent, s)
	w.v.Recent = slices.DeleteFunc(w.v.Recent, func(x AccountSignal) bool { return now.Sub(x.At) > w.in.Window })
	if w.v.CaseID == "" && len(w.v.Recent) >= w.in.Threshold {
		w.in.Opened++
		w.v.CaseID = openSecurityCase(ctx, w.in, w.v.Recent)
	} else if w.v.CaseID != "" {
		vocab.ReportToCase(ctx, w.v.CaseID, vocab.CaseEvent{Actor: s.ReportedBy, Kind: EventAccountSignal,
			Payload: vocab.Payload("account_id", w.in.AccountID, "signal", s.Kind, "detail", s.Detail)})
	}
}

// continueAsNew carries the burst into a new run.
func (w *signalWatch) continueAsNew(ctx workflow.Context) error {
	w.in.Recent, w.in.CaseID = w.v.Recent, w.v.CaseID
	return workflow.NewContinueAsNewError(ctx, WorkflowAccountSignals, w.in)
}

// openSecurityCase opens the security case of a burst and answers its id
// (empty when it could not be opened; the next signal tries again).
func openSecurityCase(ctx workflow.Context, in SignalsInput, recent []AccountSignal) string {
	kinds := map[string]int{}
	lines := make([]string, 0, len(recent))
	for _, s := range recent {
		kinds[s.Kind]++
		line := s.At.UTC().Format(time.RFC3339) + " " + s.Kind
		if s.Detail != "" {
			line += ": " + s.Detail
		}
		lines = append(lines, line+" (reported by "+s.ReportedBy+")")
	}
	subject := fmt.Sprintf("%d suspicious signals on account %s within %s", len(recent), in.AccountID, in.Window)
	if kinds[SignalFailedLogin] == len(recent) {
		subject = fmt.Sprintf("%d failed logins on account %s within %s", len(recent), in.AccountID, in.Window)
	}
	var out vocab.OpenCaseResult
	err := workflow.ExecuteActivity(accountActivityOptions(ctx, "open a security case"), vocab.ActivityOpenCase, vocab.OpenCaseRequest{
		Key:      SignalsWorkflowID(in.AccountID) + "/" + workflow.GetInfo(ctx).WorkflowExecution.RunID + "/" + fmt.Sprint(in.Opened),
		Category: vocab.CategorySecurityAlert, Subject: subject,
		Description: "Signals reported by the marketplace:\n" + strings.Join(lines, "\n"),
		AccountID:   in.AccountID, OpenedBy: vocab.SystemActor, Channel: "account_signals",
	}).Get(ctx, &out)
	if err != nil {
		workflow.GetLogger(ctx).Error("security case not opened", "account", in.AccountID, "error", err)
		return ""
	}
	return out.CaseID
}
