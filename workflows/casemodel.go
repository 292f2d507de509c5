package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Category is what a case is about; it decides the default priority, the
// owning team and the SLA policy.
type Category string

// The categories of a case.
const (
	CategoryLoginFailure         Category = "login_failure"
	CategoryPasswordReset        Category = "password_reset"
	CategoryLockedAccount        Category = "locked_account"
	CategorySecurityAlert        Category = "security_alert"
	CategoryProfileChange        Category = "profile_change"
	CategoryAccountMerge         Category = "account_merge"
	CategoryAccountDeliveryIssue Category = "account_delivery_issue"
	CategoryOrderIssue           Category = "order_issue"
	CategoryDeliveryDelay        Category = "delivery_delay"
	CategoryDefectiveItem        Category = "defective_item"
	CategoryRefundRequest        Category = "refund_request"
	CategoryReturnRequest        Category = "return_request"
	CategoryDispute              Category = "dispute"
	CategorySellerOnboarding     Category = "seller_onboarding"
	CategorySellerPayment        Category = "seller_payment"
	CategoryFraudReport          Category = "fraud_report"
	CategoryGeneralQuestion      Category = "general_question"
)

// Categories lists every category.
var Categories = []Category{
	CategoryLoginFailure, CategoryPasswordReset, CategoryLockedAccount, CategorySecurityAlert,
	CategoryProfileChange, CategoryAccountMerge, CategoryAccountDeliveryIssue, CategoryOrderIssue,
	CategoryDeliveryDelay, CategoryDefectiveItem, CategoryRefundRequest, CategoryReturnRequest,
	CategoryDispute, CategorySellerOnboarding, CategorySellerPayment, CategoryFraudReport,
	CategoryGeneralQuestion,
}

// Priority is how urgent a case is, p1 the most.
type Priority string

// The priorities of a case.
const (
	P1 Priority = "p1"
	P2 Priority = "p2"
	P3 Priority = "p3"
	P4 Priority = "p4"
)

// Priorities lists every priority, most urgent first.
var Priorities = []Priority{P1, P2, P3, P4}

// Team is who owns a case.
type Team string

// The teams that handle cases.
const (
	TeamTier1Support      Team = "tier1_support"
	TeamAccountManagement Team = "account_management"
	TeamSecurity          Team = "security"
	TeamTrustSafety       Team = "trust_safety"
)

// Teams lists every team.
var Teams = []Team{TeamTier1Support, TeamAccountManagement, TeamSecurity, TeamTrustSafety}

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

// Locales customers are written to in.
var Locales = []string{"en", "fr"}

// Customer is the person the case is for.
type Customer struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Locale string `json:"locale"`
}

// Event is one entry of a case's timeline.
type Event struct {
	Seq     int               `json:"seq"`
	Actor   string            `json:"actor"`
	Kind    string            `json:"kind"`
	At      time.Time         `json:"at"`
	Payload map[string]string `json:"payload,omitempty"`
}

// Timeline event kinds.
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
)

// SystemActor is the actor of what the case does by itself (timers).
const SystemActor = "system"

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

// CaseView is the whole case as the API and operators see it.
type CaseView struct {
	ID              string     `json:"id"`
	Category        Category   `json:"category"`
	Priority        Priority   `json:"priority"`
	Subject         string     `json:"subject"`
	Description     string     `json:"description"`
	Customer        Customer   `json:"customer"`
	AccountID       string     `json:"account_id,omitempty"`
	OrderID         string     `json:"order_id,omitempty"`
	Channel         string     `json:"channel,omitempty"`
	Team            Team       `json:"team"`
	Assignee        string     `json:"assignee,omitempty"`
	EscalationLevel int        `json:"escalation_level"`
	Status          Status     `json:"status"`
	SLA             SLAView    `json:"sla"`
	Resolution      string     `json:"resolution,omitempty"`
	CSAT            *CSAT      `json:"csat,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	// LastSeq is the sequence number of the newest timeline event.
	LastSeq int `json:"last_seq"`
	// Evidence lists the files attached to the case, oldest first.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Incident is the case's latest security incident, Recovery its latest
	// account recovery.
	Incident *AccountFlow `json:"incident,omitempty"`
	Recovery *AccountFlow `json:"recovery,omitempty"`
	// ProfileChange is the case's latest email, phone or merge change.
	ProfileChange *AccountFlow `json:"profile_change,omitempty"`
	// Timeline is filled by the case query; update results leave it out.
	Timeline []Event `json:"timeline,omitempty"`
}

// Error types of refused actions, stable across the Temporal boundary; the
// API maps them to status codes.
const (
	// ErrInvalidTransition: the action is not allowed in the case's status (409).
	ErrInvalidTransition = "InvalidTransition"
	// ErrInvalidArgument: a field of the action is missing or malformed (422).
	ErrInvalidArgument = "InvalidArgument"
	// ErrMissingHandoffContext: an escalation lacks what the target team needs (422).
	ErrMissingHandoffContext = "MissingHandoffContext"
	// ErrPermissionDenied: the actor's team does not own the case (403).
	ErrPermissionDenied = "PermissionDenied"
)

// Validate checks the fields of a new case; the API calls it before
// starting a workflow and the workflow again at start.
func (in CaseInput) Validate() error {
	var problems []string
	if !slices.Contains(Categories, in.Category) {
		problems = append(problems, fmt.Sprintf("category: unknown category %q", in.Category))
	}
	if !slices.Contains(Priorities, in.Priority) {
		problems = append(problems, fmt.Sprintf("priority: want p1, p2, p3 or p4, got %q", in.Priority))
	}
	if !slices.Contains(Teams, in.Team) {
		problems = append(problems, fmt.Sprintf("team: unknown team %q", in.Team))
	}
	if strings.TrimSpace(in.ID) == "" {
		problems = append(problems, "id: must not be empty")
	}
	if strings.TrimSpace(in.Subject) == "" {
		problems = append(problems, "subject: must not be empty")
	}
	if strings.TrimSpace(in.Customer.ID) == "" {
		problems = append(problems, "customer.id: must not be empty")
	}
	if !strings.Contains(in.Customer.Email, "@") {
		problems = append(problems, "customer.email: must be an email address")
	}
	if !slices.Contains(Locales, in.Customer.Locale) {
		problems = append(problems, fmt.Sprintf("customer.locale: want en or fr, got %q", in.Customer.Locale))
	}
	if len(in.Policies) != len(Priorities) {
		problems = append(problems, "policies: need one SLA policy per priority")
	}
	if len(problems) > 0 {
		return invalidArgument(strings.Join(problems, "; "))
	}
	return nil
}
