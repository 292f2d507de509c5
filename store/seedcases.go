package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// A seeded case is played through a model of SupportCase: the same SLA
// clocks (workflows/sla), the same deadlines (warnings, breaches, the
// reminder and auto-close of a wait, the end of the reopen window), the
// same transitions and payloads as workflows/cases records them, and the
// reports of its children (incident, recovery, return, dispute) at their
// times. Whatever would happen after SeedOptions.Now does not: the row is
// the case as it is then.

// Indexes of caseSim.targets, in SupportCase's order.
const (
	seedFirstResponse = iota
	seedNextResponse
	seedResolution
)

var seedTargetNames = [3]string{"first_response", "next_response", "resolution"}

// seedTarget is one SLA clock of a seeded case.
type seedTarget struct {
	clock          sla.Clock
	active, warned bool
	breaches       int
}

// seedReport is what a child workflow reports to the case (vocab.CaseEvent)
// at a time: recorded, escalating when asked, ending the flow it names.
type seedReport struct {
	at          time.Time
	actor, kind string
	payload     map[string]string
	escalate    string // the reason, to trust_safety, when set
	ends        *cases.AccountFlow
	outcome     string
}

// caseSim is one case being played.
type caseSim struct {
	g            *seedGen
	v            cases.CaseView
	events       []vocab.Event
	policy       sla.Policy
	targets      [3]*seedTarget
	waitingSince time.Time
	reminderSent bool
	latest       string
	reports      []seedReport
	stopped      bool
	locale       string
	recovered    *time.Time // when an account recovery completed
	// clockAt is the moment of the action being played (act's t).
	clockAt time.Time
	// returnRow and disputeRow are the case's return and dispute, cut at now.
	returnRow, disputeRow *seedChild
}

// seedCase plays case i and adds its rows, and those of the delivery,
// return or dispute that go with it, to b.
func (g *seedGen) seedCase(b seedBatch, i int) {
	rng := g.rng
	cat := g.pickCategory()
	issue := pickIssue(rng, cat.issues)
	cust := rng.IntN(g.customers)
	locale := "en"
	if cust%20 < 7 {
		locale = "fr"
	}
	subject, desc := pick(rng, issue.subjectEN), pick(rng, issue.descEN)
	if locale == "fr" {
		subject, desc = pick(rng, issue.subjectFR), pick(rng, issue.descFR)
	}
	def := g.defaults[cat.category]
	prio := vocab.Priority(def.Priority)
	switch r := rng.Float64(); {
	case r < 0.08:
		prio = shiftPriority(prio, -1)
	case r < 0.18:
		prio = shiftPriority(prio, 1)
	}
	id := fmt.Sprintf("C-%s-%07d", g.tag, i+1)
	t0 := g.arrivals[i]
	first, last := seedFirstNames[cust%len(seedFirstNames)], seedLastNames[(cust/len(seedFirstNames))%len(seedLastNames)]
	v := cases.CaseView{
		ID: id, Category: cat.category, Priority: prio, Subject: subject, Description: desc,
		Customer: vocab.Customer{ID: fmt.Sprintf("cus-%s-%06d", g.tag, cust), Email: fmt.Sprintf("customer%06d@example.com", cust),
			Name: first + " " + last, Locale: locale},
		Channel: pickWeighted(rng, []string{"web", "email", "chat"}, []int{55, 30, 15}), Team: vocab.Team(def.Team), Status: cases.StatusNew,
		CreatedAt: t0, UpdatedAt: t0,
	}
	if slices.Contains(seedAccountCategories, cat.category) && rng.Float64() < 0.92 {
		v.AccountID = fmt.Sprintf("acc-%s-%06d", g.tag, cust)
	}
	if slices.Contains(seedOrderCategories, cat.category) {
		v.OrderID = fmt.Sprintf("ord-%s-%07d", g.tag, i+1)
	}
	var delivery *seedDelivery
	if cat.category == vocab.CategoryAccountDeliveryIssue && rng.Float64() < 0.6 {
		// Opened by the delivery's problem report, with its handoff record.
		delivery = g.problemDelivery(v, t0)
		v.DeliveryID, v.Channel, v.AccountID = delivery.v.ID, "account_delivery", delivery.v.Handoff.AccountID
		v.Subject = fmt.Sprintf("Problem with delivered account %s (order %s)", v.AccountID, v.OrderID)
		v.Description = desc + "\n\n" + delivery.handoffText()
	}
	s := &caseSim{g: g, v: v, policy: g.policies[[2]string{string(cat.category), string(prio)}], latest: desc, locale: locale}
	s.play()
	s.act(g.now.Add(time.Second)) // everything due until now
	s.v.SLA = s.slaView(s.v.UpdatedAt)
	g.addCase(b, s)
	if s.returnRow != nil {
		s.returnRow.add(b, "returns", "return_events")
	}
	if s.disputeRow != nil {
		s.disputeRow.add(b, "disputes", "dispute_events")
	}
	if delivery != nil {
		delivery.finish(s)
		g.addDelivery(b, delivery)
	}
	if rng.Float64() < 0.4 {
		g.addDelivery(b, g.plainDelivery(t0))
	}
}

