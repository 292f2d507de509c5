package deliveries

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// The deadlines a delivery acts on by itself: the buyer's reminder and the
// confirmation by default inside the confirmation window, the notice before
// the warranty ends, and the warranty's end.

// deadlineKind is what happens when a deadline passes.
type deadlineKind int

const (
	deadlineReminder deadlineKind = iota + 1
	deadlineConfirmByDefault
	deadlineWarrantyNotice
	deadlineWarrantyEnd
)

// deadline is the next moment the delivery must act by itself.
type deadline struct {
	at   time.Time
	kind deadlineKind
}

func (dl deadline) summary() string {
	at := stamp(dl.at)
	switch dl.kind {
	case deadlineReminder:
		return "remind the buyer to confirm " + at
	case deadlineConfirmByDefault:
		return "confirm by default " + at
	case deadlineWarrantyNotice:
		return "tell the buyer the warranty ends soon " + at
	default:
		return "warranty ends " + at
	}
}

// nextDeadline answers the earliest moment the delivery must act by itself.
func (d *delivery) nextDeadline() (deadline, bool) {
	v := d.view
	if v.Status == StatusReady || v.Status == StatusRetired || v.WarrantyEndsAt == nil {
		return deadline{}, false
	}
	var all []deadline
	if d.windowOpen && v.ConfirmBy != nil {
		if !d.reminderSent {
			all = append(all, deadline{at: v.ConfirmBy.Add(-d.in.ConfirmationWindow / 2), kind: deadlineReminder})
		}
		all = append(all, deadline{at: *v.ConfirmBy, kind: deadlineConfirmByDefault})
	}
	if !d.noticeSent && d.in.WarrantyNotice > 0 && d.in.WarrantyNotice < d.in.Warranty {
		all = append(all, deadline{at: v.WarrantyEndsAt.Add(-d.in.WarrantyNotice), kind: deadlineWarrantyNotice})
	}
	all = append(all, deadline{at: *v.WarrantyEndsAt, kind: deadlineWarrantyEnd})
	next := all[0]
	for _, dl := range all[1:] {
		if dl.at.Before(next.at) {
			next = dl
		}
	}
	return next, true
}

// name is the kind's, as a notification's cause names it.
func (k deadlineKind) name() string {
	switch k {
	case deadlineReminder:
		return "reminder"
	case deadlineConfirmByDefault:
		return "confirm_by_default"
	case deadlineWarrantyNotice:
		return "warranty_notice"
	default:
		return "warranty_end"
	}
}

// cause names deadline dl by its kind and when it is due:
// deadline/<kind>/<due, Unix ms>.
func (dl deadline) cause() string {
	return vocab.DeadlineCause(dl.at, dl.kind.name())
}

// onDeadline does what dl asks for; run has checked it is due.
func (d *delivery) onDeadline(ctx workflow.Context, dl deadline) {
	ctx = vocab.CausedBy(ctx, dl.cause())
	switch dl.kind {
	case deadlineReminder:
		d.reminderSent = true
		d.record(ctx, vocab.SystemActor, EventReminder, vocab.Payload("confirm_by", d.view.ConfirmBy.UTC().Format(timeLayout)))
		d.communicate(ctx, directionToBuyer, EventReminder, "reminder to confirm or report a problem")
		d.changed(ctx)
		d.notify(ctx, EventReminder, "")
	case deadlineConfirmByDefault:
		d.confirmAs(ctx, vocab.SystemActor, EventConfirmedByDefault, "no answer inside the confirmation window")
		d.communicate(ctx, directionToBuyer, EventConfirmedByDefault, "confirmed by default")
		d.changed(ctx)
		d.notify(ctx, EventConfirmedByDefault, "")
	case deadlineWarrantyNotice:
		d.noticeSent = true
		d.record(ctx, vocab.SystemActor, EventWarrantyEnding, vocab.Payload("warranty_ends_at", d.view.WarrantyEndsAt.UTC().Format(timeLayout)))
		d.communicate(ctx, directionToBuyer, EventWarrantyEnding, "the warranty ends "+stamp(*d.view.WarrantyEndsAt))
		d.changed(ctx)
		d.notify(ctx, EventWarrantyEnding, stamp(*d.view.WarrantyEndsAt))
	case deadlineWarrantyEnd:
		d.retireAs(ctx, vocab.SystemActor, "warranty ended")
	}
}

// deadlineTimer is the one timer a delivery keeps, re-armed only when the
// next deadline moves.
type deadlineTimer struct {
	vocab.Timer
	deadline deadline
}

func (t *deadlineTimer) arm(ctx workflow.Context, next deadline, ok bool) {
	if t.Armed() && ok && next == t.deadline {
		return
	}
	if !ok {
		t.Stop()
		return
	}
	t.deadline = next
	t.Start(ctx, next.at.Sub(workflow.Now(ctx)), next.summary())
}
