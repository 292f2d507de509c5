package deliveries

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Validators only read the state; a refusal leaves the delivery as it was
// and no trace in its history. Handlers change the state and answer the
// delivery as it now is.

// liveStatuses are the statuses of a delivered account still under watch.
var liveStatuses = []Status{StatusDelivered, StatusWaitingCustomer, StatusRecovered}

// deliveryEvidence are the kinds of evidence that show a delivery happened.
var deliveryEvidence = []string{"delivery_screenshot", "login_note"}

// maxExtension bounds one warranty extension (the longest marketplaces sell: 6 months).
const maxExtension = 183 * 24 * time.Hour

// allow refuses action unless the delivery is in one of statuses.
func (d *delivery) allow(action string, statuses ...Status) error {
	if slices.Contains(statuses, d.view.Status) {
		return nil
	}
	return invalidTransition(action, d.view.Status)
}

func (d *delivery) validateAddEvidence(in vocab.EvidenceInput) error {
	if err := d.allow("add evidence", StatusReady, StatusDelivered, StatusWaitingCustomer, StatusUnderReview, StatusRecovered); err != nil {
		return err
	}
	return in.Evidence.Check()
}

// addEvidence records a file on the timeline with its checksum, unless the
// same bytes are already on the delivery.
func (d *delivery) addEvidence(ctx workflow.Context, in vocab.EvidenceInput) (vocab.EvidenceResult, error) {
	if i := vocab.FindEvidence(d.view.Evidence, in.Evidence.SHA256); i >= 0 {
		return vocab.EvidenceResult{Evidence: d.view.Evidence[i], Duplicate: true}, nil
	}
	e := in.Evidence
	e.UploadedBy = in.Actor
	ev := d.record(ctx, in.Actor, EventEvidenceAdded, e.Payload())
	e.Seq = ev.Seq
	d.view.Evidence = append(d.view.Evidence, e)
	d.changed(ctx)
	return vocab.EvidenceResult{Evidence: e}, nil
}

func (d *delivery) validateDeliver(in ActorInput) error {
	if err := d.allow("deliver", StatusReady); err != nil {
		return err
	}
	if !slices.ContainsFunc(d.view.Evidence, func(e vocab.Evidence) bool { return slices.Contains(deliveryEvidence, e.Kind) }) {
		return vocab.Refuse("deliver", "delivery", "without delivery evidence: attach a delivery_screenshot or login_note first")
	}
	return nil
}

// deliver records the handover, opens the confirmation window, starts the
// warranty and sends the buyer the delivery email with the recovery
// instructions.
func (d *delivery) deliver(ctx workflow.Context, in ActorInput) (DeliveryView, error) {
	now := workflow.Now(ctx)
	confirmBy, warrantyEnds := now.Add(d.in.ConfirmationWindow), now.Add(d.in.Warranty)
	d.view.Status = StatusDelivered
	d.view.Handoff.DeliveredAt = &now
	d.view.ConfirmBy, d.view.WarrantyEndsAt = &confirmBy, &warrantyEnds
	d.windowOpen = true
	d.record(ctx, in.Actor, EventDelivered, vocab.Payload("note", in.Note,
		"confirm_by", confirmBy.UTC().Format(timeLayout), "warranty_ends_at", warrantyEnds.UTC().Format(timeLayout)))
	d.communicate(ctx, directionToBuyer, EventDelivered, "delivery email with the recovery instructions")
	d.changed(ctx)
	d.notify(ctx, EventDelivered, in.Note)
	return d.result(), nil
}

func (d *delivery) validateConfirm(in ActorInput) error {
	if err := d.allow("confirm", StatusDelivered, StatusWaitingCustomer); err != nil {
		return err
	}
	if d.view.Confirmed {
		return vocab.Refuse("confirm", "delivery", "already confirmed")
	}
	return nil
}

// confirm is the buyer saying the account works: the window closes and a
// delivery waiting on the buyer is delivered again.
func (d *delivery) confirm(ctx workflow.Context, in ActorInput) (DeliveryView, error) {
	d.confirmAs(ctx, in.Actor, EventConfirmed, in.Note)
	d.communicate(ctx, directionFromBuyer, EventConfirmed, in.Note)
	d.changed(ctx)
	return d.result(), nil
}

// confirmAs marks the delivery confirmed by actor.
func (d *delivery) confirmAs(ctx workflow.Context, actor, kind, note string) {
	now := workflow.Now(ctx)
	d.view.Confirmed, d.view.ConfirmedAt, d.view.ConfirmedBy = true, &now, actor
	d.view.ConfirmBy, d.windowOpen = nil, false
	d.view.Status = StatusDelivered
	d.record(ctx, actor, kind, vocab.Payload("note", note))
}