// Categories whose cases name an account, an order.
var (
	seedAccountCategories = []vocab.Category{vocab.CategoryLoginFailure, vocab.CategoryPasswordReset, vocab.CategoryLockedAccount,
		vocab.CategorySecurityAlert, vocab.CategoryProfileChange, vocab.CategoryAccountMerge, vocab.CategoryAccountDeliveryIssue, vocab.CategoryFraudReport}
	seedOrderCategories = []vocab.Category{vocab.CategoryAccountDeliveryIssue, vocab.CategoryOrderIssue, vocab.CategoryDeliveryDelay,
		vocab.CategoryDefectiveItem, vocab.CategoryRefundRequest, vocab.CategoryReturnRequest, vocab.CategoryDispute, vocab.CategoryFraudReport}
)

// play runs the case's life up to g.now.
func (s *caseSim) play() {
	rng, v := s.g.rng, &s.v
	t0 := v.CreatedAt
	openedBy := "customer:" + v.Customer.ID
	switch v.Channel {
	case "email":
		openedBy = "integration:mail"
	case "chat":
		openedBy = "agent:" + pick(rng, seedAgents[vocab.TeamTier1Support])
	case "account_delivery":
		openedBy = vocab.SystemActor
	}
	pol := s.policy
	s.targets = [3]*seedTarget{
		{clock: sla.NewClock(pol.Targets.FirstResponse, t0), active: true},
		{},
		{clock: sla.NewClock(pol.Targets.Resolution, t0), active: true},
	}
	s.record(t0, openedBy, cases.EventOpened, vocab.Payload("category", string(v.Category), "priority", string(v.Priority),
		"team", string(v.Team), "channel", v.Channel))
	if v.AccountID != "" && (v.Category == vocab.CategorySecurityAlert || v.Category == vocab.CategoryFraudReport) {
		s.incident(openedBy, t0)
	}
	// How late this case's answers come: most in time, some warned, some breached.
	lo, hi := 0.05, 0.7
	switch r := rng.Float64(); {
	case r < 0.08:
		lo, hi = 1.05, 1.8
	case r < 0.16:
		lo, hi = 0.82, 0.97
	}
	team := v.Team
	agent := pick(rng, seedAgents[team])
	if rng.Float64() < 0.9 {
		at := s.reach(seedFirstResponse, 0.01, 0.1, t0)
		if !s.act(at) {
			return
		}
		s.assign(at, agent)
	}
	if !s.act(s.reach(seedFirstResponse, lo, hi, v.UpdatedAt)) {
		return
	}
	s.reply(agent)
	if v.AccountID != "" && v.Recovery == nil && slices.Contains([]vocab.Category{vocab.CategoryLoginFailure, vocab.CategoryPasswordReset,
		vocab.CategoryLockedAccount, vocab.CategoryAccountDeliveryIssue}, v.Category) && rng.Float64() < 0.35 {
		s.recovery("agent:"+agent, v.UpdatedAt.Add(seedMinutes(rng, 1, 20)), false)
	}
	for n := pickWeighted(rng, []int{0, 1, 2, 3}, []int{35, 35, 20, 10}); n > 0; n-- {
		if !s.exchange(agent, lo, hi) {
			return
		}
	}
	if rng.Float64() < 0.15 && !s.agentEscalate(agent) {
		return
	}
	agent = s.currentAgent(agent)
	resolveAfter := v.UpdatedAt
	switch {
	case slices.Contains([]vocab.Category{vocab.CategoryReturnRequest, vocab.CategoryDefectiveItem}, v.Category) && rng.Float64() < 0.7:
		at := v.UpdatedAt.Add(seedMinutes(rng, 5, 240))
		if !s.act(at) {
			return
		}
		resolveAfter = s.startReturn(agent, at)
	case v.Category == vocab.CategoryDispute && rng.Float64() < 0.85:
		at := v.UpdatedAt.Add(seedMinutes(rng, 5, 240))
		if !s.act(at) {
			return
		}
		resolveAfter = s.openDispute(agent, at)
	}
	if !s.resolveBy(agent, lo, hi, resolveAfter) {
		return
	}
	s.afterResolve(agent)
}

