package activities

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Webhooks follow the Standard Webhooks specification
// (https://www.standardwebhooks.com), so receivers verify them with its
// libraries:
//
//	webhook-id:        the delivery's deterministic id (case/<id>/<seq>/<audience>/<channel>,
//	                   delivery/<id>/<seq>/<audience>/<channel> for an account delivery's);
//	                   the same on every retry, so a receiver drops what it has seen
//	webhook-timestamp: Unix seconds of this send (fresh on each retry)
//	webhook-signature: v1,<base64 of HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>,
//	                   one such entry per key, separated by spaces
//	webhook-key-id:    WEBHOOK_KEY_ID, the id of the first (current) key
//
// The keys are the secrets of WEBHOOK_SIGNING_SECRET (one, or several
// separated by commas during a rotation, the new one first), each without
// its "whsec_" prefix, base64 decoded. Signing with every listed key lets
// a receiver holding either the old or the new secret verify while
// Handoff switches: the specification allows several signatures, and a
// receiver accepts the message when one matches. webhook-key-id is not
// part of the specification: it lets a receiver that holds several
// secrets pick the one to try first; one that holds a single secret
// ignores it.
const (
	// HeaderWebhookID carries the delivery's deterministic id.
	HeaderWebhookID = "webhook-id"
	// HeaderWebhookTimestamp carries the Unix seconds of the send.
	HeaderWebhookTimestamp = "webhook-timestamp"
	// HeaderWebhookSignature carries the v1 HMAC-SHA256 signature.
	HeaderWebhookSignature = "webhook-signature"
	// HeaderWebhookKeyID carries the id of the key that signed.
	HeaderWebhookKeyID = "webhook-key-id"
)

// webhookSigner signs webhooks with every key of a rotation.
type webhookSigner struct {
	// keys sign every message, the first being the current one, which
	// keyID names.
	keys  [][]byte
	keyID string
}

// newWebhookSigner decodes Standard Webhooks secrets ("whsec_" and
// base64): one, or several separated by commas, the first current. Errors
// name a bad entry by its position, never by its value.
func newWebhookSigner(secrets, keyID string) (webhookSigner, error) {
	entries := strings.Split(secrets, ",")
	keys := make([][]byte, 0, len(entries))
	for i, entry := range entries {
		at := ""
		if len(entries) > 1 {
			at = fmt.Sprintf("entry %d: ", i+1)
		}
		raw, ok := strings.CutPrefix(strings.TrimSpace(entry), "whsec_")
		if !ok {
			return webhookSigner{}, fmt.Errorf(`signing secret: %swant "whsec_" followed by base64`, at)
		}
		key, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(key) == 0 {
			return webhookSigner{}, fmt.Errorf(`signing secret: %sthe part after "whsec_" is not valid base64`, at)
		}
		keys = append(keys, key)
	}
	if keyID == "" {
		return webhookSigner{}, errors.New("signing key id: must not be empty")
	}
	return webhookSigner{keys: keys, keyID: keyID}, nil
}

