// Package cases is the support case: the SupportCase workflow, which
// answers agent actions as updates, keeps the SLA clocks, escalates by
// itself, tells people what happened, starts the account flows a case
// needs and writes its read model. contract.go is what callers import;
// the other files are the workflow.
package cases

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// WorkflowType is the registered name of SupportCase; running cases are
// found by it, so it never changes.
const WorkflowType = "SupportCase"

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{WorkflowType: SupportCase}

// CaseWorkflowID is the workflow id of case id.
func CaseWorkflowID(id string) string { return vocab.CaseWorkflowID(id) }

// Names of the SupportCase workflow's updates, signals and query.
const (
	UpdateAssign          = "assign"
	UpdateReply           = "reply"
	UpdateNote            = "note"
	UpdateCustomerMessage = "customer-message"
	UpdateWaitOnCustomer  = "wait-on-customer"
	UpdateEscalate        = "escalate"
	UpdateChangePriority  = "change-priority"
	UpdateResolve         = "resolve"
	UpdateReopen          = "reopen"
	UpdateClose           = "close"
	UpdateCSAT            = "csat"
	// UpdateAddEvidence records a file already stored in S3 on the case.
	UpdateAddEvidence = "add-evidence"
	// UpdateRecordDownload records that someone fetched an evidence file.
	UpdateRecordDownload = "record-evidence-download"
	// UpdateLockAccount locks the case's account under a security incident.
	UpdateLockAccount = "lock-account"
	// UpdateStartRecovery starts an account recovery on the case's account.
	UpdateStartRecovery = "start-recovery"
	// UpdateRequestProfileChange starts a change of the account's email or
	// phone, or its merge into another account.
	UpdateRequestProfileChange = "request-profile-change"
	// UpdateStartReturn starts the return of a return_request or
	// defective_item case (ReturnRequest); UpdateOpenDispute the dispute of
	// a dispute case (DisputeRequest). Each runs as a child workflow that
	// reports its steps to the case.
	UpdateStartReturn = "start-return"
	UpdateOpenDispute = "open-dispute"

	// SignalCustomerMessage takes a message from inbound channels (email,
	// chat) that cannot wait for an answer (InboundMessage).
	SignalCustomerMessage = "customer-message"
	// SignalCaseEvent takes what another workflow reports (vocab.CaseEvent).
	SignalCaseEvent = vocab.SignalCaseEvent

	// QueryCase answers the whole CaseView with its timeline.
	QueryCase = "case"
)

// Names of the activities SupportCase calls besides vocab.ActivityNotify.
const (
	// ActivityProjectCase writes a case's read model to Postgres
	// (activities.Projection.ProjectCase).
	ActivityProjectCase = "ProjectCase"
)

// Escalation levels inside a team: who is expected to act.
const (
	LevelAgent          = 0
	LevelTeamLead       = 1
	LevelSupportManager = 2
)

// Status is where a case is in its life.
type Status string

// The statuses of a case: new → open → waiting_customer → escalated →
// resolved → closed, with reopen from resolved back to open.
const (
	StatusNew             Status = "new"
	StatusOpen            Status = "open"
	StatusWaitingCustomer Status = "waiting_customer"
	StatusEscalated       Status = "escalated"
	StatusResolved        Status = "resolved"
	StatusClosed          Status = "closed"
)

// Statuses lists every status in the order of a case's life.
var Statuses = []Status{StatusNew, StatusOpen, StatusWaitingCustomer, StatusEscalated, StatusResolved, StatusClosed}

// Timeline event kinds the case records itself.
const (
	EventOpened           = "opened"
	EventAssigned         = "assigned"
	EventAgentReply       = "agent_reply"
	EventInternalNote     = "internal_note"
	EventCustomerMessage  = "customer_message"
	EventWaitingCustomer  = "waiting_on_customer"
	EventCustomerReminder = "customer_reminder"
	EventEscalated        = "escalated"
	EventPriorityChanged  = "priority_changed"
	EventResolved         = "resolved"
	EventReopened         = "reopened"
	EventClosed           = "closed"
	EventCSAT             = "csat"
	EventSLAWarning       = "sla_warning"
	EventSLABreach        = "sla_breach"
	EventNotifyFailed     = "notification_failed"
	EventEvidenceAdded    = "evidence_added"
	EventEvidenceFetched  = "evidence_downloaded"
	// EventAutoReply records an automatic answer (out of office, a robot)
	// that acts on nothing.
	EventAutoReply = "customer_auto_reply"
	// EventReturnStarted and EventDisputeStarted record the start of the
	// case's return or dispute; the child reports its own steps after.
	EventReturnStarted  = "return_started"
	EventDisputeStarted = "dispute_started"
)