// exchange is one round: the agent waits on the customer or the customer
// writes, then the agent answers; false once the case is done or past now.
func (s *caseSim) exchange(agent string, lo, hi float64) bool {
	rng, v := s.g.rng, &s.v
	if rng.Float64() < 0.5 && v.Status != cases.StatusWaitingCustomer {
		if !s.act(v.UpdatedAt.Add(seedMinutes(rng, 1, 30))) || !s.active() {
			return false
		}
		s.waitOnCustomer(agent, pick(rng, seedWaitReasons))
		// Most answer within a day or two; some never, and the case closes by itself.
		if rng.Float64() < 0.08 {
			s.act(s.g.now.Add(time.Second))
			return false
		}
	}
	if !s.act(v.UpdatedAt.Add(seedExp(rng, 14*time.Hour, 140*time.Hour))) || v.Status == cases.StatusClosed {
		return false
	}
	s.customerMessage(pick(rng, seedCustomerMessages[s.locale]))
	at := s.reach(seedNextResponse, lo*0.8, hi*0.8, v.UpdatedAt)
	if !s.act(at) || !s.active() {
		return false
	}
	s.reply(agent)
	return true
}

// agentEscalate hands the case to the team that owns what it needs, or up
// its own team; false once past now.
func (s *caseSim) agentEscalate(agent string) bool {
	rng, v := s.g.rng, &s.v
	at := v.UpdatedAt.Add(seedMinutes(rng, 10, 600))
	if !s.act(at) {
		return false
	}
	if !s.active() {
		return true
	}
	to := v.Team
	switch {
	case v.AccountID != "" && v.Team == vocab.TeamTier1Support:
		to = pickWeighted(rng, []vocab.Team{vocab.TeamAccountManagement, vocab.TeamSecurity}, []int{2, 1})
	case v.OrderID != "" && v.Team == vocab.TeamTier1Support && rng.Float64() < 0.6:
		to = vocab.TeamTrustSafety
	}
	if to == v.Team && v.EscalationLevel >= cases.LevelSupportManager {
		return true
	}
	s.escalate(at, "agent:"+agent, to, pick(rng, seedEscalations))
	return true
}

// currentAgent answers who works the case now: after a move to another
// team, one of its agents takes it.
func (s *caseSim) currentAgent(agent string) string {
	if s.v.Assignee != "" {
		return s.v.Assignee
	}
	if slices.Contains(seedAgents[s.v.Team], agent) {
		return agent
	}
	next := pick(s.g.rng, seedAgents[s.v.Team])
	if s.act(s.v.UpdatedAt.Add(seedMinutes(s.g.rng, 5, 120))) && s.active() {
		s.assign(s.clockAt, next)
	}
	return next
}

