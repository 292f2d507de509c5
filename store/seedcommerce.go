package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// Seeded deliveries, returns and disputes, in the shapes their workflows
// project, each played up to SeedOptions.Now. Returns and disputes report
// every step to their case (seedReport), as vocab.ReportToCase does.

// seedAgenda is what happens to a delivery later, in time order.
type seedAgenda struct {
	at time.Time
	do func(time.Time)
}

// seedDelivery is one delivery being played.
type seedDelivery struct {
	g      *seedGen
	in     deliveries.DeliveryInput
	v      deliveries.DeliveryView
	events []vocab.Event
	agenda []seedAgenda
	window bool
}

// newDelivery starts a delivery at start for buyer.
func (g *seedGen) newDelivery(start time.Time, buyer vocab.Customer, accountID, orderID string) *seedDelivery {
	rng := g.rng
	g.deliveryN++
	id := fmt.Sprintf("D-%s-%07d", g.tag, g.deliveryN)
	d := &seedDelivery{g: g, in: deliveries.DeliveryInput{ID: id, AccountID: accountID, OrderID: orderID, Buyer: buyer,
		SellerID: fmt.Sprintf("sel-%s-%03d", g.tag, rng.IntN(400)), Product: pick(rng, seedProducts), Region: pick(rng, seedRegions),
		AllowedUse: "personal use, no resale", StartedBy: "integration:marketplace", ConfirmationWindow: g.delivery.ConfirmationWindow,
		Warranty: g.delivery.WarrantyFor(""), WarrantyNotice: g.delivery.WarrantyNotice,
		RecoveryPath: deliveries.RecoveryPath{Email: "recovery+" + strings.ToLower(id) + "@example.com", BackupCodesHeld: rng.IntN(2) == 0, ResetBy: "buyer"}}}
	in := d.in
	d.v = deliveries.DeliveryView{ID: id, Status: deliveries.StatusReady, Buyer: buyer, SellerID: in.SellerID, Product: in.Product, Region: in.Region,
		Handoff:  deliveries.HandoffRecord{AccountID: accountID, OrderID: orderID, RecoveryPath: in.RecoveryPath, AllowedUse: in.AllowedUse},
		Evidence: []vocab.Evidence{}, LinkedCases: []deliveries.LinkedCase{}, CreatedAt: start, UpdatedAt: start}
	d.record(start, in.StartedBy, deliveries.EventStarted, vocab.Payload("account_id", accountID, "order_id", orderID, "buyer_id", buyer.ID,
		"seller_id", in.SellerID, "product", in.Product, "warranty", in.Warranty.String()))
	return d
}

// plainDelivery is a delivery with no problem: delivered, confirmed (by
// the buyer or by default), then retired when its warranty ends.
func (g *seedGen) plainDelivery(start time.Time) *seedDelivery {
	rng := g.rng
	n := rng.IntN(g.customers)
	buyer := vocab.Customer{ID: fmt.Sprintf("cus-%s-%06d", g.tag, n), Email: fmt.Sprintf("customer%06d@example.com", n),
		Name: seedFirstNames[n%len(seedFirstNames)] + " " + seedLastNames[(n/len(seedFirstNames))%len(seedLastNames)], Locale: "en"}
	if n%20 < 7 {
		buyer.Locale = "fr"
	}
	d := g.newDelivery(start, buyer, fmt.Sprintf("acc-%s-d%07d", g.tag, g.deliveryN+1), fmt.Sprintf("ord-%s-d%07d", g.tag, g.deliveryN+1))
	if rng.Float64() < 0.03 {
		d.then(start.Add(seedMinutes(rng, 30, 2000)), func(at time.Time) { d.retire(at, "seller:"+d.in.SellerID, "the seller withdrew the listing") })
		d.play()
		return d
	}
	delivered := d.deliver(start)
	if rng.Float64() < 0.6 {
		d.then(delivered.Add(seedExp(rng, 8*time.Hour, d.in.ConfirmationWindow-time.Minute)), func(at time.Time) {
			if d.window {
				d.confirmAs(at, "customer:"+buyer.ID, deliveries.EventConfirmed, "works, thanks")
				d.communicate(at, "from_buyer", deliveries.EventConfirmed, "works, thanks")
			}
		})
	}
	d.play()
	return d
}

// problemDelivery is the delivery a case of c's customer is about: handed
// over before t0, its buyer reports a problem at t0, which opens the case.
func (g *seedGen) problemDelivery(c cases.CaseView, t0 time.Time) *seedDelivery {
	rng := g.rng
	start := t0.Add(-seedMinutes(rng, 60, 12*24*60))
	account := c.AccountID
	if account == "" {
		account = fmt.Sprintf("acc-%s-d%07d", g.tag, g.deliveryN+1)
	}
	d := g.newDelivery(start, c.Customer, account, c.OrderID)
	delivered := d.deliver(start)
	if delivered.After(t0) {
		delivered = t0
	}
	d.playUntil(t0.Add(-time.Second))
	// The problem, and the case it opens.
	d.v.Status, d.v.ConfirmBy, d.window = deliveries.StatusUnderReview, nil, false
	d.record(t0, "customer:"+c.Customer.ID, deliveries.EventProblemReported, vocab.Payload("description", c.Description))
	d.communicate(t0, "from_buyer", deliveries.EventProblemReported, c.Description)
	return d
}

