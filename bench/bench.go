// Package bench measures what a case costs and how fast Handoff moves,
// beside the bare engine measured in the same run on the same servers: every
// figure is a count that does not depend on the machine or a ratio against a
// baseline. The starter's bench command runs its parts and prints them.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"handoff/config"
)

// Env is what a part measures with: Handoff's API under test (its own API
// and worker processes, started by the bench on their own task queue),
// and direct clients of the same servers for the bare baselines.
type Env struct {
	Config config.Config
	Logger *slog.Logger
	// API is the base URL of the API under test and Key an admin key for it.
	API string
	Key string
	// HTTP is the client of every API call.
	HTTP *http.Client
	// Temporal, DB and S3 reach the same servers the API and worker use.
	Temporal client.Client
	DB       *pgxpool.Pool
	S3       *s3.Client
	// TaskQueue is where the worker under test polls.
	TaskQueue string
	// BareQueue is where the bench's own bare worker polls.
	BareQueue string
	// APIProc and WorkerProc are the processes under test, for CPU and RSS;
	// WorkerProc is the first of WorkerProcs.
	APIProc, WorkerProc *Proc
	// WorkerProcs are every worker under test, all polling TaskQueue.
	WorkerProcs []*Proc
	// EngineProcs are the Temporal server's processes when the local stack
	// runs them (EngineProcs), watched beside the processes under test.
	EngineProcs []*Proc
	// APIMetrics, WorkerMetrics and TemporalMetrics are /metrics URLs
	// (WorkerMetrics the first worker's).
	APIMetrics, WorkerMetrics, TemporalMetrics string
	// PolicyFile is the SLA policy the API under test reads; a part that
	// needs another writes its own and restarts the API (see Restart).
	PolicyFile string
	// Restart starts the API and worker again with env added to theirs.
	Restart func(ctx context.Context, env map[string]string) error
}

// underTest answers the API and every worker, then the engine's processes
// and the machine as a whole, for Watch.
func (e *Env) underTest() []*Proc {
	out := append([]*Proc{e.APIProc}, e.workers()...)
	out = append(out, e.EngineProcs...)
	return append(out, MachineProc())
}

// workers answers every worker under test: WorkerProcs, or WorkerProc
// alone when the harness did not fill WorkerProcs.
func (e *Env) workers() []*Proc {
	if len(e.WorkerProcs) > 0 {
		return e.WorkerProcs
	}
	return []*Proc{e.WorkerProc}
}

// Options choose what runs and how hard.
type Options struct {
	// Parts lists the parts to run; empty runs every one.
	Parts []string
	// Duration bounds each timed phase.
	Duration time.Duration
	// Concurrency is how many clients drive the load at once.
	Concurrency int
	// Cases is how many lifecycles the cost part measures.
	Cases int
	// Lateness lists the N of simultaneous deadlines to measure.
	Lateness []int
	// ReadModelCases is how many cases the read model part seeds.
	ReadModelCases int
	// EvidenceSizes lists the upload sizes in bytes.
	EvidenceSizes []int64
	// LongCase is the action count on one case for the growth figure.
	LongCase int
	// Workers is how many worker processes the harness runs on the task
	// queue under test (Launch's workers); 0 and 1 run one.
	Workers int
	// Held is how many cases the held part opens and keeps open, from
	// HeldConcurrency clients.
	Held, HeldConcurrency int
}

