package cases

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// openingAttributes are the search attributes a case starts with: every
// key its first workflow task would otherwise upsert, SLADueAt included
// when the API chose the opening time (each upsert is a billable action).
func openingAttributes(in CaseInput) []temporal.SearchAttributeUpdate {
	a := caseAttributes{
		status: string(StatusNew), priority: string(in.Priority), category: string(in.Category),
		team: string(in.Team), level: LevelAgent, account: in.AccountID, order: in.OrderID, customer: in.Customer.ID,
	}
	if !in.OpenedAt.IsZero() {
		if c, err := openedByAPI(in); err == nil {
			a = c.attributes()
		}
	}
	// The level and the breach flag are set even at their zero value, so a
	// search for level 0 or for cases not breached finds a new case.
	return append(caseAttributes{level: a.level, breached: a.breached}.diff(a), vocab.CaseEscalationLevelKey.ValueSet(a.level), vocab.SLABreachedKey.ValueSet(a.breached))
}

// caseAttributes is the set of search attributes a case keeps current.
type caseAttributes struct {
	status, priority, category, team, assignee string
	level                                      int64
	due                                        time.Time
	breached                                   bool
	account, order, customer                   string
}

func (c *supportCase) attributes() caseAttributes {
	a := caseAttributes{
		status: string(c.view.Status), priority: string(c.view.Priority), category: string(c.view.Category),
		team: string(c.view.Team), assignee: c.view.Assignee, level: int64(c.view.EscalationLevel),
		breached: len(c.view.SLA.Breaches) > 0, account: c.view.AccountID, order: c.view.OrderID,
		customer: c.view.Customer.ID,
	}
	if due := c.view.SLA.NearestDue(); due != nil && !c.view.SLA.Paused {
		a.due = due.UTC().Truncate(time.Second)
	}
	return a
}

// currentAttributes reads what the workflow was started with.
func currentAttributes(ctx workflow.Context) caseAttributes {
	sa := workflow.GetTypedSearchAttributes(ctx)
	var a caseAttributes
	a.status, _ = sa.GetKeyword(vocab.CaseStatusKey)
	a.priority, _ = sa.GetKeyword(vocab.CasePriorityKey)
	a.category, _ = sa.GetKeyword(vocab.CaseCategoryKey)
	a.team, _ = sa.GetKeyword(vocab.CaseTeamKey)
	a.assignee, _ = sa.GetKeyword(vocab.CaseAssigneeKey)
	a.level, _ = sa.GetInt64(vocab.CaseEscalationLevelKey)
	a.due, _ = sa.GetTime(vocab.SLADueAtKey)
	a.breached, _ = sa.GetBool(vocab.SLABreachedKey)
	a.account, _ = sa.GetKeyword(vocab.AccountIDKey)
	a.order, _ = sa.GetKeyword(vocab.OrderIDKey)
	a.customer, _ = sa.GetKeyword(vocab.CustomerIDKey)
	return a
}

// diff answers the upserts that turn a into b; an emptied keyword or time is unset.
// onlyDueLater reports that b differs from a only by a later SLA due time
// (or none, which is later than any).
func (a caseAttributes) onlyDueLater(b caseAttributes) bool {
	if a.due.IsZero() || (!b.due.IsZero() && !b.due.After(a.due)) {
		return false
	}
	b.due = a.due
	return a == b
}

func (a caseAttributes) diff(b caseAttributes) []temporal.SearchAttributeUpdate {
	var u []temporal.SearchAttributeUpdate
	keyword := func(key temporal.SearchAttributeKeyKeyword, from, to string) {
		switch {
		case from == to:
		case to == "":
			u = append(u, key.ValueUnset())
		default:
			u = append(u, key.ValueSet(to))
		}
	}
	keyword(vocab.CaseStatusKey, a.status, b.status)
	keyword(vocab.CasePriorityKey, a.priority, b.priority)
	keyword(vocab.CaseCategoryKey, a.category, b.category)
	keyword(vocab.CaseTeamKey, a.team, b.team)
	keyword(vocab.CaseAssigneeKey, a.assignee, b.assignee)
	keyword(vocab.AccountIDKey, a.account, b.account)
	keyword(vocab.OrderIDKey, a.order, b.order)
	keyword(vocab.CustomerIDKey, a.customer, b.customer)
	if a.level != b.level {
		u = append(u, vocab.CaseEscalationLevelKey.ValueSet(b.level))
	}
	if a.breached != b.breached {
		u = append(u, vocab.SLABreachedKey.ValueSet(b.breached))
	}
	switch {
	case a.due.Equal(b.due):
	case b.due.IsZero():
		u = append(u, vocab.SLADueAtKey.ValueUnset())
	default:
		u = append(u, vocab.SLADueAtKey.ValueSet(b.due))
	}
	return u
}
