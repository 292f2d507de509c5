package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/evidence"
)

// elfHeader is the start of a Linux executable.
var elfHeader = []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00")

func defaultEvidenceConfig(t *testing.T) config.Evidence {
	t.Helper()
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return cfg.Evidence
}

// failingReader fails its first read, like a client that disconnects.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestStoreRefusalsAreTheProblemsTheClientCanActOn(t *testing.T) {
	// An S3 client that is never called: every refusal comes before a request.
	cfg := defaultEvidenceConfig(t)
	cfg.MaxBytes = 100
	files := evidence.NewStore(s3.New(s3.Options{Region: "us-east-1"}), "unused", cfg)
	refused := func(r io.Reader, sizeHint int64) *problem {
		t.Helper()
		_, err := files.Put(t.Context(), "cases/C-1/E-1", nil, r, sizeHint)
		var p *problem
		require.True(t, errors.As(uploadProblem(err, files.MaxBytes()), &p), "%v", err)
		return p
	}

	p := refused(strings.NewReader(strings.Repeat("a", 1000)), -1)
	assert.Equal(t, 413, p.Status)
	assert.Equal(t, "the file is larger than 100 bytes", p.Detail)
	assert.Equal(t, p, fileTooLarge(files.MaxBytes()), "the same problem as a request whose length shows it")
	p = refused(strings.NewReader(strings.Repeat("a", 101)), 200)
	assert.Equal(t, 413, p.Status, "a file read whole is bounded the same way")

	p = refused(bytes.NewReader(append(elfHeader, make([]byte, 50)...)), -1)
	assert.Equal(t, 415, p.Status)
	assert.Equal(t, "a file of type application/octet-stream is not accepted; allowed: "+strings.Join(cfg.ContentTypes, ", "), p.Detail)

	p = refused(strings.NewReader(""), -1)
	assert.Equal(t, 422, p.Status)
	assert.Equal(t, "the file is empty", p.Detail)
	assert.Equal(t, []fieldProblem{{Field: "file", Message: "is empty"}}, p.Errors)

	p = refused(failingReader{}, -1)
	assert.Equal(t, 400, p.Status)
	assert.Equal(t, "the upload could not be read: connection reset", p.Detail)

	// S3 failing is no refusal: caseError answers it (503).
	down := errors.New("upload cases/C-1/E-1: connection refused")
	assert.Equal(t, down, uploadProblem(down, files.MaxBytes()))
}
