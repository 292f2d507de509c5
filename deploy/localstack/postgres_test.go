package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePostgres makes base/<version>/bin with the named executables.
func fakePostgres(t *testing.T, base, version string, binaries ...string) string {
	t.Helper()
	dir := filepath.Join(base, version, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range binaries {
		if err := os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPostgresBinDirPicksTheHighestCompleteVersion(t *testing.T) {
	base := t.TempDir()
	fakePostgres(t, base, "9.6", "postgres", "initdb")
	v10 := fakePostgres(t, base, "10", "postgres", "initdb")
	if got, err := postgresBinDir(base, ""); err != nil || got != v10 {
		t.Fatalf("with 9.6 and 10: got %q, %v; want %s (versions compare as numbers)", got, err, v10)
	}
	v15 := fakePostgres(t, base, "15", "postgres", "initdb")
	fakePostgres(t, base, "16", "postgres") // no initdb: a client-only or broken install
	fakePostgres(t, base, "common", "postgres", "initdb")
	if got, err := postgresBinDir(base, ""); err != nil || got != v15 {
		t.Fatalf("got %q, %v; want %s", got, err, v15)
	}
}

func TestPostgresBinDirKeepsAnExistingClustersVersion(t *testing.T) {
	base := t.TempDir()
	v10 := fakePostgres(t, base, "10", "postgres", "initdb")
	fakePostgres(t, base, "15", "postgres", "initdb")
	if got, err := postgresBinDir(base, "10"); err != nil || got != v10 {
		t.Fatalf("got %q, %v; want %s", got, err, v10)
	}
	_, err := postgresBinDir(base, "14")
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL 14") || errors.Is(err, errNoPostgres) {
		t.Fatalf("want an error naming version 14 that does not ask for an install of the latest, got %v", err)
	}
}

func TestPostgresBinDirReportsNoInstall(t *testing.T) {
	for _, base := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if _, err := postgresBinDir(base, ""); !errors.Is(err, errNoPostgres) {
			t.Errorf("%s: got %v, want errNoPostgres", base, err)
		}
	}
}

func TestClusterVersionReadsPGVersion(t *testing.T) {
	data := t.TempDir()
	if v := clusterVersion(data); v != "" {
		t.Fatalf("empty folder: got %q", v)
	}
	if err := os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := clusterVersion(data); v != "15" {
		t.Fatalf("got %q, want 15", v)
	}
}

func TestCanTraverseNeedsSearchPermission(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Mode bits decide, as for the postgres user; root's own access would not.
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if err := os.Chmod(dir, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := canTraverse(dir, uid, gid); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("a folder without x passed or was not named: %v", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := canTraverse(dir, uid, gid); err != nil {
		t.Fatalf("a folder its owner may enter failed: %v", err)
	}
}

func TestMaskDatabaseURLHidesPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://postgres@127.0.0.1:5432/handoff?sslmode=disable": "postgres://postgres@127.0.0.1:5432/handoff?sslmode=disable",
		"postgres://app:s3cret@db:5432/handoff":                      "postgres://app:xxxxx@db:5432/handoff",
		"postgres://app@db/handoff?password=s3cret":                  "postgres://app@db/handoff?password=xxxxx",
	} {
		if got := maskDatabaseURL(in); got != want {
			t.Errorf("maskDatabaseURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := maskDatabaseURL("host=db password=s3cret"); strings.Contains(got, "s3cret") {
		t.Errorf("key=value form leaked: %q", got)
	}
}
