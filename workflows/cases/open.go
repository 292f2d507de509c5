package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// OpenRequest is what a caller gives to open a case; NewCaseInput fills in
// what the policy book decides.
type OpenRequest struct {
	// ID names the case; Opener.Open derives it when empty (CaseIDForKey,
	// or a random id without a key).
	ID       string
	Category vocab.Category
	// Priority may be empty: the category's default applies.
	Priority    vocab.Priority
	Subject     string
	Description string
	Customer    vocab.Customer
	AccountID   string
	OrderID     string
	Channel     string
	OpenedBy    string
	// DeliveryID links the case to the account delivery it is about.
	DeliveryID string
	// FollowsUp is the closed case this one continues.
	FollowsUp string
	// KeepAccountOpen opens a fraud_report case without locking its account.
	KeepAccountOpen bool
	// Confidential opens a case that never writes to its customer.
	Confidential bool
}

// NewCaseInput resolves req against the policy book: the default priority
// and owning team of its category, and the SLA policy of every priority
// (so a priority change needs no file), with holidays expanded around now.
func NewCaseInput(book *sla.Book, req OpenRequest, now time.Time) (CaseInput, error) {
	defaults, err := book.Category(string(req.Category))
	if err != nil {
		return CaseInput{}, vocab.InvalidArgument(fmt.Sprintf("category: unknown category %q", req.Category))
	}
	in := CaseInput{
		ID: req.ID, Category: req.Category, Priority: req.Priority,
		Subject: strings.TrimSpace(req.Subject), Description: strings.TrimSpace(req.Description),
		Customer: req.Customer, AccountID: req.AccountID, OrderID: req.OrderID, Channel: req.Channel, DeliveryID: req.DeliveryID, FollowsUp: req.FollowsUp,
		KeepAccountOpen: req.KeepAccountOpen, Confidential: req.Confidential,
		Team: vocab.Team(defaults.Team), OpenedBy: req.OpenedBy, Lifecycle: book.Lifecycle(), Accounts: book.Accounts(),
		Revision: CaseRevision,
	}
	if in.Priority == "" {
		in.Priority = vocab.Priority(defaults.Priority)
	}
	for _, p := range vocab.Priorities {
		policy, err := book.Policy(string(req.Category), string(p), now)
		if err != nil {
			return CaseInput{}, fmt.Errorf("SLA policy for %s %s: %w", req.Category, p, err)
		}
		in.Policies = append(in.Policies, policy)
	}
	if err := in.Validate(); err != nil {
		return CaseInput{}, err
	}
	return in, nil
}

// Validate checks the fields of a new case; the API calls it before
// starting a workflow and the workflow again at start.
func (in CaseInput) Validate() error {
	var problems []string
	if !slices.Contains(vocab.Categories, in.Category) {
		problems = append(problems, fmt.Sprintf("category: unknown category %q", in.Category))
	}
	if !slices.Contains(vocab.Priorities, in.Priority) {
		problems = append(problems, fmt.Sprintf("priority: want p1, p2, p3 or p4, got %q", in.Priority))
	}
	if !slices.Contains(vocab.Teams, in.Team) {
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
	if !slices.Contains(vocab.Locales, in.Customer.Locale) {
		problems = append(problems, fmt.Sprintf("customer.locale: want en or fr, got %q", in.Customer.Locale))
	}
	if len(in.Policies) != len(vocab.Priorities) {
		problems = append(problems, "policies: need one SLA policy per priority")
	}
	if len(problems) > 0 {
		return vocab.InvalidArgument(strings.Join(problems, "; "))
	}
	return nil
}

// Opener opens cases: the API's open, the activity that opens a case from
// a workflow and the command-line tool all go through Open, so the case id,
// the start policies and the opening time are decided in one place.
type Opener struct {
	Temporal  client.Client
	Book      *sla.Book
	TaskQueue string
}

// Open resolves req against the policy book and starts its case, opened
// now (the SLA clocks start at the open, not at the workflow's first task),
// and answers the input it started with. A refused request is a
// vocab.ErrInvalidArgument application error and starts nothing. An id
// already taken by a running case answers that case; one taken by a closed
// case answers it too, and starts nothing: a key never opens two cases.
func (o Opener) Open(ctx context.Context, req OpenRequest, opt vocab.Once) (CaseInput, error) {
	in, _, err := o.OpenNew(ctx, req, opt)
	return in, err
}

// OpenNew is Open, and also answers whether this call started the case
// (false when its id was already used), so a new case is answered from
// its input without a query.
func (o Opener) OpenNew(ctx context.Context, req OpenRequest, opt vocab.Once) (CaseInput, bool, error) {
	req.ID = vocab.ChooseID("C-", req.ID, opt.KeyScope, opt.Key)
	now := time.Now().UTC().Truncate(time.Millisecond)
	in, err := NewCaseInput(o.Book, req, now)
	if err != nil {
		return CaseInput{}, false, err
	}
	in.OpenedAt = now
	opts := CaseStartOptions(in, o.TaskQueue)
	opts.Memo = opt.Memo
	started, err := vocab.StartOnce(ctx, o.Temporal, opts, WorkflowType, in)
	if err != nil {
		return in, false, fmt.Errorf("open case %s: %w", in.ID, err)
	}
	return in, started, nil
}

// CaseIDForKey derives the id of the case an idempotency key opens within
// its scope (vocab.IDForKey).
func CaseIDForKey(scope, key string) string { return vocab.IDForKey("C-", scope, key) }

// NewCaseID answers a random case id, for an open without a key.
func NewCaseID() string { return vocab.NewID("C-") }
