package disputes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Dispute settles one buyer–seller dispute over an order. It holds the
// seller's funds, waits for the seller until their deadline in business
// days, lets the buyer take or leave a partial offer, has trust & safety
// decide what the parties do not settle (deciding for the buyer by itself
// when the policy says silence loses), moves the money refund first and
// release after, and keeps the decision open to one appeal for the appeal
// window. Every step goes on its timeline and to its case. It answers the
// dispute as it ended: closed, or execution_failed when money could not
// be moved (the case is escalated then).
func Dispute(ctx workflow.Context, in Input) (View, error) {
	if err := in.Validate(); err != nil {
		return View{}, err
	}
	d, err := newDispute(ctx, in)
	if err != nil {
		return View{}, err
	}
	if err := d.setup(ctx); err != nil {
		return d.view, err
	}
	return d.run(ctx)
}

// dispute is the workflow's state; handlers change it, run waits on it and
// does what takes time (moving money, deadlines).
type dispute struct {
	in       Input
	view     View
	timeline []vocab.Event
	// zone is the seller's time zone, in which deadlines are told.
	zone *time.Location
	// opened is true once the opening is recorded: the seller has been
	// told and may answer.
	opened bool
	// outbox holds the case events recorded but not yet signalled, oldest
	// first; tellCase sends them in order.
	outbox []vocab.CaseEvent
	// results are the payment results received, deduplicated by event id.
	results []vocab.PaymentResult
	seen    map[string]bool
	// projects is false for disputes that began before the read model
	// existed; projectedSeq is the newest event written to it.
	projects     bool
	projectedSeq int
	attrs        attributes
	// erasures lists the erasures of the buyer's data already carried out
	// (eraseBuyer); after one the buyer is told nothing more.
	erasures []string
}

func newDispute(ctx workflow.Context, in Input) (*dispute, error) {
	due, err := in.SellerRespondBy()
	if err != nil {
		return nil, vocab.InvalidArgument("policy.seller_calendar: " + err.Error())
	}
	zone, err := time.LoadLocation(in.Policy.SellerCalendar.TimeZone)
	if err != nil {
		return nil, vocab.InvalidArgument("policy.seller_calendar.time_zone: " + err.Error())
	}
	now := workflow.Now(ctx)
	d := &dispute{in: in, zone: zone, seen: map[string]bool{}}
	d.view = View{
		ID: in.ID, CaseID: in.CaseID, OrderID: in.OrderID, BuyerID: in.Buyer.ID, SellerID: in.SellerID,
		DeliveryID: in.DeliveryID, Amount: in.Amount, Reason: in.Reason, Status: StatusAwaitingSeller,
		Awaiting: PartySeller, RespondBy: &due, SellerDueAt: due, Decisions: []Decision{},
		Funds:    Funds{HoldState: HoldPending, Refunds: []vocab.Movement{}, Refunded: vocab.Money{Currency: in.Amount.Currency}},
		OpenedAt: in.OpenedAt, UpdatedAt: now,
	}
	d.attrs = startedAttributes(ctx)
	return d, nil
}

func (d *dispute) setup(ctx workflow.Context) error {
	d.projects = workflow.GetVersion(ctx, changeReadModel, workflow.DefaultVersion, 1) >= 1
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateSellerRespond, d.sellerRespond, d.validateSellerRespond},
		{UpdateBuyerAnswer, d.buyerAnswer, d.validateBuyerAnswer},
		{UpdateDecide, d.decide, d.validateDecide},
		{UpdateAppeal, d.appeal, d.validateAppeal},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return fmt.Errorf("register update %s: %w", h.name, err)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryDispute, func() (View, error) {
		return d.fullView(), nil
	}); err != nil {
		return fmt.Errorf("register query %s: %w", QueryDispute, err)
	}
	workflow.Go(ctx, d.takePaymentResults)
	workflow.Go(ctx, d.tellCase)
	workflow.Go(ctx, func(ctx workflow.Context) { vocab.TakeErasures(ctx, d.eraseBuyer) })
	if d.projects {
		workflow.Go(ctx, d.project)
	}
	return nil
}

// run opens the dispute, then waits on whoever must act next and does
// what the dispute's status asks, until it is closed or its money could
// not be moved; it ends once the case and the read model have everything
// and no update is still being handled.
func (d *dispute) run(ctx workflow.Context) (View, error) {
	d.open(ctx)
	for !d.ended() {
		var err error
		switch d.view.Status {
		case StatusAwaitingSeller:
			err = d.awaitSellerAnswer(ctx)
		case StatusAwaitingBuyer:
			err = d.awaitBuyerAnswer(ctx)
		case StatusAppealed:
			d.startReview(ctx, "the "+d.view.Appeal.Party+" appealed", true)
			d.changed(ctx)
		case StatusUnderReview:
			err = d.awaitDecision(ctx)
		case StatusExecuting:
			d.execute(ctx)
		case StatusResolved:
			err = d.awaitAppeal(ctx)
		}
		if err != nil {
			return d.fullView(), err
		}
	}
	if err := workflow.Await(ctx, func() bool { return len(d.outbox) == 0 && d.caughtUp() && workflow.AllHandlersFinished(ctx) }); err != nil {
		return d.fullView(), err
	}
	return d.fullView(), nil
}

