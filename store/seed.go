package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// Seeding history: months of cases, deliveries, returns and disputes
// written straight into the read models with COPY, in the shapes the
// projections write, so that reports and searches are measured at size.
// Each case is played through a small model of SupportCase (its SLA
// clocks, deadlines, escalations and the reports of its children), so a
// seeded row holds what the workflow would have projected at SeedOptions.Now.
// seedcases.go plays cases, seedcommerce.go deliveries, returns and
// disputes, seedphrases.go holds what people write.

// SeedTag is the default tag of seeded ids: cases "C-SEED-0000001", their
// returns and disputes "C-SEED-0000001-R1" and "-D1", deliveries
// "D-SEED-0000001". Reset deletes by these prefixes.
const SeedTag = "SEED"

// SeedOptions says what SeedHistory writes.
type SeedOptions struct {
	// Months of arrivals before Now; Cases in all, spread over them.
	Months int
	Cases  int
	// Seed makes the data reproducible: the same seed, options and Now
	// write the same rows.
	Seed int64
	// Now is the moment the history ends at; zero is the clock's.
	Now time.Time
	// Reset deletes the rows seeded earlier under Tag first. Without it
	// SeedHistory refuses to write over them.
	Reset bool
	// Tag names the seeded ids (SeedTag when empty); a test seeds under
	// its own tag so that it resets nothing of anyone else's.
	Tag string
	// Book, when set, gives the SLA policies, calendars, category defaults
	// and windows; nil uses the shipped defaults (deploy/sla/default.yaml)
	// on a 24x7 calendar.
	Book *sla.Book
	// BatchSize is how many cases go in one COPY round (10,000 when 0).
	BatchSize int
}

// SeedResult counts the rows written per table, and those Reset deleted.
type SeedResult struct {
	Rows    map[string]int
	Deleted map[string]int
	Elapsed time.Duration
}

// seedTables lists the tables seeded, in the order a batch writes them
// (each row before the events that reference it).
var seedTables = []string{"cases", "case_events", "deliveries", "delivery_events", "returns", "return_events", "disputes", "dispute_events"}

// seedColumns are the columns COPY writes per table.
var seedColumns = map[string][]string{
	"cases": {"id", "status", "priority", "category", "team", "assignee", "escalation_level", "customer_id", "account_id",
		"order_id", "channel", "subject", "description", "breached", "sla_due_at", "created_at", "updated_at", "closed_at", "last_seq", "view"},
	"case_events":     {"case_id", "seq", "actor", "kind", "at", "payload"},
	"deliveries":      {"id", "status", "account_id", "order_id", "buyer_id", "buyer_email", "seller_id", "product", "region", "warranty_ends_at", "confirm_by", "delivered_at", "last_seq", "created_at", "updated_at", "view"},
	"delivery_events": {"delivery_id", "seq", "actor", "kind", "at", "payload"},
	"returns":         {"id", "case_id", "order_id", "seller_id", "customer_id", "status", "respond_by", "created_at", "updated_at", "last_seq", "view"},
	"return_events":   {"return_id", "seq", "actor", "kind", "at", "payload"},
	"disputes":        {"id", "case_id", "order_id", "seller_id", "customer_id", "status", "respond_by", "created_at", "updated_at", "last_seq", "view"},
	"dispute_events":  {"dispute_id", "seq", "actor", "kind", "at", "payload"},
}

// seedBatch is the rows of one round, per table.
type seedBatch map[string][][]any

// add appends a row to table.
func (b seedBatch) add(table string, row ...any) { b[table] = append(b[table], row) }

// addEvents appends the events of the row id to table.
func (b seedBatch) addEvents(table, id string, events []vocab.Event) {
	for _, e := range events {
		var payload any // SQL NULL for an event without payload, as queueEvents writes
		if len(e.Payload) > 0 {
			payload = e.Payload
		}
		b.add(table, id, e.Seq, e.Actor, e.Kind, e.At, payload)
	}
}

