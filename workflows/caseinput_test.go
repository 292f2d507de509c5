package workflows

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/sla"
)

func loadBook(t *testing.T, name string) *sla.Book {
	t.Helper()
	book, err := sla.Load("../deploy/sla/" + name)
	require.NoError(t, err)
	return book
}

func TestNewCaseInputTakesTheCategoryDefaults(t *testing.T) {
	book := loadBook(t, "default.yaml")
	in, err := NewCaseInput(book, OpenRequest{
		ID: "C-9", Category: CategorySecurityAlert, Subject: " Someone else logged in ",
		Customer:  Customer{ID: "cus-9", Email: "eve@example.com", Name: "Eve", Locale: "fr"},
		AccountID: "acc-9", OpenedBy: "integration:shop",
	}, openedAt)
	require.NoError(t, err)
	defaults, err := book.Category(string(CategorySecurityAlert))
	require.NoError(t, err)
	assert.Equal(t, Priority(defaults.Priority), in.Priority)
	assert.Equal(t, Team(defaults.Team), in.Team)
	assert.Equal(t, "Someone else logged in", in.Subject)
	require.Len(t, in.Policies, 4)
	for i, p := range Priorities {
		assert.Equal(t, string(p), in.Policies[i].Priority)
	}
	assert.Equal(t, book.Lifecycle(), in.Lifecycle)
}

func TestNewCaseInputRefusesWhatTheCaseCannotBe(t *testing.T) {
	book := loadBook(t, "default.yaml")
	_, err := NewCaseInput(book, OpenRequest{ID: "C-1", Category: "billing"}, openedAt)
	assertRefused(t, err, ErrInvalidArgument, `category: unknown category "billing"`)
	_, err = NewCaseInput(book, OpenRequest{ID: "C-1", Category: CategoryDispute, Priority: "urgent",
		Subject: "s", Customer: Customer{ID: "c", Email: "c@example.com", Locale: "de"}}, openedAt)
	assertRefused(t, err, ErrInvalidArgument, "customer.locale")
}

// The policy files and the workflow must agree on every name.
func TestShippedPolicyFilesCoverEveryCategory(t *testing.T) {
	for _, file := range []string{"default.yaml", "demo.yaml"} {
		book := loadBook(t, file)
		var names []Category
		for _, c := range book.Categories() {
			names = append(names, Category(c))
		}
		slices.Sort(names)
		want := slices.Clone(Categories)
		slices.Sort(want)
		assert.Equal(t, want, names, file)
		for _, c := range Categories {
			d, err := book.Category(string(c))
			require.NoError(t, err)
			assert.Contains(t, Teams, Team(d.Team), "%s %s", file, c)
			assert.Contains(t, Priorities, Priority(d.Priority), "%s %s", file, c)
		}
	}
}
