package cases

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

func loadBook(t *testing.T, name string) *sla.Book {
	t.Helper()
	book, err := sla.Load("../../deploy/sla/" + name)
	require.NoError(t, err)
	return book
}

func TestNewCaseInputTakesTheCategoryDefaults(t *testing.T) {
	book := loadBook(t, "default.yaml")
	in, err := NewCaseInput(book, OpenRequest{
		ID: "C-9", Category: vocab.CategorySecurityAlert, Subject: " Someone else logged in ",
		Customer:  vocab.Customer{ID: "cus-9", Email: "eve@example.com", Name: "Eve", Locale: "fr"},
		AccountID: "acc-9", OpenedBy: "integration:shop",
	}, openedAt)
	require.NoError(t, err)
	defaults, err := book.Category(string(vocab.CategorySecurityAlert))
	require.NoError(t, err)
	assert.Equal(t, vocab.Priority(defaults.Priority), in.Priority)
	assert.Equal(t, vocab.Team(defaults.Team), in.Team)
	assert.Equal(t, "Someone else logged in", in.Subject)
	require.Len(t, in.Policies, 4)
	for i, p := range vocab.Priorities {
		assert.Equal(t, string(p), in.Policies[i].Priority)
	}
	assert.Equal(t, book.Lifecycle(), in.Lifecycle)
}

func TestNewCaseInputRefusesWhatTheCaseCannotBe(t *testing.T) {
	book := loadBook(t, "default.yaml")
	_, err := NewCaseInput(book, OpenRequest{ID: "C-1", Category: "billing"}, openedAt)
	assertRefused(t, err, vocab.ErrInvalidArgument, `category: unknown category "billing"`)
	_, err = NewCaseInput(book, OpenRequest{ID: "C-1", Category: vocab.CategoryDispute, Priority: "urgent",
		Subject: "s", Customer: vocab.Customer{ID: "c", Email: "c@example.com", Locale: "de"}}, openedAt)
	assertRefused(t, err, vocab.ErrInvalidArgument, "customer.locale")
}

// The policy files and the workflow must agree on every name.
func TestShippedPolicyFilesCoverEveryCategory(t *testing.T) {
	for _, file := range []string{"default.yaml", "demo.yaml"} {
		book := loadBook(t, file)
		var names []vocab.Category
		for _, c := range book.Categories() {
			names = append(names, vocab.Category(c))
		}
		slices.Sort(names)
		want := slices.Clone(vocab.Categories)
		slices.Sort(want)
		assert.Equal(t, want, names, file)
		for _, c := range vocab.Categories {
			d, err := book.Category(string(c))
			require.NoError(t, err)
			assert.Contains(t, vocab.Teams, vocab.Team(d.Team), "%s %s", file, c)
			assert.Contains(t, vocab.Priorities, vocab.Priority(d.Priority), "%s %s", file, c)
		}
	}
}
