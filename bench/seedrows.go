package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// likePrefix answers the LIKE pattern of the strings starting with prefix.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}

// seedCases makes the bench rows of gen number at least want, writing only
// those missing (so a big seed is reused by later runs), then vacuums and
// analyzes the table when it wrote any.
func seedCases(ctx context.Context, db *pgxpool.Pool, log *slog.Logger, gen *caseRows, want int64) (seeding, error) {
	// Rows are numbered from 0 without gaps; the next is one past the
	// highest, in case rows were deleted by hand from the middle.
	var have, next int64
	err := db.QueryRow(ctx,
		`SELECT count(*), coalesce(max(substr(id, $2)::bigint) + 1, 0) FROM cases WHERE id LIKE $1`,
		likePrefix(gen.prefix), len(gen.prefix)+1).Scan(&have, &next)
	if err != nil {
		return seeding{}, fmt.Errorf("count bench cases: %w", err)
	}
	if have >= want {
		log.Info("bench cases already seeded", "part", "readmodel", "cases", have, "wanted", want)
		return seeding{Have: have}, nil
	}
	missing := want - have
	log.Info("seeding bench cases", "part", "readmodel", "have", have, "adding", missing)
	start := time.Now()
	columns := []string{"id", "status", "priority", "category", "team", "assignee", "escalation_level",
		"customer_id", "account_id", "order_id", "channel", "subject", "description",
		"breached", "sla_due_at", "created_at", "updated_at", "closed_at", "last_seq", "view"}
	for done := int64(0); done < missing; {
		n := min(seedChunk, missing-done)
		first := next + done
		i := first
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == first+n {
				return nil, nil
			}
			row, err := gen.values(i)
			i++
			return row, err
		})
		copied, err := db.CopyFrom(ctx, pgx.Identifier{"cases"}, columns, src)
		if err != nil {
			return seeding{}, fmt.Errorf("copy bench cases %s to %s: %w", gen.id(first), gen.id(first+n-1), err)
		}
		done += copied
		log.Info("seeding bench cases", "part", "readmodel", "copied", done, "of", missing,
			"seconds", time.Since(start).Seconds())
	}
	copyTook := time.Since(start)
	// VACUUM rather than ANALYZE alone: it also sets the hint bits and the
	// visibility map, as a table that has lived a while has them, so the
	// first timed reads do not pay for the load.
	if _, err := db.Exec(ctx, `VACUUM (ANALYZE) cases`); err != nil {
		return seeding{}, fmt.Errorf("vacuum analyze cases: %w", err)
	}
	s := seeding{Have: have + missing, Added: missing, Copy: copyTook, Total: time.Since(start)}
	log.Info("seeded bench cases", "part", "readmodel", "added", missing, "copy", s.Copy.Round(time.Millisecond),
		"with_vacuum_analyze", s.Total.Round(time.Millisecond))
	return s, nil
}

// seeding is what seedCases did.
type seeding struct {
	// Have is how many bench rows there are now, Added how many it wrote.
	Have, Added int64
	// Copy is how long the COPYs took, Total that and VACUUM ANALYZE.
	Copy, Total time.Duration
}

// String says what was done, for the figure's note.
func (s seeding) String() string {
	if s.Added == 0 {
		return "reused from an earlier run"
	}
	return fmt.Sprintf("seeded %d in %s (COPY %s, then VACUUM ANALYZE)", s.Added,
		s.Total.Round(time.Second), s.Copy.Round(time.Second))
}

// vocabulary is the words of the seeded subjects and descriptions, most
// frequent first: word k is drawn with a weight of 1/(k+1), as words of a
// language are (Zipf's law).
const vocabulary = `the order item account please help delivery package refund seller payment
card login code email password received still days tracking wrong broken return week
address shipped support urgent again message waiting invoice charged twice cancel update
phone number access locked blocked verify identity screen error app browser reset link
expired store listing product photo description size colour damaged missing box courier
label warehouse customs delayed lost stolen replacement voucher discount coupon balance
wallet bank transfer pending failed declined subscription renewal merge profile name
username security alert suspicious device location unknown authenticator backup
buyer dispute claim evidence receipt screenshot chat agent manager escalate
complaint feedback review rating fraud scam fake counterfeit warranty repair defective
instructions manual battery charger cable headset console controller keyboard`

