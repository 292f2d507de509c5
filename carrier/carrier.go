// Package carrier is Handoff's seam to the shipping carrier that makes
// prepaid return labels and reports where a parcel is. Carrier is the
// interface the return workflow's activities call; HTTP implements it over
// the signed JSON API described in docs/carrier.md, which the local
// stand-in (deploy/carriersim) serves.
//
// Tracking events also arrive unasked: the carrier POSTs each one, signed
// the Standard Webhooks way with webhook-id set to the event's id, to
// Handoff's webhook endpoint (docs/carrier.md, "Tracking webhook").
package carrier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Carrier makes return labels and reports tracking events.
type Carrier interface {
	// CreateLabel makes a prepaid label for req, once per
	// req.IdempotencyKey: a repeat of the same request answers the same
	// label. A bad address or weight wraps ErrRefused; the key reused for
	// another request wraps ErrConflict; what may pass later wraps ErrTransient.
	CreateLabel(ctx context.Context, req LabelRequest) (Label, error)
	// Track answers the events of the parcel so far, oldest first. An
	// unknown tracking number wraps ErrNotFound.
	Track(ctx context.Context, trackingNumber string) ([]Event, error)
}

// Errors the calls wrap; test with errors.Is.
var (
	// ErrRefused: the carrier will not make this label (an address it
	// cannot deliver to, a weight out of range). Retrying will not help;
	// the request must change.
	ErrRefused = errors.New("carrier refused the request")
	// ErrNotFound: no label has this tracking number.
	ErrNotFound = errors.New("carrier knows no such label")
	// ErrConflict: the idempotency key was used before for another request.
	ErrConflict = errors.New("idempotency key reused for another request")
	// ErrTransient: the carrier could not be reached or failed (network
	// error, timeout, 408, 429, 5xx) even after retries; a later retry may pass.
	ErrTransient = errors.New("carrier temporarily unavailable")
)

// Address is a postal address.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	// Region is a state or province, where the country has them.
	Region string `json:"region,omitempty"`
	// Country is the ISO 3166-1 alpha-2 code, upper case: FR, DE, US.
	Country string `json:"country"`
}

// Check answers an error wrapping ErrRefused when a is not complete enough
// to ship to. what names the address in the message ("from", "to").
func (a Address) Check(what string) error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"name", a.Name}, {"line1", a.Line1}, {"city", a.City}, {"postal_code", a.PostalCode},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s address has no %s", ErrRefused, what, strings.Join(missing, ", "))
	}
	if len(a.Country) != 2 || strings.ToUpper(a.Country) != a.Country ||
		a.Country[0] < 'A' || a.Country[0] > 'Z' || a.Country[1] < 'A' || a.Country[1] > 'Z' {
		return fmt.Errorf("%w: %s address country %q is not an ISO 3166-1 alpha-2 code", ErrRefused, what, a.Country)
	}
	return nil
}

// MaxWeightGrams is the heaviest parcel a label may be made for.
const MaxWeightGrams = 30_000

// LabelRequest asks for a prepaid return label.
type LabelRequest struct {
	// IdempotencyKey is the same on every retry of one request (Handoff
	// derives it from the return workflow); it is sent as a header, not in the body.
	IdempotencyKey string `json:"-"`
	// ReturnID is Handoff's return the label is for.
	ReturnID string `json:"return_id"`
	// From is the buyer's address, where the parcel is picked up or dropped off.
	From Address `json:"from"`
	// To is the seller's address, where the return is delivered.
	To Address `json:"to"`
	// WeightGrams is the parcel's weight, 1 to MaxWeightGrams.
	WeightGrams int `json:"weight_grams"`
}

// Check answers an error wrapping ErrRefused when req cannot be sent.
func (req LabelRequest) Check() error {
	var errs []error
	if strings.TrimSpace(req.IdempotencyKey) == "" {
		errs = append(errs, fmt.Errorf("%w: empty idempotency key", ErrRefused))
	}
	if strings.TrimSpace(req.ReturnID) == "" {
		errs = append(errs, fmt.Errorf("%w: empty return id", ErrRefused))
	}
	if req.WeightGrams < 1 || req.WeightGrams > MaxWeightGrams {
		errs = append(errs, fmt.Errorf("%w: weight %d g is not between 1 and %d g", ErrRefused, req.WeightGrams, MaxWeightGrams))
	}
	errs = append(errs, req.From.Check("from"), req.To.Check("to"))
	return errors.Join(errs...)
}

// Label is a prepaid return label.
type Label struct {
	// ID is the carrier's id of the label.
	ID string `json:"id"`
	// TrackingNumber follows the parcel; events and webhooks carry it.
	TrackingNumber string `json:"tracking_number"`
	// LabelURL is where the buyer downloads the label to print.
	LabelURL string `json:"label_url"`
	// ReturnID is the request's.
	ReturnID string `json:"return_id"`
	// CreatedAt is when the carrier made the label.
	CreatedAt time.Time `json:"created_at"`
}

// EventKind is what happened to a parcel.
type EventKind string

// The tracking events, in the order they happen.
const (
	// LabelCreated: the label exists; nothing has moved yet.
	LabelCreated EventKind = "label_created"
	// Shipped: the carrier has the parcel (the buyer dropped it off).
	Shipped EventKind = "shipped"
	// InTransit: the parcel moved between depots (may repeat).
	InTransit EventKind = "in_transit"
	// Delivered: the parcel reached the seller.
	Delivered EventKind = "delivered"
)

// Valid says whether k is one of the kinds above.
func (k EventKind) Valid() bool {
	switch k {
	case LabelCreated, Shipped, InTransit, Delivered:
		return true
	}
	return false
}

// Event is one tracking event, as Track answers it and as the tracking
// webhook's body carries it.
type Event struct {
	// ID is unique per event and the webhook-id of its webhook, the same on
	// every retry, so a receiver drops duplicates by it.
	ID             string    `json:"id"`
	Kind           EventKind `json:"kind"`
	TrackingNumber string    `json:"tracking_number"`
	// ReturnID is the return of the label.
	ReturnID string `json:"return_id"`
	// At is when it happened.
	At time.Time `json:"at"`
}