// resolveBy resolves the case when its resolution clock reaches a fraction
// in [lo, hi) (no earlier than after); false once past now.
func (s *caseSim) resolveBy(agent string, lo, hi float64, after time.Time) bool {
	rng, v := s.g.rng, &s.v
	if v.Status == cases.StatusWaitingCustomer || !s.active() {
		return false
	}
	rl, rh := 0.2, 0.78
	if lo > 1 && rng.Float64() < 0.4 {
		rl, rh = 1.02, 1.6
	}
	at := s.reach(seedResolution, rl, rh, after.Add(seedMinutes(rng, 1, 20)))
	if !s.act(at) || !s.active() {
		return false
	}
	s.resolve(agent, pick(rng, seedResolutions))
	return true
}

// afterResolve plays the reopen window and the survey: a few customers
// write again (the case reopens and is resolved again), some agents close
// at once, the rest close by themselves; 40% answer the survey.
func (s *caseSim) afterResolve(agent string) {
	rng, v := s.g.rng, &s.v
	if rng.Float64() < 0.04 {
		if !s.act(v.UpdatedAt.Add(seedMinutes(rng, 30, 60*60))) {
			return
		}
		if v.Status == cases.StatusResolved {
			s.customerMessage(pick(rng, seedCustomerMessages[s.locale]))
			if !s.act(s.reach(seedNextResponse, 0.1, 0.6, v.UpdatedAt)) || !s.active() {
				return
			}
			s.reply(agent)
			if !s.act(v.UpdatedAt.Add(seedMinutes(rng, 30, 600))) || !s.active() {
				return
			}
			s.resolve(agent, pick(rng, seedResolutions))
		}
	}
	resolvedAt := *v.ResolvedAt
	var csatAt time.Time
	if rng.Float64() < 0.4 {
		csatAt = resolvedAt.Add(seedExp(rng, 10*time.Hour, s.g.life.CSATWindow-time.Minute))
	}
	if rng.Float64() < 0.35 {
		at := resolvedAt.Add(seedMinutes(rng, 10, int(s.g.life.ReopenWindow/time.Minute)-10))
		if !csatAt.IsZero() && csatAt.Before(at) {
			if !s.act(csatAt) {
				return
			}
			s.csat()
			csatAt = time.Time{}
		}
		if !s.act(at) {
			return
		}
		if v.Status == cases.StatusResolved {
			s.closeCase(at, "agent:"+agent, "the customer confirmed it works")
		}
	}
	if !csatAt.IsZero() && s.act(csatAt) && v.ResolvedAt != nil && v.CSAT == nil {
		s.csat()
	}
}

// act moves the case to t, applying every deadline and report due until
// then; false (and the case left as it is at g.now) when t is past now.
func (s *caseSim) act(t time.Time) bool {
	if s.stopped {
		return false
	}
	if t.After(s.g.now) {
		s.until(s.g.now)
		s.stopped = true
		return false
	}
	s.until(t)
	s.clockAt = t
	return true
}

// until applies, oldest first, every deadline and report due at or before t.
func (s *caseSim) until(t time.Time) {
	for {
		d, ok := s.nextDeadline()
		hasReport := len(s.reports) > 0 && !s.reports[0].at.After(t)
		switch {
		case ok && !d.at.After(t) && (!hasReport || !d.at.After(s.reports[0].at)):
			s.onDeadline(d)
		case hasReport:
			r := s.reports[0]
			s.reports = s.reports[1:]
			s.onReport(r)
		default:
			return
		}
	}
}

// seedDeadline is the next moment the case acts by itself.
type seedDeadline struct {
	at     time.Time
	kind   string // a timeline kind, or "reopen_window_end"
	target int
}

