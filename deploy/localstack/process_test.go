package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sleepPart is a part whose process is `sleep`, recognised by that name.
var sleepPart = partInfo{name: "sleeper", binary: "sleep", stopSignal: syscall.SIGTERM}

func testLauncher(t *testing.T) launcher {
	t.Helper()
	return launcher{layout: layout{root: t.TempDir()}}
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

// startChild starts a child and makes sure the test leaves nothing running.
func startChild(t *testing.T, l launcher, c command) *child {
	t.Helper()
	ch, err := l.start(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-ch.pid(), syscall.SIGKILL)
		<-ch.done
	})
	return ch
}

// awaitExit waits for the child to end; the bound only keeps a broken
// test from hanging.
func awaitExit(t *testing.T, c *child) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s (pid %d) still runs", c.part.name, c.pid())
	}
}

func TestStartWritesPidFileAndIsolatesProcessGroup(t *testing.T) {
	l := testLauncher(t)
	c := startChild(t, l, command{part: sleepPart, path: lookPath(t, "sleep"), args: []string{"30"}})
	pid, err := readPidFile(l.layout.pidFile("sleeper"))
	if err != nil || pid != c.pid() {
		t.Fatalf("pid file says %d, %v; child is %d", pid, err, c.pid())
	}
	// Its own group: the terminal's Ctrl-C goes to the supervisor only.
	if pgid, err := syscall.Getpgid(c.pid()); err != nil || pgid != c.pid() {
		t.Fatalf("child's process group is %d, %v; want its own, %d", pgid, err, c.pid())
	}
	if !awaitRunningAs(c.pid(), "sleep") {
		t.Fatal("runningAs does not recognise the child")
	}
}

// awaitRunningAs reports whether pid comes to run binary within a few
// seconds. cmd.Start returns when execve has closed the parent's pipe, a
// moment before the kernel publishes the new program's argument list, so a
// check made at once can still see an empty /proc/<pid>/cmdline.
func awaitRunningAs(pid int, binary string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if runningAs(pid, binary) {
			return true
		}
	}
	return false
}

func TestStopPidFileStopsTheProcessAndRemovesTheFile(t *testing.T) {
	l := testLauncher(t)
	c := startChild(t, l, command{part: sleepPart, path: lookPath(t, "sleep"), args: []string{"30"}})
	if !awaitRunningAs(c.pid(), "sleep") {
		t.Fatal("runningAs does not recognise the child")
	}
	pid, outcome, err := stopPidFile(l.layout.pidFile("sleeper"), sleepPart, 5*time.Second)
	if err != nil || outcome != stopped || pid != c.pid() {
		t.Fatalf("stopPidFile = %d, %v, %v; want %d, stopped, nil", pid, outcome, err, c.pid())
	}
	awaitExit(t, c)
	var exitErr *exec.ExitError
	if !errors.As(c.err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("child ended with %v, want SIGTERM", c.err)
	}
	if _, err := os.Stat(l.layout.pidFile("sleeper")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file still there: %v", err)
	}
}

func TestStopPidFileKillsWhatIgnoresItsStopSignal(t *testing.T) {
	l := testLauncher(t)
	shPart := partInfo{name: "stubborn", binary: "sh", stopSignal: syscall.SIGTERM}
	c := startChild(t, l, command{part: shPart, path: lookPath(t, "sh"),
		args: []string{"-c", `trap "" TERM; while :; do sleep 1; done`}})
	// The shell must have set its trap before the signal, or the test proves nothing.
	waitForIgnored(t, c.pid(), syscall.SIGTERM)
	_, outcome, err := stopPidFile(l.layout.pidFile("stubborn"), shPart, 200*time.Millisecond)
	if outcome != stopped || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("stopPidFile = %v, %v; want stopped with a note that it was killed", outcome, err)
	}
	awaitExit(t, c)
	var exitErr *exec.ExitError
	if !errors.As(c.err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want SIGKILL", c.err)
	}
}

func TestStopPidFileLeavesAnotherProgramAlone(t *testing.T) {
	l := testLauncher(t)
	c := startChild(t, l, command{part: sleepPart, path: lookPath(t, "sleep"), args: []string{"30"}})
	if !awaitRunningAs(c.pid(), "sleep") {
		t.Fatal("runningAs does not recognise the child")
	}
	// The pid file of postgres names a pid that now runs sleep.
	path := l.layout.pidFile("postgres")
	if err := writePidFile(path, c.pid()); err != nil {
		t.Fatal(err)
	}
	_, outcome, err := stopPidFile(path, postgresInfo, 5*time.Second)
	if err != nil || outcome != staleRemoved {
		t.Fatalf("stopPidFile = %v, %v; want staleRemoved", outcome, err)
	}
	if c.exited() || !runningAs(c.pid(), "sleep") {
		t.Fatal("the unrelated process was stopped")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale pid file still there: %v", err)
	}
}

func TestStopPidFileRemovesFilesOfEndedProcesses(t *testing.T) {
	l := testLauncher(t)
	c := startChild(t, l, command{part: sleepPart, path: lookPath(t, "sleep"), args: []string{"0"}})
	awaitExit(t, c)
	garbage := filepath.Join(l.layout.dev("run"), "garbage.pid")
	if err := os.WriteFile(garbage, []byte("not a pid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{l.layout.pidFile("sleeper"), garbage} {
		if _, outcome, err := stopPidFile(path, sleepPart, time.Second); err != nil || outcome != staleRemoved {
			t.Errorf("%s: stopPidFile = %v, %v; want staleRemoved", path, outcome, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", path, err)
		}
	}
	if _, outcome, err := stopPidFile(garbage, sleepPart, time.Second); err != nil || outcome != noPidFile {
		t.Errorf("missing file: stopPidFile = %v, %v; want noPidFile", outcome, err)
	}
}

func TestChildStopSendsThePartsSignal(t *testing.T) {
	l := testLauncher(t)
	// Like postgres: SIGINT stops it; SIGTERM would not.
	intPart := partInfo{name: "fast", binary: "sh", stopSignal: syscall.SIGINT}
	c := startChild(t, l, command{part: intPart, path: lookPath(t, "sh"),
		args: []string{"-c", `trap "exit 7" INT; trap "" TERM; while :; do sleep 0.1; done`}})
	waitForIgnored(t, c.pid(), syscall.SIGTERM)
	if err := c.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	var exitErr *exec.ExitError
	if !errors.As(c.err, &exitErr) || exitErr.ExitCode() != 7 {
		t.Errorf("child ended with %v, want exit status 7 from its INT trap", c.err)
	}
	if _, err := os.Stat(l.layout.pidFile("fast")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file still there: %v", err)
	}
}

func TestTailFileShowsOnlyNewOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	old := "old 1\nold 2\n"
	if err := os.WriteFile(path, []byte(old+"new 1\nnew 2\nnew 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := tailFile(path, int64(len(old)), 2); got != "new 2\nnew 3" {
		t.Errorf("tail = %q", got)
	}
	if got := tailFile(path, int64(len(old)), 10); got != "new 1\nnew 2\nnew 3" {
		t.Errorf("tail = %q", got)
	}
}

// waitForIgnored waits until pid ignores sig, read from /proc/<pid>/status.
func waitForIgnored(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
			for line := range strings.Lines(string(b)) {
				if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
					m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
					if err == nil && m&(1<<(uint(sig)-1)) != 0 {
						return
					}
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d never ignored %v", pid, sig)
}
