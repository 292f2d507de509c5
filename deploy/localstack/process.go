package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout is how long a stopping part gets after its stop signal
// before it is killed.
const stopTimeout = 15 * time.Second

// command is a child process to start for a part.
type command struct {
	part partInfo
	path string
	args []string
	// env is added to the inherited environment; later entries win.
	env []string
	// dir is the working directory; empty means the repository root.
	dir string
	// credential runs the child as another user (Postgres when we are root).
	credential *syscall.Credential
}

// launcher starts children either attached to this process (`run`: they
// die with it) or detached from it (`up`: they outlive it). Either way each
// child leads its own process group, so a Ctrl-C in the terminal reaches
// only this process, which then stops the children in order.
type launcher struct {
	layout   layout
	detached bool
}

// child is a process this invocation started.
type child struct {
	part      partInfo
	cmd       *exec.Cmd
	logPath   string
	logOffset int64 // where this start's output begins in logPath
	pidPath   string
	done      chan struct{}
	err       error // what Wait answered; set before done closes
}

func (l launcher) sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	if l.detached {
		return &syscall.SysProcAttr{Setsid: true, Credential: cred}
	}
	// Pdeathsig is the safety net for a supervisor that dies without
	// stopping its children (kill -9, a crash).
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
}

// openLog opens a part's log for appending and answers its current size,
// where the new output will start.
func (l launcher) openLog(part string) (*os.File, int64, error) {
	if err := os.MkdirAll(l.layout.logDir(), 0o755); err != nil {
		return nil, 0, fmt.Errorf("create log folder: %w", err)
	}
	f, err := os.OpenFile(l.layout.logFile(part), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open log: %w", err)
	}
	return f, st.Size(), nil
}

func (l launcher) newCmd(ctx context.Context, c command, out *os.File) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.path, c.args...)
	cmd.Dir = c.dir
	if cmd.Dir == "" {
		cmd.Dir = l.layout.root
	}
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = l.sysProcAttr(c.credential)
	return cmd
}

// start launches c with its output appended to the part's log and writes
// the part's pid file.
func (l launcher) start(c command) (*child, error) {
	if err := os.MkdirAll(filepath.Dir(l.layout.pidFile(c.part.name)), 0o755); err != nil {
		return nil, fmt.Errorf("create pid folder: %w", err)
	}
	out, offset, err := l.openLog(c.part.name)
	if err != nil {
		return nil, err
	}
	// The child holds its own descriptor of the log once started.
	defer out.Close()
	// Not bound to a context: a child outlives the call that starts it and
	// is stopped by signals, in order.
	cmd := l.newCmd(context.Background(), c, out)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", l.layout.rel(c.path), err)
	}
	ch := &child{
		part:      c.part,
		cmd:       cmd,
		logPath:   l.layout.logFile(c.part.name),
		logOffset: offset,
		pidPath:   l.layout.pidFile(c.part.name),
		done:      make(chan struct{}),
	}
	go func() {
		ch.err = cmd.Wait()
		close(ch.done)
	}()
	if err := writePidFile(ch.pidPath, cmd.Process.Pid); err != nil {
		_ = ch.stop(stopTimeout)
		return nil, err
	}
	return ch, nil
}

// run runs c to completion (initdb, apt-get) with its output appended to
// the part's log; a failure carries the output's last lines.
func (l launcher) run(ctx context.Context, c command) error {
	out, offset, err := l.openLog(c.part.name)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := l.newCmd(ctx, c, out)
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(c.path), strings.Join(c.args, " "), err,
			indent(tailFile(l.layout.logFile(c.part.name), offset, 20)))
	}
	return nil
}

// pid answers the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// tail answers the last lines the child wrote to its log.
func (c *child) tail(n int) string { return tailFile(c.logPath, c.logOffset, n) }

// exitError describes how an ended child ended, with its last output.
func (c *child) exitError() error {
	how := "exited"
	if c.err != nil {
		how = "exited: " + c.err.Error()
	}
	return fmt.Errorf("%s %s; last lines of %s:\n%s", c.part.name, how, c.logPath, indent(c.tail(20)))
}

// stop asks the child to stop with its part's stop signal, kills its
// process group if it has not ended after timeout, and removes its pid file.
func (c *child) stop(timeout time.Duration) error {
	defer os.Remove(c.pidPath)
	if c.exited() {
		return nil
	}
	_ = c.cmd.Process.Signal(c.part.stopSignal)
	select {
	case <-c.done:
		return nil
	case <-time.After(timeout):
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	select {
	case <-c.done:
		return fmt.Errorf("%s did not stop within %s and was killed", c.part.name, timeout)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) survived SIGKILL", c.part.name, c.pid())
	}
}

func writePidFile(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// readPidFile answers the pid a pid file names; os.ErrNotExist when there
// is no such file.
func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds %q, not a pid", path, bytes.TrimSpace(b))
	}
	return pid, nil
}

// runningAs reports whether pid is a live process (not a zombie) whose
// executable is named binary: a pid file's process may have ended and its
// pid been given to an unrelated program since.
func runningAs(pid int, binary string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	// A program may rewrite argv[0] into a title ("postgres: checkpointer").
	fields := strings.Fields(argv0)
	return len(fields) > 0 && strings.TrimSuffix(filepath.Base(fields[0]), ":") == binary
}

// stopOutcome says what stopPidFile found and did.
type stopOutcome int

const (
	noPidFile stopOutcome = iota
	staleRemoved
	stopped
)

// stopPidFile stops the process the part's pid file names, as child.stop
// does, and removes the file. A pid file whose process is gone, or whose
// pid now belongs to another program, is removed without signalling anyone.
func stopPidFile(path string, part partInfo, timeout time.Duration) (int, stopOutcome, error) {
	pid, err := readPidFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, noPidFile, nil
	}
	if err != nil || !runningAs(pid, part.binary) {
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return pid, staleRemoved, fmt.Errorf("remove stale pid file: %w", rmErr)
		}
		return pid, staleRemoved, nil
	}
	if err := syscall.Kill(pid, part.stopSignal); err != nil && !errors.Is(err, syscall.ESRCH) {
		return pid, noPidFile, fmt.Errorf("signal %s (pid %d): %w", part.name, pid, err)
	}
	var stopErr error
	if !waitGone(pid, part.binary, timeout) {
		stopErr = fmt.Errorf("%s (pid %d) did not stop within %s and was killed", part.name, pid, timeout)
		killGroup(pid)
		if !waitGone(pid, part.binary, 5*time.Second) {
			return pid, noPidFile, fmt.Errorf("%s (pid %d) survived SIGKILL", part.name, pid)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return pid, stopped, fmt.Errorf("remove pid file: %w", err)
	}
	return pid, stopped, stopErr
}

// killGroup kills pid's process group when pid leads one (every child this
// tool starts does), else pid alone.
func killGroup(pid int) {
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// waitGone polls until pid no longer runs binary; the process is not ours,
// so there is nothing to wait on.
func waitGone(pid int, binary string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for runningAs(pid, binary) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// tailFile answers the last n lines of path written after offset.
func tailFile(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size()-offset > window {
		offset = st.Size() - window
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return "(no output)"
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