// NotifiedEvents lists every event the case itself tells someone about:
// each needs its templates and its routes.
var NotifiedEvents = []string{
	EventOpened, EventAgentReply, EventWaitingCustomer, EventCustomerReminder, EventEscalated,
	EventResolved, EventClosed, EventSLAWarning, EventSLABreach, EventNotifyFailed,
	EventCustomerMessage,
}

// CaseInput opens a case. The SLA policies of every priority of its
// category are copied in at start, so a later change of the policy file
// never changes a running case's arithmetic or its replay.
type CaseInput struct {
	ID          string         `json:"id"`
	Category    vocab.Category `json:"category"`
	Priority    vocab.Priority `json:"priority"`
	Subject     string         `json:"subject"`
	Description string         `json:"description"`
	Customer    vocab.Customer `json:"customer"`
	AccountID   string         `json:"account_id,omitempty"`
	OrderID     string         `json:"order_id,omitempty"`
	Channel     string         `json:"channel,omitempty"`
	Team        vocab.Team     `json:"team"`
	OpenedBy    string         `json:"opened_by"`
	// Policies holds one policy per priority of the case's category.
	Policies  []sla.Policy  `json:"policies"`
	Lifecycle sla.Lifecycle `json:"lifecycle"`
	// OpenedAt is when the case was opened: the SLA clocks start then,
	// so the API can answer the open with the case's first state. Zero for
	// cases opened before it existed, which start at the workflow's start.
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// Accounts holds the windows of the account workflows the case starts;
	// zero fields (cases opened before it existed) take the defaults.
	Accounts sla.AccountPolicy `json:"accounts"`
	// DeliveryID, when set, links the case to the account delivery it is
	// about: the delivery hears the case's outcome (resolved, or an account
	// recovery completed).
	DeliveryID string `json:"delivery_id,omitempty"`
	// FollowsUp, when set, is the closed case this one continues: the
	// customer answered it after its reopen window.
	FollowsUp string `json:"follows_up,omitempty"`
	// KeepAccountOpen, for a fraud_report case the fraud watch opens,
	// leaves its account unlocked while trust_safety reviews (the watch
	// holds the payouts instead, and the decision may suspend).
	KeepAccountOpen bool `json:"keep_account_open,omitempty"`
	// Confidential, for a case about its customer rather than for them (a
	// fraud review the watch opened), never writes to the customer: no
	// opening, reply or resolution reaches the party under review.
	Confidential bool `json:"confidential,omitempty"`
	// Revision is the CaseRevision the case was opened under (zero before
	// revisions existed): the behaviour changes it includes are on without
	// a version marker.
	Revision int `json:"revision,omitempty"`
}

// AssignInput gives the case to an agent, optionally of another team.
type AssignInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam vocab.Team `json:"actor_team,omitempty"`
	Assignee  string     `json:"assignee"`
	Team      vocab.Team `json:"team,omitempty"`
}

// MessageInput carries a reply, an internal note or a customer message.
type MessageInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam vocab.Team `json:"actor_team,omitempty"`
	Body      string     `json:"body"`
	// ArticleID, on a reply, is the knowledge-base article the agent
	// inserted in it; the agent_reply event names it.
	ArticleID string `json:"article_id,omitempty"`
}

// Kinds of InboundMessage: what a message is decides what it may do.
const (
	// InboundCustomer is the customer's own message: it moves the case.
	InboundCustomer = "customer"
	// InboundAutoReply is an automatic answer (out of office, vacation,
	// a mailing list): recorded, it moves nothing.
	InboundAutoReply = "auto_reply"
	// InboundBounce is a delivery status notification: an email of the
	// case did not reach the customer.
	InboundBounce = "bounce"
	// InboundUnverifiedSender is a message to the case's reply address
	// from someone not shown to be its customer: an internal note for
	// review, never the customer's words.
	InboundUnverifiedSender = "unverified_sender"
)

