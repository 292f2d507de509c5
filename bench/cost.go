package bench

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// dollarsPerMillionActions is the price the issue turns actions into dollars at.
const dollarsPerMillionActions = 50.0

// Metric names the processes under test export (see telemetry).
const (
	metricTemporalCalls = "handoff_temporal_calls_total"
	metricSQL           = "handoff_sql_statements_total"
	metricS3            = "handoff_s3_requests_total"
	// metricActions is the Temporal server's count of billable actions.
	metricActions = "action"
)

// HistoryCost is what one workflow's history says it cost.
type HistoryCost struct {
	Events, Bytes, WorkflowTasks, Activities, LocalActivityTasks, Timers, Upserts int
	Signals, Updates, Children, ExternalSignals, ActivityRetries                  int
}

// Actions counts the billable actions of a history by Temporal Cloud's
// published rules: the start, each activity attempt, each workflow task
// that ran local activities (they bill once per task), each timer, signal,
// update, search-attribute upsert, child start and external signal.
// Queries are not in a history; the caller adds them.
func (h HistoryCost) Actions() int {
	return 1 + h.Activities + h.ActivityRetries + h.LocalActivityTasks + h.Timers + h.Signals + h.Updates +
		h.Upserts + h.Children + h.ExternalSignals
}

// historyCost reads a workflow's whole history and counts what it holds.
func (e *Env) historyCost(ctx context.Context, workflowID string) (HistoryCost, error) {
	var h HistoryCost
	it := e.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var lastTaskWithLA int64 = -1
	var task int64
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return h, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		h.Events++
		h.Bytes += proto.Size(ev)
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			h.WorkflowTasks++
			task = ev.GetEventId()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			h.Activities++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := ev.GetActivityTaskStartedEventAttributes().GetAttempt(); a > 1 {
				h.ActivityRetries += int(a - 1)
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if isLocalActivity(ev) && task != lastTaskWithLA {
				h.LocalActivityTasks++
				lastTaskWithLA = task
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			h.Timers++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			h.Upserts++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			h.Signals++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			h.Updates++
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			h.Children++
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			h.ExternalSignals++
		}
	}
	return h, nil
}

func isLocalActivity(ev *historypb.HistoryEvent) bool {
	return ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity"
}

// Cost measures what a case and an account delivery cost, machine-independently.
var Cost = Part{
	Name: "cost",
	What: "history events, bytes, tasks, activities, timers, upserts and billable actions per case and per delivery; Temporal calls, SQL statements and S3 requests per API call",
	Run:  runCost,
}

