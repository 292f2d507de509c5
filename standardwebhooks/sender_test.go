package standardwebhooks

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestASenderRetriesWithTheSameIDUntilTheReceiverTakesIt(t *testing.T) {
	key := []byte("a-sender-test-key-of-24-bytes!!")
	var mu sync.Mutex
	var ids []string
	verifier := &Verifier{keys: [][]byte{key}, tolerance: time.Minute, now: time.Now}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get(HeaderID))
		assert.NoError(t, verifier.Verify(r.Header, body), "every attempt is signed")
		assert.Equal(t, "k1", r.Header.Get(HeaderKeyID))
		if len(ids) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s := NewSender(SenderOptions{URL: srv.URL, Key: key, KeyID: "k1", UserAgent: "test", Backoff: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	s.Send("evt-1", []byte(`{"a":1}`))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ids) == 3
	}, 5*time.Second, 5*time.Millisecond)
	s.Close()
	assert.True(t, s.Closed())
	assert.Equal(t, []string{"evt-1", "evt-1", "evt-1"}, ids)
}
