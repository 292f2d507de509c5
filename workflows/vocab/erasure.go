package vocab

import (
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// SignalEraseCustomer tells a running workflow to drop a customer's
// personal data from its state (EraseCustomer). Its name never changes:
// running workflows are sent it by name.
const SignalEraseCustomer = "erase-customer"

// EventDataErased is the timeline event recording that a customer's
// personal data was erased from a case, with the erasure's id and who
// asked for it.
const EventDataErased = "data_erased"

// ErasedText stands where erased free text was.
const ErasedText = "[erased]"

// EraseCustomer asks a workflow to erase the personal data of the customer
// CustomerID, as the erasure ErasureID asked by RequestedBy.
type EraseCustomer struct {
	ErasureID   string `json:"erasure_id"`
	CustomerID  string `json:"customer_id"`
	RequestedBy string `json:"requested_by"`
}

// Take reports whether a workflow of customerID has req to carry out: it
// is for that customer and not among done, the erasures carried out
// already, to which it is then added.
func (req EraseCustomer) Take(customerID string, done *[]string) bool {
	if req.CustomerID != customerID || slices.Contains(*done, req.ErasureID) {
		return false
	}
	*done = append(*done, req.ErasureID)
	return true
}

// EraseTimeline erases the free text of every event of timeline in place
// (ErasePayload, EraseActor): kinds, sequence numbers and times stay.
func EraseTimeline(timeline []Event) {
	for i := range timeline {
		timeline[i].Payload = ErasePayload(timeline[i].Payload)
		timeline[i].Actor = EraseActor(timeline[i].Actor)
	}
}

// EraseReports erases in place the reports a workflow has not yet sent
// its case (EraseCaseEvent with except).
func EraseReports(reports []CaseEvent, except ...string) {
	for i := range reports {
		reports[i] = EraseCaseEvent(reports[i], except...)
	}
}

// ErasablePayloadKeys are the timeline payload keys that hold free text a
// person wrote or personal data (message bodies, reasons, notes, names):
// an erasure replaces their values with ErasedText. Ids, states, counts
// and times are kept, so the timeline still tells what happened.
var ErasablePayloadKeys = []string{
	"body", "reason", "latest_customer_message", "resolution", "comment", "note",
	"review", "email", "name", "subject", "description", "filename", "statement", "why",
}

// ErasePayload answers payload with every erasable value replaced by
// ErasedText; payload itself is not changed.
func ErasePayload(payload map[string]string) map[string]string {
	if payload == nil {
		return nil
	}
	out := make(map[string]string, len(payload))
	// The order keys are visited in changes nothing: each value is
	// decided by its own key, and the answer is a map.
	//workflowcheck:ignore
	for k, v := range payload {
		if v != "" && slices.Contains(ErasablePayloadKeys, k) {
			v = ErasedText
		}
		out[k] = v
	}
	return out
}

// Erased answers the customer with only the id kept: the name and email
// are gone, the locale (not personal) stays so templates still choose a
// language.
func (c Customer) Erased() Customer {
	return Customer{ID: c.ID, Name: ErasedText, Locale: c.Locale}
}

// Erased answers the address with only its country kept: enough for
// reports by country, nothing that finds the person.
func (a Address) Erased() Address {
	return Address{Name: ErasedText, Country: a.Country}
}

// EraseText answers ErasedText for free text, "" for none: an erased field
// still says whether something was written.
func EraseText(s string) string {
	if s == "" {
		return ""
	}
	return ErasedText
}

// EraseUnlisted answers s when it is one of listed (a category such as a
// return reason, not personal), else EraseText(s): the person's own words.
func EraseUnlisted(s string, listed []string) string {
	if slices.Contains(listed, s) {
		return s
	}
	return EraseText(s)
}

// ForCustomer reports that n is for the customer (AudienceCustomer) but
// for those of its events listed in except (a notice the customer
// audience passes on to someone else, as a dispute's to its seller).
func (n Notice) ForCustomer(except ...string) bool {
	return n.Audience == AudienceCustomer && !slices.Contains(except, n.Event)
}

// EraseCaseEvent answers ev, a report not yet sent to a case, with its
// payload erased (ErasePayload) and without the notices to the customer
// (Notice.ForCustomer with except), and its escalation reason erased: an
// erased customer is not written to.
func EraseCaseEvent(ev CaseEvent, except ...string) CaseEvent {
	ev.Payload = ErasePayload(ev.Payload)
	ev.Actor = EraseActor(ev.Actor)
	ev.Reason = EraseText(ev.Reason)
	ev.Tell = WithoutCustomer(ev.Tell, except...)
	return ev
}

// WithoutCustomer answers notices without those for the customer
// (Notice.ForCustomer with except); notices itself is not changed.
func WithoutCustomer(notices []Notice, except ...string) []Notice {
	var out []Notice
	for _, n := range notices {
		if !n.ForCustomer(except...) {
			out = append(out, n)
		}
	}
	return out
}

// EmailActorPrefix begins the actor of what came in by email: the sender's
// address follows it.
const EmailActorPrefix = "email:"

// EraseActor answers actor without the email address an emailed event's
// actor carries; other actors (staff, integrations, the system) stay.
func EraseActor(actor string) string {
	if strings.HasPrefix(actor, EmailActorPrefix) {
		return EmailActorPrefix + ErasedText
	}
	return actor
}

// IsErased reports that c is what Erased left: no one to write to.
func (c Customer) IsErased() bool { return c.Email == "" && c.Name == ErasedText }

// TakeErasures hands every SignalEraseCustomer to erase for as long as the
// run lasts; start it with workflow.Go. It needs no version marker: no
// history recorded before erasures existed holds that signal, so every
// replay sees what it saw.
func TakeErasures(ctx workflow.Context, erase func(workflow.Context, EraseCustomer)) {
	ch := workflow.GetSignalChannel(ctx, SignalEraseCustomer)
	for {
		var req EraseCustomer
		ch.Receive(ctx, &req)
		erase(ctx, req)
	}
}
