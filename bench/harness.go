package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Ports of the API and worker under test, apart from a `make run` stack's.
const (
	apiAddr           = "127.0.0.1:18080"
	workerMetricsAddr = "127.0.0.1:19090"
)

// processes runs the API and worker under test: the binaries `make build`
// made, with the stack's configuration and the bench's overrides.
type processes struct {
	root   string
	logDir string
	base   map[string]string
	api    *exec.Cmd
	worker *exec.Cmd
}

func (p *processes) environ(extra map[string]string) []string {
	env := os.Environ()
	for _, m := range []map[string]string{p.base, extra} {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// start launches both processes with extra on top of the base overrides
// and waits until both are ready.
func (p *processes) start(ctx context.Context, extra map[string]string) error {
	if err := os.MkdirAll(p.logDir, 0o755); err != nil {
		return fmt.Errorf("bench logs: %w", err)
	}
	launch := func(name string) (*exec.Cmd, error) {
		bin := filepath.Join(p.root, "bin", name)
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%s: %w (run make build first)", bin, err)
		}
		logPath := filepath.Join(p.logDir, name+".log")
		log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", logPath, err)
		}
		cmd := exec.Command(bin)
		cmd.Dir = p.root
		cmd.Env = p.environ(extra)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		return cmd, nil
	}
	var err error
	if p.worker, err = launch("handoff-worker"); err != nil {
		return err
	}
	if p.api, err = launch("handoff-api"); err != nil {
		p.stop()
		return err
	}
	for _, u := range []string{"http://" + workerMetricsAddr + "/readyz", "http://" + apiAddr + "/readyz"} {
		if err := awaitReady(ctx, u, 60*time.Second); err != nil {
			p.stop()
			return fmt.Errorf("%w (logs in %s)", err, p.logDir)
		}
	}
	return nil
}

// stop ends both processes gracefully, then for good.
func (p *processes) stop() {
	for _, cmd := range []*exec.Cmd{p.api, p.worker} {
		if cmd == nil || cmd.Process == nil {
			continue
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
	p.api, p.worker = nil, nil
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

// Launch starts the API and worker under test on a task queue of their own
// with the bench's SLA policy, and fills env with them; the answered stop
// ends them.
func Launch(ctx context.Context, env *Env, root string) (stop func(), err error) {
	policy, err := writePolicy(filepath.Join(root, ".dev", "bench"), "policy.yaml", standardPolicy())
	if err != nil {
		return nil, err
	}
	env.PolicyFile = policy
	env.TaskQueue = "handoff-bench-" + time.Now().UTC().Format("150405")
	env.API = "http://" + apiAddr
	env.APIMetrics = env.API + "/metrics"
	env.WorkerMetrics = "http://" + workerMetricsAddr + "/metrics"
	p := &processes{root: root, logDir: filepath.Join(root, ".dev", "bench", "logs"), base: map[string]string{
		"HTTP_ADDR": apiAddr, "WORKER_METRICS_ADDR": workerMetricsAddr, "HANDOFF_TASK_QUEUE": env.TaskQueue,
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
		env.WorkerProc = &Proc{Name: "worker", PID: p.worker.Process.Pid}
	}
	track()
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
