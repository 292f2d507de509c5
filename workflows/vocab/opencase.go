package vocab

import "go.temporal.io/sdk/workflow"

// ActivityOpenCase opens a case from inside a workflow
// (activities.Accounts.OpenCase): a security case after a burst of account
// signals or a cancelled contact change, the case of a delivery's problem.
const ActivityOpenCase = "OpenCase"

// OpenCaseRequest asks for a new case from inside a workflow.
type OpenCaseRequest struct {
	// Key makes the open idempotent: the same key opens one case.
	Key         string   `json:"key"`
	Category    Category `json:"category"`
	Subject     string   `json:"subject"`
	Description string   `json:"description"`
	AccountID   string   `json:"account_id"`
	OpenedBy    string   `json:"opened_by"`
	Channel     string   `json:"channel"`
	// Customer, when set, is whom the case is for; else the account's
	// owner as the account directory knows them.
	Customer *Customer `json:"customer,omitempty"`
	OrderID  string    `json:"order_id,omitempty"`
	// DeliveryID links the case to an account delivery, which hears its
	// outcome (SignalLinkedCase).
	DeliveryID string `json:"delivery_id,omitempty"`
	// KeepAccountOpen opens a fraud_report case without locking its
	// account (the fraud watch holds payouts and trust_safety decides).
	KeepAccountOpen bool `json:"keep_account_open,omitempty"`
	// Confidential opens a case that never writes to its customer (the
	// party a fraud review is about).
	Confidential bool `json:"confidential,omitempty"`
}

// OpenCaseResult answers the opened case's id.
type OpenCaseResult struct {
	CaseID string `json:"case_id"`
}

// DeliveryWorkflowID is the workflow id of account delivery id; a case
// linked to a delivery reports its outcome there.
func DeliveryWorkflowID(id string) string { return "delivery/" + id }

// SignalLinkedCase is how a case linked to a delivery reports its outcome.
const SignalLinkedCase = "linked-case"

// Outcomes a linked case reports.
const (
	// OutcomeResolved: the case was resolved without an account recovery.
	OutcomeResolved = "resolved"
	// OutcomeRecovered: an account recovery of the case completed.
	OutcomeRecovered = "recovered"
	// OutcomeDisputed: the case opened a buyer-seller dispute about the
	// delivery; the delivery is under review until the case resolves.
	OutcomeDisputed = "disputed"
)

// LinkedCaseOutcome is what a linked case reports to its delivery.
type LinkedCaseOutcome struct {
	CaseID  string `json:"case_id"`
	Outcome string `json:"outcome"`
	Actor   string `json:"actor"`
	// Detail is the resolution, or what the recovery did.
	Detail string `json:"detail,omitempty"`
}

// ReportToDelivery signals o to the delivery deliveryID. A delivery that
// has ended (retired) cannot hear it; the case goes on.
func ReportToDelivery(ctx workflow.Context, deliveryID string, o LinkedCaseOutcome) {
	err := workflow.SignalExternalWorkflow(ctx, DeliveryWorkflowID(deliveryID), "", SignalLinkedCase, o).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("delivery did not hear the case's outcome", "delivery", deliveryID, "case", o.CaseID, "error", err)
	}
}
