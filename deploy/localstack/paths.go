package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// layout says where the local stack keeps its binaries and its state: all
// under the repository root, so a clone carries everything it made and
// deleting .dev starts from scratch.
type layout struct {
	root string
}

// findRoot answers the nearest directory at or above dir that holds go.mod.
func findRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find repository root: %w", err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find repository root: no go.mod in %s or any parent", dir)
		}
	}
}

// bin is the path of a tool or Handoff binary in <root>/bin.
func (l layout) bin(name string) string { return filepath.Join(l.root, "bin", name) }

// dev is a path under <root>/.dev, the local stack's state.
func (l layout) dev(elem ...string) string {
	return filepath.Join(append([]string{l.root, ".dev"}, elem...)...)
}

// logDir holds one log file per part.
func (l layout) logDir() string { return l.dev("logs") }

// logFile is where a part's output goes, appended across runs.
func (l layout) logFile(part string) string { return filepath.Join(l.logDir(), part+".log") }

// pidFile names the process of a part this tool started, so another
// invocation (`down`) can stop it.
func (l layout) pidFile(part string) string { return l.dev("run", part+".pid") }

// adminKeyFile keeps the local admin API key between runs.
func (l layout) adminKeyFile() string { return l.dev("admin-key") }

// rel shortens path to be relative to the repository root for messages.
func (l layout) rel(path string) string {
	r, err := filepath.Rel(l.root, path)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return path
	}
	return r
}
