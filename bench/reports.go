package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"handoff/store"
)

// Reports measures, through the API, every support report and the
// knowledge-base search over the seeded history (`starter seed history`),
// beside the bare round trip of the same run: GET /readyz, which pings
// Postgres and answers.
var Reports = Part{
	Name: "reports",
	What: "p50/p99 of every GET /v1/reports/{name} and of GET /v1/kb/search over the seeded history, beside GET /readyz",
	Run:  runReports,
}

// Targets of the reports part, in milliseconds.
const (
	reportP99Target   = 200
	kbSearchP99Target = 50
	// reportsMinRequests is the fewest timed requests a p99 is taken over.
	reportsMinRequests = 200
)

// reportNames are the reports the part times, as the API names them.
var reportNames = []string{"sla-compliance", "response-times", "backlog", "escalations", "csat", "security",
	"deliveries", "disputes", "recurring-issues"}

// reportTables are the tables the reports and the search read.
var reportTables = []string{"cases", "case_events", "deliveries", "delivery_events", "disputes", "dispute_events",
	"report_case_weeks", "report_duration_weeks", "report_subject_weeks", "report_event_weeks", "kb_articles", "kb_words"}

// kbQueries are the searches the part sends in turn: stemmed words in both
// languages, a typo, and a phrase.
var kbQueries = []struct{ q, locale string }{
	{"compte bloqué", "fr"}, {"bloquer", "fr"}, {"remboursement", "fr"},
	{"locked account", "en"}, {"password reset", "en"}, {"acount locked", "en"}, {"refund delivery", "en"},
}

// runReports is Reports' Run.
func runReports(ctx context.Context, env *Env, opts Options) (Result, error) {
	started := time.Now()
	res := Result{Part: "reports"}
	var cases, articles int64
	if err := env.DB.QueryRow(ctx, `SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM kb_articles WHERE status = 'published')`).
		Scan(&cases, &articles); err != nil {
		return res, fmt.Errorf("count the history: %w", err)
	}
	res.Add("cases in the read model", float64(cases), "cases")
	res.Note("the targets are for 200,000: `go run ./starter seed history --cases 200000 --articles 5000 --reset` first")
	res.Add("published articles", float64(articles), "articles")

	// The reports read the rollups the triggers of migration 00014 update
	// on every projection, and updates leave dead rows until a vacuum: on
	// a Postgres without autovacuum (this machine's has it off) a run
	// after a test run read a third more pages. Time the steady state.
	vacuumed := time.Now()
	for _, table := range reportTables {
		if _, err := env.DB.Exec(ctx, "VACUUM (ANALYZE) "+table); err != nil {
			return res, fmt.Errorf("vacuum %s: %w", table, err)
		}
	}
	res.Note(fmt.Sprintf("vacuumed and analyzed %d tables first, in %s", len(reportTables), time.Since(vacuumed).Round(time.Millisecond)))

	clients := opts.Concurrency
	if clients <= 0 {
		clients = readModelClients
	}
	d := opts.Duration
	if d <= 0 {
		d = readModelDuration
	}
	// Every timed phase shares the run's time: the reports and the search
	// get a slice each, the bare round trip one more.
	slice := d / time.Duration(len(reportNames)+2)
	stop := Watch(ctx, 200*time.Millisecond, env.APIProc)
	bare, err := timeGets(ctx, env, "readyz", clients, slice, func(int) string { return env.API + "/readyz" })
	if err != nil {
		stop()
		return res, err
	}
	res.Add("bare GET /readyz p50", Ms(Percentile(bare, 50)), "ms")
	res.Add("bare GET /readyz p99", Ms(Percentile(bare, 99)), "ms")
	for _, name := range reportNames {
		took, err := timeGets(ctx, env, name, clients, slice, func(int) string { return env.API + "/v1/reports/" + name })
		if err != nil {
			stop()
			return res, err
		}
		res.Add(name+" p50", Ms(Percentile(took, 50)), "ms")
		res.AddTarget(name+" p99", Ms(Percentile(took, 99)), "ms", reportP99Target, true)
		res.Note(fmt.Sprintf("%d requests, %d clients, the last 12 weeks; %.1f× the bare p99", len(took), clients,
			Ratio(Ms(Percentile(took, 99)), Ms(Percentile(bare, 99)))))
	}
	search, err := timeGets(ctx, env, "kb-search", clients, slice, func(i int) string {
		q := kbQueries[i%len(kbQueries)]
		return env.API + "/v1/kb/search?" + url.Values{"q": {q.q}, "locale": {q.locale}}.Encode()
	})
	res.Usage = stop()
	if err != nil {
		return res, err
	}
	res.Add("kb search p50", Ms(Percentile(search, 50)), "ms")
	res.AddTarget("kb search p99", Ms(Percentile(search, 99)), "ms", kbSearchP99Target, true)
	res.Note(fmt.Sprintf("%d requests, %d clients, %d queries in turn (stemmed, French, a typo)", len(search), clients, len(kbQueries)))

	plans, err := explainReports(ctx, env)
	if err != nil {
		return res, err
	}
	res.Plans = plans
	res.Took = time.Since(started)
	return res, nil
}

// explainReports answers the EXPLAIN (ANALYZE, BUFFERS) of every report's
// queries and of one knowledge-base search, through the store's own SQL.
func explainReports(ctx context.Context, env *Env) ([]string, error) {
	st, err := store.Open(ctx, env.DB.Config().ConnString())
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	defer st.Close()
	to := time.Now().UTC()
	f := store.ReportFilter{From: to.AddDate(0, 0, -84), To: to}
	var plans []string
	for _, name := range reportNames {
		plan, err := st.ExplainReport(ctx, name, f)
		if err != nil {
			return nil, err
		}
		plans = append(plans, "report "+name+":\n"+plan)
	}
	return plans, nil
}

// timeGets sends GET target(i) as the bench's admin with clients at once,
// after an untimed warm-up, until d has passed and at least
// reportsMinRequests were answered, and answers each one's latency: from
// sending the request to reading the last byte of a 200.
func timeGets(ctx context.Context, env *Env, name string, clients int, d time.Duration, target func(i int) string) ([]time.Duration, error) {
	for i := range clients {
		if err := getOK(ctx, env, target(i)); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", name, err)
		}
	}
	return timeRequests(ctx, name, clients, d, reportsMinRequests, func(ctx context.Context, i int) error {
		return getOK(ctx, env, target(i))
	})
}

// timeRequests runs do(i) for i = 0, 1, ... from clients goroutines until
// d has passed and at least min were done, and answers how long each took.
// The first error stops them all and is answered, with name.
func timeRequests(ctx context.Context, name string, clients int, d time.Duration, min int,
	do func(ctx context.Context, i int) error) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		took     []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if time.Since(start) >= d && i >= min {
					return
				}
				t0 := time.Now()
				err := do(ctx, i)
				dt := time.Since(t0)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				took = append(took, dt)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("%s: %w", name, firstErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return took, nil
}

// getOK GETs u with the bench's key and reads the whole answer, which must be a 200.
func getOK(ctx context.Context, env *Env, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+env.Key)
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", u, resp.Status, body)
	}
	return nil
}
