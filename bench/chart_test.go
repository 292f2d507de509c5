package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scalingReport(shards, workers, concurrency int, figures ...Figure) Report {
	return Report{
		Settings: []string{"engine: Temporal Server 1.30.4 on postgres12 (visibility postgres12), " + strconv.Itoa(shards) + " history shards"},
		Options:  Options{Workers: workers, Concurrency: concurrency},
		Results:  []Result{{Part: "x", Figures: figures}},
	}
}

func TestScalingSortsFiguresByShardsWorkersAndClients(t *testing.T) {
	reports := []Report{
		scalingReport(4, 1, 4, Figure{Name: "state transitions per second / bare", Value: 0.5}),
		scalingReport(16, 2, 16, Figure{Name: "state transitions per second / bare", Value: 0.6}),
		scalingReport(16, 1, 4, Figure{Name: "state transitions per second / bare", Value: 0.4},
			Figure{Name: "p99 reply / bare update", Value: 1.4}),
		scalingReport(16, 1, 4, Figure{Name: "state transitions per second / bare", Value: 0.46}),
		scalingReport(16, 1, 16, Figure{Name: "N=1000 p99 lateness", Value: 48000},
			Figure{Name: "N=1000 bare timers: p99 lateness", Value: 30000}, Figure{Name: "p99 reply / bare update", Value: math.NaN()}),
	}
	sc, err := CollectScaling(reports, ScalingPanels)
	require.NoError(t, err)
	assert.Equal(t, []Config{{16, 1}, {16, 2}, {4, 1}}, sc.Configs)
	assert.Equal(t, []float64{0.4, 0.46}, sc.Runs[0].Values[Config{16, 1}])
	assert.Equal(t, []float64{0.5}, sc.Runs[0].Values[Config{4, 1}])
	assert.Empty(t, sc.Runs[0].Values[Config{16, 2}], "a 16-client run is not a 4-client figure")
	assert.Equal(t, []float64{0.6}, sc.Runs[1].Values[Config{16, 2}])
	assert.Equal(t, []float64{1.4}, sc.Runs[2].Values[Config{16, 1}], "NaN is left out")
	assert.Equal(t, []float64{48}, sc.Runs[3].Values[Config{16, 1}])
	assert.Equal(t, []float64{30}, sc.Runs[3].Baseline[Config{16, 1}])

	var table bytes.Buffer
	sc.Table(&table)
	assert.Contains(t, table.String(), "| state transitions/s ÷ bare, 4 clients | **0.43** (0.40, 0.46) | – | **0.50** (0.50) |")
	assert.Contains(t, table.String(), "| bare, same run (s) | **30.00** (30.00) | – | – |")

	var svg bytes.Buffer
	sc.SVG(&svg)
	dec := xml.NewDecoder(&svg)
	bars, dots := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the chart is well-formed XML")
		if el, ok := tok.(xml.StartElement); ok {
			switch el.Name.Local {
			case "rect":
				bars++
			case "circle":
				dots++
			}
		}
	}
	// 6 medians, 2 legend boxes and the background; 7 runs.
	assert.Equal(t, 6+2+1, bars)
	assert.Equal(t, 7, dots)
}

func TestAReportWithoutShardsIsRefused(t *testing.T) {
	_, err := CollectScaling([]Report{{Settings: []string{"engine: elsewhere"}}}, ScalingPanels)
	assert.ErrorContains(t, err, "no history shard count")
}

func TestMedianAndNiceCeil(t *testing.T) {
	assert.Equal(t, 2.0, Median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, Median([]float64{4, 1, 2, 3}))
	assert.True(t, math.IsNaN(Median(nil)))
	assert.Equal(t, 1.0, niceCeil(0.8))
	assert.Equal(t, 50.0, niceCeil(41))
	assert.Equal(t, 2.5, niceCeil(2.1))
}
