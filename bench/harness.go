package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ports of the API and worker under test, apart from a `make run` stack's;
// the second worker serves its metrics on the next port, and so on.
const (
	apiAddr           = "127.0.0.1:18080"
	workerMetricsHost = "127.0.0.1"
	workerMetricsPort = 19090
)

// workerMetricsAddrs answers where each of n workers serves its metrics:
// 19090, 19091, ... (one for n below 1).
func workerMetricsAddrs(n int) []string {
	out := make([]string, max(n, 1))
	for i := range out {
		out[i] = workerMetricsHost + ":" + strconv.Itoa(workerMetricsPort+i)
	}
	return out
}

// workerName answers the name of worker i of n in logs and usage lines:
// "worker" alone, "worker1" to "workerN" among several.
func workerName(i, n int) string {
	if n <= 1 {
		return "worker"
	}
	return "worker" + strconv.Itoa(i+1)
}

// processes runs the API and workers under test: the binaries `make build`
// made, with the stack's configuration and the bench's overrides.
type processes struct {
	root   string
	logDir string
	base   map[string]string
	// metricsAddrs has one WORKER_METRICS_ADDR per worker, all on one queue.
	metricsAddrs []string
	api          *exec.Cmd
	workers      []*exec.Cmd
}

func (p *processes) environ(extra ...map[string]string) []string {
	env := os.Environ()
	for _, m := range append([]map[string]string{p.base}, extra...) {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// start launches the API and every worker with extra on top of the base
// overrides and waits until all are ready.
func (p *processes) start(ctx context.Context, extra map[string]string) error {
	if err := os.MkdirAll(p.logDir, 0o755); err != nil {
		return fmt.Errorf("bench logs: %w", err)
	}
	// own is on top of extra: a worker's metrics port is its own.
	launch := func(name, logName string, own map[string]string) (*exec.Cmd, error) {
		bin := filepath.Join(p.root, "bin", name)
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%s: %w (run make build first)", bin, err)
		}
		logPath := filepath.Join(p.logDir, logName+".log")
		log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", logPath, err)
		}
		cmd := exec.Command(bin)
		cmd.Dir = p.root
		cmd.Env = p.environ(extra, own)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		return cmd, nil
	}
	n := len(p.metricsAddrs)
	var ready []string
	for i, addr := range p.metricsAddrs {
		logName := "handoff-worker"
		if n > 1 {
			logName = "handoff-" + workerName(i, n)
		}
		cmd, err := launch("handoff-worker", logName, map[string]string{"WORKER_METRICS_ADDR": addr})
		if err != nil {
			p.stop()
			return err
		}
		p.workers = append(p.workers, cmd)
		ready = append(ready, "http://"+addr+"/readyz")
	}
	var err error
	if p.api, err = launch("handoff-api", "handoff-api", nil); err != nil {
		p.stop()
		return err
	}
	for _, u := range append(ready, "http://"+apiAddr+"/readyz") {
		if err := awaitReady(ctx, u, 60*time.Second); err != nil {
			p.stop()
			return fmt.Errorf("%w (logs in %s)", err, p.logDir)
		}
	}
	return nil
}

// stop ends the API, then every worker at once, gracefully, then for good.
func (p *processes) stop() {
	end(p.api)
	var wg sync.WaitGroup
	for _, cmd := range p.workers {
		wg.Go(func() { end(cmd) })
	}
	wg.Wait()
	p.api, p.workers = nil, nil
}