// SeedHistory writes opts.Cases cases spread over opts.Months before
// opts.Now, with their timelines, and the deliveries, returns and disputes
// that go with them, in one transaction: a failure leaves nothing behind.
// Rows are generated while the previous batch is being copied. progress,
// when set, hears a line per batch.
func (s *Store) SeedHistory(ctx context.Context, opts SeedOptions, progress func(string)) (SeedResult, error) {
	started := time.Now()
	if opts.Months < 1 || opts.Cases < 0 {
		return SeedResult{}, fmt.Errorf("seed history: want at least 1 month and 0 or more cases, got %d months, %d cases", opts.Months, opts.Cases)
	}
	if progress == nil {
		progress = func(string) {}
	}
	g, err := newSeedGen(opts)
	if err != nil {
		return SeedResult{}, err
	}
	res := SeedResult{Rows: map[string]int{}, Deleted: map[string]int{}}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The rollup triggers skip this transaction's rows (migration
		// 00014); the seeded weeks are rebuilt once before it commits.
		if _, err := tx.Exec(ctx, `SET LOCAL handoff.rollups = 'off'`); err != nil {
			return fmt.Errorf("turn the rollup triggers off: %w", err)
		}
		if opts.Reset {
			if res.Deleted, err = deleteSeeded(ctx, tx, g.tag); err != nil {
				return err
			}
		} else if err := refuseSeeded(ctx, tx, g.tag); err != nil {
			return err
		}
		if err := copyBatches(ctx, tx, g, res.Rows, progress); err != nil {
			return err
		}
		// The weeks a reset emptied and the seed filled: the seeded period.
		progress("rebuilding the report rollups of the seeded weeks")
		if _, err := tx.Exec(ctx, `SELECT report_rollups_rebuild($1, $2)`,
			g.from.AddDate(0, 0, -7), g.now.AddDate(0, 0, 7)); err != nil {
			return fmt.Errorf("rebuild report rollups: %w", err)
		}
		return nil
	})
	if err != nil {
		return SeedResult{}, fmt.Errorf("seed history: %w", err)
	}
	res.Elapsed = time.Since(started)
	return res, nil
}

