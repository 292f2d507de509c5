package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Scrape is one reading of a Prometheus text endpoint: every sample by its
// full name with labels ("x_total{op=\"a\"}"), and every metric summed over
// its labels by its bare name.
type Scrape struct {
	Samples map[string]float64
	Sums    map[string]float64
}

// scrape reads a /metrics URL; an empty URL answers an empty reading.
func scrape(ctx context.Context, url string) (Scrape, error) {
	out := Scrape{Samples: map[string]float64{}, Sums: map[string]float64{}}
	if url == "" {
		return out, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return out, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		key := line[:i]
		out.Samples[key] += v
		name := key
		if j := strings.IndexByte(key, '{'); j >= 0 {
			name = key[:j]
		}
		out.Sums[name] += v
	}
	return out, sc.Err()
}

// delta answers after minus before of a bare metric name.
func delta(before, after Scrape, name string) float64 {
	return after.Sums[name] - before.Sums[name]
}

// deltaWith answers after minus before summed over the samples of name
// whose labels contain every one of labels (`operation="QueryWorkflow"`).
func deltaWith(before, after Scrape, name string, labels ...string) float64 {
	sum := func(s Scrape) float64 {
		total := 0.0
		for k, v := range s.Samples {
			if !strings.HasPrefix(k, name+"{") {
				continue
			}
			ok := true
			for _, l := range labels {
				if !strings.Contains(k, l) {
					ok = false
				}
			}
			if ok {
				total += v
			}
		}
		return total
	}
	return sum(after) - sum(before)
}
