package evidence

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
)

// pngHeader is the start of every PNG file.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

// elfHeader is the start of a Linux executable.
var elfHeader = []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00")

func defaultConfig(t *testing.T) config.Evidence {
	t.Helper()
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return cfg.Evidence
}

func TestSniffTrustsTheBytesNotTheClient(t *testing.T) {
	// Sent as text/plain by the client: the part's header is never read.
	ct, body, err := sniff(bytes.NewReader(pngHeader))
	require.NoError(t, err)
	assert.Equal(t, "image/png", ct)
	all, err := io.ReadAll(body)
	require.NoError(t, err)
	assert.Equal(t, pngHeader, all, "the peeked bytes are still uploaded")

	allowed := defaultConfig(t).ContentTypes
	assert.True(t, typeAllowed(ct, allowed))
	ct, _, err = sniff(bytes.NewReader(append(elfHeader, make([]byte, 600)...)))
	require.NoError(t, err)
	assert.Equal(t, "application/octet-stream", ct)
	assert.False(t, typeAllowed(ct, allowed), "an executable is refused")
	ct, _, err = sniff(strings.NewReader("The code never arrived; screenshot attached."))
	require.NoError(t, err)
	assert.True(t, typeAllowed(ct, allowed), "%s", ct)
}

func TestTypeAllowedMatchesParametersOnlyWhenTheEntryHasThem(t *testing.T) {
	assert.True(t, typeAllowed("text/plain; charset=utf-8", []string{"text/plain"}))
	assert.True(t, typeAllowed("text/plain; charset=utf-8", []string{"text/plain; charset=utf-8"}))
	assert.False(t, typeAllowed("text/plain; charset=utf-16be", []string{"text/plain; charset=utf-8"}))
	assert.False(t, typeAllowed("image/png", []string{"image/jpeg"}))
}

func TestEmptyFileHasNoType(t *testing.T) {
	_, _, err := sniff(strings.NewReader(""))
	assert.ErrorIs(t, err, io.EOF)
}

// endless yields zeros forever, like a client streaming a huge file.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.read += int64(len(p))
	return len(p), nil
}

func TestCapReaderRefusesTheFirstByteOverTheLimit(t *testing.T) {
	src := &endless{}
	r := &capReader{r: src, limit: 10_000}
	n, err := io.Copy(io.Discard, r)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, int64(10_000), n, "everything up to the limit is passed on")
	assert.True(t, r.over)
	assert.LessOrEqual(t, src.read, int64(10_001+32*1024), "the stream is not read far past the limit")

	exact := &capReader{r: bytes.NewReader(make([]byte, 10_000)), limit: 10_000}
	n, err = io.Copy(io.Discard, exact)
	require.NoError(t, err, "a file of exactly the limit is accepted")
	assert.Equal(t, int64(10_000), n)
	assert.False(t, exact.over)
}

// failing fails its first read, like a client that disconnects.
type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestPutRefusesTooLargeAndUnsupportedFilesBeforeUploading(t *testing.T) {
	// No S3 client: a refusal must come before anything is sent.
	s := &Store{maxBytes: 100, types: defaultConfig(t).ContentTypes}
	_, err := s.Put(t.Context(), "cases/C-1/E-1", nil, io.LimitReader(&endless{}, 1000), -1)
	assert.ErrorIs(t, err, ErrTooLarge)

	s.maxBytes = 1 << 20
	_, err = s.Put(t.Context(), "cases/C-1/E-1", nil, bytes.NewReader(append(elfHeader, make([]byte, 600)...)), -1)
	var unsupported *UnsupportedTypeError
	require.ErrorAs(t, err, &unsupported)
	assert.Equal(t, "application/octet-stream", unsupported.Type)
	assert.Equal(t, s.types, unsupported.Allowed)
	assert.Contains(t, err.Error(), "cases/C-1/E-1", "the error names the object")

	_, err = s.Put(t.Context(), "cases/C-1/E-1", nil, strings.NewReader(""), -1)
	assert.ErrorIs(t, err, ErrEmpty)

	_, err = s.Put(t.Context(), "cases/C-1/E-1", nil, failing{}, -1)
	var unreadable *ReadError
	require.ErrorAs(t, err, &unreadable)
	assert.EqualError(t, unreadable.Err, "connection reset")

	// A file read whole for one PutObject is bounded the same way, past
	// what its sniffed head shows.
	s.maxBytes = 1000
	_, err = s.Put(t.Context(), "cases/C-1/E-1", nil, strings.NewReader(strings.Repeat("a", 1001)), 1200)
	assert.ErrorIs(t, err, ErrTooLarge)
}