// handoffText is the handoff record a linked case's description carries
// (deliveries' handoffText).
func (d *seedDelivery) handoffText() string {
	h, rp := d.v.Handoff, d.v.Handoff.RecoveryPath
	delivered := "not yet"
	if h.DeliveredAt != nil {
		delivered = h.DeliveredAt.UTC().Format(time.RFC3339)
	}
	lines := []string{
		"Delivery " + d.in.ID + " (" + d.in.Product + ", " + d.in.Region + "), seller " + d.in.SellerID,
		"Account: " + h.AccountID, "Order: " + h.OrderID, "Delivered at: " + delivered,
		fmt.Sprintf("Recovery path: email %q, phone %q, backup codes held %t, reset by %s", rp.Email, rp.Phone, rp.BackupCodesHeld, rp.ResetBy),
		"Allowed use: " + h.AllowedUse,
	}
	if c := h.LatestCommunication; c != nil {
		lines = append(lines, fmt.Sprintf("Latest communication: %s %s (%s) %s", strings.ReplaceAll(c.Direction, "_", " "),
			c.At.UTC().Format(time.RFC3339), c.Kind, c.Summary))
	}
	return strings.Join(lines, "\n")
}

// finish plays the rest of a problem delivery from its case s: the case
// linked, a completed recovery, the case's resolution, the warranty.
func (d *seedDelivery) finish(s *caseSim) {
	rng := d.g.rng
	caseID := s.v.ID
	d.then(s.v.CreatedAt.Add(seedSeconds(rng, 1, 5)), func(at time.Time) {
		d.v.LinkedCases = append(d.v.LinkedCases, deliveries.LinkedCase{CaseID: caseID, Reason: deliveries.LinkProblemReport, Open: true})
		d.record(at, vocab.SystemActor, deliveries.EventCaseLinked, vocab.Payload("case_id", caseID, "reason", deliveries.LinkProblemReport))
	})
	if s.recovered != nil {
		d.then(s.recovered.Add(time.Second), func(at time.Time) {
			d.outcome(caseID, vocab.OutcomeRecovered)
			if d.v.Status == deliveries.StatusUnderReview {
				detail := "account recovery " + s.v.Recovery.ID + " completed"
				d.v.Status = deliveries.StatusRecovered
				d.record(at, vocab.SystemActor, deliveries.EventRecovered, vocab.Payload("case_id", caseID, "detail", detail))
				d.communicate(at, "to_buyer", deliveries.EventRecovered, detail)
				return
			}
			d.record(at, vocab.SystemActor, deliveries.EventReviewResolved, vocab.Payload("case_id", caseID, "outcome", vocab.OutcomeRecovered,
				"status", string(d.v.Status)))
		})
	}
	for _, e := range s.events {
		if e.Kind != cases.EventResolved {
			continue
		}
		resolution := e.Payload["resolution"]
		d.then(e.At.Add(time.Second), func(at time.Time) {
			d.outcome(caseID, vocab.OutcomeResolved)
			if d.v.Status == deliveries.StatusUnderReview {
				d.v.Status = deliveries.StatusDelivered
				d.record(at, e.Actor, deliveries.EventReviewResolved, vocab.Payload("case_id", caseID, "resolution", resolution))
				return
			}
			d.record(at, e.Actor, deliveries.EventReviewResolved, vocab.Payload("case_id", caseID, "outcome", vocab.OutcomeResolved,
				"resolution", resolution, "status", string(d.v.Status)))
		})
		break
	}
	d.play()
}

// outcome marks the linked case's outcome (onCaseOutcome).
func (d *seedDelivery) outcome(caseID, outcome string) {
	for i := range d.v.LinkedCases {
		if c := &d.v.LinkedCases[i]; c.CaseID == caseID {
			c.Outcome, c.Open = outcome, outcome != vocab.OutcomeResolved
		}
	}
}

