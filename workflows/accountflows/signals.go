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
	v := SignalsView{AccountID: in.AccountID, Recent: in.Recent, CaseID: in.CaseID}
	carry := func() error {
		in.Recent, in.CaseID = v.Recent, v.CaseID
		return workflow.NewContinueAsNewError(ctx, WorkflowAccountSignals, in)
	}
	if err := workflow.SetQueryHandler(ctx, QuerySignals, func() (SignalsView, error) { return v, nil }); err != nil {
		return v, fmt.Errorf("register query %s: %w", QuerySignals, err)
	}
	ch := workflow.GetSignalChannel(ctx, SignalAccountSignal)
	received := 0
	for {
		var s AccountSignal
		more := true
		timedOut := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { more = c.Receive(ctx, &s) })
		// Quiet for a whole window: the burst is over.
		tctx, cancel := workflow.WithCancel(ctx)
		sel.AddFuture(workflow.NewTimerWithOptions(tctx, in.Window, workflow.TimerOptions{Summary: "quiet window"}),
			func(workflow.Future) { timedOut = true })
		sel.Select(ctx)
		cancel()
		if timedOut || !more {
			// Signals that arrived meanwhile are handled by the next run.
			if ch.Len() > 0 {
				v.Recent, v.CaseID = nil, ""
				return v, carry()
			}
			return v, nil
		}
		received++
		now := workflow.Now(ctx)
		if s.At.IsZero() || s.At.After(now) {
			s.At = now
		}
		v.Recent = append(v.Recent, s)
		v.Recent = slices.DeleteFunc(v.Recent, func(x AccountSignal) bool { return now.Sub(x.At) > in.Window })
		if v.CaseID == "" && len(v.Recent) >= in.Threshold {
			in.Opened++
			v.CaseID = openSecurityCase(ctx, in, v.Recent)
		} else if v.CaseID != "" {
			vocab.ReportToCase(ctx, v.CaseID, vocab.CaseEvent{Actor: s.ReportedBy, Kind: EventAccountSignal,
				Payload: vocab.Payload("account_id", in.AccountID, "signal", s.Kind, "detail", s.Detail)})
		}
		if received >= signalsPerRun {
			return v, carry()
		}
	}
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
	var out OpenCaseResult
	err := workflow.ExecuteActivity(accountActivityOptions(ctx, "open a security case"), ActivityOpenCase, OpenCaseRequest{
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