// signature answers the webhook-signature header of one send: a v1
// signature under each key, the current one first, separated by spaces.
func (s webhookSigner) signature(id string, timestamp int64, body []byte) string {
	sigs := make([]string, len(s.keys))
	for i, key := range s.keys {
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%d.", id, timestamp)
		mac.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return strings.Join(sigs, " ")
}

// webhookPoster sends signed webhooks.
type webhookPoster struct {
	client *http.Client
	signer webhookSigner
	now    func() time.Time
}

func newWebhookPoster(signer webhookSigner) *webhookPoster {
	return &webhookPoster{
		client: &http.Client{
			Timeout: 10 * time.Second,
			// A receiver answers where it is; following a redirect would
			// send the signed body somewhere nobody configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		signer: signer,
		now:    time.Now,
	}
}

// post sends body to target signed under id. A 2xx answer is a delivery. A
// network error, a timeout, 408, 425, 429 or 5xx may pass on retry (after
// Retry-After when the receiver says); any other answer is permanent.
//
// commit, when not nil, is called before the body's last byte is handed to
// the connection: a receiver takes the request once it has the whole body
// (its Content-Length), so that byte hands it over. If commit fails the
// request is aborted without it and post answers a retryable error. After
// post returns, commit is never called.
func (p *webhookPoster) post(ctx context.Context, target, id string, body []byte, commit func(context.Context) error) error {
	ts := p.now().Unix()
	gate := &commitGate{ctx: ctx, commit: commit}
	defer gate.close()
	var reqBody io.Reader = http.NoBody
	if len(body) == 0 {
		// No last byte to hold back (the bodies here are JSON, never
		// empty): the commit point comes before the request.
		if err := gate.pass(); err != nil {
			return fmt.Errorf("webhook to %s: %w", redactURL(target), err)
		}
	} else {
		reqBody = gate.reader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, reqBody)
	if err != nil {
		return permanent(fmt.Errorf("webhook request to %s: %w", redactURL(target), err))
	}
	if len(body) > 0 {
		req.ContentLength = int64(len(body))
		// The transport sends the request again, from a fresh body, only
		// when nothing of it was written (a kept-alive connection the
		// receiver had closed); the commit point may then be passed
		// twice, which the log allows.
		req.GetBody = func() (io.ReadCloser, error) { return gate.reader(body), nil }
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Handoff-Webhooks/1")
	req.Header.Set(HeaderWebhookID, id)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderWebhookSignature, p.signer.signature(id, ts, body))
	req.Header.Set(HeaderWebhookKeyID, p.signer.keyID)
	resp, err := p.client.Do(req)
	if err != nil {
		// The URL may hold a secret (a Slack webhook's path): name the host only.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if cerr := gate.failure(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		// Not permanent, whatever the transport made of it: a failed
		// commit point sent nothing, a dropped connection may pass later.
		// A connection that drops after the last byte leaves the outcome
		// unknown; as before the commit point, the delivery is released
		// and a retry sends it again under the same webhook-id.
		return fmt.Errorf("webhook to %s: %w", redactURL(target), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook to %s: receiver answered %s%s", redactURL(target), resp.Status, quoteBody(snippet))
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return retryAfter(err, parseRetryAfter(resp.Header.Get("Retry-After"), p.now()))
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code >= 500:
		return err
	}
	return permanent(err)
}

// commitGate holds a webhook body's last byte back until commit passes,
// and commit off once post has returned (the transport may still read the
// body of a request it got an answer to).
type commitGate struct {
	ctx    context.Context
	commit func(context.Context) error

	mu     sync.Mutex
	closed bool
	err    error
}

// reader answers a fresh body over b that calls the gate's commit before
// its last byte (before EOF, for an empty b).
func (g *commitGate) reader(b []byte) io.ReadCloser {
	return &commitReader{gate: g, rest: b}
}

// pass calls commit, once per body read; an error, or a post already over,
// stops the body.
func (g *commitGate) pass() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errCommitAfterPost
	}
	if g.commit == nil {
		return nil
	}
	if err := g.commit(g.ctx); err != nil {
		g.err = fmt.Errorf("commit point, webhook not handed over: %w", err)
		return g.err
	}
	return nil
}

// failure answers commit's error, nil when it passed or was not called.
func (g *commitGate) failure() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// close ends the gate: commit is not called after it.
func (g *commitGate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

var errCommitAfterPost = errors.New("webhook body read after its post ended")

// commitReader yields a body but its last byte, passes the gate, then
// yields the last byte.
type commitReader struct {
	gate *commitGate
	rest []byte
	// passed: the gate was passed, the last byte may go.
	passed bool
}

// Read answers the body up to its last byte, which it answers only after
// the gate passes.
func (r *commitReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(r.rest) > 1 {
		n := copy(p, r.rest[:len(r.rest)-1])
		r.rest = r.rest[n:]
		return n, nil
	}
	if !r.passed {
		if err := r.gate.pass(); err != nil {
			return 0, err
		}
		r.passed = true
	}
	if len(r.rest) == 0 {
		return 0, io.EOF
	}
	p[0] = r.rest[0]
	r.rest = r.rest[1:]
	return 1, nil
}

// Close lets the transport end the body; nothing to free.
func (r *commitReader) Close() error { return nil }

// redactURL keeps a URL's scheme and host: webhook paths are often secrets.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(malformed URL)"
	}
	return u.Scheme + "://" + u.Host
}

// quoteBody answers a receiver's body for an error message, on one line.
func quoteBody(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" || !utf8.ValidString(s) {
		return ""
	}
	return fmt.Sprintf(": %q", s)
}

// maxRetryAfter caps the delay a receiver may ask for, so one answer
// cannot spend the whole retry budget.
const maxRetryAfter = 5 * time.Minute

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date);
// zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// slackText writes a message for a Slack-compatible incoming webhook: the
// subject in bold, then the text, with the three characters Slack's
// markup reserves escaped.
func slackText(msg message) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return "*" + esc.Replace(msg.Subject) + "*\n" + esc.Replace(msg.Text)
}

// webhookID answers the webhook-id of a delivery: its id when it fits in
// an HTTP header as is, else a hash of it.
func webhookID(id string) string {
	for _, c := range id {
		if c <= ' ' || c >= 0x7f {
			sum := sha256.Sum256([]byte(id))
			return "h_" + hex.EncodeToString(sum[:16])
		}
	}
	return id
}