// deliver attaches the delivery screenshot and hands the account over,
// opening the confirmation window and starting the warranty; it answers
// the handover time and puts the window's and the warranty's deadlines on
// the agenda.
func (d *seedDelivery) deliver(start time.Time) time.Time {
	rng, seller := d.g.rng, "seller:"+d.in.SellerID
	shotAt := start.Add(seedMinutes(rng, 1, 30))
	d.then(shotAt, func(at time.Time) {
		e := vocab.Evidence{ID: "ev-" + strings.ToLower(d.in.ID) + "-1", Kind: "delivery_screenshot",
			Key: "deliveries/" + d.in.ID + "/delivery-screenshot.png", SHA256: fmt.Sprintf("%064x", rng.Uint64()),
			Size: 40_000 + rng.Int64N(400_000), ContentType: "image/png", UploadedBy: seller}
		e.Seq = len(d.events) + 1
		d.record(at, seller, deliveries.EventEvidenceAdded, e.Payload())
		d.v.Evidence = append(d.v.Evidence, e)
	})
	delivered := shotAt.Add(seedMinutes(rng, 1, 10))
	confirmBy, ends := delivered.Add(d.in.ConfirmationWindow), delivered.Add(d.in.Warranty)
	d.then(delivered, func(at time.Time) {
		if d.v.Status != deliveries.StatusReady {
			return
		}
		d.v.Status, d.v.Handoff.DeliveredAt, d.v.ConfirmBy, d.v.WarrantyEndsAt, d.window = deliveries.StatusDelivered, &at, &confirmBy, &ends, true
		d.record(at, seller, deliveries.EventDelivered, vocab.Payload("confirm_by", confirmBy.UTC().Format(time.RFC3339),
			"warranty_ends_at", ends.UTC().Format(time.RFC3339)))
		d.communicate(at, "to_buyer", deliveries.EventDelivered, "delivery email with the recovery instructions")
	})
	d.then(confirmBy.Add(-d.in.ConfirmationWindow/2), func(at time.Time) {
		if d.window && d.v.Status == deliveries.StatusDelivered {
			d.record(at, vocab.SystemActor, deliveries.EventReminder, vocab.Payload("confirm_by", confirmBy.UTC().Format(time.RFC3339)))
			d.communicate(at, "to_buyer", deliveries.EventReminder, "reminder to confirm or report a problem")
		}
	})
	d.then(confirmBy, func(at time.Time) {
		if d.window {
			d.confirmAs(at, vocab.SystemActor, deliveries.EventConfirmedByDefault, "no answer inside the confirmation window")
			d.communicate(at, "to_buyer", deliveries.EventConfirmedByDefault, "confirmed by default")
		}
	})
	d.then(ends.Add(-d.in.WarrantyNotice), func(at time.Time) {
		d.record(at, vocab.SystemActor, deliveries.EventWarrantyEnding, vocab.Payload("warranty_ends_at", ends.UTC().Format(time.RFC3339)))
		d.communicate(at, "to_buyer", deliveries.EventWarrantyEnding, "the warranty ends "+stampUTC(ends))
	})
	d.then(ends, func(at time.Time) { d.retire(at, vocab.SystemActor, "warranty ended") })
	return delivered
}

func (d *seedDelivery) confirmAs(at time.Time, actor, kind, note string) {
	d.v.Confirmed, d.v.ConfirmedAt, d.v.ConfirmedBy = true, &at, actor
	d.v.ConfirmBy, d.window, d.v.Status = nil, false, deliveries.StatusDelivered
	d.record(at, actor, kind, vocab.Payload("note", note))
}

func (d *seedDelivery) retire(at time.Time, actor, reason string) {
	delivered := d.v.Handoff.DeliveredAt != nil
	d.v.Status, d.v.RetiredAt, d.v.RetireReason = deliveries.StatusRetired, &at, reason
	d.v.ConfirmBy, d.window = nil, false
	d.record(at, actor, deliveries.EventRetired, vocab.Payload("reason", reason))
	if delivered {
		d.communicate(at, "to_buyer", deliveries.EventRetired, reason)
	}
}

func (d *seedDelivery) communicate(at time.Time, direction, kind, summary string) {
	d.v.Handoff.LatestCommunication = &deliveries.Communication{At: at, Direction: direction, Kind: kind, Summary: summary}
}

func (d *seedDelivery) record(at time.Time, actor, kind string, payload map[string]string) {
	if len(payload) == 0 {
		payload = nil
	}
	d.events = append(d.events, vocab.Event{Seq: len(d.events) + 1, Actor: actor, Kind: kind, At: at, Payload: payload})
	d.v.LastSeq, d.v.UpdatedAt = len(d.events), at
}

// then puts do on the agenda at at.
func (d *seedDelivery) then(at time.Time, do func(time.Time)) {
	d.agenda = append(d.agenda, seedAgenda{at: at.Truncate(time.Second), do: do})
}

// play runs the agenda up to now.
func (d *seedDelivery) play() { d.playUntil(d.g.now) }

// playUntil runs the agenda, oldest first, up to t; nothing happens to a
// retired delivery.
func (d *seedDelivery) playUntil(t time.Time) {
	sort.SliceStable(d.agenda, func(i, j int) bool { return d.agenda[i].at.Before(d.agenda[j].at) })
	for len(d.agenda) > 0 && !d.agenda[0].at.After(t) {
		a := d.agenda[0]
		d.agenda = d.agenda[1:]
		if d.v.Status != deliveries.StatusRetired {
			a.do(a.at)
		}
	}
}

// addDelivery adds the delivery row, as ProjectDelivery writes it, and its events.
func (g *seedGen) addDelivery(b seedBatch, d *seedDelivery) {
	d.v.NextAction = deliveryNextAction(d)
	d.v.Handoff.Missing = []string{}
	if d.v.Handoff.DeliveredAt == nil {
		d.v.Handoff.Missing = append(d.v.Handoff.Missing, "delivered_at")
	}
	if d.v.Handoff.LatestCommunication == nil {
		d.v.Handoff.Missing = append(d.v.Handoff.Missing, "latest_communication")
	}
	v := d.v
	view, err := json.Marshal(v)
	if err != nil {
		panic(err) // a DeliveryView always encodes
	}
	b.add("deliveries", v.ID, string(v.Status), v.Handoff.AccountID, v.Handoff.OrderID, v.Buyer.ID, v.Buyer.Email, v.SellerID,
		v.Product, v.Region, v.WarrantyEndsAt, v.ConfirmBy, v.Handoff.DeliveredAt, v.LastSeq, v.CreatedAt, v.UpdatedAt, view)
	b.addEvents("delivery_events", v.ID, d.events)
}