// Figure is one measured number, with its target when the issue sets one.
type Figure struct {
	Part  string  `json:"part"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	// Target says what it must be, such as "<= 20"; empty for none.
	Target string `json:"target,omitempty"`
	// Met is set when there is a target.
	Met  *bool  `json:"met,omitempty"`
	Note string `json:"note,omitempty"`
}

// Result is what one part measured.
type Result struct {
	Part    string        `json:"part"`
	Took    time.Duration `json:"took"`
	Figures []Figure      `json:"figures"`
	// Plans are query plans and other text the part wants printed.
	Plans []string `json:"plans,omitempty"`
	// Usage is the CPU and memory of the processes under test during the part.
	Usage []Usage `json:"usage,omitempty"`
}

// Add appends a figure without a target.
func (r *Result) Add(name string, value float64, unit string) {
	r.Figures = append(r.Figures, Figure{Part: r.Part, Name: name, Value: value, Unit: unit})
}

// AddTarget appends a figure with its target: at most max (atMost) or at
// least min (!atMost).
func (r *Result) AddTarget(name string, value float64, unit string, bound float64, atMost bool) {
	met := value <= bound
	target := "<= " + trim(bound)
	if !atMost {
		met = value >= bound
		target = ">= " + trim(bound)
	}
	r.Figures = append(r.Figures, Figure{Part: r.Part, Name: name, Value: value, Unit: unit, Target: target, Met: &met})
}

// Note sets the note of the last figure added.
func (r *Result) Note(note string) {
	if n := len(r.Figures); n > 0 {
		r.Figures[n-1].Note = note
	}
}

func trim(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// Part is one measurement.
type Part struct {
	Name string
	// What says in a line what it measures.
	What string
	Run  func(ctx context.Context, env *Env, opts Options) (Result, error)
}

// jsonNumber answers v for a JSON field, or nil (null) when JSON cannot
// hold it: NaN or an infinity.
func jsonNumber(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes a value that is not a number (a ratio over zero) as null.
func (f Figure) MarshalJSON() ([]byte, error) {
	type plain Figure
	out := struct {
		plain
		Value *float64 `json:"value"`
	}{plain: plain(f)}
	out.Value = jsonNumber(f.Value)
	return json.Marshal(out)
}

// Percentile answers the p-th percentile (0..100) of durations by nearest
// rank; zero for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// Ms answers d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Ratio answers a/b, or NaN when b is zero.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// Report is a whole run: the machine, the settings and every part.
type Report struct {
	Started  time.Time `json:"started"`
	Machine  Machine   `json:"machine"`
	Options  Options   `json:"options"`
	Settings []string  `json:"settings"`
	Results  []Result  `json:"results"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemoryMB int    `json:"memory_mb"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
}

// Print writes the report as tables, one per part, with every figure beside
// its target.
func (rep Report) Print(w io.Writer) {
	fmt.Fprintf(w, "Handoff bench, %s\n", rep.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %d CPUs (%s), %d MiB, %s, %s\n", rep.Machine.CPUs, rep.Machine.CPUModel,
		rep.Machine.MemoryMB, rep.Machine.Kernel, rep.Machine.Go)
	for _, s := range rep.Settings {
		fmt.Fprintln(w, "setting:", s)
	}
	for _, res := range rep.Results {
		fmt.Fprintf(w, "\n== %s (%s)\n", res.Part, res.Took.Round(time.Second))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "figure\tvalue\tunit\ttarget\t\tnote")
		for _, f := range res.Figures {
			verdict := ""
			if f.Met != nil {
				verdict = "MET"
				if !*f.Met {
					verdict = "MISSED"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, format(f.Value), f.Unit, f.Target, verdict, f.Note)
		}
		_ = tw.Flush()
		for _, u := range res.Usage {
			fmt.Fprintf(w, "  %-7s cpu %5.1f%% of one core (avg), rss avg %.0f MiB, peak %.0f MiB\n",
				u.Process, u.CPUPercent, u.RSSAvgMB, u.RSSPeakMB)
		}
		for _, p := range res.Plans {
			fmt.Fprintln(w, indent(p, "  | "))
		}
	}
}

func format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v == math.Trunc(v) && math.Abs(v) < 1e12:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func indent(text, prefix string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// Save writes the report as JSON under dir, named by its start time, and
// answers the file's path.
func (rep Report) Save(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench results: %w", err)
	}
	path := filepath.Join(dir, rep.Started.UTC().Format("20060102T150405Z")+".json")
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode bench results: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// Select answers the parts opts names, in the order of all; an unknown name
// is an error.
func Select(all []Part, names []string) ([]Part, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []Part
	for _, n := range names {
		i := slices.IndexFunc(all, func(p Part) bool { return p.Name == n })
		if i < 0 {
			known := make([]string, len(all))
			for j, p := range all {
				known[j] = p.Name
			}
			sort.Strings(known)
			return nil, fmt.Errorf("unknown part %q (want %s)", n, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	slices.SortFunc(out, func(a, b Part) int {
		return slices.IndexFunc(all, func(p Part) bool { return p.Name == a.Name }) -
			slices.IndexFunc(all, func(p Part) bool { return p.Name == b.Name })
	})
	return out, nil
}
