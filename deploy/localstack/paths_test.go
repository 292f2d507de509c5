package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindRootWalksUpToTheFolderWithGoMod(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, start := range []string{root, nested} {
		got, err := findRoot(start)
		if err != nil {
			t.Fatalf("findRoot(%s): %v", start, err)
		}
		if got != root {
			t.Errorf("findRoot(%s) = %s, want %s", start, got, root)
		}
	}
}

func TestFindRootFailsWithoutGoMod(t *testing.T) {
	dir := t.TempDir()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			t.Skipf("%s has a go.mod above it", dir)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if got, err := findRoot(dir); err == nil {
		t.Fatalf("findRoot(%s) = %s, want an error", dir, got)
	}
}

func TestLayoutRelShortensPathsUnderTheRootOnly(t *testing.T) {
	l := layout{root: "/repo"}
	if got := l.rel(l.logFile("api")); got != ".dev/logs/api.log" {
		t.Errorf("rel(log) = %q", got)
	}
	if got := l.rel("/elsewhere/x"); got != "/elsewhere/x" {
		t.Errorf("rel(outside) = %q", got)
	}
}