// deliveryNextAction is the delivery's nextAction.
func deliveryNextAction(d *seedDelivery) string {
	v := d.v
	switch v.Status {
	case deliveries.StatusReady:
		return "the seller attaches a delivery screenshot or login note, then delivers the account"
	case deliveries.StatusDelivered:
		if d.window && v.ConfirmBy != nil {
			return "the buyer confirms the account works or reports a problem by " + stampUTC(*v.ConfirmBy) + "; no answer confirms it then"
		}
		return "under warranty until " + stampUTC(*v.WarrantyEndsAt) + "; the buyer may report a problem"
	case deliveries.StatusUnderReview:
		open := "(being opened)"
		for i := len(v.LinkedCases) - 1; i >= 0; i-- {
			if v.LinkedCases[i].Open {
				open = v.LinkedCases[i].CaseID
				break
			}
		}
		return "support works the linked case " + open + ": its resolution returns the delivery to delivered, a completed account recovery makes it recovered"
	case deliveries.StatusRecovered:
		return "recovered; under warranty until " + stampUTC(*v.WarrantyEndsAt) + "; the buyer may report a problem"
	default:
		return "nothing: the delivery is retired (" + v.RetireReason + ")"
	}
}

// startReturn starts the case's return at at and schedules every step it
// reports; it answers when the label went out (the agent resolves then).
func (s *caseSim) startReturn(agent string, at time.Time) time.Time {
	rng, c := s.g.rng, &s.v
	id := c.ID + "-R1"
	flow := &cases.AccountFlow{ID: id, WorkflowID: returns.WorkflowID(id), Running: true}
	c.Return = flow
	reason := pickWeighted(rng, returns.Reasons, []int{25, 25, 20, 10, 20})
	if c.Category == vocab.CategoryDefectiveItem {
		reason = pick(rng, []string{returns.ReasonDamaged, returns.ReasonDefective})
	}
	s.record(at, "agent:"+agent, cases.EventReturnStarted, vocab.Payload("return_id", id, "order_id", c.OrderID, "reason", reason))
	item := seedItems[rng.IntN(len(seedItems))]
	paid := vocab.Money{Minor: 1999 + rng.Int64N(28000), Currency: "EUR"}
	start := at.Add(seedSeconds(rng, 1, 3))
	delivered := at.Add(-seedMinutes(rng, 2*24*60, 20*24*60))
	pol := returns.DefaultPolicy()
	r := &seedReturn{s: s, flow: flow, v: returns.View{ID: id, CaseID: c.ID, OrderID: c.OrderID, Buyer: c.Customer,
		SellerID: fmt.Sprintf("sel-%s-%03d", s.g.tag, rng.IntN(400)), Item: returns.Item{SKU: item.sku, Name: item.name, Returnable: true},
		Paid: paid, Reason: reason, Status: returns.StatusRequested, WindowEndsAt: delivered.Add(pol.Window), CreatedAt: start, UpdatedAt: start}}
	r.step(start, "customer:"+c.Customer.ID, returns.EventRequested, "", "order_id", c.OrderID, "sku", item.sku, "reason", reason,
		"paid", paid.String(), "opened_at", at.UTC().Format(time.RFC3339), "window_ends_at", r.v.WindowEndsAt.UTC().Format(time.RFC3339))
	labelAt := start.Add(seedSeconds(rng, 2, 30))
	shipBy := at.Add(pol.ShipWithin)
	track := fmt.Sprintf("TRK%010d", rng.Int64N(1e10))
	label := vocab.Label{ID: "lbl-" + strings.ToLower(id), TrackingNumber: track, URL: "https://carrier.example/labels/" + track}
	r.v.Status, r.v.Label, r.v.TrackingNumber, r.v.ShipBy = returns.StatusLabelSent, &label, track, &shipBy
	r.step(labelAt, vocab.SystemActor, returns.EventLabelSent, "", "label_id", label.ID, "tracking_number", track, "label_url", label.URL,
		"ship_by", shipBy.UTC().Format(time.RFC3339))
	switch x := rng.Float64(); {
	case x < 0.05:
		t := labelAt.Add(seedMinutes(rng, 60, 5*24*60))
		r.v.Status, r.v.StatusReason = returns.StatusCancelled, "the buyer kept the item"
		r.step(t, "customer:"+c.Customer.ID, returns.EventCancelled, "", "reason", r.v.StatusReason)
	case x < 0.12:
		r.step(shipBy.Add(-pol.ReminderBefore), vocab.SystemActor, returns.EventReminder, "", "ship_by", shipBy.UTC().Format(time.RFC3339))
		r.v.Status, r.v.StatusReason = returns.StatusNotShipped, "not shipped by "+stampUTC(shipBy)
		r.step(shipBy, vocab.SystemActor, returns.EventNotShipped, "", "ship_by", shipBy.UTC().Format(time.RFC3339))
	default:
		r.ship(labelAt, pol)
	}
	r.finish()
	return labelAt
}

// seedReturn is one return being written: its steps go to its own
// timeline and to its case's.
type seedReturn struct {
	s      *caseSim
	flow   *cases.AccountFlow
	v      returns.View
	events []vocab.Event
	views  []returns.View // the view after each event, for the cut at now
}

