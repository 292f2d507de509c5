package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"handoff/store"
	"handoff/workflows/vocab"
)

// ReadModel seeds the cases table with bench rows and measures, through the
// API, the latency of a team's work queue and of a free-text search.
var ReadModel = Part{
	Name: "readmodel",
	What: "p50/p99 of a team's queue and of a text search through GET /v1/cases over a seeded cases table",
	Run:  runReadModel,
}

// Bench rows are told from real cases by their id prefix: the API's ids
// start with "C-" and the tests' with "T-".
const seedPrefix = "B-"

// seedChunk is how many rows one COPY carries: a failed or cancelled seed
// keeps the chunks already written, and the next run tops them up.
const seedChunk = 50_000

// Defaults when Options leave them zero.
const (
	readModelDefaultCases = 50_000
	readModelDuration     = 10 * time.Second
	readModelClients      = 4
	// readModelMinRequests is the fewest timed requests a p99 is taken over.
	readModelMinRequests = 300
	// queueP99Target is the most the queue's p99 may take, in milliseconds.
	queueP99Target = 20
)

// runReadModel is ReadModel's Run.
func runReadModel(ctx context.Context, env *Env, opts Options) (Result, error) {
	started := time.Now()
	res := Result{Part: "readmodel"}
	log := benchLogger(env)
	want := int64(opts.ReadModelCases)
	if want <= 0 {
		want = readModelDefaultCases
	}
	gen, err := newCaseRows(env, seedPrefix)
	if err != nil {
		return res, err
	}
	seeded, err := seedCases(ctx, env.DB, log, gen, want)
	if err != nil {
		return res, err
	}
	res.Add("seeded cases", float64(seeded.Have), "cases")
	note := seeded.String()
	if seeded.Have > want {
		note += fmt.Sprintf("; %d asked, the rows of a bigger seed are kept", want)
	}
	res.Note(note)

	clients := opts.Concurrency
	if clients <= 0 {
		clients = readModelClients
	}
	d := opts.Duration
	if d <= 0 {
		d = readModelDuration
	}
	teams := vocab.Teams
	queueURL := func(i int) string {
		q := url.Values{"team": {string(teams[i%len(teams)])}, "breached": {"false"}, "limit": {"50"}}
		return env.API + "/v1/cases?" + q.Encode()
	}
	words := searchWords()
	searchURL := func(i int) string {
		return env.API + "/v1/cases?" + url.Values{"q": {words[i%len(words)]}}.Encode()
	}

	stop := Watch(ctx, 200*time.Millisecond, env.APIProc)
	queue, err := timeListRequests(ctx, env, log, "queue", clients, d, queueURL)
	if err != nil {
		stop()
		return res, err
	}
	search, err := timeListRequests(ctx, env, log, "search", clients, d, searchURL)
	res.Usage = stop()
	if err != nil {
		return res, err
	}
	perClients := fmt.Sprintf("%d requests, %d clients", len(queue), clients)
	res.Add("queue p50", Ms(Percentile(queue, 50)), "ms")
	res.Note(perClients + ", teams in turn")
	res.AddTarget("queue p99", Ms(Percentile(queue, 99)), "ms", queueP99Target, true)
	perClients = fmt.Sprintf("%d requests, %d clients", len(search), clients)
	res.Add("search p50", Ms(Percentile(search, 50)), "ms")
	res.Note(perClients + ", q in turn: " + strings.Join(words, ", "))
	res.Add("search p99", Ms(Percentile(search, 99)), "ms")

	plans, err := explainReadModel(ctx, env.DB, words)
	if err != nil {
		return res, err
	}
	res.Plans = plans
	res.Took = time.Since(started)
	return res, nil
}

