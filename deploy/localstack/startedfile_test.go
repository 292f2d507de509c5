package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestStartedFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "started")
	for _, names := range [][]string{{"postgres", "minio", "mailpit"}, nil} {
		if err := writeStartedFile(path, names); err != nil {
			t.Fatal(err)
		}
		got, err := readStartedFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, names) {
			t.Errorf("read %q, wrote %q", got, names)
		}
	}
}

func TestStartedFileRejectsUnknownParts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "started")
	if err := os.WriteFile(path, []byte("postgres\n\n  temporal  \npostgress\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readStartedFile(path); err == nil {
		t.Fatalf("read %q, want an error for the misspelt part", got)
	}
}