// nextDeadline is SupportCase's, without the survey's end (no event).
func (s *caseSim) nextDeadline() (seedDeadline, bool) {
	var all []seedDeadline
	life, v := s.g.life, &s.v
	switch v.Status {
	case cases.StatusWaitingCustomer:
		if !s.reminderSent {
			all = append(all, seedDeadline{at: s.waitingSince.Add(life.AutoCloseAfterWaiting / 2), kind: cases.EventCustomerReminder})
		}
		all = append(all, seedDeadline{at: s.waitingSince.Add(life.AutoCloseAfterWaiting), kind: cases.EventClosed})
	case cases.StatusResolved:
		all = append(all, seedDeadline{at: v.ResolvedAt.Add(life.ReopenWindow), kind: "reopen_window_end"})
	}
	for i, t := range s.targets {
		if !t.active || v.Status == cases.StatusWaitingCustomer {
			continue
		}
		if !t.warned && t.breaches == 0 {
			if at, ok, err := t.clock.WarnAt(s.policy.Calendar, s.policy.WarningThreshold); err == nil && ok {
				all = append(all, seedDeadline{at: at, kind: cases.EventSLAWarning, target: i})
			}
		}
		if at, ok := s.breachAt(t); ok {
			all = append(all, seedDeadline{at: at, kind: cases.EventSLABreach, target: i})
		}
	}
	if len(all) == 0 {
		return seedDeadline{}, false
	}
	next := all[0]
	for _, d := range all[1:] {
		if d.at.Before(next.at) {
			next = d
		}
	}
	return next, true
}

// breachAt is SupportCase's: the target for the first breach, each further
// target period for the next level, none past the top level.
func (s *caseSim) breachAt(t *seedTarget) (time.Time, bool) {
	if t.breaches > 0 && s.v.EscalationLevel >= cases.LevelSupportManager {
		return time.Time{}, false
	}
	clock := t.clock
	clock.Target = t.clock.Target * time.Duration(t.breaches+1)
	at, ok, err := clock.DueAt(s.policy.Calendar)
	return at, err == nil && ok
}

// onDeadline does what d asks, as SupportCase's onDeadline.
func (s *caseSim) onDeadline(d seedDeadline) {
	v := &s.v
	switch d.kind {
	case cases.EventSLAWarning:
		t := s.targets[d.target]
		t.warned = true
		due, _ := s.breachAt(t)
		s.record(d.at, vocab.SystemActor, cases.EventSLAWarning, vocab.Payload("target", seedTargetNames[d.target], "due_at", due.UTC().Format(time.RFC3339)))
	case cases.EventSLABreach:
		t := s.targets[d.target]
		t.breaches++
		if v.EscalationLevel < cases.LevelSupportManager {
			v.EscalationLevel++
		}
		if v.Status != cases.StatusWaitingCustomer {
			v.Status = cases.StatusEscalated
		}
		v.SLA.Breaches = append(v.SLA.Breaches, cases.Breach{Target: seedTargetNames[d.target], DueAt: d.at, At: d.at, Level: v.EscalationLevel})
		s.record(d.at, vocab.SystemActor, cases.EventSLABreach, vocab.Payload("target", seedTargetNames[d.target],
			"due_at", d.at.UTC().Format(time.RFC3339), "level", strconv.Itoa(v.EscalationLevel)))
	case cases.EventCustomerReminder:
		s.reminderSent = true
		s.record(d.at, vocab.SystemActor, cases.EventCustomerReminder, nil)
	case cases.EventClosed:
		s.stopClocks(d.at)
		s.closeCase(d.at, vocab.SystemActor, fmt.Sprintf("no answer from the customer in %s", s.g.life.AutoCloseAfterWaiting))
	default:
		s.closeCase(d.at, vocab.SystemActor, "reopen window ended")
	}
}

// onReport records what a child reported, escalates when it asks, and
// ends the flow it names (onCaseEvent).
func (s *caseSim) onReport(r seedReport) {
	actor := r.actor
	if actor == "" {
		actor = vocab.SystemActor
	}
	if r.ends != nil {
		r.ends.Running, r.ends.Outcome = false, r.outcome
	}
	s.record(r.at, actor, r.kind, r.payload)
	if r.kind == accountflows.EventRecoveryCompleted {
		at := r.at
		s.recovered = &at
	}
	if r.escalate != "" && s.v.Status != cases.StatusResolved && s.v.Status != cases.StatusClosed {
		s.escalate(r.at, actor, vocab.TeamTrustSafety, r.escalate)
	}
}

