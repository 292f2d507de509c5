package fraud

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"
)

// The signals a watch takes and the rules that count them. A signal
// counts from when it happened (its At), so a rule's window rolls with
// the clock, not with the signals' arrival.

// takeInbox takes every signal received, oldest first.
func (w *watch) takeInbox(ctx workflow.Context) {
	for len(w.inbox) > 0 {
		b := w.inbox[0]
		w.inbox = w.inbox[1:]
		w.take(ctx, b)
	}
}

// take counts one signal: a seen id changes nothing; during a review it
// joins the burst's case; else the first rule it makes fire opens a burst.
func (w *watch) take(ctx workflow.Context, b Behaviour) {
	w.received++
	now := workflow.Now(ctx)
	if b.ID != "" {
		if slices.Contains(w.seen, b.ID) {
			workflow.GetLogger(ctx).Info("signal already counted", "watch", w.id, "signal", b.ID)
			return
		}
		w.seen = append(w.seen, b.ID)
		if len(w.seen) > seenKept {
			w.seen = slices.Clone(w.seen[len(w.seen)-seenKept:])
		}
	}
	if b.At.IsZero() || b.At.After(now) {
		b.At = now
	}
	w.lastSignalAt = now
	// Oldest first; a signal reported late goes where it happened.
	i, _ := slices.BinarySearchFunc(w.view.Recent, b.At, func(x Behaviour, t time.Time) int {
		if x.At.After(t) {
			return 1
		}
		return -1
	})
	w.view.Recent = slices.Insert(w.view.Recent, i, b)
	w.prune(now)
	amount := ""
	if b.Amount.Currency != "" {
		amount = b.Amount.String()
	}
	r := w.record(ctx, b.ReportedBy, EventSignal, "signal_id", b.ID, "kind", b.Kind, "detail", b.Detail,
		"amount", amount, "at", b.At.UTC().Format(timeLayout))
	if w.view.Status == StatusReviewing {
		w.tell(r, noAsk, w.view.CaseID)
	} else if rule, fired, ok := w.firing(now); ok {
		w.openBurst(ctx, rule, fired)
	}
	w.changed(ctx)
}

// prune drops the signals older than the longest window: no rule counts them.
func (w *watch) prune(now time.Time) {
	longest := w.in.Policy.Longest()
	w.view.Recent = slices.DeleteFunc(w.view.Recent, func(x Behaviour) bool { return now.Sub(x.At) > longest })
}

// firing answers the first rule of the policy the recent signals make
// fire at now, with the signals it counted.
func (w *watch) firing(now time.Time) (Rule, []Behaviour, bool) {
	for _, r := range w.in.Policy.Rules {
		if counted, fires := r.count(w.view.Recent, now); fires {
			return r, counted, true
		}
	}
	return Rule{}, nil, false
}

// counts answers every rule with the recent signals it counts at now.
func (w *watch) counts(now time.Time) []RuleCount {
	out := make([]RuleCount, 0, len(w.in.Policy.Rules))
	for _, r := range w.in.Policy.Rules {
		counted, _ := r.count(w.view.Recent, now)
		out = append(out, RuleCount{Name: r.Name, Threshold: r.Threshold, Window: r.Window, Sequence: r.Sequence,
			Count: len(counted), Signals: counted})
	}
	return out
}

// count answers the signals of recent (oldest first) that rule r counts
// at now — those of its kinds within its window — and whether they make
// it fire: Threshold of them, or for a sequence its kinds in their order.
func (r Rule) count(recent []Behaviour, now time.Time) ([]Behaviour, bool) {
	counted := []Behaviour{}
	for _, b := range recent {
		if slices.Contains(r.Kinds, b.Kind) && now.Sub(b.At) <= r.Window {
			counted = append(counted, b)
		}
	}
	if !r.Sequence {
		return counted, len(counted) >= r.Threshold
	}
	next := 0
	for _, b := range counted {
		if next < len(r.Kinds) && b.Kind == r.Kinds[next] {
			next++
		}
	}
	return counted, next == len(r.Kinds)
}

// describe says what makes rule r fire, for people.
func (r Rule) describe() string {
	if r.Sequence {
		return fmt.Sprintf("%v in that order within %s", r.Kinds, span(r.Window))
	}
	return fmt.Sprintf("%d × %v within %s", r.Threshold, r.Kinds, span(r.Window))
}

// span writes a window for people: "30 days", "36h0m0s".
func span(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}
