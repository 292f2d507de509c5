package returns

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"handoff/workflows/vocab"
)

// attributes are the search attributes a return keeps current; the
// seller, order and buyer are set at start (ChildOptions) and never change.
type attributes struct {
	status    string
	respondBy time.Time
}

func (r *itemReturn) attributes() attributes {
	a := attributes{status: string(r.view.Status)}
	if r.view.RespondBy != nil {
		a.respondBy = r.view.RespondBy.UTC().Truncate(time.Second)
	}
	return a
}

// diff answers the upserts that turn a into b. ReturnStatus is a keyword
// list holding the one status (see vocab.ReturnStatusKey).
func (a attributes) diff(b attributes) []temporal.SearchAttributeUpdate {
	var u []temporal.SearchAttributeUpdate
	if a.status != b.status {
		u = append(u, vocab.ReturnStatusKey.ValueSet([]string{b.status}))
	}
	switch {
	case a.respondBy.Equal(b.respondBy):
	case b.respondBy.IsZero():
		u = append(u, vocab.RespondByKey.ValueUnset())
	default:
		u = append(u, vocab.RespondByKey.ValueSet(b.respondBy))
	}
	return u
}