// report schedules what a child reports, keeping the reports in time order.
func (s *caseSim) report(r seedReport) {
	i, _ := slices.BinarySearchFunc(s.reports, r.at, func(e seedReport, t time.Time) int {
		if e.at.After(t) {
			return 1
		}
		return -1
	})
	s.reports = slices.Insert(s.reports, i, r)
}

// reach answers when target i's clock reaches a random fraction in
// [lo, hi) of its target, no earlier than a second after after.
func (s *caseSim) reach(i int, lo, hi float64, after time.Time) time.Time {
	t := s.targets[i]
	f := lo + s.g.rng.Float64()*(hi-lo)
	floor := after.Add(time.Second)
	if !t.active || !t.clock.Running() {
		return floor.Add(time.Duration(f * float64(s.policy.Targets.FirstResponse))).Truncate(time.Second)
	}
	c := t.clock
	c.Target = time.Duration(f * float64(t.clock.Target))
	at, ok, err := c.DueAt(s.policy.Calendar)
	if err != nil || !ok || at.Before(floor) {
		return floor.Add(seedMinutes(s.g.rng, 1, 30))
	}
	return at.Truncate(time.Second)
}

// record appends an event to the timeline (SupportCase's record).
func (s *caseSim) record(at time.Time, actor, kind string, payload map[string]string) {
	e := vocab.Event{Seq: len(s.events) + 1, Actor: actor, Kind: kind, At: at, Payload: payload}
	if len(payload) == 0 {
		e.Payload = nil
	}
	s.events = append(s.events, e)
	s.v.LastSeq, s.v.UpdatedAt = e.Seq, at
}

// active reports whether agents may act on the case.
func (s *caseSim) active() bool {
	switch s.v.Status {
	case cases.StatusNew, cases.StatusOpen, cases.StatusWaitingCustomer, cases.StatusEscalated:
		return true
	}
	return false
}

func (s *caseSim) assign(at time.Time, agent string) {
	s.v.Assignee = agent
	if s.v.Status == cases.StatusNew {
		s.v.Status = cases.StatusOpen
	}
	s.record(at, "agent:"+agent, cases.EventAssigned, vocab.Payload("assignee", agent, "team", string(s.v.Team)))
}

func (s *caseSim) reply(agent string) {
	now := s.lastAct()
	if s.v.FirstResponseAt == nil {
		at := now
		s.v.FirstResponseAt = &at
	}
	s.meet(now, seedFirstResponse)
	s.meet(now, seedNextResponse)
	if s.v.Status == cases.StatusNew {
		s.v.Status = cases.StatusOpen
	}
	s.record(now, "agent:"+agent, cases.EventAgentReply, vocab.Payload("body", pick(s.g.rng, seedReplies[s.locale])))
}

// lastAct is the time act last moved the case to: the moment of the
// action being played.
func (s *caseSim) lastAct() time.Time { return s.clockAt }

func (s *caseSim) meet(now time.Time, i int) {
	if t := s.targets[i]; t.active {
		t.clock.Pause(now, s.policy.Calendar)
		t.active = false
	}
}

func (s *caseSim) customerMessage(body string) {
	now := s.lastAct()
	s.latest = body
	switch s.v.Status {
	case cases.StatusWaitingCustomer:
		s.resumeClocks(now)
		s.v.Status = cases.StatusOpen
	case cases.StatusResolved:
		s.v.Status, s.v.ResolvedAt, s.v.Resolution = cases.StatusOpen, nil, ""
		res := s.targets[seedResolution]
		res.active = true
		res.clock.Resume(now)
	}
	if !s.targets[seedFirstResponse].active && !s.targets[seedNextResponse].active {
		s.targets[seedNextResponse] = &seedTarget{clock: sla.NewClock(s.policy.Targets.NextResponse, now), active: true}
	}
	s.record(now, "customer:"+s.v.Customer.ID, cases.EventCustomerMessage, vocab.Payload("body", body))
}

