// Package vocab is the vocabulary every business area's workflows share:
// categories, priorities and teams, the customer, the refusals that cross
// the Temporal boundary, the case-event signal by which other areas report
// to a case, evidence files and the search-attribute keys. The areas
// (workflows/cases, workflows/accountflows, ...) import it; it imports none
// of them.
package vocab

// TaskQueue is the default task queue of every Handoff workflow; deployments
// override it with HANDOFF_TASK_QUEUE.
const TaskQueue = "handoff"

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

// Locales customers are written to in.
var Locales = []string{"en", "fr"}

// Customer is the person a case is for.
type Customer struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Locale string `json:"locale"`
}

// SystemActor is the actor of what a workflow does by itself (timers).
const SystemActor = "system"

// Who a notification is for: the notifier's routes file names the same
// audiences.
const (
	AudienceCustomer = "customer"
	AudienceAssignee = "assignee"
	AudienceTeam     = "team"
)

// Audiences lists every audience.
var Audiences = []string{AudienceCustomer, AudienceAssignee, AudienceTeam}
