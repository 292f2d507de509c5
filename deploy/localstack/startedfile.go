package main

import (
	"fmt"
	"os"
	"strings"
)

// writeStartedFile records, one a line, the parts an `up` started, so a
// later `down --only-from` stops those and leaves what it reused running.
func writeStartedFile(path string, names []string) error {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write started file: %w", err)
	}
	return nil
}

// readStartedFile answers the parts a started file names; an unknown name
// is an error, so a typo never silently stops nothing.
func readStartedFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read started file: %w", err)
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		name := strings.TrimSpace(line)
		if name == "" {
			continue
		}
		if _, ok := partByName(name); !ok {
			return nil, fmt.Errorf("started file %s names %q, which is not a part", path, name)
		}
		names = append(names, name)
	}
	return names, nil
}
