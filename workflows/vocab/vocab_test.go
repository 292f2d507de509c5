package vocab

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"handoff/workflows/sla"
)

// names answers values as sorted strings.
func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	slices.Sort(out)
	return out
}

// workflows/sla stays pure Go and spells the names a policy file uses
// itself: they must be the vocabulary's, or a category would open without
// a policy or a policy would name a team no case can have.
func TestTheSLABookSpellsTheVocabularysNames(t *testing.T) {
	assert.Equal(t, names(Categories), names(sla.CategoryNames), "categories")
	assert.Equal(t, names(Teams), names(sla.TeamNames), "teams")
	assert.Equal(t, names(Priorities), names(sla.Priorities), "priorities")
	assert.Equal(t, []string{"p1", "p2", "p3", "p4"}, names(Priorities), "priorities, most urgent first")
}

func TestPayloadLeavesOutEmptyValues(t *testing.T) {
	assert.Equal(t, map[string]string{"a": "1"}, Payload("a", "1", "b", ""))
}
