package deliveries

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"handoff/workflows/vocab"
)

// attributes are the search attributes a delivery keeps current; the
// account, order, seller and buyer are set at start and never change.
type attributes struct {
	status   string
	warranty time.Time
}

func (d *delivery) attributes() attributes {
	a := attributes{status: string(d.view.Status)}
	if d.view.WarrantyEndsAt != nil {
		a.warranty = d.view.WarrantyEndsAt.UTC().Truncate(time.Second)
	}
	return a
}

// diff answers the upserts that turn a into b.
func (a attributes) diff(b attributes) []temporal.SearchAttributeUpdate {
	var u []temporal.SearchAttributeUpdate
	if a.status != b.status {
		u = append(u, vocab.DeliveryStatusKey.ValueSet(b.status))
	}
	switch {
	case a.warranty.Equal(b.warranty):
	case b.warranty.IsZero():
		u = append(u, vocab.WarrantyEndsAtKey.ValueUnset())
	default:
		u = append(u, vocab.WarrantyEndsAtKey.ValueSet(b.warranty))
	}
	return u
}