func (s *caseSim) waitOnCustomer(agent, reason string) {
	now := s.lastAct()
	s.pauseClocks(now)
	s.v.Status, s.waitingSince, s.reminderSent = cases.StatusWaitingCustomer, now, false
	s.record(now, "agent:"+agent, cases.EventWaitingCustomer, vocab.Payload("reason", reason))
}

func (s *caseSim) escalate(at time.Time, actor string, to vocab.Team, reason string) {
	from := s.v.Team
	if to == s.v.Team {
		s.v.EscalationLevel++
	} else {
		s.v.Team, s.v.Assignee, s.v.EscalationLevel = to, "", cases.LevelAgent
	}
	if s.v.Status == cases.StatusWaitingCustomer {
		s.resumeClocks(at)
	}
	s.v.Status = cases.StatusEscalated
	s.record(at, actor, cases.EventEscalated, vocab.Payload("from_team", string(from), "to_team", string(s.v.Team), "reason", reason,
		"level", strconv.Itoa(s.v.EscalationLevel), "latest_customer_message", s.latest))
}

func (s *caseSim) resolve(agent, resolution string) {
	now := s.lastAct()
	s.stopClocks(now)
	s.v.Status, s.v.Resolution, s.v.ResolvedAt, s.v.CSAT = cases.StatusResolved, resolution, &now, nil
	s.record(now, "agent:"+agent, cases.EventResolved, vocab.Payload("resolution", resolution))
}

func (s *caseSim) closeCase(at time.Time, actor, reason string) {
	s.v.Status, s.v.ClosedAt = cases.StatusClosed, &at
	s.record(at, actor, cases.EventClosed, vocab.Payload("reason", reason))
}

// csat answers the survey, mostly 4 and 5, sometimes with a comment.
func (s *caseSim) csat() {
	now := s.lastAct()
	rating := pickWeighted(s.g.rng, []int{5, 4, 3, 2, 1}, []int{50, 28, 10, 6, 6})
	comment := ""
	if s.g.rng.Float64() < 0.3 {
		comment = pick(s.g.rng, seedCSATComments[s.locale])
	}
	s.v.CSAT = &cases.CSAT{Rating: rating, Comment: comment, At: now}
	s.record(now, "customer:"+s.v.Customer.ID, cases.EventCSAT, vocab.Payload("rating", strconv.Itoa(rating), "comment", comment))
}

func (s *caseSim) pauseClocks(now time.Time) {
	for _, t := range s.targets {
		if t.active {
			t.clock.Pause(now, s.policy.Calendar)
		}
	}
}

func (s *caseSim) resumeClocks(now time.Time) {
	for _, t := range s.targets {
		if t.active {
			t.clock.Resume(now)
		}
	}
}

func (s *caseSim) stopClocks(now time.Time) {
	s.pauseClocks(now)
	for _, t := range s.targets {
		t.active = false
	}
}

// slaView is SupportCase's slaViewAt.
func (s *caseSim) slaView(now time.Time) cases.SLAView {
	v := cases.SLAView{Paused: s.v.Status == cases.StatusWaitingCustomer, Breaches: s.v.SLA.Breaches}
	if v.Breaches == nil {
		v.Breaches = []cases.Breach{}
	}
	for i, t := range s.targets {
		if !t.active {
			continue
		}
		at, ok, err := t.clock.DueAt(s.policy.Calendar)
		if err != nil {
			continue
		}
		if !ok {
			if at, err = s.policy.Calendar.Add(now, t.clock.Remaining(now, s.policy.Calendar)); err != nil {
				continue
			}
		}
		switch i {
		case seedFirstResponse:
			v.FirstResponseDue = &at
		case seedNextResponse:
			v.NextResponseDue = &at
		case seedResolution:
			v.ResolutionDue = &at
		}
	}
	return v
}

