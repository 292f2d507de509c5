package activities

import (
	"bytes"
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
	"time"
	"unicode/utf8"
)

// Webhooks follow the Standard Webhooks specification
// (https://www.standardwebhooks.com), so receivers verify them with its
// libraries:
//
//	webhook-id:        the delivery's deterministic id (case/<id>/<cause>/<event>/<audience>/<channel>,
//	                   delivery/<id>/<cause>/<event>/customer/<channel> for an account delivery's;
//	                   numbered by the timeline, <id>/<seq>/<audience>, for workflows begun before);
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
func (p *webhookPoster) post(ctx context.Context, target, id string, body []byte) error {
	ts := p.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("webhook request to %s: %w", redactURL(target), err))
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
