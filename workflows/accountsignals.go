package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// SignalsWorkflowID is the workflow id watching an account's signals.
func SignalsWorkflowID(accountID string) string { return "signals/" + accountID }

// Names of the AccountSignals workflow's signal and query.
const (
	// SignalAccountSignal reports one AccountSignal.
	SignalAccountSignal = "account-signal"
	// QuerySignals answers the SignalsView.
	QuerySignals = "signals"
)

// Kinds of account signal the marketplace reports.
const (
	SignalFailedLogin           = "failed_login"
	SignalNewDevice             = "new_device"
	SignalCredentialChange      = "credential_change"
	SignalSuspiciousTransaction = "suspicious_transaction"
)

// SignalKinds lists the kinds of account signal.
var SignalKinds = []string{SignalFailedLogin, SignalNewDevice, SignalCredentialChange, SignalSuspiciousTransaction}

// AccountSignal is one suspicious thing the marketplace saw on an account.
type AccountSignal struct {
	Kind       string    `json:"kind"`
	Detail     string    `json:"detail,omitempty"`
	ReportedBy string    `json:"reported_by"`
	At         time.Time `json:"at"`
}

// SignalsInput starts the watch of an account's signals.
type SignalsInput struct {
	AccountID string `json:"account_id"`
	// Threshold signals inside Window open a security case.
	Threshold int           `json:"threshold"`
	Window    time.Duration `json:"window"`
	// Carried across continue-as-new: the cases opened so far, the burst's
	// recent signals and its case.
	Opened int             `json:"opened,omitempty"`
	Recent []AccountSignal `json:"recent,omitempty"`
	CaseID string          `json:"case_id,omitempty"`
}

// SignalsView is the watch as callers see it.
type SignalsView struct {
	AccountID string          `json:"account_id"`
	Recent    []AccountSignal `json:"recent"`
	// CaseID is the security case the current burst opened, if any.
	CaseID string `json:"case_id,omitempty"`
}

// signalsPerRun bounds one run's history; then the watch continues as new.
const signalsPerRun = 1000

// AccountSignals watches what the marketplace reports about one account.
// When Threshold signals fall inside Window it opens one security case,
// which locks the account; the rest of the burst joins that case instead of
// opening more. It ends once the account has been quiet for a window.
func AccountSignals(ctx workflow.Context, in SignalsInput) (SignalsView, error) {
	if in.AccountID == "" || in.Threshold < 1 || in.Window <= 0 {
		return SignalsView{}, invalidArgument("signals input: account_id, threshold and window are required")
	}
	v := SignalsView{AccountID: in.AccountID, Recent: in.Recent, CaseID: in.CaseID}
	carry := func() error {
		in.Recent, in.CaseID = v.Recent, v.CaseID
		return workflow.NewContinueAsNewError(ctx, AccountSignals, in)
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
			reportToCase(ctx, v.CaseID, CaseEvent{Actor: s.ReportedBy, Kind: EventAccountSignal,
				Payload: payload("account_id", in.AccountID, "signal", s.Kind, "detail", s.Detail)})
		}
		if received >= signalsPerRun {
			return v, carry()
		}
	}
}

// EventAccountSignal is a signal reported on an account that already has a security case.
const EventAccountSignal = "account_signal"

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
		Category: CategorySecurityAlert, Subject: subject,
		Description: "Signals reported by the marketplace:\n" + strings.Join(lines, "\n"),
		AccountID:   in.AccountID, OpenedBy: SystemActor, Channel: "account_signals",
	}).Get(ctx, &out)
	if err != nil {
		workflow.GetLogger(ctx).Error("security case not opened", "account", in.AccountID, "error", err)
		return ""
	}
	return out.CaseID
}