func runCost(ctx context.Context, env *Env, opts Options) (res Result, err error) {
	res = Result{Part: "cost"}
	stop := Watch(ctx, 200*time.Millisecond, env.underTest()...)
	defer func() { res.Usage = stop() }()

	for _, lc := range costLifecycles(env) {
		var sum HistoryCost
		var histories []HistoryCost
		var calls int
		var queries float64
		beforeAPI, err1 := scrape(ctx, env.APIMetrics)
		beforeWorker, err2 := scrape(ctx, env.WorkerMetrics)
		beforeServer, err3 := scrape(ctx, env.TemporalMetrics)
		if err := firstErr(err1, err2, err3); err != nil {
			return res, err
		}
		n := max(opts.Cases, 1)
		for range n {
			wid, c, err := lc.run(ctx)
			if err != nil {
				return res, fmt.Errorf("%s lifecycle: %w", lc.name, err)
			}
			calls += c
			if err := env.awaitWorkflow(ctx, wid, 2*time.Minute); err != nil {
				return res, fmt.Errorf("%s lifecycle of %s never ended: %w", lc.name, wid, err)
			}
			h, err := env.historyCost(ctx, wid)
			if err != nil {
				return res, err
			}
			sum = addCost(sum, h)
			histories = append(histories, h)
		}
		// The server counts actions as they happen; give it a moment to export.
		time.Sleep(time.Second)
		afterAPI, err1 := scrape(ctx, env.APIMetrics)
		afterWorker, err2 := scrape(ctx, env.WorkerMetrics)
		afterServer, err3 := scrape(ctx, env.TemporalMetrics)
		if err := firstErr(err1, err2, err3); err != nil {
			return res, err
		}
		queries = deltaWith(beforeAPI, afterAPI, metricTemporalCalls, `operation="QueryWorkflow"`)
		per := func(v int) float64 { return float64(v) / float64(n) }
		rules := rulesActions(histories, queries)
		p, unit := lc.name+": ", " per "+lc.unit
		if lc.targets {
			res.AddTarget(p+"history events"+unit, per(sum.Events), "events", 150, true)
		} else {
			res.Add(p+"history events"+unit, per(sum.Events), "events")
		}
		res.Add(p+"history bytes"+unit, per(sum.Bytes), "bytes")
		res.Add(p+"workflow tasks"+unit, per(sum.WorkflowTasks), "tasks")
		res.Add(p+"activities"+unit, per(sum.Activities), "activities")
		res.Add(p+"tasks running local activities"+unit, per(sum.LocalActivityTasks), "tasks")
		res.Add(p+"timers"+unit, per(sum.Timers), "timers")
		res.Add(p+"search-attribute upserts"+unit, per(sum.Upserts), "upserts")
		res.Add(p+"updates"+unit, per(sum.Updates), "updates")
		if env.TemporalMetrics != "" {
			server := delta(beforeServer, afterServer, metricActions) / float64(n)
			if lc.targets {
				res.AddTarget(p+"billable actions"+unit+" (server)", server, "actions", 20, true)
			} else {
				res.Add(p+"billable actions"+unit+" (server)", server, "actions")
			}
			res.Note(fmt.Sprintf("$%.6f%s at $%.0f per million", server*dollarsPerMillionActions/1e6, unit, dollarsPerMillionActions))
			for _, t := range actionTypes(beforeServer, afterServer) {
				res.Add(p+"  of which "+t.name, t.delta/float64(n), "actions")
			}
		}
		res.Add(p+"billable actions"+unit+" (rules)", rules, "actions")
		res.Note(fmt.Sprintf("$%.6f%s; counted from the history, plus %.1f queries", rules*dollarsPerMillionActions/1e6, unit, queries/float64(n)))
		if calls > 0 {
			res.Add(p+"Temporal calls per API call", delta(beforeAPI, afterAPI, metricTemporalCalls)/float64(calls), "calls")
			res.Add(p+"SQL statements per API call", delta(beforeAPI, afterAPI, metricSQL)/float64(calls), "statements")
			res.Add(p+"S3 requests per API call", delta(beforeAPI, afterAPI, metricS3)/float64(calls), "requests")
		}
		res.Add(p+"worker SQL statements"+unit, delta(beforeWorker, afterWorker, metricSQL)/float64(n), "statements")
		res.Add(p+"worker Temporal calls"+unit, delta(beforeWorker, afterWorker, metricTemporalCalls)/float64(n), "calls")
	}
	return res, nil
}

// costLifecycle is one lifecycle the cost part measures, the same way for
// each: its figures are named "<name>: ... per <unit>".
type costLifecycle struct {
	name, unit string
	// targets says the targets (history events, billable actions)
	// are this lifecycle's.
	targets bool
	// run drives one lifecycle through the API and answers the workflow
	// that carried it (awaited until it ends, then read) and how many API
	// calls it made.
	run func(context.Context) (workflowID string, calls int, err error)
}

