package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"handoff/config"
)

func TestSettingsDefaults(t *testing.T) {
	s := settingsFrom(func(string) string { return "" }, config.Config{DatabaseURL: "postgres://x"})
	assert.Equal(t, DefaultAddr, s.addr)
	assert.Equal(t, DefaultSecret, s.secret)
	assert.GreaterOrEqual(t, len(s.secret), 32)
	assert.Equal(t, "postgres://x", s.databaseURL)
	assert.Equal(t, 10*time.Second, s.shutdownTimeout)

	env := map[string]string{"PAYMENTS_ADDR": ":9", "PAYMENTS_SECRET": "s", "PAYMENTS_KEY_ID": "k"}
	s = settingsFrom(func(k string) string { return env[k] }, config.Config{})
	assert.Equal(t, settings{addr: ":9", secret: "s", keyID: "k", shutdownTimeout: 10 * time.Second}, s)
}
