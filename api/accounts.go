package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.temporal.io/api/serviceerror"

	"handoff/accounts"
	"handoff/codes"
	"handoff/store"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
)

// Account security, recovery and signals: locks and security decisions
// act on a case's incident, recoveries on their own workflow, signals on
// the account's watch.

type lockInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why the account is locked; on the timeline and told to the customer."`
	}
}

// lockAccount locks the case's account under a new security incident.
func (s *server) lockAccount(ctx context.Context, in *lockInput) (*caseOutput, error) {
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateLockAccount, cases.LockInput{
		Actor: callerFrom(ctx).actor(), Reason: in.Body.Reason})
}

type unlockInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Note string `json:"note,omitempty" maxLength:"2000" doc:"What the review found; told to the customer."`
	}
}

type decisionInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Decision string `json:"decision" enum:"confirmed,false_alarm" doc:"confirmed keeps the account locked and starts a recovery; false_alarm unlocks it."`
		Note     string `json:"note,omitempty" maxLength:"2000"`
	}
}

type incidentOutput struct {
	Body accountflows.IncidentView
}

// unlockAccount decides the case's open incident as a false alarm.
func (s *server) unlockAccount(ctx context.Context, in *unlockInput) (*incidentOutput, error) {
	return s.decide(ctx, in.ID, in.IdempotencyKey, accountflows.DecisionInput{
		Actor: callerFrom(ctx).actor(), Decision: accountflows.DecisionFalseAlarm, Note: in.Body.Note})
}

// securityDecision takes the security team's decision on the case's open incident.
func (s *server) securityDecision(ctx context.Context, in *decisionInput) (*incidentOutput, error) {
	return s.decide(ctx, in.ID, in.IdempotencyKey, accountflows.DecisionInput{
		Actor: callerFrom(ctx).actor(), Decision: in.Body.Decision, Note: in.Body.Note})
}

func (s *server) decide(ctx context.Context, caseID, key string, d accountflows.DecisionInput) (*incidentOutput, error) {
	if err := checkBodyText(d); err != nil {
		return nil, err
	}
	view, err := s.readCase(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if view.Incident == nil || !view.Incident.Running {
		return nil, newProblem(http.StatusConflict, "no security incident of case "+caseID+" is awaiting a decision")
	}
	out := &incidentOutput{}
	if err := s.runUpdate(ctx, view.Incident.WorkflowID, accountflows.UpdateSecurityDecision, scopedKey(ctx, key), d, &out.Body); err != nil {
		return nil, s.flowError(ctx, view.Incident.WorkflowID, "incident "+view.Incident.ID, err)
	}
	return out, nil
}

type startRecoveryInput struct {
	IdempotencyParam
	Body struct {
		CaseID   string `json:"case_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The case whose account is recovered."`
		ResetMFA bool   `json:"reset_mfa,omitempty" doc:"Also turn MFA off, for a customer who lost their device."`
	}
}

type recoveryStartBody struct {
	CaseID   string            `json:"case_id"`
	Recovery cases.AccountFlow `json:"recovery"`
}

type recoveryStartOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     recoveryStartBody
}

// startRecovery starts a recovery of a case's account.
func (s *server) startRecovery(ctx context.Context, in *startRecoveryInput) (*recoveryStartOutput, error) {
	out, err := s.act(ctx, in.Body.CaseID, in.IdempotencyKey, cases.UpdateStartRecovery, cases.RecoveryRequest{
		Actor: callerFrom(ctx).actor(), ResetMFA: in.Body.ResetMFA})
	if err != nil {
		return nil, err
	}
	r := out.Body.Recovery
	if r == nil { // the case answered without one: cannot happen after a started recovery
		return nil, newProblem(http.StatusServiceUnavailable, "the recovery did not start; retry with the same Idempotency-Key")
	}
	return &recoveryStartOutput{Status: http.StatusCreated, Location: "/v1/recoveries/" + r.ID,
		Body: recoveryStartBody{CaseID: in.Body.CaseID, Recovery: *r}}, nil
}

// RecoveryIDParam is a recovery id in a path.
type RecoveryIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"80" pattern:"^[A-Za-z0-9_-]+$" doc:"The recovery id."`
}

type recoveryOutput struct {
	Body accountflows.RecoveryView
}

// getRecovery answers a recovery as its workflow sees it.
func (s *server) getRecovery(ctx context.Context, in *RecoveryIDParam) (*recoveryOutput, error) {
	out := &recoveryOutput{}
	if err := s.queryFlow(ctx, accountflows.RecoveryWorkflowID(in.ID), accountflows.QueryRecovery, &out.Body); err != nil {
		return nil, s.flowError(ctx, accountflows.RecoveryWorkflowID(in.ID), "recovery "+in.ID, err)
	}
	return out, nil
}

type verifyInput struct {
	RecoveryIDParam
	IdempotencyParam
	Body struct {
		Code string `json:"code" minLength:"1" maxLength:"20" pattern:"^[0-9 -]+$" doc:"The code the customer received."`
	}
}

type verifyOutput struct {
	Body accountflows.VerifyResult
}

// verifyRecovery checks a code. A wrong code is an answer, not an error:
// it counts as an attempt, so it answers 200 with verified false.
func (s *server) verifyRecovery(ctx context.Context, in *verifyInput) (*verifyOutput, error) {
	return s.verifyCode(ctx, accountflows.RecoveryWorkflowID(in.ID), "recovery "+in.ID, in.IdempotencyKey, in.Body.Code)
}

// verifyCode hands a typed code to the account workflow workflowID as its
// digest (the workflow never sees the code), under the caller's
// Idempotency-Key; label names the flow in errors.
func (s *server) verifyCode(ctx context.Context, workflowID, label, key, code string) (*verifyOutput, error) {
	digest := codes.Digest([]byte(s.codeSecret), accountflows.CodeID(workflowID), code)
	out := &verifyOutput{}
	err := s.runUpdate(ctx, workflowID, accountflows.UpdateVerifyCode, scopedKey(ctx, key),
		accountflows.VerifyInput{Actor: callerFrom(ctx).actor(), Digest: digest}, &out.Body)
	if err != nil {
		return nil, s.flowError(ctx, workflowID, label, err)
	}
	return out, nil
}

type signalInput struct {
	AccountIDParam
	Body struct {
		Kind       string     `json:"kind" enum:"failed_login,new_device,credential_change,suspicious_transaction"`
		Detail     string     `json:"detail,omitempty" maxLength:"2000" doc:"What was seen: an IP address, a device, an amount."`
		OccurredAt *time.Time `json:"occurred_at,omitempty" doc:"When it happened; now when absent or in the future."`
	}
}

// AccountIDParam is an account id in a path.
type AccountIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_.-]+$" doc:"The marketplace account id."`
}

