package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Panel is one figure of the scaling chart, drawn for every configuration.
type Panel struct {
	Title string
	// Figure is the figure's name in the reports; Concurrency, when not
	// zero, keeps only the reports run with that many clients.
	Figure      string
	Concurrency int
	// Baseline, when set, is a second figure drawn beside Figure (the bare
	// engine's value of the same run).
	Baseline string
	// Scale multiplies the values (0.001 draws milliseconds as seconds).
	Scale float64
	// Target draws the bound as a dashed line; 0 for none.
	Target float64
	Unit   string
}

// ScalingPanels are the figures the issue asks to see against shards and
// worker processes.
var ScalingPanels = []Panel{
	{Title: "state transitions/s ÷ bare, 4 clients", Figure: "state transitions per second / bare", Concurrency: 4, Scale: 1, Target: 0.7},
	{Title: "state transitions/s ÷ bare, 16 clients", Figure: "state transitions per second / bare", Concurrency: 16, Scale: 1, Target: 0.7},
	{Title: "reply p99 ÷ bare update p99", Figure: "p99 reply / bare update", Scale: 1, Target: 1.5},
	{Title: "1,000 deadlines at once: p99 lateness", Figure: "N=1000 p99 lateness", Baseline: "N=1000 bare timers: p99 lateness",
		Scale: 0.001, Unit: "s"},
}

// Config is a shape of the engine and the worker: history shards and
// worker processes.
type Config struct{ Shards, Workers int }

func (c Config) String() string {
	return fmt.Sprintf("%d shards, %d worker%s", c.Shards, c.Workers, plural(c.Workers))
}

// Runs holds the values of one panel's figure (and baseline) per
// configuration, one value per report that measured it.
type Runs struct {
	Values, Baseline map[Config][]float64
}

// Scaling is every panel's runs over a set of reports.
type Scaling struct {
	Configs []Config
	Panels  []Panel
	Runs    []Runs
}

var shardsSetting = regexp.MustCompile(`(\d+) history shards?`)

// configOf answers the shards (from the report's engine setting) and the
// worker processes of a report.
func configOf(rep Report) (Config, bool) {
	for _, s := range rep.Settings {
		if m := shardsSetting.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			return Config{Shards: n, Workers: max(rep.Options.Workers, 1)}, true
		}
	}
	return Config{}, false
}

// ReadReports reads the JSON reports at paths.
func ReadReports(paths []string) ([]Report, error) {
	out := make([]Report, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read report: %w", err)
		}
		var rep Report
		if err := json.Unmarshal(data, &rep); err != nil {
			return nil, fmt.Errorf("decode report %s: %w", p, err)
		}
		out = append(out, rep)
	}
	return out, nil
}

// CollectScaling sorts the panels' figures out of reports by configuration;
// a report without a shard count in its settings is an error.
func CollectScaling(reports []Report, panels []Panel) (Scaling, error) {
	sc := Scaling{Panels: panels, Runs: make([]Runs, len(panels))}
	for i := range sc.Runs {
		sc.Runs[i] = Runs{Values: map[Config][]float64{}, Baseline: map[Config][]float64{}}
	}
	for _, rep := range reports {
		cfg, ok := configOf(rep)
		if !ok {
			return sc, fmt.Errorf("report of %s names no history shard count", rep.Started.Format("2006-01-02 15:04:05"))
		}
		if !slices.Contains(sc.Configs, cfg) {
			sc.Configs = append(sc.Configs, cfg)
		}
		for i, p := range panels {
			if p.Concurrency != 0 && rep.Options.Concurrency != p.Concurrency {
				continue
			}
			for _, res := range rep.Results {
				for _, f := range res.Figures {
					if math.IsNaN(f.Value) {
						continue
					}
					switch f.Name {
					case p.Figure:
						sc.Runs[i].Values[cfg] = append(sc.Runs[i].Values[cfg], f.Value*p.Scale)
					case p.Baseline:
						if p.Baseline != "" {
							sc.Runs[i].Baseline[cfg] = append(sc.Runs[i].Baseline[cfg], f.Value*p.Scale)
						}
					}
				}
			}
		}
	}
	// Most shards first, then fewer workers first.
	slices.SortFunc(sc.Configs, func(a, b Config) int {
		if a.Shards != b.Shards {
			return b.Shards - a.Shards
		}
		return a.Workers - b.Workers
	})
	return sc, nil
}