// rareWord is in one description in rareEvery, outside the vocabulary: a
// product name few customers write about.
const (
	rareWord  = "zeppelin"
	rareEvery = 10_000
)

// longTail is how many distinct rare tokens (product models, names, order
// references) descriptions also carry, one to three each, drawn by Zipf's
// law as real text's rare words are. Without them every word of the table
// is common, the planner's statistics know no rare word, and it guesses
// any word it does not know (rareWord) in 0.5% of the rows, its default:
// real text's long tail is what lets it tell a rare word from a common one.
const longTail = 200_000

// searchWords answers the words the timed searches ask for, in turn: one
// in most cases (about 70%), one in some (about 10%) and a rare one
// (0.01%), so both plans a search can take (walk the queue and filter, or
// the text index then sort) are timed.
func searchWords() []string {
	words := strings.Fields(vocabulary)
	return []string{words[3], words[40], rareWord}
}

// caseRows generates the bench cases. Row i is a function of i alone (and
// of the day the generator is made), so a top-up writes the rows a bigger
// seed would have.
type caseRows struct {
	prefix string
	// now is the reference time of deadlines and ages.
	now time.Time
	// defaults is each category's priority and team from the policy book.
	defaults map[vocab.Category]sla.CategoryDefaults
	// categories and their cumulative weights: a category is drawn by a
	// binary search of a uniform number in catCum.
	categories []vocab.Category
	catCum     []float64
	words      []string
	wordCum    []float64
}

// newCaseRows answers the generator of env's bench cases, with the
// categories' teams and priorities of the stack's policy book (the shipped
// one, whose defaults are those of real cases), else of the bench's.
func newCaseRows(env *Env, prefix string) (*caseRows, error) {
	var errs []error
	for _, path := range []string{env.Config.SLAPolicyFile, env.PolicyFile} {
		if path == "" {
			continue
		}
		book, err := sla.Load(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return newCaseRowsFrom(book, prefix, time.Now())
	}
	if len(errs) == 0 {
		return nil, errors.New("seed cases: no SLA policy file to take the categories' teams from")
	}
	return nil, fmt.Errorf("seed cases: %w", errors.Join(errs...))
}

// newCaseRowsFrom answers a generator of ids starting with prefix, taking
// every category's defaults from book.
func newCaseRowsFrom(book *sla.Book, prefix string, now time.Time) (*caseRows, error) {
	g := &caseRows{prefix: prefix, now: now.UTC().Truncate(time.Hour),
		defaults: map[vocab.Category]sla.CategoryDefaults{}}
	// Relative weights: a marketplace's support is mostly orders and
	// logins; merges and onboarding are rare.
	weights := map[vocab.Category]float64{
		vocab.CategoryLoginFailure: 12, vocab.CategoryPasswordReset: 9, vocab.CategoryLockedAccount: 5,
		vocab.CategorySecurityAlert: 3, vocab.CategoryProfileChange: 4, vocab.CategoryAccountMerge: 1,
		vocab.CategoryAccountDeliveryIssue: 6, vocab.CategoryOrderIssue: 12, vocab.CategoryDeliveryDelay: 11,
		vocab.CategoryDefectiveItem: 6, vocab.CategoryRefundRequest: 8, vocab.CategoryReturnRequest: 6,
		vocab.CategoryDispute: 4, vocab.CategorySellerOnboarding: 2, vocab.CategorySellerPayment: 3,
		vocab.CategoryFraudReport: 2, vocab.CategoryGeneralQuestion: 7,
	}
	total := 0.0
	for _, c := range vocab.Categories {
		d, err := book.Category(string(c))
		if err != nil {
			return nil, fmt.Errorf("seed cases: %w", err)
		}
		g.defaults[c] = d
		w, ok := weights[c]
		if !ok {
			w = 1 // a category added after this list
		}
		total += w
		g.categories = append(g.categories, c)
		g.catCum = append(g.catCum, total)
	}
	g.words = strings.Fields(vocabulary)
	total = 0
	for k := range g.words {
		total += 1 / float64(k+1)
		g.wordCum = append(g.wordCum, total)
	}
	return g, nil
}

// id answers the id of row i.
func (g *caseRows) id(i int64) string {
	return g.prefix + fmt.Sprintf("%08d", i)
}

// pickWeighted answers the index a uniform draw falls on in cumulative weights.
func pickWeighted(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	return min(sort.SearchFloat64s(cum, x), len(cum)-1)
}

// text answers n words drawn from the vocabulary.
func (g *caseRows) text(r *rand.Rand, n int) string {
	var b strings.Builder
	for k := range n {
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.words[pickWeighted(r, g.wordCum)])
	}
	return b.String()
}