// ship, receive, inspect and refund the item.
func (r *seedReturn) ship(labelAt time.Time, pol returns.Policy) {
	rng := r.s.g.rng
	track := r.v.TrackingNumber
	shipped := labelAt.Add(seedMinutes(rng, 6*60, 6*24*60))
	arriveBy := shipped.Add(pol.ArriveWithin)
	r.v.Status, r.v.ShippedAt, r.v.ArriveBy = returns.StatusShipped, &shipped, &arriveBy
	r.step(shipped, "integration:carrier", returns.EventShipped, "", "tracking_number", track, "tracking_event", "te-"+track+"-1",
		"scan", "picked_up", "shipped_at", shipped.UTC().Format(time.RFC3339), "arrive_by", arriveBy.UTC().Format(time.RFC3339))
	transit := shipped.Add(seedMinutes(rng, 6*60, 30*60))
	r.own(transit, "integration:carrier", returns.EventInTransit, "tracking_event", "te-"+track+"-2", "scan", "in_transit", "at", transit.UTC().Format(time.RFC3339))
	received := transit.Add(seedMinutes(rng, 12*60, 4*24*60))
	inspectBy := received.Add(pol.InspectWithin)
	r.v.Status, r.v.ReceivedAt, r.v.InspectBy = returns.StatusReceived, &received, &inspectBy
	r.step(received, "integration:carrier", returns.EventReceived, "", "tracking_number", track, "tracking_event", "te-"+track+"-3",
		"received_at", received.UTC().Format(time.RFC3339), "inspect_by", inspectBy.UTC().Format(time.RFC3339))
	insp := returns.Inspection{Actor: "seller:" + r.v.SellerID, At: received.Add(seedMinutes(rng, 60, 46*60))}
	insp.Outcome = pickWeighted(rng, returns.Outcomes, []int{60, 15, 12, 13})
	if rng.Float64() < 0.15 {
		insp = returns.Inspection{Actor: vocab.SystemActor, Outcome: pol.OnNoInspection, ByPolicy: true, At: inspectBy}
	}
	amount := r.v.Paid
	switch insp.Outcome {
	case returns.OutcomeRefundPartial:
		amount.Minor = r.v.Paid.Minor * int64(30+rng.IntN(40)) / 100
		insp.Amount, insp.Reason = amount, "signs of use on the item"
	case returns.OutcomeReject:
		amount, insp.Reason = vocab.Money{}, "the item was not the one sold"
	}
	r.v.Inspection, r.v.Outcome, r.v.Amount, r.v.StoreCredit = &insp, insp.Outcome, amount, insp.Outcome == returns.OutcomeStoreCredit
	shown := ""
	if insp.Outcome == returns.OutcomeReject {
		r.v.Status, r.v.StatusReason = returns.StatusRejected, insp.Reason
	} else {
		r.v.Status, shown = returns.StatusRefunding, amount.String()
	}
	r.step(insp.At, insp.Actor, returns.EventInspected, "", "outcome", string(insp.Outcome), "amount", shown, "reason", insp.Reason,
		"by_policy", strconv.FormatBool(insp.ByPolicy))
	if insp.Outcome == returns.OutcomeReject {
		who := "the seller"
		if insp.ByPolicy {
			who = "the return policy"
		}
		r.step(insp.At, insp.Actor, returns.EventRejected, fmt.Sprintf("%s rejected return %s (order %s): %s", who, r.v.ID, r.v.OrderID, insp.Reason),
			"reason", insp.Reason)
		return
	}
	paidAt := insp.At.Add(seedSeconds(rng, 1, 40))
	kind := "refund"
	if r.v.StoreCredit {
		kind = "store_credit"
	}
	r.v.Refund = &vocab.Movement{ID: fmt.Sprintf("pm_%012x", rng.Uint64()>>16), Kind: kind, Status: vocab.MovementSucceeded, Amount: amount}
	r.v.Status = returns.StatusRefunded
	r.step(paidAt, vocab.SystemActor, returns.EventRefunded, "", "movement_id", r.v.Refund.ID, "amount", amount.String(),
		"store_credit", strconv.FormatBool(r.v.StoreCredit))
}

// step records a step on the return's timeline and reports it to the
// case (escalating it when escalate is set); a final status ends the flow.
func (r *seedReturn) step(at time.Time, actor, kind, escalate string, kv ...string) {
	payload := vocab.Payload(kv...)
	payload["return_id"] = r.v.ID
	r.own(at, actor, kind, kv...)
	r.events[len(r.events)-1].Payload = payload
	rep := seedReport{at: at, actor: actor, kind: kind, payload: payload, escalate: escalate}
	if slices.Contains(returns.FinalStatuses, r.v.Status) {
		rep.ends, rep.outcome = r.flow, string(r.v.Status)
	}
	if !at.After(r.s.g.now) {
		r.s.report(rep)
	}
}

// own records an event on the return's timeline only, keeping the view it leaves.
func (r *seedReturn) own(at time.Time, actor, kind string, kv ...string) {
	at = at.Truncate(time.Second)
	r.events = append(r.events, vocab.Event{Seq: len(r.events) + 1, Actor: actor, Kind: kind, At: at, Payload: vocab.Payload(kv...)})
	r.v.LastSeq, r.v.UpdatedAt = len(r.events), at
	r.v.RespondBy = returnRespondBy(r.v)
	r.v.NextAction = returnNextAction(r.v)
	r.views = append(r.views, r.v)
}