func (d *delivery) validateReportProblem(in ProblemInput) error {
	if err := d.allow("report a problem", liveStatuses...); err != nil {
		return err
	}
	return vocab.Required("description", in.Description)
}

// reportProblem puts the delivery under review, tells the buyer the problem
// was received (and the seller, through the marketplace) and opens a linked
// case carrying the handoff record.
func (d *delivery) reportProblem(ctx workflow.Context, in ProblemInput) (DeliveryView, error) {
	d.review()
	d.record(ctx, in.Actor, EventProblemReported, vocab.Payload("description", in.Description))
	d.communicate(ctx, directionFromBuyer, EventProblemReported, in.Description)
	d.changed(ctx)
	d.notify(ctx, EventProblemReported, in.Description)
	d.openLinkedCase(ctx, LinkProblemReport, in.Actor, vocab.CategoryAccountDeliveryIssue,
		fmt.Sprintf("Problem with delivered account %s (order %s)", d.in.AccountID, d.in.OrderID), in.Description)
	return d.result(), nil
}

// review moves the delivery under review: a buyer's silence no longer
// confirms it.
func (d *delivery) review() {
	d.view.Status = StatusUnderReview
	d.view.ConfirmBy, d.windowOpen = nil, false
}

func (d *delivery) validateWaitOnBuyer(in ReasonInput) error {
	if err := d.allow("wait on the buyer", StatusDelivered); err != nil {
		return err
	}
	return vocab.Required("reason", in.Reason)
}

// waitOnBuyer says the buyer must act before the account is theirs
// (change the password, add MFA); their confirmation ends the wait.
func (d *delivery) waitOnBuyer(ctx workflow.Context, in ReasonInput) (DeliveryView, error) {
	d.view.Status = StatusWaitingCustomer
	d.waitReason = in.Reason
	d.record(ctx, in.Actor, EventWaitingOnBuyer, vocab.Payload("reason", in.Reason))
	d.changed(ctx)
	return d.result(), nil
}

func (d *delivery) validateExtendWarranty(in ExtendInput) error {
	if err := d.allow("extend the warranty", StatusDelivered, StatusWaitingCustomer, StatusUnderReview, StatusRecovered); err != nil {
		return err
	}
	if in.By <= 0 || in.By > maxExtension {
		return vocab.InvalidArgument(fmt.Sprintf("by: want a positive duration up to 4392h (6 months), got %s", in.By))
	}
	return vocab.Required("reason", in.Reason)
}

// extendWarranty moves the warranty's end later; the buyer is told again
// before the new end.
func (d *delivery) extendWarranty(ctx workflow.Context, in ExtendInput) (DeliveryView, error) {
	ends := d.view.WarrantyEndsAt.Add(in.By)
	d.view.WarrantyEndsAt = &ends
	d.noticeSent = false
	d.record(ctx, in.Actor, EventWarrantyExtended, vocab.Payload("by", in.By.String(), "reason", in.Reason,
		"warranty_ends_at", ends.UTC().Format(timeLayout)))
	d.changed(ctx)
	return d.result(), nil
}

func (d *delivery) validateRetire(in ReasonInput) error {
	if err := d.allow("retire", StatusReady, StatusDelivered, StatusWaitingCustomer, StatusUnderReview, StatusRecovered); err != nil {
		return err
	}
	return vocab.Required("reason", in.Reason)
}

func (d *delivery) retire(ctx workflow.Context, in ReasonInput) (DeliveryView, error) {
	d.retireAs(ctx, in.Actor, in.Reason)
	return d.result(), nil
}

// retireAs ends the delivery; a buyer who had the account is told.
func (d *delivery) retireAs(ctx workflow.Context, actor, reason string) {
	now := workflow.Now(ctx)
	delivered := d.view.Handoff.DeliveredAt != nil
	d.view.Status, d.view.RetiredAt, d.view.RetireReason = StatusRetired, &now, reason
	d.view.ConfirmBy, d.windowOpen = nil, false
	d.record(ctx, actor, EventRetired, vocab.Payload("reason", reason))
	if delivered {
		d.communicate(ctx, directionToBuyer, EventRetired, reason)
	}
	d.changed(ctx)
	if delivered {
		d.notify(ctx, EventRetired, reason)
	}
}

// Directions of a communication with the buyer.
const (
	directionToBuyer   = "to_buyer"
	directionFromBuyer = "from_buyer"
)

// timeLayout writes times in payloads.
const timeLayout = "2006-01-02T15:04:05Z07:00"
