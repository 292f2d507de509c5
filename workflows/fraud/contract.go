// Package fraud is the fraud watch of one marketplace party, a buyer or a
// seller: FraudWatch (fraud/<party>-<id>) takes the behaviour the
// marketplace reports (refund requests, disputes lost, chargebacks,
// account signals, a new payout destination before a large payout), keeps
// them in rolling windows, and when a rule of its policy fires opens one
// fraud_report case per burst, holds a seller's payouts and gives
// trust_safety a review deadline. The decision releases or keeps the hold
// and may suspend the party. contract.go is what callers import; watch.go
// and the files beside it are the workflow.
package fraud

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// WorkflowType is the registered name of FraudWatch; running watches are
// found by it, so it never changes.
const WorkflowType = "FraudWatch"

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{WorkflowType: FraudWatch}

// WorkflowID is the workflow id of the watch of party (buyer or seller) id.
func WorkflowID(party, id string) string { return vocab.FraudWatchWorkflowID(party, id) }

// The parties a watch is kept on.
const (
	PartyBuyer  = "buyer"
	PartySeller = "seller"
)

// Parties lists every party.
var Parties = []string{PartyBuyer, PartySeller}

// Names of the FraudWatch workflow's signal, updates and query. It also
// takes vocab.UpdateReleaseHold and vocab.UpdateExtendHold (vocab.HoldChange)
// for the payout hold it placed; both answer the vocab.PayoutHold as it
// then is.
const (
	// SignalBehaviour reports one Behaviour, deduplicated by its id.
	SignalBehaviour = "behaviour"
	// UpdateDecide is trust_safety's decision on the open burst (Decision),
	// answered with the View once carried out.
	UpdateDecide = "decide"
	// QueryWatch answers the View with its timeline.
	QueryWatch = "watch"
)

// Kinds of behaviour the marketplace reports (Behaviour.Kind).
const (
	KindRefundRequested          = "refund_requested"
	KindDisputeLost              = "dispute_lost"
	KindChargeback               = "chargeback"
	KindAccountSignal            = "account_signal"
	KindPayoutDestinationChanged = "payout_destination_changed"
	KindLargePayout              = "large_payout"
)

// Kinds lists every kind of behaviour.
var Kinds = []string{KindRefundRequested, KindDisputeLost, KindChargeback, KindAccountSignal,
	KindPayoutDestinationChanged, KindLargePayout}

// Behaviour is one thing the marketplace saw a party do.
type Behaviour struct {
	// ID is the marketplace's id of what it saw; a seen id is counted once.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// At is when it happened; zero or in the future counts as when the
	// watch takes it.
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
	// Amount is the money concerned (a refund, a payout), when there is one.
	Amount     vocab.Money `json:"amount,omitzero"`
	ReportedBy string      `json:"reported_by"`
}

// Outcomes of a decision (Decision.Outcome).
const (
	// OutcomeRelease clears the party: a held payout hold is released.
	OutcomeRelease = "release"
	// OutcomeKeep keeps the payout hold until someone releases it
	// (vocab.UpdateReleaseHold): its end (Until) is cleared.
	OutcomeKeep = "keep"
)

// Outcomes lists every outcome.
var Outcomes = []string{OutcomeRelease, OutcomeKeep}

// Decision is trust_safety's decision on the burst under review. For a
// buyer, who has no hold, the outcome is recorded and Suspend is what acts.
type Decision struct {
	Actor   string `json:"actor"`
	Outcome string `json:"outcome"`
	// Suspend locks the party's account and, for a seller, suspends the
	// seller's standing (sellers.SignalStanding to seller/<id>).
	Suspend bool   `json:"suspend"`
	Reason  string `json:"reason"`
}

