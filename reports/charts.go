package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"handoff/store"
)

// Every chart is an SVG of one size, drawn with gonum.org/v1/plot, without
// embedded fonts (a viewer draws the text in its own sans-serif): a few
// kilobytes that a browser shows as they are.
const (
	chartWidth  = 8 * vg.Inch
	chartHeight = 4 * vg.Inch
	barWidth    = 14 // points
	// groupedWidth is a bar beside others: four fit in a week of twelve.
	groupedWidth = 8
)

// SLAComplianceChart draws the compliance of each week, in percent.
func SLAComplianceChart(rows []store.SLARow) ([]byte, error) {
	p := newPlot("SLA compliance by week", "week opened (Monday, UTC)", "compliance (%)")
	var weeks []string
	var xys plotter.XYs
	for _, r := range rows {
		if r.By == store.SLAByWeek {
			xys = append(xys, plotter.XY{X: float64(len(weeks)), Y: r.CompliancePct})
			weeks = append(weeks, weekLabel(r.Key))
		}
	}
	if len(weeks) == 0 {
		return emptyChart(p)
	}
	if err := addLine(p, "cases without a breach (%)", xys, 0); err != nil {
		return nil, err
	}
	frame(p, len(weeks), 100)
	// A share: the axis ends at 100 %, the legend sits below the line.
	p.Y.Max = 100
	p.Legend.Top = false
	p.NominalX(weeks...)
	return render(p)
}

// ResponseTimesChart draws the p50 and p90 of the first response and the
// resolution of each week, in hours; a week without the time has no point.
func ResponseTimesChart(rows []store.ResponseTimeRow) ([]byte, error) {
	p := newPlot("First response and resolution times by week", "week opened (Monday, UTC)", "hours")
	if len(rows) == 0 {
		return emptyChart(p)
	}
	series := []struct {
		name string
		of   func(store.ResponseTimeRow) *float64
	}{
		{"first response p50", func(r store.ResponseTimeRow) *float64 { return r.FirstResponseP50 }},
		{"first response p90", func(r store.ResponseTimeRow) *float64 { return r.FirstResponseP90 }},
		{"resolution p50", func(r store.ResponseTimeRow) *float64 { return r.ResolutionP50 }},
		{"resolution p90", func(r store.ResponseTimeRow) *float64 { return r.ResolutionP90 }},
	}
	weeks := make([]string, len(rows))
	for i, r := range rows {
		weeks[i] = weekLabel(r.Week.Format(time.DateOnly))
	}
	top := 0.0
	for n, s := range series {
		var xys plotter.XYs
		for i, r := range rows {
			if v := s.of(r); v != nil {
				xys = append(xys, plotter.XY{X: float64(i), Y: *v / 60})
			}
		}
		if len(xys) == 0 {
			continue
		}
		if err := addLine(p, s.name, xys, n); err != nil {
			return nil, err
		}
		top = max(top, maxY(xys))
	}
	frame(p, len(weeks), top)
	p.NominalX(weeks...)
	return render(p)
}

