package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proc is a process under test, watched through /proc.
type Proc struct {
	Name string
	PID  int
}

// Usage is a process's CPU and memory over a part.
type Usage struct {
	Process string `json:"process"`
	// CPUPercent is CPU time over wall time, 100 for one busy core.
	CPUPercent float64 `json:"cpu_percent"`
	RSSAvgMB   float64 `json:"rss_avg_mb"`
	RSSPeakMB  float64 `json:"rss_peak_mb"`
}

// clockTicks is the kernel's USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// cpuTicks answers the process's user plus system time in clock ticks.
func (p *Proc) cpuTicks() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which ends at the last ')'.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", p.PID)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", p.PID)
	}
	return utime + stime, nil
}

// RSS answers the process's resident memory in bytes.
func (p *Proc) RSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: %w", p.PID, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", p.PID)
}

// Watch samples procs every interval until the answered stop is called,
// which answers their usage over the whole watch.
func Watch(ctx context.Context, interval time.Duration, procs ...*Proc) (stop func() []Usage) {
	type acc struct {
		startTicks int64
		sum, peak  int64
		n          int64
	}
	accs := make([]acc, len(procs))
	for i, p := range procs {
		if p != nil {
			accs[i].startTicks, _ = p.cpuTicks()
		}
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	sample := func() {
		mu.Lock()
		defer mu.Unlock()
		for i, p := range procs {
			if p == nil {
				continue
			}
			if rss, err := p.RSS(); err == nil {
				accs[i].sum += rss
				accs[i].n++
				accs[i].peak = max(accs[i].peak, rss)
			}
		}
	}
	sample()
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() []Usage {
		cancel()
		wg.Wait()
		sample()
		wall := time.Since(start).Seconds()
		var out []Usage
		for i, p := range procs {
			if p == nil {
				continue
			}
			end, err := p.cpuTicks()
			u := Usage{Process: p.Name, RSSPeakMB: float64(accs[i].peak) / (1 << 20), CPUPercent: math.NaN()}
			if accs[i].n > 0 {
				u.RSSAvgMB = float64(accs[i].sum) / float64(accs[i].n) / (1 << 20)
			}
			if err == nil && end >= accs[i].startTicks && wall > 0 {
				u.CPUPercent = float64(end-accs[i].startTicks) / clockTicks / wall * 100
			}
			out = append(out, u)
		}
		return out
	}
}

// MarshalJSON writes a CPU share that could not be read as null.
func (u Usage) MarshalJSON() ([]byte, error) {
	type plain Usage
	out := struct {
		plain
		CPUPercent *float64 `json:"cpu_percent"`
	}{plain: plain(u)}
	out.CPUPercent = jsonNumber(u.CPUPercent)
	return json.Marshal(out)
}