// incident locks the account as the case opens and decides within the
// review; a confirmed takeover starts a recovery.
func (s *caseSim) incident(actor string, t0 time.Time) {
	rng, v := s.g.rng, &s.v
	id := v.ID + "-1"
	flow := &cases.AccountFlow{ID: id, WorkflowID: accountflows.IncidentWorkflowID(v.ID, 1), Running: true}
	v.Incident = flow
	locked := t0.Add(seedSeconds(rng, 2, 20))
	review := locked.Add(4 * time.Hour)
	s.report(seedReport{at: locked, actor: actor, kind: accountflows.EventAccountLocked, payload: vocab.Payload(
		"incident_id", id, "account_id", v.AccountID, "reason", "reported in case "+v.ID+": "+v.Subject,
		"sessions_revoked", strconv.Itoa(rng.IntN(4)), "review_due", review.UTC().Format(time.RFC3339))})
	decided := locked.Add(seedMinutes(rng, 15, 230))
	decider := "agent:" + pick(rng, seedAgents[vocab.TeamSecurity])
	decision := accountflows.DecisionFalseAlarm
	payload := vocab.Payload("incident_id", id, "decision", decision, "note", "the customer's own login from a new device", "account_status", accountflows.AccountActive)
	if rng.Float64() < 0.4 {
		decision = accountflows.DecisionConfirmed
		payload = vocab.Payload("incident_id", id, "decision", decision, "note", "takeover confirmed: password changed from an unknown device")
	}
	s.report(seedReport{at: decided, actor: decider, kind: accountflows.EventSecurityDecision, payload: payload, ends: flow, outcome: decision})
	if decision == accountflows.DecisionConfirmed {
		s.recovery(decider, decided.Add(seedSeconds(rng, 1, 5)), true)
	}
}

// recovery starts an account recovery at at: completed mostly, else its code expires.
func (s *caseSim) recovery(actor string, at time.Time, resetMFA bool) {
	rng, v := s.g.rng, &s.v
	id := v.ID + "-1"
	flow := &cases.AccountFlow{ID: id, WorkflowID: accountflows.RecoveryWorkflowID(id), Running: true}
	v.Recovery = flow
	s.report(seedReport{at: at, actor: actor, kind: accountflows.EventRecoveryStarted, payload: vocab.Payload(
		"recovery_id", id, "account_id", v.AccountID, "code_sent_to", accountflows.MaskEmail(v.Customer.Email),
		"code_expires_at", at.Add(15*time.Minute).UTC().Format(time.RFC3339), "reset_mfa", strconv.FormatBool(resetMFA))})
	if rng.Float64() < 0.85 {
		s.report(seedReport{at: at.Add(seedSeconds(rng, 60, 840)), kind: accountflows.EventRecoveryCompleted, ends: flow, outcome: accountflows.RecoveryCompleted,
			payload: vocab.Payload("recovery_id", id, "account_id", v.AccountID, "credential_version", strconv.Itoa(2+rng.IntN(3)),
				"mfa_reset", strconv.FormatBool(resetMFA), "account_status", accountflows.AccountActive)})
		return
	}
	s.report(seedReport{at: at.Add(15 * time.Minute), kind: accountflows.EventRecoveryExpired, ends: flow, outcome: accountflows.RecoveryExpired,
		payload: vocab.Payload("recovery_id", id)})
}

// addCase adds the case row and its events.
func (g *seedGen) addCase(b seedBatch, s *caseSim) {
	c := s.v
	view, err := json.Marshal(c)
	if err != nil {
		panic(err) // a CaseView always encodes
	}
	var due *time.Time
	if !c.SLA.Paused {
		due = c.SLA.NearestDue()
	}
	b.add("cases", c.ID, string(c.Status), string(c.Priority), string(c.Category), string(c.Team), nullIfEmpty(c.Assignee),
		c.EscalationLevel, c.Customer.ID, nullIfEmpty(c.AccountID), nullIfEmpty(c.OrderID), c.Channel, c.Subject, c.Description,
		len(c.SLA.Breaches) > 0, due, c.CreatedAt, c.UpdatedAt, c.ClosedAt, c.LastSeq, view)
	b.addEvents("case_events", c.ID, s.events)
}

// nullIfEmpty is SQL NULL for "", as the projection's NULLIF.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
