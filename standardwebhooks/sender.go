package standardwebhooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// SenderOptions configure a Sender. Zero values take the defaults named.
type SenderOptions struct {
	// URL receives every webhook.
	URL string
	// Key signs them (ParseSecret's answer); KeyID goes in HeaderKeyID.
	Key   []byte
	KeyID string
	// UserAgent names the sender.
	UserAgent string
	// Attempts bounds the sends of one webhook (5); Backoff is the wait
	// before the first retry, doubled up to 30s (500ms).
	Attempts int
	Backoff  time.Duration
	// Client sends (a 10s timeout that follows no redirect).
	Client *http.Client
	Logger *slog.Logger
	Now    func() time.Time
}

// Sender posts signed webhooks to one URL, one at a time in the order they
// were handed to it, retrying a network error, 408, 429 or 5xx with the
// same webhook-id, so a receiver that deduplicates by it acts once. The
// local stand-ins of the carrier and the identity-check provider send
// theirs through it.
type Sender struct {
	opts  SenderOptions
	queue chan queued
	ctx   context.Context
	stop  context.CancelFunc
	done  chan struct{}
	once  sync.Once
}

type queued struct {
	id   string
	body []byte
}

// NewSender answers a Sender that sends until Close.
func NewSender(opts SenderOptions) *Sender {
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	if opts.Client == nil {
		opts.Client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sender{opts: opts, queue: make(chan queued, 1024), done: make(chan struct{})}
	s.ctx, s.stop = context.WithCancel(context.Background())
	go s.run()
	return s
}

// Send queues body as the webhook id; a full queue drops it with a warning.
func (s *Sender) Send(id string, body []byte) {
	select {
	case s.queue <- queued{id: id, body: body}:
	default:
		s.opts.Logger.Warn("webhook queue full; not sent", "event_id", id)
	}
}

// Closed reports whether Close was called.
func (s *Sender) Closed() bool { return s.ctx.Err() != nil }

// Close stops sending (a webhook being retried is dropped) and waits for
// the sender to end.
func (s *Sender) Close() {
	s.once.Do(func() {
		s.stop()
		<-s.done
	})
}

func (s *Sender) run() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case q := <-s.queue:
			s.deliver(q)
		}
	}
}

// deliver sends q, retrying what may pass later with the same webhook-id.
func (s *Sender) deliver(q queued) {
	wait := s.opts.Backoff
	for attempt := 1; ; attempt++ {
		retry, err := s.post(q)
		if err == nil {
			s.opts.Logger.Info("webhook delivered", "event_id", q.id, "attempt", attempt)
			return
		}
		if !retry || attempt >= s.opts.Attempts {
			s.opts.Logger.Warn("webhook not delivered; giving up", "event_id", q.id, "attempt", attempt, "err", err)
			return
		}
		s.opts.Logger.Warn("webhook not delivered; retrying", "event_id", q.id, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
		wait = min(wait*2, 30*time.Second)
	}
}

func (s *Sender) post(q queued) (retry bool, err error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.opts.URL, bytes.NewReader(q.body))
	if err != nil {
		return false, err
	}
	ts := s.opts.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.opts.UserAgent)
	req.Header.Set(HeaderID, q.id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(s.opts.Key, q.id, ts, q.body))
	req.Header.Set(HeaderKeyID, s.opts.KeyID)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return s.ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return false, nil
	}
	err = fmt.Errorf("receiver answered %s", resp.Status)
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500, err
}