// finish cuts the return at now and adds it to the case's rows.
func (r *seedReturn) finish() {
	n := 0
	for n < len(r.events) && !r.events[n].At.After(r.s.g.now) {
		n++
	}
	if n == 0 {
		return
	}
	v := r.views[n-1]
	r.s.returnRow = &seedChild{view: v, events: r.events[:n], id: v.ID, caseID: v.CaseID, order: v.OrderID, seller: v.SellerID,
		customer: v.Buyer.ID, status: string(v.Status), respondBy: v.RespondBy, created: v.CreatedAt, updated: v.UpdatedAt, lastSeq: v.LastSeq}
}

// returnRespondBy is the return's respondBy.
func returnRespondBy(v returns.View) *time.Time {
	switch v.Status {
	case returns.StatusLabelSent:
		return v.ShipBy
	case returns.StatusShipped:
		return v.ArriveBy
	case returns.StatusReceived:
		return v.InspectBy
	}
	return nil
}

// returnNextAction is the return's nextAction.
func returnNextAction(v returns.View) string {
	switch v.Status {
	case returns.StatusRequested:
		return "the carrier makes the prepaid return label"
	case returns.StatusLabelSent:
		return "the buyer ships the item with the prepaid label by " + stampUTC(*v.ShipBy) + "; the return ends unshipped then"
	case returns.StatusShipped:
		return "the carrier delivers parcel " + v.TrackingNumber + " to the seller by " + stampUTC(*v.ArriveBy)
	case returns.StatusReceived:
		return "the seller inspects the item by " + stampUTC(*v.InspectBy) + "; no inspection then decides " + string(returns.OutcomeRefundFull)
	case returns.StatusRefunding:
		return "the payment provider refunds " + v.Amount.String()
	}
	if v.StatusReason != "" {
		return "nothing: the return is " + string(v.Status) + " (" + v.StatusReason + ")"
	}
	return "nothing: the return is " + string(v.Status)
}

// seedChild is a return's or a dispute's row and timeline.
type seedChild struct {
	view                                        any
	events                                      []vocab.Event
	id, caseID, order, seller, customer, status string
	respondBy                                   *time.Time
	created, updated                            time.Time
	lastSeq                                     int
}

// add adds the child's row and events to table and its events table.
func (c *seedChild) add(b seedBatch, table, events string) {
	view, err := json.Marshal(c.view)
	if err != nil {
		panic(err) // returns.View and disputes.View always encode
	}
	b.add(table, c.id, c.caseID, c.order, c.seller, c.customer, c.status, c.respondBy, c.created, c.updated, c.lastSeq, view)
	b.addEvents(events, c.id, c.events)
}

// openDispute opens the case's dispute at at and schedules every step it
// reports; it answers when the dispute opened (the agent resolves then).
func (s *caseSim) openDispute(agent string, at time.Time) time.Time {
	rng, c := s.g.rng, &s.v
	id := c.ID + "-D1"
	flow := &cases.AccountFlow{ID: id, WorkflowID: disputes.WorkflowID(id), Running: true}
	c.Dispute = flow
	reason := pickWeighted(rng, disputes.Reasons, []int{35, 40, 15, 10})
	s.record(at, "agent:"+agent, cases.EventDisputeStarted, vocab.Payload("dispute_id", id, "order_id", c.OrderID, "reason", reason))
	amount := vocab.Money{Minor: 1500 + rng.Int64N(38500), Currency: "EUR"}
	seller := fmt.Sprintf("sel-%s-%03d", s.g.tag, rng.IntN(400))
	opened := at.Add(seedSeconds(rng, 1, 3))
	due := at.Add(72 * time.Hour)
	hold := vocab.Movement{ID: fmt.Sprintf("pm_%012x", rng.Uint64()>>16), Kind: "hold", Status: vocab.MovementHeld, Amount: amount}
	d := &seedDispute{s: s, flow: flow, v: disputes.View{ID: id, CaseID: c.ID, OrderID: c.OrderID, BuyerID: c.Customer.ID, SellerID: seller,
		Amount: amount, Reason: reason, Status: disputes.StatusAwaitingSeller, Awaiting: disputes.PartySeller, RespondBy: &due, SellerDueAt: due,
		Decisions: []disputes.Decision{}, Funds: disputes.Funds{Hold: &hold, HoldState: disputes.HoldHeld, Refunds: []vocab.Movement{},
			Refunded: vocab.Money{Currency: "EUR"}}, OpenedAt: at, UpdatedAt: opened}}
	d.record(opened, "agent:"+agent, disputes.EventOpened, "", "order_id", c.OrderID, "buyer_id", c.Customer.ID, "seller_id", seller,
		"seller_region", "fr", "amount", amount.String(), "reason", reason, "description", c.Description, "evidence", "0",
		"respond_by", due.UTC().Format(time.RFC3339), "respond_by_local", seedParisLocal(due), "hold", disputes.HoldHeld, "hold_id", hold.ID)
	sellerActor, buyerActor := "seller:"+seller, "customer:"+c.Customer.ID
	answered := opened.Add(seedMinutes(rng, 60, 70*60))
	switch x := rng.Float64(); {
	case x < 0.25:
		d.v.SellerResponse = &disputes.SellerResponse{Actor: sellerActor, Kind: disputes.RespondAccept}
		d.record(answered, sellerActor, disputes.EventSellerAccepted, "")
		d.decide(answered, disputes.OutcomeRefundFull, amount, disputes.PartySeller, sellerActor, "the seller accepted the buyer's claim")
	case x < 0.5:
		offer := vocab.Money{Minor: amount.Minor * int64(30+rng.IntN(50)) / 100, Currency: "EUR"}
		o := disputes.Offer{Amount: offer, By: sellerActor, At: answered, AnswerBy: answered.Add(72 * time.Hour)}
		d.v.SellerResponse = &disputes.SellerResponse{Actor: sellerActor, Kind: disputes.RespondOfferPartial, Amount: offer}
		d.v.Offer, d.v.Status, d.v.Awaiting, d.v.RespondBy = &o, disputes.StatusAwaitingBuyer, disputes.PartyBuyer, &o.AnswerBy
		d.record(answered, sellerActor, disputes.EventOfferMade, "", "amount", offer.String(), "answer_by", o.AnswerBy.UTC().Format(time.RFC3339))
		reply := answered.Add(seedMinutes(rng, 30, 60*60))
		taken := *d.v.Offer
		if rng.Float64() < 0.6 {
			taken.Answer = "accepted"
			d.v.Offer = &taken
			d.record(reply, buyerActor, disputes.EventOfferAccepted, "", "amount", offer.String())
			d.decide(reply, disputes.OutcomeRefundPartial, offer, disputes.PartyBuyer, buyerActor, "the buyer accepted the seller's offer")
		} else {
			taken.Answer = "declined"
			d.v.Offer = &taken
			d.record(reply, buyerActor, disputes.EventOfferDeclined, "", "amount", offer.String())
			d.review(reply, "the buyer declined the seller's offer of "+offer.String())
		}
	case x < 0.8:
		statement := "the account was delivered as described"
		d.v.SellerResponse = &disputes.SellerResponse{Actor: sellerActor, Kind: disputes.RespondContest, Statement: statement}
		d.record(answered, sellerActor, disputes.EventContested, "", "statement", statement, "evidence_ids", "")
		d.review(answered, "the seller contested: "+statement)
	default:
		late := "the seller did not answer by " + seedParisLocal(due)
		d.record(due, vocab.SystemActor, disputes.EventSellerLate, "dispute "+id+": "+late, "respond_by", due.UTC().Format(time.RFC3339), "decide_for_buyer", "true")
		d.decide(due, disputes.OutcomeRefundFull, amount, disputes.PartySystem, vocab.SystemActor, "policy: "+late)
	}
	d.finish()
	return opened
}