// costLifecycles are the lifecycles of the cost part, in the order they
// run, each -cases times: the standard case (the targets are its),
// the breach case, the standard delivery, return and dispute (whose figures
// are of the return's and dispute's own workflow, not their case's).
func costLifecycles(env *Env) []costLifecycle {
	caseRun := func(run func(context.Context) (string, int, error)) func(context.Context) (string, int, error) {
		return func(ctx context.Context) (string, int, error) {
			id, calls, err := run(ctx)
			return cases.CaseWorkflowID(id), calls, err
		}
	}
	return []costLifecycle{
		{"standard", "case", true, caseRun(func(ctx context.Context) (string, int, error) {
			id, took, err := env.standardLifecycle(ctx)
			return id, len(took), err
		})},
		{"breach", "case", false, caseRun(env.breachLifecycle)},
		{"delivery", "delivery", false, env.deliveryLifecycle},
		{"return", "return", false, env.returnLifecycle},
		{"dispute", "dispute", false, env.disputeLifecycle},
	}
}

// breachLifecycle opens a p1 case, lets it warn and breach, escalates it to
// account management, resolves it, and lets its survey window end.
func (e *Env) breachLifecycle(ctx context.Context) (string, int, error) {
	v, err := e.openCase(ctx, vocab.CategoryLoginFailure, vocab.P1)
	if err != nil {
		return "", 0, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		// Polled from the read model: a query would be a billable action
		// and an API call, and count in both.
		var breached bool
		err := e.DB.QueryRow(ctx, `SELECT breached FROM cases WHERE id = $1`, v.ID).Scan(&breached)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return v.ID, 0, fmt.Errorf("read case %s: %w", v.ID, err)
		}
		if breached {
			break
		}
		if time.Now().After(deadline) {
			return v.ID, 0, fmt.Errorf("case %s never breached", v.ID)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err := e.act(ctx, v.ID, "escalate", map[string]string{"team": "account_management", "reason": "needs an account unlock"}); err != nil {
		return v.ID, 0, err
	}
	if err := e.act(ctx, v.ID, "resolve", map[string]string{"resolution": "Unlocked."}); err != nil {
		return v.ID, 0, err
	}
	return v.ID, 3, nil // open, escalate, resolve
}

// rulesActions answers the billable actions per lifecycle by the rules:
// each history's own count, plus the queries, over the lifecycles. Each
// history counts its own start, which the sum of the histories (addCost)
// would count once for all.
func rulesActions(histories []HistoryCost, queries float64) float64 {
	if len(histories) == 0 {
		return notMeasured()
	}
	total := queries
	for _, h := range histories {
		total += float64(h.Actions())
	}
	return total / float64(len(histories))
}

func addCost(a, b HistoryCost) HistoryCost {
	return HistoryCost{
		Events: a.Events + b.Events, Bytes: a.Bytes + b.Bytes, WorkflowTasks: a.WorkflowTasks + b.WorkflowTasks,
		Activities: a.Activities + b.Activities, LocalActivityTasks: a.LocalActivityTasks + b.LocalActivityTasks,
		Timers: a.Timers + b.Timers, Upserts: a.Upserts + b.Upserts, Signals: a.Signals + b.Signals,
		Updates: a.Updates + b.Updates, Children: a.Children + b.Children,
		ExternalSignals: a.ExternalSignals + b.ExternalSignals, ActivityRetries: a.ActivityRetries + b.ActivityRetries,
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type actionType struct {
	name  string
	delta float64
}

// actionTypes answers the server's billable actions by their action_type
// label, largest first.
func actionTypes(before, after Scrape) []actionType {
	by := map[string]float64{}
	for k, v := range after.Samples {
		if !strings.HasPrefix(k, metricActions+"{") {
			continue
		}
		name := k
		if i := strings.Index(k, `action_type="`); i >= 0 {
			name = k[i+len(`action_type="`):]
			name = name[:strings.IndexByte(name, '"')]
		}
		by[name] += v - before.Samples[k]
	}
	var out []actionType
	for name, d := range by {
		if d > 0 {
			out = append(out, actionType{name, d})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].delta != out[j].delta {
			return out[i].delta > out[j].delta
		}
		return out[i].name < out[j].name
	})
	return out
}
