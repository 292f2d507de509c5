package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"handoff/codec"
	"handoff/config"
)

// ensurePayloadKeys writes a fresh payload key to the keys file when no
// key is configured and the file does not exist yet, so every process the
// stack starts, and every test, seals payloads under the same key. A file
// that exists is kept as it is: its keys sealed the histories of the
// stack's running workflows.
func ensurePayloadKeys(t config.Temporal, l layout) error {
	if t.PayloadKeys != "" {
		return nil
	}
	path := t.PayloadKeysFile
	if path == "" {
		return errors.New("payload keys: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(l.root, path)
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("payload keys: %w", err)
	}
	// The id names the day and a random suffix: two stacks' keys never
	// share an id, so a payload sealed by one fails to open in the other
	// as an unknown key, not as a forged one.
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return fmt.Errorf("payload keys: %w", err)
	}
	line, err := codec.NewKeyLine("local-" + time.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(suffix))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("payload keys: %w", err)
	}
	content := "# Payload keys of the local stack (package codec): id:base64, the first seals.\n" +
		"# Put a new key first to rotate; keep the old ones while histories use them.\n" + line + "\n"
	return writePrivateFile(path, content)
}

// codecEndpoint answers the URL of the API's codec as a browser on this
// machine reaches it, from the API's listen address.
func codecEndpoint(httpAddr string) string {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "http://localhost:8080/codec"
	}
	if host == "" || host == "0.0.0.0" || host == "::" || host == "127.0.0.1" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/codec"
}