type signalBody struct {
	AccountID string `json:"account_id"`
	Kind      string `json:"kind"`
	// Watch is the workflow that counts the account's signals.
	Watch string `json:"watch"`
	// Deliveries are the running deliveries of the account that were told.
	Deliveries []string `json:"deliveries" doc:"The running deliveries of the account that were told (each goes under review)."`
}

type signalOutput struct {
	Status int
	Body   signalBody
}

// reportSignal hands a signal to the account's watch, starting it when the
// account has none: past the threshold, the watch opens a security case.
// Every running delivery of the account is told first (it goes under
// review), so a failure there is answered before the watch has counted
// the signal.
func (s *server) reportSignal(ctx context.Context, in *signalInput) (*signalOutput, error) {
	sig := accountflows.AccountSignal{Kind: in.Body.Kind, Detail: in.Body.Detail, ReportedBy: callerFrom(ctx).actor()}
	if in.Body.OccurredAt != nil {
		sig.At = in.Body.OccurredAt.UTC()
	}
	if err := checkBodyText(sig); err != nil {
		return nil, err
	}
	pol := s.book.Accounts()
	id := accountflows.SignalsWorkflowID(in.ID)
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	// The delivery is told when it happened, now when that is unknown or
	// in the future, as the watch counts it.
	at := time.Now().UTC()
	if !sig.At.IsZero() && sig.At.Before(at) {
		at = sig.At
	}
	told, err := s.signalDeliveries(ctx, in.ID, deliveries.AccountSignal{Kind: sig.Kind, Detail: sig.Detail, ReportedBy: sig.ReportedBy, At: at})
	if err != nil {
		return nil, s.deliveryError(ctx, "", err)
	}
	_, err = s.temporal.SignalWithStartWorkflow(ctx, id, accountflows.SignalAccountSignal, sig,
		accountflows.SignalsStartOptions(in.ID, s.taskQueue), accountflows.WorkflowAccountSignals, accountflows.SignalsInput{AccountID: in.ID, Threshold: pol.SignalThreshold, Window: pol.SignalWindow})
	if err != nil {
		return nil, s.flowError(ctx, accountflows.SignalsWorkflowID(in.ID), "account "+in.ID, err)
	}
	return &signalOutput{Status: http.StatusAccepted, Body: signalBody{AccountID: in.ID, Kind: sig.Kind, Watch: id, Deliveries: told}}, nil
}

type accountBody struct {
	Account accountflows.AccountState `json:"account"`
	// Cases are the account's cases, soonest SLA deadline first.
	Cases []cases.CaseView `json:"cases"`
	// Deliveries are the account's deliveries as the read model has them,
	// the warranty that ends soonest first.
	Deliveries []deliveries.DeliveryView `json:"deliveries"`
}

type accountOutput struct {
	Body accountBody
}

// getAccount answers an account's status with the cases and deliveries on it.
func (s *server) getAccount(ctx context.Context, in *AccountIDParam) (*accountOutput, error) {
	a, err := s.accounts.Get(ctx, in.ID)
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return nil, newProblem(http.StatusNotFound, "no account "+in.ID)
	case errors.Is(err, accounts.ErrInvalid):
		return nil, newProblem(http.StatusUnprocessableEntity, err.Error(), fieldProblem{Field: "id", Message: "is not an account id"})
	case err != nil:
		return nil, s.caseError(ctx, "", err)
	}
	page, err := s.store.ListCases(ctx, store.CaseFilter{AccountID: in.ID, Limit: store.MaxCaseLimit})
	if err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	handed, err := s.store.DeliveriesOfAccount(ctx, in.ID)
	if err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	out := &accountOutput{Body: accountBody{Cases: page.Cases, Deliveries: handed, Account: a.State()}}
	if out.Body.Cases == nil {
		out.Body.Cases = []cases.CaseView{}
	}
	return out, nil
}

// queryFlow queries a running or ended account workflow.
func (s *server) queryFlow(ctx context.Context, workflowID, name string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	v, err := s.temporal.QueryWorkflow(ctx, workflowID, "", name)
	if err != nil {
		return err
	}
	return v.Get(out)
}

// flowError maps an account workflow's answer to a problem: what names
// the flow ("recovery R-1") goes into the messages. A flow that has ended
// is a conflict (409), one that never existed is unknown (404).
func (s *server) flowError(ctx context.Context, workflowID, what string, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		if _, derr := s.temporal.DescribeWorkflowExecution(ctx, workflowID, ""); derr == nil {
			return newProblem(http.StatusConflict, what+" has ended")
		}
		return newProblem(http.StatusNotFound, "no "+what)
	}
	return s.caseError(ctx, "", err)
}