// InboundKinds lists every kind of InboundMessage.
var InboundKinds = []string{InboundCustomer, InboundAutoReply, InboundBounce, InboundUnverifiedSender}

// InboundMessage is what an inbound channel tells a case (the
// customer-message signal). Its actor and body are MessageInput's, so a
// signal sent before the other fields existed reads as a customer message.
type InboundMessage struct {
	Actor string `json:"actor"`
	Body  string `json:"body"`
	// Kind is one of InboundKinds; empty is InboundCustomer.
	Kind string `json:"kind,omitempty"`
	// Channel is where the message came from ("email").
	Channel string `json:"channel,omitempty"`
	// MessageID is the message's own id (an email's Message-ID): a second
	// message with an id the case has seen changes nothing.
	MessageID string `json:"message_id,omitempty"`
	// From is the sender's address as the message gives it.
	From string `json:"from,omitempty"`
	// Authentication is what the receiving server found of the sender
	// (its Authentication-Results: SPF, DKIM, DMARC), as received.
	Authentication string `json:"authentication,omitempty"`
	// Evidence lists the message's attachments, already stored in S3.
	Evidence []vocab.Evidence `json:"evidence,omitempty"`
	// Attachments names files the message carried that were not kept
	// (an unverified sender's).
	Attachments []string `json:"attachments,omitempty"`
	// Reason says why a message is an auto-reply or unverified, or, for a
	// bounce, what the receiving server answered.
	Reason string `json:"reason,omitempty"`
	// Notification, for a bounce, is the id of the notification whose
	// email bounced.
	Notification string `json:"notification,omitempty"`
}

// ReasonInput carries an action whose only field is why: wait on customer, reopen, close.
type ReasonInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam vocab.Team `json:"actor_team,omitempty"`
	Reason    string     `json:"reason"`
}

// EscalateInput hands the case to a team (or up the current one) with why.
type EscalateInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam vocab.Team `json:"actor_team,omitempty"`
	Team      vocab.Team `json:"team"`
	Reason    string     `json:"reason"`
}

// PriorityInput changes the case's priority.
type PriorityInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam vocab.Team     `json:"actor_team,omitempty"`
	Priority  vocab.Priority `json:"priority"`
}

// ResolveInput resolves the case with what was done.
type ResolveInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam  vocab.Team `json:"actor_team,omitempty"`
	Resolution string     `json:"resolution"`
}

// CSATInput is the customer's survey answer.
type CSATInput struct {
	Actor   string `json:"actor"`
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// LockInput asks to lock the case's account.
type LockInput struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// RecoveryRequest asks to start a recovery of the case's account.
type RecoveryRequest struct {
	Actor    string `json:"actor"`
	ResetMFA bool   `json:"reset_mfa"`
}

// ProfileChangeRequest asks to change the case account's email or phone, or
// to merge it into another account.
type ProfileChangeRequest struct {
	Actor string `json:"actor"`
	Kind  string `json:"kind"`
	// Value is the new email or phone.
	Value string `json:"value,omitempty"`
	// IntoID is the account a merge goes into.
	IntoID string `json:"into_id,omitempty"`
}

// ReturnRequest starts a return: Return holds the order's facts, the
// addresses and the policy; the case fills its id, its case, the buyer
// (the case's customer) and the opening time.
type ReturnRequest struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and integrations.
	ActorTeam vocab.Team    `json:"actor_team,omitempty"`
	Return    returns.Input `json:"return"`
}

// DisputeRequest opens a dispute: Dispute holds the order, the seller, the
// amount, the reason and the policy; the case fills its id, its case, the
// buyer, the opening time, its delivery and, when none are given, the
// case's evidence.
type DisputeRequest struct {
	Actor     string         `json:"actor"`
	ActorTeam vocab.Team     `json:"actor_team,omitempty"`
	Dispute   disputes.Input `json:"dispute"`
}

// DownloadInput records a download of an evidence file.
type DownloadInput struct {
	Actor      string `json:"actor"`
	EvidenceID string `json:"evidence_id"`
}