// Verdict is a decision as the watch carried it out.
type Verdict struct {
	Burst   int       `json:"burst"`
	CaseID  string    `json:"case_id"`
	Actor   string    `json:"actor"`
	Outcome string    `json:"outcome"`
	Suspend bool      `json:"suspend"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// Status is where a watch is.
type Status string

// The statuses of a watch: watching (no open burst) → reviewing (a rule
// fired: a case is open, trust_safety reviews) → decided (the burst is
// over) → reviewing again when a rule fires anew.
const (
	StatusWatching  Status = "watching"
	StatusReviewing Status = "reviewing"
	StatusDecided   Status = "decided"
)

// Statuses lists every status.
var Statuses = []Status{StatusWatching, StatusReviewing, StatusDecided}

// Rule fires when Threshold signals of its Kinds fall within Window before
// now; a Sequence rule fires instead when its Kinds happen in that order
// within Window (a new payout destination, then a large payout).
type Rule struct {
	Name      string        `json:"name"`
	Kinds     []string      `json:"kinds"`
	Threshold int           `json:"threshold,omitempty"`
	Window    time.Duration `json:"window"`
	Sequence  bool          `json:"sequence,omitempty"`
}

// Policy holds a watch's rules and windows. It is copied into the input
// when the watch starts (never read from a file in the workflow), so a
// policy change never moves a running watch's thresholds.
type Policy struct {
	// Rules are tried in order; the first that fires opens the burst.
	Rules []Rule `json:"rules"`
	// ReviewWithin is trust_safety's time to decide; past it the case
	// escalates, once per review.
	ReviewWithin time.Duration `json:"review_within"`
	// HoldFor is how long a seller's payout hold lasts undecided; then it
	// is released by itself. Zero holds until the decision.
	HoldFor time.Duration `json:"hold_for"`
}

// DefaultPolicy answers the usual marketplace rules: 3 disputes lost or 3
// chargebacks within 30 days, 5 refund requests within 7 days, 3 account
// signals within a day, a new payout destination followed by a large
// payout within 48 hours; 72 hours to review, payouts held 14 days.
func DefaultPolicy() Policy {
	const day = 24 * time.Hour
	return Policy{
		Rules: []Rule{
			{Name: "disputes_lost", Kinds: []string{KindDisputeLost}, Threshold: 3, Window: 30 * day},
			{Name: "chargebacks", Kinds: []string{KindChargeback}, Threshold: 3, Window: 30 * day},
			{Name: "refund_requests", Kinds: []string{KindRefundRequested}, Threshold: 5, Window: 7 * day},
			{Name: "account_signals", Kinds: []string{KindAccountSignal}, Threshold: 3, Window: day},
			{Name: "payout_redirect", Kinds: []string{KindPayoutDestinationChanged, KindLargePayout}, Sequence: true, Window: 2 * day},
		},
		ReviewWithin: 3 * day,
		HoldFor:      14 * day,
	}
}

// Validate names every malformed field of the policy at once.
func (p Policy) Validate() error {
	if problems := p.problems(); len(problems) > 0 {
		return vocab.InvalidArgument(strings.Join(problems, "; "))
	}
	return nil
}

// problems answers what is wrong with the policy, field by field.
func (p Policy) problems() []string {
	var problems []string
	if len(p.Rules) == 0 {
		problems = append(problems, "policy.rules: name at least one rule")
	}
	seen := map[string]bool{}
	for i, r := range p.Rules {
		at := fmt.Sprintf("policy.rules[%d]", i)
		if strings.TrimSpace(r.Name) == "" {
			problems = append(problems, at+".name: must not be empty")
		} else if seen[r.Name] {
			problems = append(problems, fmt.Sprintf("%s.name: %q is used twice", at, r.Name))
		}
		seen[r.Name] = true
		if len(r.Kinds) == 0 {
			problems = append(problems, at+".kinds: name at least one kind")
		}
		for _, k := range r.Kinds {
			if !slices.Contains(Kinds, k) {
				problems = append(problems, fmt.Sprintf("%s.kinds: unknown kind %q", at, k))
			}
		}
		if r.Sequence && len(r.Kinds) < 2 {
			problems = append(problems, at+".kinds: a sequence needs two kinds or more")
		}
		if !r.Sequence && r.Threshold < 1 {
			problems = append(problems, at+".threshold: must be 1 or more")
		}
		if r.Window <= 0 {
			problems = append(problems, at+".window: must be positive")
		}
	}
	if p.ReviewWithin <= 0 {
		problems = append(problems, "policy.review_within: must be positive")
	}
	if p.HoldFor < 0 {
		problems = append(problems, "policy.hold_for: must not be negative")
	}
	return problems
}

// Longest is the policy's longest window: how long a signal counts, and
// how long a watch with nothing open waits quiet before it ends.
func (p Policy) Longest() time.Duration {
	var d time.Duration
	for _, r := range p.Rules {
		d = max(d, r.Window)
	}
	return d
}

// Input starts the watch of one party.
type Input struct {
	Party   string `json:"party"`
	PartyID string `json:"party_id"`
	Policy  Policy `json:"policy"`
	// Carried is the state a continued run carries on with; nil on the
	// first run.
	Carried *Carry `json:"carried,omitempty"`
}

// Validate names every missing or malformed field of a new watch.
func (in Input) Validate() error {
	var problems []string
	if !slices.Contains(Parties, in.Party) {
		problems = append(problems, fmt.Sprintf("party: want buyer or seller, got %q", in.Party))
	}
	if strings.TrimSpace(in.PartyID) == "" {
		problems = append(problems, "party_id: must not be empty")
	}
	problems = append(problems, in.Policy.problems()...)
	if len(problems) > 0 {
		return vocab.InvalidArgument(strings.Join(problems, "; "))
	}
	return nil
}

// Carry is what a run of FraudWatch hands the next one.
type Carry struct {
	// Chain names the watch's runs since it started (the first run's id):
	// a watch that ended and starts again opens new cases and holds, never
	// the keys of the old ones.
	Chain    string        `json:"chain"`
	View     View          `json:"view"`
	Timeline []vocab.Event `json:"timeline"`
	Seen     []string      `json:"seen"`
	// Pending are signals received but not yet taken.
	Pending []Behaviour `json:"pending,omitempty"`
	// LastSignalAt starts the quiet window.
	LastSignalAt time.Time `json:"last_signal_at"`
}

// RuleCount is one rule and the signals within its window that it counts.
type RuleCount struct {
	Name      string        `json:"name"`
	Threshold int           `json:"threshold,omitempty"`
	Window    time.Duration `json:"window"`
	Sequence  bool          `json:"sequence,omitempty"`
	Count     int           `json:"count"`
	Signals   []Behaviour   `json:"signals"`
}

// View is a watch as trust_safety and operators see it, and its result.
type View struct {
	Party   string `json:"party"`
	PartyID string `json:"party_id"`
	Status  Status `json:"status"`
	// Recent are the signals within the longest window, oldest first; a
	// decision clears them (they were its burst's).
	Recent []Behaviour `json:"recent"`
	// Rules counts the recent signals rule by rule (filled by the query).
	Rules []RuleCount `json:"rules,omitempty"`
	// Bursts counts the bursts so far; Burst is the current or last one,
	// FiredRule the rule that opened it and CaseID its case.
	Bursts    int    `json:"bursts"`
	Burst     int    `json:"burst,omitempty"`
	FiredRule string `json:"fired_rule,omitempty"`
	CaseID    string `json:"case_id,omitempty"`
	// ReviewDue is when trust_safety must decide the open burst;
	// ReviewOverdue says the case was escalated for it.
	ReviewDue     *time.Time `json:"review_due,omitempty"`
	ReviewOverdue bool       `json:"review_overdue,omitempty"`
	// Hold is the seller's payout hold, the latest one.
	Hold      *vocab.PayoutHold `json:"hold,omitempty"`
	Decisions []Verdict         `json:"decisions"`
	UpdatedAt time.Time         `json:"updated_at"`
	LastSeq   int               `json:"last_seq"`
	// Timeline is filled by the query and the result.
	Timeline []vocab.Event `json:"timeline,omitempty"`
}

// Timeline event kinds of a watch; those reported to a burst's case carry
// the same kind and payload (with party and party_id).
const (
	EventSignal        = "fraud_signal"
	EventRuleFired     = "fraud_rule_fired"
	EventCaseOpened    = "fraud_case_opened"
	EventCaseNotOpened = "fraud_case_not_opened"
	EventPayoutsHeld   = "fraud_payouts_held"
	EventHoldFailed    = "fraud_hold_failed"
	EventHoldExtended  = "fraud_hold_extended"
	EventHoldKept      = "fraud_hold_kept"
	EventHoldReleased  = "fraud_payouts_released"
	EventReleaseFailed = "fraud_release_failed"
	EventReviewOverdue = "fraud_review_overdue"
	EventDecision      = "fraud_decision"
	EventSuspended     = "fraud_party_suspended"
	EventSuspendFailed = "fraud_suspend_failed"
)

// NotifiedEvents lists every event a watch asks its case to tell someone
// about: none. The case tells its team when it opens, and escalations
// tell the team they reach.
var NotifiedEvents = []string{}

// StartOptions answers the options that start the watch of in's party
// with the first signal reported (signal-with-start): its id, the task
// queue, a summary, and the party's id as SellerId or CustomerId. A watch
// that ended starts again under the same id.
func StartOptions(in Input, taskQueue string) client.StartWorkflowOptions {
	key := vocab.CustomerIDKey
	if in.Party == PartySeller {
		key = vocab.SellerIDKey
	}
	return client.StartWorkflowOptions{
		ID: WorkflowID(in.Party, in.PartyID), TaskQueue: taskQueue,
		StaticSummary:         fmt.Sprintf("Fraud watch of %s %s", in.Party, in.PartyID),
		TypedSearchAttributes: temporal.NewSearchAttributes(key.ValueSet(in.PartyID)),
	}
}

// PolicyFrom answers a watch's policy from the policy file's fraud section.
func PolicyFrom(t sla.FraudTerms) Policy {
	p := Policy{ReviewWithin: t.ReviewWithin, HoldFor: t.HoldFor}
	for _, r := range t.Rules {
		p.Rules = append(p.Rules, Rule{Name: r.Name, Kinds: slices.Clone(r.Kinds), Threshold: r.Threshold, Window: r.Window, Sequence: r.Sequence})
	}
	return p
}

// ActivityReportBehaviour hands a behaviour a workflow saw to its party's
// watch, starting the watch when none runs (activities.Behaviour).
const ActivityReportBehaviour = "ReportBehaviour"

// Report is one behaviour of a party, as a workflow or the API hands it on.
type Report struct {
	Party     string    `json:"party"`
	PartyID   string    `json:"party_id"`
	Behaviour Behaviour `json:"behaviour"`
}

// SignalWithStart hands r's behaviour to its party's watch, starting the
// watch under policy on taskQueue when none runs, and answers the watch's
// workflow id. A behaviour id the watch has seen changes nothing, so a
// retried report counts once.
func SignalWithStart(ctx context.Context, c client.Client, taskQueue string, policy Policy, r Report) (string, error) {
	start := Input{Party: r.Party, PartyID: r.PartyID, Policy: policy}
	id := WorkflowID(r.Party, r.PartyID)
	if _, err := c.SignalWithStartWorkflow(ctx, id, SignalBehaviour, r.Behaviour,
		StartOptions(start, taskQueue), WorkflowType, start); err != nil {
		return id, fmt.Errorf("report %s to the fraud watch of %s %s: %w", r.Behaviour.Kind, r.Party, r.PartyID, err)
	}
	return id, nil
}
