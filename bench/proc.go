package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proc is a process under test, watched through /proc; the one with PID 0
// (MachineProc) stands for the whole machine.
type Proc struct {
	Name string
	PID  int
}

// Machine answers the Proc of the whole machine: its CPU is every core's
// busy time (200% with two cores busy), its RSS the memory in use
// (MemTotal less MemAvailable).
func MachineProc() *Proc { return &Proc{Name: "machine"} }

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
	if p.PID == 0 {
		return machineBusyTicks()
	}
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
	if p.PID == 0 {
		return machineUsedMemory()
	}
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

// machineBusyTicks answers the time every core spent outside idle and
// iowait since boot, in clock ticks, from /proc/stat's first line.
func machineBusyTicks() (int64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: no cpu line")
	}
	var busy int64
	// user nice system idle iowait irq softirq steal ...
	for i, f := range fields[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += v
	}
	return busy, nil
}

// machineUsedMemory answers MemTotal less MemAvailable, in bytes.
func machineUsedMemory() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	var total, avail int64
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "MemTotal":
			total = kb
		case "MemAvailable":
			avail = kb
		}
	}
	if total == 0 {
		return 0, fmt.Errorf("/proc/meminfo: no MemTotal")
	}
	return (total - avail) << 10, nil
}

// EngineProcs answers the Temporal processes the local stack started under
// root (the dev server, or the cluster's one or four processes), from their
// pid files; none when the engine runs elsewhere.
func EngineProcs(root string) []*Proc {
	var out []*Proc
	for _, name := range []string{"temporal", "temporal-server", "temporal-history", "temporal-matching", "temporal-frontend", "temporal-worker"} {
		data, err := os.ReadFile(filepath.Join(root, ".dev", "run", name+".pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		p := &Proc{Name: name, PID: pid}
		if _, err := p.cpuTicks(); err == nil {
			out = append(out, p)
		}
	}
	return out
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