// end stops cmd with SIGTERM, and kills its process group when it has not
// exited 20 s later.
func end(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func awaitReady(ctx context.Context, url string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s: %w", url, within, errors.Join(ctx.Err(), err))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Launch starts the API and workers (workers of them, at least one) under
// test on a task queue of their own with the bench's SLA policy, and fills
// env with them; the answered stop ends them.
func Launch(ctx context.Context, env *Env, root string, workers int) (stop func(), err error) {
	policy, err := writePolicy(filepath.Join(root, ".dev", "bench"), "policy.yaml", standardPolicy())
	if err != nil {
		return nil, err
	}
	env.PolicyFile = policy
	env.TaskQueue = "handoff-bench-" + time.Now().UTC().Format("150405")
	env.API = "http://" + apiAddr
	env.APIMetrics = env.API + "/metrics"
	addrs := workerMetricsAddrs(workers)
	env.WorkerMetrics = "http://" + addrs[0] + "/metrics"
	p := &processes{root: root, logDir: filepath.Join(root, ".dev", "bench", "logs"), metricsAddrs: addrs, base: map[string]string{
		"HTTP_ADDR": apiAddr, "WORKER_METRICS_ADDR": addrs[0], "HANDOFF_TASK_QUEUE": env.TaskQueue,
		"SLA_POLICY_FILE": policy, "LOG_LEVEL": "warn",
		// The bench measures the engine with one key at full speed: the
		// per-key rate limit would measure itself.
		"API_RATE_PER_SECOND": "0",
		// The bench's API takes no mail: a `make run` beside it may own the port.
		"INBOUND_SMTP_ADDR": "",
		// Notifications stay on: they are part of what a case costs.
	}}
	if err := p.start(ctx, nil); err != nil {
		return nil, err
	}
	track := func() {
		env.APIProc = &Proc{Name: "api", PID: p.api.Process.Pid}
		env.WorkerProcs = make([]*Proc, len(p.workers))
		for i, cmd := range p.workers {
			env.WorkerProcs[i] = &Proc{Name: workerName(i, len(p.workers)), PID: cmd.Process.Pid}
		}
		env.WorkerProc = env.WorkerProcs[0]
	}
	track()
	// Every worker restarts with the API, with the same extra.
	env.Restart = func(ctx context.Context, extra map[string]string) error {
		p.stop()
		if err := p.start(ctx, extra); err != nil {
			return err
		}
		track()
		return nil
	}
	return p.stop, nil
}

// policyDir is where the bench writes its policy files.
func (e *Env) policyDir() string { return filepath.Dir(e.PolicyFile) }

// writePolicy writes an SLA policy file under dir and answers its path.
func writePolicy(dir, name, content string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench policy: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return "", fmt.Errorf("bench policy: %w", err)
	}
	return path, nil
}

// categoriesYAML lists every category with its default priority and team,
// as the shipped policy does.
const categoriesYAML = `categories:
  login_failure: {priority: p4, team: tier1_support}
  password_reset: {priority: p4, team: tier1_support}
  locked_account: {priority: p4, team: account_management}
  security_alert: {priority: p4, team: security}
  profile_change: {priority: p4, team: account_management}
  account_merge: {priority: p4, team: account_management}
  account_delivery_issue: {priority: p4, team: tier1_support}
  order_issue: {priority: p4, team: tier1_support}
  delivery_delay: {priority: p4, team: tier1_support}
  defective_item: {priority: p4, team: tier1_support}
  refund_request: {priority: p4, team: trust_safety}
  return_request: {priority: p4, team: tier1_support}
  dispute: {priority: p4, team: trust_safety}
  seller_onboarding: {priority: p4, team: tier1_support}
  seller_payment: {priority: p4, team: trust_safety}
  fraud_report: {priority: p4, team: trust_safety}
  general_question: {priority: p4, team: tier1_support}
`

// standardPolicy is the bench's policy: p4 targets far enough that a
// standard lifecycle never breaches, p1 targets of seconds for the breach
// lifecycle, and lifecycle windows of a second so a case ends at once. The
// delivery windows are the shipped defaults, written out so a change of
// the defaults does not change what a standard delivery measures: none of
// their deadlines falls inside it (it is retired within a second).
func standardPolicy() string {
	return `warning_threshold: 0.5
lifecycle:
  auto_close_after_waiting: 1m
  reopen_window: 1s
  csat_window: 2s
deliveries:
  confirmation_window: 72h
  warranty: 336h
  warranty_notice: 48h
returns:
  inspect_within: 48h
disputes:
  respond_business_days: 3
  appeal_window: 2s
calendars:
  24x7: {time_zone: UTC, always_open: true}
` + categoriesYAML + `policies:
  - {priority: p1, calendar: 24x7, first_response: 2s, next_response: 2s, resolution: 1h}
  - {priority: p2, calendar: 24x7, first_response: 1h, next_response: 1h, resolution: 8h}
  - {priority: p3, calendar: 24x7, first_response: 1h, next_response: 1h, resolution: 8h}
  - {priority: p4, calendar: 24x7, first_response: 1h, next_response: 1h, resolution: 8h}
`
}

// latenessTarget is the first-response target of the lateness part's cases.
const latenessTarget = 5 * time.Second

// simultaneousPolicy makes every p4 case opened before opensAt due at
// opensAt+latenessTarget: its calendar opens at opensAt (a whole UTC
// minute) and the first response target is that much business time.
func simultaneousPolicy(opensAt time.Time) string {
	day := strings.ToLower(opensAt.UTC().Weekday().String()[:3])
	return fmt.Sprintf(`warning_threshold: 0.99
lifecycle:
  auto_close_after_waiting: 1m
  reopen_window: 1s
  csat_window: 1s
calendars:
  24x7: {time_zone: UTC, always_open: true}
  burst:
    time_zone: UTC
    hours:
      %s: ["%s-24:00"]
`, day, opensAt.UTC().Format("15:04")) + categoriesYAML + `policies:
  - {priority: p1, calendar: 24x7, first_response: 1h, next_response: 1h, resolution: 8h}
  - {priority: p2, calendar: 24x7, first_response: 1h, next_response: 1h, resolution: 8h}
  - {priority: p3, calendar: 24x7, first_response: 1h, next_response: 1h, resolution: 8h}
  - {priority: p4, calendar: burst, first_response: ` + latenessTarget.String() + `, next_response: 1h, resolution: 2h}
`
}