// seedDispute is one dispute being written, as seedReturn.
type seedDispute struct {
	s      *caseSim
	flow   *cases.AccountFlow
	v      disputes.View
	events []vocab.Event
	views  []disputes.View
}

// review puts the dispute under trust & safety's review, who decide.
func (d *seedDispute) review(at time.Time, why string) {
	rng := d.s.g.rng
	due := at.Add(120 * time.Hour)
	d.v.Status, d.v.ReviewDue, d.v.Awaiting, d.v.RespondBy = disputes.StatusUnderReview, &due, disputes.PartyTrustSafety, &due
	d.record(at, vocab.SystemActor, disputes.EventReviewStarted, "", "why", why, "review_due", due.UTC().Format(time.RFC3339))
	outcome := pickWeighted(rng, disputes.Outcomes, []int{40, 20, 30, 10})
	grant := vocab.Money{Currency: "EUR"}
	switch outcome {
	case disputes.OutcomeRefundFull:
		grant = d.v.Amount
	case disputes.OutcomeRefundPartial:
		grant.Minor = d.v.Amount.Minor / 2
	}
	d.decide(at.Add(seedMinutes(rng, 120, 110*60)), outcome, grant, disputes.PartyTrustSafety, "agent:"+pick(rng, seedAgents[vocab.TeamTrustSafety]),
		"decided on the evidence of both parties")
}