// Account and order categories carry an account or an order id.
func needsAccount(c vocab.Category) bool {
	switch c {
	case vocab.CategoryLoginFailure, vocab.CategoryPasswordReset, vocab.CategoryLockedAccount,
		vocab.CategorySecurityAlert, vocab.CategoryProfileChange, vocab.CategoryAccountMerge,
		vocab.CategoryAccountDeliveryIssue:
		return true
	}
	return false
}

func needsOrder(c vocab.Category) bool {
	switch c {
	case vocab.CategoryOrderIssue, vocab.CategoryDeliveryDelay, vocab.CategoryDefectiveItem,
		vocab.CategoryRefundRequest, vocab.CategoryReturnRequest, vocab.CategoryDispute:
		return true
	}
	return false
}

// uniformDuration answers a duration drawn uniformly from [lo, hi).
func uniformDuration(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// view answers bench case i as the workflow would have projected it.
//
// The spread: most cases are history (62% closed, 8% resolved); the rest
// are new (6%), open (12%), waiting on the customer (7%) or escalated
// (5%). A running case's nearest deadline falls from a day ago to six days
// ahead; one already past has breached, and so have 7% of the others,
// which makes about 10% breached in all. 90% of cases stay with their
// category's team, the rest were handed to another.
func (g *caseRows) view(i int64) cases.CaseView {
	r := rand.New(rand.NewPCG(0x6265_6e63_68, uint64(i)))
	c := g.categories[pickWeighted(r, g.catCum)]
	d := g.defaults[c]
	v := cases.CaseView{
		ID: g.id(i), Category: c, Priority: vocab.Priority(d.Priority), Team: vocab.Team(d.Team),
		Channel: []string{"web", "web", "web", "email", "email", "chat", "chat", "phone"}[r.IntN(8)],
	}
	if r.IntN(4) == 0 {
		v.Priority = vocab.Priorities[r.IntN(len(vocab.Priorities))]
	}
	if r.IntN(10) == 0 {
		others := make([]vocab.Team, 0, len(vocab.Teams))
		for _, t := range vocab.Teams {
			if t != v.Team {
				others = append(others, t)
			}
		}
		v.Team = others[r.IntN(len(others))]
	}
	cust := r.IntN(400_000)
	v.Customer = vocab.Customer{ID: fmt.Sprintf("bcus-%06d", cust), Email: fmt.Sprintf("bcus-%06d@example.com", cust),
		Name: "Customer " + strconv.Itoa(cust), Locale: []string{"en", "en", "en", "en", "fr"}[r.IntN(5)]}
	if needsAccount(c) {
		v.AccountID = fmt.Sprintf("bacc-%06d", r.IntN(300_000))
	}
	if needsOrder(c) {
		v.OrderID = fmt.Sprintf("bord-%08d", r.IntN(10_000_000))
	}
	v.Subject = strings.ReplaceAll(string(c), "_", " ") + ": " + g.text(r, 2+r.IntN(4))
	v.Description = g.text(r, 10+r.IntN(31))
	tail := rand.NewZipf(r, 1.1, 1, longTail-1)
	for range 1 + r.IntN(3) {
		v.Description += " sku" + strconv.FormatUint(tail.Uint64(), 36)
	}
	if r.IntN(rareEvery) == 0 {
		v.Description += " " + rareWord
	}

	var age time.Duration
	roll := r.IntN(100)
	switch {
	case roll < 62:
		v.Status, age = cases.StatusClosed, uniformDuration(r, 2*24*time.Hour, 365*24*time.Hour)
	case roll < 70:
		v.Status, age = cases.StatusResolved, uniformDuration(r, 24*time.Hour, 14*24*time.Hour)
	case roll < 76:
		v.Status, age = cases.StatusNew, uniformDuration(r, time.Minute, 2*24*time.Hour)
	case roll < 88:
		v.Status, age = cases.StatusOpen, uniformDuration(r, time.Hour, 10*24*time.Hour)
	case roll < 95:
		v.Status, age = cases.StatusWaitingCustomer, uniformDuration(r, time.Hour, 10*24*time.Hour)
	default:
		v.Status, age = cases.StatusEscalated, uniformDuration(r, time.Hour, 10*24*time.Hour)
	}
	v.CreatedAt = g.now.Add(-age)
	v.UpdatedAt = v.CreatedAt.Add(uniformDuration(r, time.Second, age))
	v.LastSeq = 1
	if v.Status != cases.StatusNew {
		first := v.CreatedAt.Add(uniformDuration(r, time.Minute, min(age, 8*time.Hour)+time.Minute))
		v.FirstResponseAt = &first
		v.LastSeq += 2 + r.IntN(8)
		if r.IntN(100) < 85 {
			v.Assignee = fmt.Sprintf("agent-%03d", r.IntN(120))
		}
	}
	v.SLA.Breaches = []cases.Breach{}
	// One in 14 breached once, and every running case past its deadline:
	// about 10% in all.
	breached := r.IntN(14) == 0
	switch v.Status {
	case cases.StatusNew, cases.StatusOpen, cases.StatusEscalated, cases.StatusWaitingCustomer:
		due := g.now.Add(uniformDuration(r, -24*time.Hour, 6*24*time.Hour))
		if v.Status == cases.StatusNew {
			v.SLA.FirstResponseDue = &due
		} else {
			v.SLA.ResolutionDue = &due
		}
		v.SLA.Paused = v.Status == cases.StatusWaitingCustomer
		if !v.SLA.Paused && due.Before(g.now) {
			breached = true
		}
	case cases.StatusResolved, cases.StatusClosed:
		resolved := v.UpdatedAt
		v.ResolvedAt = &resolved
		v.Resolution = "resolved: " + g.text(r, 4)
		if v.Status == cases.StatusClosed {
			v.ClosedAt = &resolved
		}
	}
	if breached {
		at := v.CreatedAt.Add(uniformDuration(r, time.Minute, age))
		v.SLA.Breaches = append(v.SLA.Breaches, cases.Breach{Target: "first_response", DueAt: at, At: at, Level: 1})
		v.EscalationLevel = 1
	}
	if v.Status == cases.StatusEscalated {
		v.EscalationLevel = max(v.EscalationLevel, 1+r.IntN(2))
	}
	return v
}

// values answers the COPY row of bench case i, its columns as ProjectCase
// writes them from the view.
func (g *caseRows) values(i int64) ([]any, error) {
	v := g.view(i)
	view, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode bench case %s: %w", v.ID, err)
	}
	var due *time.Time
	if !v.SLA.Paused {
		due = v.SLA.NearestDue()
	}
	return []any{v.ID, string(v.Status), string(v.Priority), string(v.Category), string(v.Team),
		nullIfEmpty(v.Assignee), v.EscalationLevel, v.Customer.ID, nullIfEmpty(v.AccountID), nullIfEmpty(v.OrderID),
		v.Channel, v.Subject, v.Description, len(v.SLA.Breaches) > 0, due,
		v.CreatedAt, v.UpdatedAt, v.ClosedAt, v.LastSeq, view}, nil
}

// nullIfEmpty answers nil (SQL NULL) for "", as the projection's NULLIF does.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