// BacklogChart draws the open cases of each status, stacked by age.
func BacklogChart(rows []store.BacklogRow) ([]byte, error) {
	p := newPlot("Backlog by status and age", "status", "open cases")
	var statuses []string
	for _, r := range rows {
		if !slices.Contains(statuses, r.Status) {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) == 0 {
		return emptyChart(p)
	}
	stacks := make([][]float64, len(store.AgeBuckets))
	for i := range stacks {
		stacks[i] = make([]float64, len(statuses))
	}
	for _, r := range rows {
		if a := slices.Index(store.AgeBuckets, r.Age); a >= 0 {
			stacks[a][slices.Index(statuses, r.Status)] += float64(r.Cases)
		}
	}
	names := []string{"under 1 day", "1 to 3 days", "3 to 7 days", "over 7 days"}
	if err := addStacked(p, names, stacks); err != nil {
		return nil, err
	}
	p.NominalX(statuses...)
	return render(p)
}

// EscalationsChart draws the escalations reaching each level, by hand and
// by SLA breach stacked.
func EscalationsChart(rows []store.EscalationRow) ([]byte, error) {
	p := newPlot("Escalations by level", "level reached", "escalations")
	if len(rows) == 0 {
		return emptyChart(p)
	}
	var levels []int
	for _, r := range rows {
		if !slices.Contains(levels, r.Level) {
			levels = append(levels, r.Level)
		}
	}
	slices.Sort(levels)
	kinds := []string{store.EscalationByHand, store.EscalationSLABreach}
	stacks := [][]float64{make([]float64, len(levels)), make([]float64, len(levels))}
	for _, r := range rows {
		if k := slices.Index(kinds, r.Kind); k >= 0 {
			stacks[k][slices.Index(levels, r.Level)] += float64(r.Count)
		}
	}
	if err := addStacked(p, []string{"escalated", "SLA breach"}, stacks); err != nil {
		return nil, err
	}
	labels := make([]string, len(levels))
	for i, l := range levels {
		labels[i] = levelLabel(l)
	}
	p.NominalX(labels...)
	return render(p)
}

// CSATChart draws how many answers gave each rating.
func CSATChart(r store.CSATReport) ([]byte, error) {
	title := "CSAT distribution"
	if r.Average != nil {
		title += " (average " + ftoa(*r.Average) + ")"
	}
	p := newPlot(title, "rating", "answers")
	if r.Rated == 0 {
		return emptyChart(p)
	}
	counts := make([]float64, len(r.Distribution))
	labels := make([]string, len(r.Distribution))
	for i, d := range r.Distribution {
		counts[i], labels[i] = float64(d.Cases), strconv.Itoa(d.Rating)
	}
	if err := addStacked(p, []string{"answers"}, [][]float64{counts}); err != nil {
		return nil, err
	}
	p.NominalX(labels...)
	return render(p)
}

// SecurityChart draws each week's locks, unlocks and recoveries side by side.
func SecurityChart(rows []store.SecurityRow) ([]byte, error) {
	p := newPlot("Security locks and recoveries by week", "week (Monday, UTC)", "events")
	if len(rows) == 0 {
		return emptyChart(p)
	}
	series := [][]float64{
		make([]float64, len(rows)), make([]float64, len(rows)),
		make([]float64, len(rows)), make([]float64, len(rows)),
	}
	weeks := make([]string, len(rows))
	for i, r := range rows {
		weeks[i] = weekLabel(r.Week.Format(time.DateOnly))
		series[0][i], series[1][i] = float64(r.Locks), float64(r.Unlocks)
		series[2][i], series[3][i] = float64(r.RecoveriesCompleted), float64(r.RecoveriesExpired+r.RecoveriesLocked)
	}
	if err := addGrouped(p, []string{"locks", "unlocks", "recoveries completed", "recoveries expired or locked"}, series); err != nil {
		return nil, err
	}
	p.NominalX(weeks...)
	return render(p)
}

// DeliveriesChart draws the share of each week's deliveries whose buyer
// reported a problem.
func DeliveriesChart(r store.DeliveryStats) ([]byte, error) {
	p := newPlot("Delivery problem rate by week", "week started (Monday, UTC)", "deliveries with a problem (%)")
	if len(r.ByWeek) == 0 {
		return emptyChart(p)
	}
	xys := make(plotter.XYs, len(r.ByWeek))
	weeks := make([]string, len(r.ByWeek))
	for i, w := range r.ByWeek {
		xys[i] = plotter.XY{X: float64(i), Y: w.ProblemRatePct}
		weeks[i] = weekLabel(w.Week.Format(time.DateOnly))
	}
	if err := addLine(p, "problem rate (%)", xys, 0); err != nil {
		return nil, err
	}
	frame(p, len(weeks), maxY(xys))
	p.NominalX(weeks...)
	return render(p)
}

// DisputesChart draws how many disputes ended in each outcome.
func DisputesChart(rows []store.DisputeRow) ([]byte, error) {
	p := newPlot("Disputes by outcome", "latest decision", "disputes")
	var counts []float64
	var outcomes []string
	for _, r := range rows {
		if r.Outcome != store.DisputesAll {
			counts, outcomes = append(counts, float64(r.Disputes)), append(outcomes, r.Outcome)
		}
	}
	if len(outcomes) == 0 {
		return emptyChart(p)
	}
	if err := addStacked(p, []string{"disputes"}, [][]float64{counts}); err != nil {
		return nil, err
	}
	p.NominalX(outcomes...)
	return render(p)
}

// recurringChartIssues is how many issues the recurring-issues chart
// draws: more bars than this no longer have room for their labels.
const recurringChartIssues = 15

// RecurringIssuesChart draws the largest issues as horizontal bars, the
// largest on top, cues in their own color so the next FAQ stands out.
func RecurringIssuesChart(issues []store.RecurringIssue) ([]byte, error) {
	p := newPlot("Recurring issues", "cases", "")
	if len(issues) == 0 {
		return emptyChart(p)
	}
	issues = issues[:min(len(issues), recurringChartIssues)]
	n := len(issues)
	// The bottom bar is the last issue: y runs upwards.
	cues, others := make(plotter.Values, n), make(plotter.Values, n)
	labels := make([]string, n)
	top := 0.0
	for i, is := range issues {
		y := n - 1 - i
		if is.Cue {
			cues[y] = float64(is.Cases)
		} else {
			others[y] = float64(is.Cases)
		}
		labels[y] = issueLabel(is)
		top = max(top, float64(is.Cases))
	}
	for k, series := range []struct {
		name   string
		values plotter.Values
	}{{"answered or too few", others}, {"cue: no article yet", cues}} {
		bars, err := plotter.NewBarChart(series.values, vg.Points(barWidth))
		if err != nil {
			return nil, fmt.Errorf("draw %s: %w", series.name, err)
		}
		bars.Horizontal = true
		// The cues take the warning color: they are the FAQs to write.
		bars.Color, bars.LineStyle.Width = cueColors[k], 0
		p.Add(bars)
		p.Legend.Add(series.name, bars)
	}
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	p.X.Min, p.X.Max = 0, top*1.3
	p.Y.Tick.Label.Font.Size = vg.Points(7)
	p.NominalY(labels...)
	return render(p)
}

// issueLabel is an issue's subject, cut to fit beside its bar.
func issueLabel(is store.RecurringIssue) string {
	const most = 38
	r := []rune(is.Subject)
	if len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return string(r)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Add(plotter.NewGrid())
	return p
}

// emptyChart draws p's title and axes around a note that the period has
// nothing to show.
func emptyChart(p *plot.Plot) ([]byte, error) {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 0.5, Y: 0.5}}, Labels: []string{"no data in this period"}})
	if err != nil {
		return nil, fmt.Errorf("draw an empty chart: %w", err)
	}
	p.Add(l)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.HideAxes()
	return render(p)
}

