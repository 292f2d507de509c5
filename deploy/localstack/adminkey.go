package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"handoff/store"
)

// adminKeyName names the key the local stack creates for its developer.
const adminKeyName = "local-admin"

// ensureAdminKey answers the admin API key kept in path when the database
// still knows it, else creates one and keeps it there, readable only by
// its owner. A new database (or a reset one) so gets a new key.
func ensureAdminKey(ctx context.Context, databaseURL, path string) (string, error) {
	s, err := store.Open(ctx, databaseURL)
	if err != nil {
		return "", err
	}
	defer s.Close()
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		secret := strings.TrimSpace(string(b))
		_, err := s.LookupAPIKey(ctx, secret)
		if err == nil {
			return secret, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	_, secret, err := s.CreateAPIKey(ctx, adminKeyName, store.RoleAdmin)
	if err != nil {
		return "", err
	}
	if err := writePrivateFile(path, secret+"\n"); err != nil {
		return "", err
	}
	return secret, nil
}

// writePrivateFile writes content to path with mode 0600, also when path
// existed with a wider mode.
func writePrivateFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