// decide takes a decision and carries it out: the refund owed, the hold
// kept or released, the dispute resolved, closed when its appeal window ends.
func (d *seedDispute) decide(at time.Time, outcome string, amount vocab.Money, party, actor, reason string) {
	rng := d.s.g.rng
	dec := disputes.Decision{N: len(d.v.Decisions) + 1, Outcome: outcome, Amount: amount, Reason: reason, Party: party, Actor: actor, At: at.Truncate(time.Second)}
	d.v.Decisions = append(slices.Clone(d.v.Decisions), dec)
	d.v.Decision, d.v.Status, d.v.ReviewDue, d.v.Awaiting, d.v.RespondBy = &dec, disputes.StatusExecuting, nil, "", nil
	n := strconv.Itoa(dec.N)
	d.record(at, actor, disputes.EventDecision, "", "n", n, "outcome", outcome, "amount", amount.String(), "party", party, "reason", reason, "final", "false")
	t := at.Add(seedSeconds(rng, 1, 30))
	if amount.Minor > 0 {
		m := vocab.Movement{ID: fmt.Sprintf("pm_%012x", rng.Uint64()>>16), Kind: "refund", Status: vocab.MovementSucceeded, Amount: amount}
		d.v.Funds.Refunds = append(slices.Clone(d.v.Funds.Refunds), m)
		d.v.Funds.Refunded.Minor += amount.Minor
		d.record(t, vocab.SystemActor, disputes.EventRefunded, "", "decision", n, "amount", amount.String(), "movement_id", m.ID, "refunded", d.v.Funds.Refunded.String())
	}
	hold := d.v.Funds.Hold
	if outcome == disputes.OutcomeRefundFull {
		d.v.Funds.HoldState = disputes.HoldKept
		d.record(t, vocab.SystemActor, disputes.EventHoldKept, "", "decision", n, "hold_id", hold.ID, "amount", hold.Amount.String())
	} else {
		m := vocab.Movement{ID: fmt.Sprintf("pm_%012x", rng.Uint64()>>16), Kind: "release", Status: vocab.MovementReleased, Amount: hold.Amount}
		d.v.Funds.Release, d.v.Funds.HoldState = &m, disputes.HoldReleased
		d.record(t, vocab.SystemActor, disputes.EventFundsReleased, "", "decision", n, "hold_id", hold.ID, "movement_id", m.ID, "amount", hold.Amount.String())
	}
	until := dec.At.Add(720 * time.Hour)
	d.v.Status, d.v.AppealUntil, d.v.Awaiting, d.v.RespondBy = disputes.StatusResolved, &until, disputes.AwaitingEitherParty, &until
	d.record(t, vocab.SystemActor, disputes.EventResolved, "", "decision", n, "outcome", outcome, "refunded_now", amount.String(),
		"refunded", d.v.Funds.Refunded.String(), "hold", d.v.Funds.HoldState, "appeal_until", until.UTC().Format(time.RFC3339), "final", "false")
	d.v.Status, d.v.AppealUntil, d.v.Awaiting, d.v.RespondBy = disputes.StatusClosed, nil, "", nil
	d.record(until, vocab.SystemActor, disputes.EventClosed, "", "why", "the appeal window ended", "outcome", outcome,
		"refunded", d.v.Funds.Refunded.String(), "hold", d.v.Funds.HoldState)
}

// record is the dispute's record: its own timeline without the dispute's
// id, the case's report with it.
func (d *seedDispute) record(at time.Time, actor, kind, escalate string, kv ...string) {
	at = at.Truncate(time.Second)
	d.events = append(d.events, vocab.Event{Seq: len(d.events) + 1, Actor: actor, Kind: kind, At: at, Payload: nilIfEmpty(vocab.Payload(kv...))})
	d.v.LastSeq, d.v.UpdatedAt = len(d.events), at
	d.views = append(d.views, d.v)
	rep := seedReport{at: at, actor: actor, kind: kind, payload: vocab.Payload(append([]string{"dispute_id", d.v.ID}, kv...)...), escalate: escalate}
	if d.v.Status == disputes.StatusClosed {
		rep.ends, rep.outcome = d.flow, string(d.v.Status)
	}
	if !at.After(d.s.g.now) {
		d.s.report(rep)
	}
}

// finish cuts the dispute at now and adds it to the case's rows.
func (d *seedDispute) finish() {
	n := 0
	for n < len(d.events) && !d.events[n].At.After(d.s.g.now) {
		n++
	}
	if n == 0 {
		return
	}
	v := d.views[n-1]
	d.s.disputeRow = &seedChild{view: v, events: d.events[:n], id: v.ID, caseID: v.CaseID, order: v.OrderID, seller: v.SellerID,
		customer: v.BuyerID, status: string(v.Status), respondBy: v.RespondBy, created: v.OpenedAt, updated: v.UpdatedAt, lastSeq: v.LastSeq}
}

func nilIfEmpty(p map[string]string) map[string]string {
	if len(p) == 0 {
		return nil
	}
	return p
}

// seedParis is the zone of the sellers' calendar disputes answer in.
var seedParis = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// seedParisLocal is a dispute's local time of a seller in Paris.
func seedParisLocal(t time.Time) string {
	return t.In(seedParis).Format("Mon 2 Jan 2006 15:04") + " " + seedParis.String()
}

// stampUTC writes a time as the workflows' stamp.
func stampUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// Random choices.

func pick[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

func pickWeighted[T any](rng *rand.Rand, from []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return from[i]
		}
		n -= w
	}
	return from[len(from)-1]
}

func (g *seedGen) pickCategory() seedCategory {
	n := g.rng.IntN(g.catWeights)
	for _, c := range seedCategories {
		if n < c.weight {
			return c
		}
		n -= c.weight
	}
	return seedCategories[len(seedCategories)-1]
}

func pickIssue(rng *rand.Rand, issues []seedIssue) seedIssue {
	w := make([]int, len(issues))
	for i, is := range issues {
		w[i] = is.weight
	}
	return pickWeighted(rng, issues, w)
}

// shiftPriority moves p by d levels (negative: more urgent), within p1..p4.
func shiftPriority(p vocab.Priority, d int) vocab.Priority {
	i := slices.Index(vocab.Priorities, p) + d
	return vocab.Priorities[max(0, min(len(vocab.Priorities)-1, i))]
}

func seedMinutes(rng *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+rng.IntN(max(1, hi-lo))) * time.Minute
}

func seedSeconds(rng *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+rng.IntN(max(1, hi-lo))) * time.Second
}

// seedExp draws an exponential delay of the given mean, at most limit.
func seedExp(rng *rand.Rand, mean, limit time.Duration) time.Duration {
	return min(time.Duration(rng.ExpFloat64()*float64(mean)), limit).Truncate(time.Second) + time.Minute
}

func sortTimes(ts []time.Time) { slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) }) }
