package activities

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bodyTap is a webhook receiver that counts the requests it read whole
// (their Content-Length of body) and the ones cut short.
type bodyTap struct {
	*httptest.Server

	mu       sync.Mutex
	complete [][]byte
	cut      int
}

func newBodyTap(t *testing.T, answer int) *bodyTap {
	t.Helper()
	b := &bodyTap{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		b.mu.Lock()
		if err != nil || int64(len(body)) != r.ContentLength {
			b.cut++
		} else {
			b.complete = append(b.complete, body)
		}
		b.mu.Unlock()
		w.WriteHeader(answer)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *bodyTap) seen() (complete [][]byte, cut int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.complete...), b.cut
}

// The commit point comes before the receiver has the body's last byte; the
// byte after it delivers the request.
func TestWebhookCommitsBeforeTheReceiverHasTheLastByte(t *testing.T) {
	rcv := newBodyTap(t, http.StatusNoContent)
	body := []byte(`{"type":"case.opened","data":{"case_id":"C-1"}}`)
	commits := 0
	commit := func(context.Context) error {
		commits++
		time.Sleep(50 * time.Millisecond) // a last byte sent before the commit would have arrived by now
		complete, _ := rcv.seen()
		assert.Empty(t, complete, "no complete request at the commit point")
		return nil
	}
	require.NoError(t, testPoster(t).post(context.Background(), rcv.URL, "id", body, commit))
	assert.Equal(t, 1, commits)
	complete, cut := rcv.seen()
	require.Len(t, complete, 1)
	assert.Equal(t, body, complete[0])
	assert.Zero(t, cut)
}

// A failed commit point aborts the request without its last byte: the
// receiver never has a complete request, and the failure is retried.
func TestWebhookWhoseCommitFailsNeverArrivesWhole(t *testing.T) {
	rcv := newBodyTap(t, http.StatusNoContent)
	poster := testPoster(t)
	refused := errors.New("the delivery log is down")
	err := poster.post(context.Background(), rcv.URL, "id", []byte(`{"type":"case.opened"}`), func(context.Context) error { return refused })
	require.ErrorIs(t, err, refused)
	assert.False(t, isPermanent(err))
	time.Sleep(100 * time.Millisecond) // what the receiver got, it has read by now
	complete, _ := rcv.seen()
	assert.Empty(t, complete, "the receiver took nothing")

	// The same poster delivers the next one: the receiver does take
	// complete requests.
	require.NoError(t, poster.post(context.Background(), rcv.URL, "id", []byte(`{"type":"case.closed"}`), func(context.Context) error { return nil }))
	complete, _ = rcv.seen()
	require.Len(t, complete, 1)
	assert.Equal(t, `{"type":"case.closed"}`, string(complete[0]))
}

// A refusal after the commit point is the receiver's answer, classified as
// without one.
func TestWebhookRefusedAfterItsCommitPointFails(t *testing.T) {
	rcv := newBodyTap(t, http.StatusServiceUnavailable)
	committed := false
	err := testPoster(t).post(context.Background(), rcv.URL, "id", []byte(`{}`), func(context.Context) error { committed = true; return nil })
	require.Error(t, err)
	assert.True(t, committed)
	assert.False(t, isPermanent(err))
	assert.Contains(t, err.Error(), "receiver answered 503")
}

// An empty body passes the commit point before anything is sent.
func TestWebhookWithAnEmptyBodyCommitsFirst(t *testing.T) {
	rcv := newBodyTap(t, http.StatusNoContent)
	refused := errors.New("no")
	err := testPoster(t).post(context.Background(), rcv.URL, "id", nil, func(context.Context) error { return refused })
	require.ErrorIs(t, err, refused)
	time.Sleep(50 * time.Millisecond)
	complete, cut := rcv.seen()
	assert.Empty(t, complete)
	assert.Zero(t, cut, "nothing reached the receiver")

	commits := 0
	require.NoError(t, testPoster(t).post(context.Background(), rcv.URL, "id", nil, func(context.Context) error { commits++; return nil }))
	assert.Equal(t, 1, commits)
	complete, _ = rcv.seen()
	assert.Len(t, complete, 1)
}

// The reader holds the last byte back until the gate passes, and stops
// for good once its post is over.
func TestCommitReaderYieldsTheLastByteOnlyAfterTheCommit(t *testing.T) {
	var order []string
	gate := &commitGate{ctx: context.Background(), commit: func(context.Context) error { order = append(order, "commit"); return nil }}
	r := gate.reader([]byte("abc"))
	buf := make([]byte, 10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			order = append(order, string(buf[:n]))
		}
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"ab", "commit", "c"}, order)

	gate.close()
	_, err := io.ReadAll(gate.reader([]byte("abc")))
	assert.ErrorIs(t, err, errCommitAfterPost)
	assert.Equal(t, []string{"ab", "commit", "c"}, order, "no commit after the post")
}