// SLAView is the case's SLA state as callers see it.
type SLAView struct {
	FirstResponseDue *time.Time `json:"first_response_due"`
	NextResponseDue  *time.Time `json:"next_response_due"`
	ResolutionDue    *time.Time `json:"resolution_due"`
	Paused           bool       `json:"paused"`
	Breaches         []Breach   `json:"breaches"`
}

// Breach records one SLA target that passed unmet.
type Breach struct {
	Target string    `json:"target"`
	DueAt  time.Time `json:"due_at"`
	At     time.Time `json:"at"`
	Level  int       `json:"level"`
}

// CSAT is the customer's answer to the satisfaction survey.
type CSAT struct {
	Rating  int       `json:"rating"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// AccountFlow is an account workflow a case started, as the case shows it.
type AccountFlow struct {
	// ID is the flow's id (incident, recovery): its workflow id without the prefix.
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	// Running is false once the workflow has ended.
	Running bool `json:"running"`
	// Outcome is how it ended: a decision, completed, expired, locked, failed.
	Outcome string `json:"outcome,omitempty"`
}

// CaseView is the whole case as the API and operators see it.
type CaseView struct {
	ID              string         `json:"id"`
	Category        vocab.Category `json:"category"`
	Priority        vocab.Priority `json:"priority"`
	Subject         string         `json:"subject"`
	Description     string         `json:"description"`
	Customer        vocab.Customer `json:"customer"`
	AccountID       string         `json:"account_id,omitempty"`
	OrderID         string         `json:"order_id,omitempty"`
	Channel         string         `json:"channel,omitempty"`
	DeliveryID      string         `json:"delivery_id,omitempty"`
	FollowsUp       string         `json:"follows_up,omitempty"`
	Team            vocab.Team     `json:"team"`
	Assignee        string         `json:"assignee,omitempty"`
	EscalationLevel int            `json:"escalation_level"`
	Status          Status         `json:"status"`
	SLA             SLAView        `json:"sla"`
	Resolution      string         `json:"resolution,omitempty"`
	CSAT            *CSAT          `json:"csat,omitempty"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	FirstResponseAt *time.Time     `json:"first_response_at,omitempty"`
	ResolvedAt      *time.Time     `json:"resolved_at,omitempty"`
	ClosedAt        *time.Time     `json:"closed_at,omitempty"`
	// LastSeq is the sequence number of the newest timeline event.
	LastSeq int `json:"last_seq"`
	// Evidence lists the files attached to the case, oldest first.
	Evidence []vocab.Evidence `json:"evidence,omitempty"`
	// Incident is the case's latest security incident, Recovery its latest
	// account recovery.
	Incident *AccountFlow `json:"incident,omitempty"`
	Recovery *AccountFlow `json:"recovery,omitempty"`
	// ProfileChange is the case's latest email, phone or merge change.
	ProfileChange *AccountFlow `json:"profile_change,omitempty"`
	// Return and Dispute are the case's latest return and dispute.
	Return  *AccountFlow `json:"return,omitempty"`
	Dispute *AccountFlow `json:"dispute,omitempty"`
	// Timeline is filled by the case query; update results leave it out.
	Timeline []vocab.Event `json:"timeline,omitempty"`
}

// ProjectionInput is what the workflow hands the read model after a change:
// the case as it now is (without its timeline) and the timeline events
// recorded since the last projection, in order. Writing it twice changes
// nothing: rows are keyed by case id and event sequence.
type ProjectionInput struct {
	Case   CaseView      `json:"case"`
	Events []vocab.Event `json:"events"`
}

// CaseStartOptions answers the options that start in's workflow: its id,
// the task queue, a summary for the Web UI and the initial search
// attributes. Open adds the conflict and reuse policies of an open.
func CaseStartOptions(in CaseInput, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:            CaseWorkflowID(in.ID),
		TaskQueue:     taskQueue,
		StaticSummary: fmt.Sprintf("Case %s · %s · %s", in.ID, in.Category, in.Priority),
		// Ids and categories only: the subject is the customer's words, and
		// summaries are shown to everyone with Web UI access.
		StaticDetails:         fmt.Sprintf("Customer %s (%s), opened by %s", in.Customer.ID, in.Customer.Locale, in.OpenedBy),
		TypedSearchAttributes: temporal.NewSearchAttributes(openingAttributes(in)...),
	}
}