// benchLogger answers env's logger, or a silent one.
func benchLogger(env *Env) *slog.Logger {
	if env.Logger != nil {
		return env.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// explainReadModel answers the EXPLAIN (ANALYZE, BUFFERS) of the queries
// the store runs for the timed requests, through the store's own query
// builder: the queue of the first team, and a search for each word.
func explainReadModel(ctx context.Context, db *pgxpool.Pool, words []string) ([]string, error) {
	// A second, small pool: the store's builder is reached only through a
	// Store, and a Store is made from a connection string.
	cfg := db.Config().ConnString()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	defer st.Close()
	notBreached := false
	type explained struct {
		title  string
		filter store.CaseFilter
	}
	team := string(vocab.Teams[0])
	list := []explained{{
		title:  "queue: GET /v1/cases?team=" + team + "&breached=false&limit=50",
		filter: store.CaseFilter{Team: team, Breached: &notBreached, Limit: 50},
	}}
	for _, w := range words {
		list = append(list, explained{title: "search: GET /v1/cases?q=" + w, filter: store.CaseFilter{Q: w}})
	}
	var plans []string
	for _, e := range list {
		plan, err := st.ExplainListCases(ctx, e.filter)
		if err != nil {
			return nil, fmt.Errorf("explain %s: %w", e.title, err)
		}
		plans = append(plans, "EXPLAIN (ANALYZE, BUFFERS) of "+e.title+"\n"+plan)
	}
	return plans, nil
}

// timeListRequests sends GET target(i) with clients at once, after a short
// warm-up that is not timed, until d has passed and at least readModelMinRequests
// were answered, and answers the latency of each: from sending the request
// to reading the last byte of a 200.
func timeListRequests(ctx context.Context, env *Env, log *slog.Logger, name string, clients int, d time.Duration,
	target func(i int) string) ([]time.Duration, error) {
	// The warm-up makes every client's connection and visits each target once.
	for i := range 2 * clients {
		n, err := getCaseList(ctx, env, target(i), true)
		if err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", name, err)
		}
		log.Debug("bench request", "part", "readmodel", "phase", name, "url", target(i), "cases", n)
	}
	start := time.Now()
	took, err := timeRequests(ctx, name, clients, d, readModelMinRequests, func(ctx context.Context, i int) error {
		_, err := getCaseList(ctx, env, target(i), false)
		return err
	})
	if err != nil {
		return nil, err
	}
	log.Info("bench phase done", "part", "readmodel", "phase", name, "requests", len(took),
		"seconds", time.Since(start).Seconds(), "p50", Percentile(took, 50), "p99", Percentile(took, 99))
	return took, nil
}

// getCaseList sends one list request and reads its answer whole; a status
// other than 200 is an error carrying the start of the body. With count it
// also decodes the answer and answers how many cases it listed (-1
// without): the timed requests leave the decoding out, so the client's CPU
// is not measured with the API.
func getCaseList(ctx context.Context, env *Env, target string, count bool) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, fmt.Errorf("request %s: %w", target, err)
	}
	req.Header.Set("Authorization", "Bearer "+env.Key)
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return 0, fmt.Errorf("GET %s: status %d: %s", target, resp.StatusCode, body)
	}
	if !count {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return 0, fmt.Errorf("GET %s: read: %w", target, err)
		}
		return -1, nil
	}
	var page struct {
		Cases []json.RawMessage `json:"cases"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return 0, fmt.Errorf("GET %s: decode: %w", target, err)
	}
	return len(page.Cases), nil
}

// DeleteReadModelCases deletes every bench row the read model part seeded
// and answers how many there were.
func DeleteReadModelCases(ctx context.Context, db *pgxpool.Pool) (int64, error) {
	return deleteSeeded(ctx, db, seedPrefix)
}

// deleteSeeded deletes the cases whose id starts with prefix.
func deleteSeeded(ctx context.Context, db *pgxpool.Pool, prefix string) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM cases WHERE id LIKE $1`, likePrefix(prefix))
	if err != nil {
		return 0, fmt.Errorf("delete bench cases %s*: %w", prefix, err)
	}
	return tag.RowsAffected(), nil
}