// copyBatches generates batches in the background and copies each as it
// comes, so generating the next overlaps with Postgres writing this one.
func copyBatches(ctx context.Context, tx pgx.Tx, g *seedGen, rows map[string]int, progress func(string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan seedBatch, 1)
	go func() {
		defer close(batches)
		for from := 0; from < g.opts.Cases; from += g.batchSize {
			b := g.batch(from, min(from+g.batchSize, g.opts.Cases))
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	done := 0
	for b := range batches {
		for _, table := range seedTables {
			if len(b[table]) == 0 {
				continue
			}
			n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, seedColumns[table], pgx.CopyFromRows(b[table]))
			if err != nil {
				return fmt.Errorf("copy %s: %w", table, err)
			}
			rows[table] += int(n)
		}
		done += len(b["cases"])
		progress(fmt.Sprintf("%d/%d cases, %d events, %d deliveries", min(done, g.opts.Cases), g.opts.Cases, rows["case_events"], rows["deliveries"]))
	}
	return ctx.Err()
}

// seedPrefixes answers the LIKE patterns of tag's rows per table.
func seedPrefixes(tag string) map[string]string {
	c, d := "C-"+tag+"-%", "D-"+tag+"-%"
	return map[string]string{"cases": c, "returns": c, "disputes": c, "deliveries": d, "evidence": c}
}

// deleteSeeded deletes tag's rows; their events go with them (ON DELETE CASCADE).
func deleteSeeded(ctx context.Context, tx pgx.Tx, tag string) (map[string]int, error) {
	deleted := map[string]int{}
	for _, table := range []string{"returns", "disputes", "deliveries", "cases"} {
		tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE id LIKE $1`, seedPrefixes(tag)[table])
		if err != nil {
			return nil, fmt.Errorf("reset %s: %w", table, err)
		}
		deleted[table] = int(tag.RowsAffected())
	}
	return deleted, nil
}

// errSeeded reports rows seeded earlier under the same tag.
var errSeeded = errors.New("seeded rows already exist: reset them first")

// refuseSeeded answers errSeeded when tag's cases or deliveries exist: a
// COPY over them would fail on the first duplicate after minutes of work.
func refuseSeeded(ctx context.Context, tx pgx.Tx, tag string) error {
	var found bool
	p := seedPrefixes(tag)
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cases WHERE id LIKE $1) OR EXISTS (SELECT 1 FROM deliveries WHERE id LIKE $2)`,
		p["cases"], p["deliveries"]).Scan(&found)
	if err != nil {
		return fmt.Errorf("look for seeded rows: %w", err)
	}
	if found {
		return fmt.Errorf("%w (tag %s)", errSeeded, tag)
	}
	return nil
}

// seedGen generates the rows; it is used by one goroutine at a time.
type seedGen struct {
	opts       SeedOptions
	tag        string
	rng        *rand.Rand
	now, from  time.Time
	batchSize  int
	arrivals   []time.Time
	policies   map[[2]string]sla.Policy
	defaults   map[vocab.Category]sla.CategoryDefaults
	life       sla.Lifecycle
	delivery   sla.DeliveryPolicy
	catWeights int
	customers  int
	deliveryN  int
}

// newSeedGen resolves the options and draws every arrival time, oldest first.
func newSeedGen(opts SeedOptions) (*seedGen, error) {
	g := &seedGen{opts: opts, tag: opts.Tag, batchSize: opts.BatchSize,
		rng:      rand.New(rand.NewPCG(uint64(opts.Seed), uint64(opts.Seed)^0x5eed)),
		policies: map[[2]string]sla.Policy{}, defaults: map[vocab.Category]sla.CategoryDefaults{}}
	if g.tag == "" {
		g.tag = SeedTag
	}
	if g.batchSize <= 0 {
		g.batchSize = 10_000
	}
	g.now = opts.Now.UTC().Truncate(time.Second)
	if opts.Now.IsZero() {
		g.now = time.Now().UTC().Truncate(time.Second)
	}
	g.from = g.now.AddDate(0, -opts.Months, 0)
	if err := g.loadPolicies(opts.Book); err != nil {
		return nil, err
	}
	for _, c := range seedCategories {
		g.catWeights += c.weight
	}
	g.customers = max(50, opts.Cases/3)
	g.arrivals = seedArrivals(g.rng, opts.Cases, g.from, g.now)
	return g, nil
}

// loadPolicies resolves the SLA policy of every category and priority,
// the category defaults and the windows, from book or the shipped defaults.
func (g *seedGen) loadPolicies(book *sla.Book) error {
	if book == nil {
		g.life = sla.Lifecycle{AutoCloseAfterWaiting: 168 * time.Hour, ReopenWindow: 72 * time.Hour, CSATWindow: 168 * time.Hour}
		g.delivery = sla.DeliveryPolicy{ConfirmationWindow: 72 * time.Hour, Warranty: 336 * time.Hour, WarrantyNotice: 48 * time.Hour}
	} else {
		g.life, g.delivery = book.Lifecycle(), book.Deliveries()
	}
	for _, c := range seedCategories {
		for _, p := range vocab.Priorities {
			key := [2]string{string(c.category), string(p)}
			if book == nil {
				g.policies[key] = shippedPolicy(c.category, p)
				continue
			}
			pol, err := book.Policy(string(c.category), string(p), g.now)
			if err != nil {
				return fmt.Errorf("seed history: %w", err)
			}
			g.policies[key] = pol
		}
		if book == nil {
			g.defaults[c.category] = shippedDefaults[c.category]
			continue
		}
		d, err := book.Category(string(c.category))
		if err != nil {
			return fmt.Errorf("seed history: %w", err)
		}
		g.defaults[c.category] = d
	}
	return nil
}

// shippedDefaults are deploy/sla/default.yaml's category defaults.
var shippedDefaults = map[vocab.Category]sla.CategoryDefaults{
	vocab.CategoryLoginFailure: {Priority: "p3", Team: "tier1_support"}, vocab.CategoryPasswordReset: {Priority: "p3", Team: "tier1_support"},
	vocab.CategoryLockedAccount: {Priority: "p2", Team: "tier1_support"}, vocab.CategorySecurityAlert: {Priority: "p2", Team: "security"},
	vocab.CategoryProfileChange: {Priority: "p3", Team: "account_management"}, vocab.CategoryAccountMerge: {Priority: "p4", Team: "account_management"},
	vocab.CategoryAccountDeliveryIssue: {Priority: "p2", Team: "tier1_support"}, vocab.CategoryOrderIssue: {Priority: "p3", Team: "tier1_support"},
	vocab.CategoryDeliveryDelay: {Priority: "p3", Team: "tier1_support"}, vocab.CategoryDefectiveItem: {Priority: "p3", Team: "tier1_support"},
	vocab.CategoryRefundRequest: {Priority: "p3", Team: "tier1_support"}, vocab.CategoryReturnRequest: {Priority: "p4", Team: "tier1_support"},
	vocab.CategoryDispute: {Priority: "p2", Team: "trust_safety"}, vocab.CategorySellerOnboarding: {Priority: "p4", Team: "trust_safety"},
	vocab.CategorySellerPayment: {Priority: "p3", Team: "tier1_support"}, vocab.CategoryFraudReport: {Priority: "p2", Team: "trust_safety"},
	vocab.CategoryGeneralQuestion: {Priority: "p4", Team: "tier1_support"},
}

// shippedPolicy is deploy/sla/default.yaml's policy of category and
// priority, counted on a 24x7 calendar.
func shippedPolicy(category vocab.Category, p vocab.Priority) sla.Policy {
	h := func(f, n, r float64) sla.Targets {
		return sla.Targets{FirstResponse: time.Duration(f * float64(time.Hour)), NextResponse: time.Duration(n * float64(time.Hour)),
			Resolution: time.Duration(r * float64(time.Hour))}
	}
	targets := map[vocab.Priority]sla.Targets{vocab.P1: h(1, 2, 8), vocab.P2: h(4, 8, 24), vocab.P3: h(8, 16, 40), vocab.P4: h(24, 24, 80)}
	switch category {
	case vocab.CategorySecurityAlert:
		targets = map[vocab.Priority]sla.Targets{vocab.P1: h(0.25, 1, 4), vocab.P2: h(0.5, 2, 8), vocab.P3: h(2, 4, 24), vocab.P4: h(4, 8, 48)}
	case vocab.CategoryFraudReport:
		targets = map[vocab.Priority]sla.Targets{vocab.P1: h(0.5, 1, 8), vocab.P2: h(1, 4, 24), vocab.P3: h(4, 8, 48), vocab.P4: h(8, 24, 72)}
	}
	return sla.Policy{Category: string(category), Priority: string(p), Targets: targets[p], WarningThreshold: 0.8,
		Calendar: sla.Calendar{Name: "24x7", TimeZone: "UTC", AlwaysOpen: true}}
}

// seedArrivals draws n arrival times in [from, now), oldest first, with
// more cases on weekdays and in the day's working hours (Europe's), and a
// volume that grows over the months.
func seedArrivals(rng *rand.Rand, n int, from, now time.Time) []time.Time {
	hourly := [24]float64{0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1, 1, 0.95, 0.9, 0.8, 0.85, 0.95, 1, 0.95, 0.85, 0.75, 0.7, 0.65, 0.55, 0.4, 0.25}
	daily := [7]float64{0.55, 1, 0.95, 0.9, 0.9, 0.85, 0.6} // Sunday first
	span := now.Sub(from)
	out := make([]time.Time, 0, n)
	for len(out) < n {
		f := rng.Float64()
		t := from.Add(time.Duration(f * float64(span))).Truncate(time.Second)
		w := hourly[t.Hour()] * daily[t.Weekday()] * (0.7 + 0.3*f)
		if rng.Float64() < w {
			out = append(out, t)
		}
	}
	sortTimes(out)
	return out
}

// batch generates the rows of the cases numbered [from, to).
func (g *seedGen) batch(from, to int) seedBatch {
	b := seedBatch{}
	for i := from; i < to; i++ {
		g.seedCase(b, i)
	}
	return b
}
