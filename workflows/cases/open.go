package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// OpenRequest is what a caller gives to open a case; NewCaseInput fills in
// what the policy book decides.
type OpenRequest struct {
	ID       string
	Category vocab.Category
	// vocab.Priority may be empty: the category's default applies.
	Priority    vocab.Priority
	Subject     string
	Description string
	Customer    vocab.Customer
	AccountID   string
	OrderID     string
	Channel     string
	OpenedBy    string
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
		Customer: req.Customer, AccountID: req.AccountID, OrderID: req.OrderID, Channel: req.Channel,
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
