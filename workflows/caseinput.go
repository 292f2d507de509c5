package workflows

import (
	"fmt"
	"strings"
	"time"

	"handoff/workflows/sla"
)

// OpenRequest is what a caller gives to open a case; NewCaseInput fills in
// what the policy book decides.
type OpenRequest struct {
	ID       string
	Category Category
	// Priority may be empty: the category's default applies.
	Priority    Priority
	Subject     string
	Description string
	Customer    Customer
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
		return CaseInput{}, invalidArgument(fmt.Sprintf("category: unknown category %q", req.Category))
	}
	in := CaseInput{
		ID: req.ID, Category: req.Category, Priority: req.Priority,
		Subject: strings.TrimSpace(req.Subject), Description: strings.TrimSpace(req.Description),
		Customer: req.Customer, AccountID: req.AccountID, OrderID: req.OrderID, Channel: req.Channel,
		Team: Team(defaults.Team), OpenedBy: req.OpenedBy, Lifecycle: book.Lifecycle(), Accounts: book.Accounts(),
		Revision: CaseRevision,
	}
	if in.Priority == "" {
		in.Priority = Priority(defaults.Priority)
	}
	for _, p := range Priorities {
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