// Median answers the median of vs, NaN for none.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Table writes the panels as a Markdown table: a row per panel, a column
// per configuration, each cell the median and every run's value.
func (sc Scaling) Table(w io.Writer) {
	head := []string{"figure"}
	for _, c := range sc.Configs {
		head = append(head, c.String())
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	cell := func(vs []float64) string {
		if len(vs) == 0 {
			return "–"
		}
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
		}
		return fmt.Sprintf("**%.2f** (%s)", Median(vs), strings.Join(parts, ", "))
	}
	for i, p := range sc.Panels {
		row := []string{p.Title + unitSuffix(p.Unit)}
		for _, c := range sc.Configs {
			row = append(row, cell(sc.Runs[i].Values[c]))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		if p.Baseline == "" {
			continue
		}
		row = []string{"bare, same run" + unitSuffix(p.Unit)}
		for _, c := range sc.Configs {
			row = append(row, cell(sc.Runs[i].Baseline[c]))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	return " (" + unit + ")"
}

// Chart geometry, in SVG user units.
const (
	panelW, panelH        = 440, 260
	plotLeft, plotRight   = 48, 12
	plotTop, plotBottom   = 34, 52
	chartCols             = 2
	handoffFill, bareFill = "#2f6fb0", "#b9c7d6"
)

// SVG writes the panels as a grid of bar charts: per configuration a bar at
// the median of its runs (and one for the baseline beside it) with every
// run drawn as a dot, and the target as a dashed line.
func (sc Scaling) SVG(w io.Writer) {
	rows := (len(sc.Panels) + chartCols - 1) / chartCols
	width, height := chartCols*panelW, rows*panelH+28
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	for i, p := range sc.Panels {
		x0, y0 := float64(i%chartCols*panelW), float64(i/chartCols*panelH)
		sc.panelSVG(w, p, sc.Runs[i], x0, y0)
	}
	ly := float64(rows*panelH) + 14
	fmt.Fprintf(w, `<rect x="%d" y="%.0f" width="10" height="10" fill="%s"/><text x="%d" y="%.0f">Handoff (median; dots: each run)</text>`+"\n",
		plotLeft, ly-9, handoffFill, plotLeft+14, ly)
	fmt.Fprintf(w, `<rect x="%d" y="%.0f" width="10" height="10" fill="%s"/><text x="%d" y="%.0f">bare engine, same run</text>`+"\n",
		plotLeft+220, ly-9, bareFill, plotLeft+234, ly)
	fmt.Fprintf(w, `<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#c0392b" stroke-dasharray="4 3"/><text x="%d" y="%.0f">target</text>`+"\n",
		plotLeft+400, ly-4, plotLeft+420, ly-4, plotLeft+424, ly)
	fmt.Fprintln(w, "</svg>")
}

func (sc Scaling) panelSVG(w io.Writer, p Panel, runs Runs, x0, y0 float64) {
	top := p.Target
	for _, c := range sc.Configs {
		for _, v := range append(slices.Clone(runs.Values[c]), runs.Baseline[c]...) {
			top = max(top, v)
		}
	}
	top = niceCeil(top * 1.1)
	plotW := float64(panelW - plotLeft - plotRight)
	plotH := float64(panelH - plotTop - plotBottom)
	left, base := x0+plotLeft, y0+plotTop+plotH
	y := func(v float64) float64 { return base - v/top*plotH }
	fmt.Fprintf(w, `<text x="%.0f" y="%.0f" font-size="13" font-weight="bold">%s</text>`+"\n", left, y0+20, xmlEscape(p.Title+unitSuffix(p.Unit)))
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		fmt.Fprintf(w, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e3e3e3"/>`, left, y(v), left+plotW, y(v))
		fmt.Fprintf(w, `<text x="%.0f" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", left-4, y(v)+4, tick(v))
	}
	group := plotW / float64(max(len(sc.Configs), 1))
	for j, c := range sc.Configs {
		gx := left + float64(j)*group
		series := [][]float64{runs.Values[c]}
		fills := []string{handoffFill}
		if p.Baseline != "" {
			series = append(series, runs.Baseline[c])
			fills = append(fills, bareFill)
		}
		barW := group * 0.6 / float64(len(series))
		for s, vs := range series {
			bx := gx + group*0.2 + float64(s)*barW
			if m := Median(vs); !math.IsNaN(m) {
				fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`+"\n",
					bx, y(m), barW-2, base-y(m), fills[s], xmlEscape(c.String()), tick(m))
			}
			for _, v := range vs {
				fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#222"/>`, bx+(barW-2)/2, y(v))
			}
		}
		fmt.Fprintf(w, `<text x="%.1f" y="%.0f" text-anchor="middle">%d shards</text>`, gx+group/2, base+16, c.Shards)
		fmt.Fprintf(w, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%d worker%s</text>`+"\n", gx+group/2, base+30, c.Workers, plural(c.Workers))
	}
	fmt.Fprintf(w, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#333"/>`+"\n", left, base, left+plotW, base)
	if p.Target > 0 {
		fmt.Fprintf(w, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#c0392b" stroke-dasharray="4 3"/>`+"\n", left, y(p.Target), left+plotW, y(p.Target))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// niceCeil answers the smallest of 1, 2, 2.5 or 5 times a power of ten at
// or above v (1 for none above zero).
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func tick(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