// cueColors paint recurring issues: grey where an article answers them
// (or too few cases ask), orange where they are a cue.
var cueColors = [2]color.Color{color.RGBA{R: 0x9a, G: 0xa4, B: 0xad, A: 0xff}, color.RGBA{R: 0xe8, G: 0x6a, B: 0x1c, A: 0xff}}

// addLine adds a line with points, in the n-th color, named in the legend.
func addLine(p *plot.Plot, name string, xys plotter.XYs, n int) error {
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("draw %s: %w", name, err)
	}
	line.Color, points.Color = plotutil.Color(n), plotutil.Color(n)
	points.Shape = draw.CircleGlyph{}
	p.Add(line, points)
	p.Legend.Add(name, line, points)
	return nil
}

// addStacked adds one bar per x, each series stacked on the one before,
// and frames p around them.
func addStacked(p *plot.Plot, names []string, series [][]float64) error {
	var below *plotter.BarChart
	for i, values := range series {
		bars, err := plotter.NewBarChart(plotter.Values(values), vg.Points(barWidth*2))
		if err != nil {
			return fmt.Errorf("draw %s: %w", names[i], err)
		}
		bars.Color, bars.LineStyle.Width = plotutil.Color(i), 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		if len(series) > 1 {
			p.Legend.Add(names[i], bars)
		}
	}
	top := 0.0
	for x := range series[0] {
		sum := 0.0
		for _, values := range series {
			sum += values[x]
		}
		top = max(top, sum)
	}
	frame(p, len(series[0]), top)
	return nil
}

// addGrouped adds the series' bars side by side around each x, and
// frames p around them.
func addGrouped(p *plot.Plot, names []string, series [][]float64) error {
	for i, values := range series {
		bars, err := plotter.NewBarChart(plotter.Values(values), vg.Points(groupedWidth))
		if err != nil {
			return fmt.Errorf("draw %s: %w", names[i], err)
		}
		bars.Color, bars.LineStyle.Width = plotutil.Color(i), 0
		bars.Offset = vg.Points(groupedWidth * (float64(i) - float64(len(series)-1)/2))
		p.Add(bars)
		p.Legend.Add(names[i], bars)
	}
	top := 0.0
	for _, values := range series {
		for _, v := range values {
			top = max(top, v)
		}
	}
	frame(p, len(series[0]), top)
	return nil
}

// frame fits p to n nominal x values, each given half a step on either
// side, and to y values up to ymax, with room above them for the legend.
func frame(p *plot.Plot, n int, ymax float64) {
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	if ymax <= 0 {
		ymax = 1
	}
	p.Y.Min, p.Y.Max = 0, ymax*1.3
}

// maxY answers the largest y of xys.
func maxY(xys plotter.XYs) float64 {
	m := 0.0
	for _, xy := range xys {
		m = max(m, xy.Y)
	}
	return m
}

// render writes p as SVG.
func render(p *plot.Plot) ([]byte, error) {
	p.BackgroundColor = color.White
	w, err := p.WriterTo(chartWidth, chartHeight, "svg")
	if err != nil {
		return nil, fmt.Errorf("render chart %q: %w", p.Title.Text, err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render chart %q: %w", p.Title.Text, err)
	}
	return b.Bytes(), nil
}

// weekLabel shortens a week's Monday, 2006-01-02, to "Jan 2".
func weekLabel(monday string) string {
	t, err := time.Parse(time.DateOnly, monday)
	if err != nil {
		return monday
	}
	return t.Format("Jan 2")
}

func levelLabel(l int) string {
	switch l {
	case 0:
		return "0 agent"
	case 1:
		return "1 team lead"
	case 2:
		return "2 support manager"
	case -1:
		return "unknown"
	}
	return strconv.Itoa(l)
}