// ended reports that the dispute has nothing left to do.
func (d *dispute) ended() bool {
	return d.view.Status == StatusClosed || d.view.Status == StatusExecutionFailed
}

// record appends an event with the payload of key, value pairs kv to the
// timeline and queues it for the case, with what ask adds (whom to tell,
// whom to escalate to); the case hears the same kind and payload, with the
// dispute's id.
// Once the buyer's data is erased the case is asked to tell them nothing;
// the seller's notices go on.
func (d *dispute) record(ctx workflow.Context, actor, kind string, ask vocab.CaseEvent, kv ...string) vocab.Event {
	e := d.append(ctx, actor, kind, kv...)
	ask.Actor, ask.Kind, ask.Payload = actor, kind, vocab.Payload(append([]string{"dispute_id", d.in.ID}, kv...)...)
	if len(d.erasures) > 0 {
		ask.Tell = vocab.WithoutCustomer(ask.Tell, NoticeSeller)
	}
	d.outbox = append(d.outbox, ask)
	return e
}

// append appends an event with the payload of key, value pairs kv to the
// timeline only: the case does not hear of it.
func (d *dispute) append(ctx workflow.Context, actor, kind string, kv ...string) vocab.Event {
	now := workflow.Now(ctx)
	e := vocab.Event{Seq: len(d.timeline) + 1, Actor: actor, Kind: kind, At: now, Payload: vocab.Payload(kv...)}
	d.timeline = append(d.timeline, e)
	d.view.LastSeq, d.view.UpdatedAt = e.Seq, now
	return e
}

// changed publishes the new state: the search attributes that moved, in
// one upsert, and the Web UI's details. Every transition calls it once,
// after its events are recorded.
func (d *dispute) changed(ctx workflow.Context) {
	next := d.attributes()
	if updates := d.attrs.diff(next, d.in); len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not updated", "dispute", d.in.ID, "error", err)
		}
	}
	d.attrs = next
	workflow.SetCurrentDetails(ctx, d.details())
}

// await sets whom the dispute waits on and until when; no party clears both.
func (d *dispute) await(party string, until *time.Time) {
	d.view.Awaiting, d.view.RespondBy = party, until
}

// details is the Markdown the Web UI shows: where the dispute is, who
// acts next, and where the money is.
func (d *dispute) details() string {
	v := d.view
	lines := []string{fmt.Sprintf("**%s** · %s · order %s · buyer %s · seller %s", v.Status, v.Amount, v.OrderID, v.BuyerID, v.SellerID)}
	if v.Awaiting != "" && v.RespondBy != nil {
		lines = append(lines, "Awaiting "+strings.ReplaceAll(v.Awaiting, "_", " ")+" until "+d.local(*v.RespondBy))
	}
	if dec := v.Decision; dec != nil {
		lines = append(lines, fmt.Sprintf("Decision %d by %s: %s %s (%s)", dec.N, dec.Party, dec.Outcome, dec.Amount, dec.Reason))
	}
	lines = append(lines, fmt.Sprintf("Funds: hold %s · refunded %s", v.Funds.HoldState, v.Funds.Refunded))
	if v.Failure != "" {
		lines = append(lines, "Failed: "+v.Failure)
	}
	return strings.Join(lines, "\n\n")
}

// fullView answers the dispute with its timeline, as the query and the
// result give it.
func (d *dispute) fullView() View {
	v := d.result()
	v.Timeline = slices.Clone(d.timeline)
	return v
}

// result answers the view an update returns: the dispute without its timeline.
func (d *dispute) result() View {
	v := d.view
	v.Decisions = slices.Clone(v.Decisions)
	v.Funds.Refunds = slices.Clone(v.Funds.Refunds)
	v.Timeline = nil
	return v
}

// local writes t in the seller's zone, as deadlines are told to the
// seller and in timer summaries: "Thu 28 May 2026 16:00 Europe/Paris".
func (d *dispute) local(t time.Time) string {
	return t.In(d.zone).Format("Mon 2 Jan 2006 15:04") + " " + d.zone.String()
}

// stamp writes a time for the buyer and for payloads read by people.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// timeLayout writes times in payloads.
const timeLayout = time.RFC3339

// itoa is strconv.Itoa, short for payloads.
func itoa(n int) string { return strconv.Itoa(n) }
