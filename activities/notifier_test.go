package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"mime"
	"net"
	"net/http"
	netmail "net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"handoff/config"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

func note(audience string) vocab.Notification {
	return vocab.Notification{
		ID: "case/C-7/3/" + audience, Event: cases.EventSLABreach, Audience: audience,
		Case: vocab.NotificationCase{
			ID: "C-7", Subject: "Locked out", Category: vocab.CategoryLockedAccount, Priority: vocab.P1,
			Status: string(cases.StatusEscalated), Team: vocab.TeamSecurity, Assignee: "bo",
			Customer: vocab.Customer{Email: "ada@example.com", Locale: "fr"},
		},
		Detail: "first response was due 2026-03-02T11:00:00Z",
	}
}

// testConfig answers the local stack's defaults with the shipped routes file.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	cfg.Notify.RoutesFile = shippedRoutesFile
	return cfg
}

// memoryLog is the delivery log's contract kept in memory.
type memoryLog struct {
	mu   sync.Mutex
	rows map[[2]string]*store.DeliveryRecord
	// leases holds each 'sending' row's lease end.
	leases map[[2]string]time.Time
	// recordDown fails every MarkDeliverySent, as Postgres away would.
	recordDown bool
}

// setRecordDown makes MarkDeliverySent fail (down) or work again.
func (l *memoryLog) setRecordDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordDown = down
}

// expireLeases ends every lease, as time passing would.
func (l *memoryLog) expireLeases() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.leases)
}

func newMemoryLog() *memoryLog {
	return &memoryLog{rows: map[[2]string]*store.DeliveryRecord{}, leases: map[[2]string]time.Time{}}
}

func (l *memoryLog) ClaimDelivery(_ context.Context, d store.Delivery, lease time.Duration) (store.Claim, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]string{d.NotificationID, d.Channel}
	r := l.rows[k]
	if r == nil {
		r = &store.DeliveryRecord{Delivery: d, Status: "sending"}
		l.rows[k] = r
	}
	switch {
	case r.Status == "sent":
		return store.Claim{State: store.ClaimSent, Attempts: r.Attempts}, nil
	case r.Status == "failed":
		return store.Claim{State: store.ClaimFailed, Attempts: r.Attempts, LastError: r.LastError}, nil
	case l.leases[k].After(time.Now()):
		return store.Claim{State: store.ClaimBusy, Attempts: r.Attempts, Until: l.leases[k]}, nil
	}
	r.Attempts++
	l.leases[k] = time.Now().Add(lease)
	return store.Claim{State: store.ClaimSend, Attempts: r.Attempts, LastError: r.LastError}, nil
}

func (l *memoryLog) end(id, channel, status, reason string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]string{id, channel}
	r := l.rows[k]
	if r == nil || r.Status != "sending" {
		return store.ErrNotFound
	}
	r.Status, r.LastError = status, reason
	delete(l.leases, k)
	return nil
}

func (l *memoryLog) MarkDeliverySent(_ context.Context, id, channel string) error {
	l.mu.Lock()
	down := l.recordDown
	l.mu.Unlock()
	if down {
		return errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	return l.end(id, channel, "sent", "")
}

func (l *memoryLog) ReleaseDelivery(_ context.Context, id, channel, reason string) error {
	return l.end(id, channel, "sending", reason)
}

func (l *memoryLog) FailDelivery(_ context.Context, id, channel, reason string) error {
	return l.end(id, channel, "failed", reason)
}

func (l *memoryLog) row(id, channel string) store.DeliveryRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.rows[[2]string{id, channel}]; r != nil {
		return *r
	}
	return store.DeliveryRecord{}
}

// webhookOnlyRoutes routes opened and a delivery's problem report to the
// marketplace and escalated to the team channel, so unit tests need no
// SMTP server.
const webhookOnlyRoutes = `
events:
  opened: {customer: [marketplace_webhook]}
  escalated: {team: [team_webhook, marketplace_webhook]}
  agent_reply: {}
  waiting_on_customer: {}
  customer_reminder: {}
  resolved: {}
  closed: {}
  sla_warning: {}
  sla_breach: {}
  notification_failed: {}
  customer_message: {}
  return_label: {}
  return_reminder: {}
  return_not_shipped: {}
  return_refunded: {}
  return_credited: {}
  return_rejected: {}
  return_ineligible: {}
  dispute_seller_notice: {}
  dispute_seller_late: {}
  dispute_offer: {}
  dispute_decided: {}
  dispute_appeal_open: {}
  dispute_review_needed: {}
  seller_step_reminder: {}
  seller_verified: {}
  seller_verification_failed: {}
  security_lock: {}
  recovery_steps: {}
  account_locked: {}
  account_unlocked: {}
  recovery_expired: {}
  contact_change_requested: {}
  contact_changed: {}
  account_delivered: {}
  delivery_reminder: {}
  delivery_confirmed_by_default: {}
  delivery_problem_received: {customer: [marketplace_webhook]}
  delivery_recovered: {}
  warranty_ending: {}
  delivery_retired: {}
`

// webhookNotifier answers a Notifier posting to marketplace and to the
// security team's channel, recording in a memory log.
func webhookNotifier(t *testing.T, marketplace, team string) (*Notifier, *memoryLog) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Notify.RoutesFile = filepath.Join(t.TempDir(), "routes.yaml")
	require.NoError(t, os.WriteFile(cfg.Notify.RoutesFile, []byte(webhookOnlyRoutes), 0o600))
	cfg.Notify.MarketplaceWebhookURL = marketplace
	cfg.Notify.TeamWebhookURLs = map[string]string{"security": team}
	log := newMemoryLog()
	n, err := newNotifier(cfg, log)
	require.NoError(t, err)
	return n, log
}

// notify runs Notify as Temporal runs an activity.
func notify(t *testing.T, n *Notifier, note vocab.Notification) error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(n)
	_, err := env.ExecuteActivity(n.Notify, note)
	return err
}

func opened(id string) vocab.Notification {
	n := note("customer")
	n.ID, n.Event, n.Detail = "case/"+id+"/1/customer", cases.EventOpened, ""
	n.Case.ID = id
	return n
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	return appErr
}

func TestNewNotifierChecksEverySetting(t *testing.T) {
	cfg := testConfig(t)
	cfg.Notify.RoutesFile = filepath.Join(t.TempDir(), "missing.yaml")
	cfg.Notify.WebhookSecret = "plain"
	cfg.Notify.TeamWebhookURLs = map[string]string{"billing": "https://hooks.example/x"}
	_, err := newNotifier(cfg, newMemoryLog())
	require.Error(t, err)
	for _, want := range []string{"NOTIFY_ROUTES_FILE: notification routes: open ", "missing.yaml",
		"WEBHOOK_SIGNING_SECRET:", `TEAM_WEBHOOK_URLS: unknown team "billing"`} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = NewNotifier(testConfig(t), nil)
	assert.ErrorContains(t, err, "needs the store")
}

func TestNotifySendsTheMarketplaceEventSigned(t *testing.T) {
	market := newReceiver(t)
	n, log := webhookNotifier(t, market.URL, "")
	require.NoError(t, notify(t, n, opened("C-1")))

	got := market.received()
	require.Len(t, got, 1)
	require.NoError(t, verifyStandardWebhook(testConfig(t).Notify.WebhookSecret, got[0].Header, got[0].Body, time.Now()))
	assert.Equal(t, "case/C-1/1/customer/marketplace_webhook", got[0].Header.Get("webhook-id"))
	assert.Equal(t, "local", got[0].Header.Get("webhook-key-id"))
	var body struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			NotificationID string                 `json:"notification_id"`
			Event          string                 `json:"event"`
			Case           vocab.NotificationCase `json:"case"`
			Message        struct{ Locale, Subject string }
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	assert.Equal(t, "case.opened", body.Type)
	assert.False(t, body.Timestamp.IsZero())
	assert.Equal(t, "case/C-1/1/customer", body.Data.NotificationID)
	assert.Equal(t, "C-1", body.Data.Case.ID)
	assert.Equal(t, "fr", body.Data.Message.Locale)
	assert.Equal(t, "[C-1] Nous avons bien reçu votre demande : Locked out", body.Data.Message.Subject)
	assert.Equal(t, "sent", log.row("case/C-1/1/customer", ChannelMarketplaceWebhook).Status)
}

func TestNotifyPostsSlackTextToTheTeamChannel(t *testing.T) {
	team := newReceiver(t)
	n, _ := webhookNotifier(t, "", team.URL)
	esc := note("team")
	esc.Event, esc.Detail = cases.EventEscalated, "customer <ada> & friends"
	require.NoError(t, notify(t, n, esc))

	got := team.received()
	require.Len(t, got, 1, "the marketplace channel is off without a URL")
	var body map[string]string
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	assert.Equal(t, []string{"text"}, keys(body))
	assert.Contains(t, body["text"], "*[C-7] Escalated to security (agent): Locked out*\n")
	assert.Contains(t, body["text"], "customer &lt;ada&gt; &amp; friends", "Slack's reserved characters are escaped")
	require.NoError(t, verifyStandardWebhook(testConfig(t).Notify.WebhookSecret, got[0].Header, got[0].Body, time.Now()))
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNotifyTwicePostsOnce(t *testing.T) {
	market := newReceiver(t)
	n, log := webhookNotifier(t, market.URL, "")
	require.NoError(t, notify(t, n, opened("C-2")))
	require.NoError(t, notify(t, n, opened("C-2")))
	assert.Len(t, market.received(), 1)
	assert.Equal(t, 1, log.row("case/C-2/1/customer", ChannelMarketplaceWebhook).Attempts)
}

func TestNotifyRetriesOnlyTheChannelThatFailed(t *testing.T) {
	team := newReceiver(t)
	market := newReceiver(t, status(http.StatusBadGateway))
	n, log := webhookNotifier(t, market.URL, team.URL)
	esc := note("team")
	esc.Event = cases.EventEscalated

	err := notify(t, n, esc)
	require.Error(t, err)
	appErr := appError(t, err)
	assert.False(t, appErr.NonRetryable())
	assert.Equal(t, ErrTypeNotificationNotDelivered, appErr.Type())
	assert.Contains(t, err.Error(), "marketplace_webhook: webhook to "+market.URL+": receiver answered 502 Bad Gateway")
	assert.Contains(t, log.row(esc.ID, ChannelMarketplaceWebhook).LastError, "502")

	require.NoError(t, notify(t, n, esc), "the retry delivers")
	assert.Len(t, team.received(), 1, "the channel that passed is not sent again")
	assert.Len(t, market.received(), 2)
	assert.Equal(t, 2, log.row(esc.ID, ChannelMarketplaceWebhook).Attempts)
}

func TestNotifyRefusedForGoodFailsWithoutRetryAndNeverResends(t *testing.T) {
	market := newReceiver(t, status(http.StatusUnprocessableEntity))
	n, log := webhookNotifier(t, market.URL, "")
	for range 2 {
		err := notify(t, n, opened("C-3"))
		require.Error(t, err)
		appErr := appError(t, err)
		assert.True(t, appErr.NonRetryable())
		assert.Equal(t, ErrTypeNotificationRefused, appErr.Type())
		assert.Contains(t, err.Error(), "422 Unprocessable Entity")
	}
	assert.Len(t, market.received(), 1)
	assert.Equal(t, "failed", log.row("case/C-3/1/customer", ChannelMarketplaceWebhook).Status)
}

func TestNotifyWaitsAsTheReceiverAsks(t *testing.T) {
	market := newReceiver(t, status(http.StatusTooManyRequests, "Retry-After", "42"))
	n, _ := webhookNotifier(t, market.URL, "")
	err := notify(t, n, opened("C-4"))
	require.Error(t, err)
	assert.Equal(t, 42*time.Second, appError(t, err).NextRetryDelay())
}

func TestNotifyWaitsForAnAttemptThatHoldsTheDelivery(t *testing.T) {
	market := newReceiver(t)
	n, log := webhookNotifier(t, market.URL, "")
	note := opened("C-5")
	_, err := log.ClaimDelivery(context.Background(), store.Delivery{NotificationID: note.ID, Channel: ChannelMarketplaceWebhook}, time.Minute)
	require.NoError(t, err)

	err = notify(t, n, note)
	require.Error(t, err)
	appErr := appError(t, err)
	assert.False(t, appErr.NonRetryable())
	assert.Contains(t, err.Error(), "another attempt is sending it")
	assert.Equal(t, busyPoll, appErr.NextRetryDelay(), "it looks again before the lease ends")
	assert.Empty(t, market.received())
}

func TestNotifyRoutedNowhereSendsNothing(t *testing.T) {
	market := newReceiver(t)
	n, _ := webhookNotifier(t, market.URL, "")
	closed := opened("C-6")
	closed.Event = cases.EventClosed
	require.NoError(t, notify(t, n, closed))
	wrongAudience := opened("C-6")
	wrongAudience.Audience = "team"
	require.NoError(t, notify(t, n, wrongAudience))
	assert.Empty(t, market.received())
}

func TestRecipientOfEachAudience(t *testing.T) {
	n := &Notifier{smtp: config.SMTP{From: "Support <support@shop.example>", StaffDomain: "staff.shop.example"}}
	for audience, want := range map[string]string{
		"customer": "ada@example.com",
		"assignee": "bo@staff.shop.example",
		"team":     "team-security@staff.shop.example",
	} {
		got, err := n.recipient(note(audience))
		require.NoError(t, err)
		assert.Equal(t, want, got, audience)
	}
	withAddress := note("assignee")
	withAddress.Case.Assignee = "bo@elsewhere.example"
	got, err := n.recipient(withAddress)
	require.NoError(t, err)
	assert.Equal(t, "bo@elsewhere.example", got)
	oldAddress := note("customer")
	oldAddress.To = "ada.old@example.com"
	got, err = n.recipient(oldAddress)
	require.NoError(t, err)
	assert.Equal(t, "ada.old@example.com", got, "a notification's own address wins over the customer's")
	_, err = n.recipient(note("board"))
	assert.ErrorContains(t, err, `unknown audience "board"`)
	unassigned := note("assignee")
	unassigned.Case.Assignee = ""
	_, err = n.recipient(unassigned)
	assert.ErrorContains(t, err, "no assignee")
}

func TestEmailWithoutAnAddressFailsWithoutRetry(t *testing.T) {
	n, err := newNotifier(testConfig(t), newMemoryLog())
	require.NoError(t, err)
	o := opened("C-8")
	o.Case.Customer.Email = ""
	err = notify(t, n, o)
	require.Error(t, err)
	assert.True(t, appError(t, err).NonRetryable())
	assert.Contains(t, err.Error(), "email: notification case/C-8/1/customer: the customer has no email address")
}

func TestMessageIDIsDerivedFromTheNotificationID(t *testing.T) {
	assert.Equal(t, "case.C-7.3.team@shop.example", messageID("case/C-7/3/team", "Support <support@shop.example>"))
	assert.Equal(t, "x@handoff.localhost", messageID("x", "no-domain"))
	odd := messageID("case/shop key@1 (x)/3/customer/email", "support@shop.example")
	assert.Regexp(t, `^h\.[0-9a-f]{32}@shop\.example$`, odd, "an id that is no dot-atom is hashed")
	assert.Equal(t, odd, messageID("case/shop key@1 (x)/3/customer/email", "support@shop.example"))
	assert.Equal(t, "case/C-7/3/team/x", webhookID("case/C-7/3/team/x"))
	assert.Regexp(t, `^h_[0-9a-f]{32}$`, webhookID("case/é\n/3"))
}

func TestTheLeaseOutlastsASend(t *testing.T) {
	assert.Greater(t, deliveryLease, sendBound+5*time.Second, "the send and the record of its outcome")
	assert.Less(t, busyPoll, sendBound)
}

// A send outlives the attempt that started it: a try in the workflow task
// times out at two seconds against a slow receiver, and the activity that
// takes over must not send the message again while the first send may
// still land.
func TestNotifySendInFlightOutlivesItsAttempt(t *testing.T) {
	market := newReceiver(t, func(w http.ResponseWriter) {
		time.Sleep(1500 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	})
	n, log := webhookNotifier(t, market.URL, "")
	note := opened("C-9")
	first := make(chan error, 1)
	go func() { first <- notifyWithin(n, note, 300*time.Millisecond) }()

	time.Sleep(600 * time.Millisecond) // the first attempt's deadline has passed
	err := notify(t, n, note)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another attempt is sending it")
	assert.LessOrEqual(t, appError(t, err).NextRetryDelay(), busyPoll, "it looks again soon")

	<-first
	require.NoError(t, notify(t, n, note), "the next look finds it sent")
	assert.Len(t, market.received(), 1)
	row := log.row(note.ID, ChannelMarketplaceWebhook)
	assert.Equal(t, "sent", row.Status)
	assert.Equal(t, 1, row.Attempts)
}

// notifyWithin runs Notify as an attempt whose deadline is d away.
func notifyWithin(n *Notifier, note vocab.Notification, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	env.RegisterActivity(n)
	_, err := env.ExecuteActivity(n.Notify, note)
	return err
}

func TestNotifyErrorIsRetryableWhileAnyChannelMayPass(t *testing.T) {
	assert.NoError(t, notifyError("n", nil))
	refused := notifyError("n", []error{permanent(errors.New("a")), permanent(errors.New("b"))})
	assert.True(t, appError(t, refused).NonRetryable())
	mixed := notifyError("n", []error{permanent(errors.New("a")), retryAfter(errors.New("b"), 3*time.Second)})
	assert.False(t, appError(t, mixed).NonRetryable())
	assert.Equal(t, 3*time.Second, appError(t, mixed).NextRetryDelay())
	assert.Equal(t, "notification n: a; b", appError(t, mixed).Message())
}

// The notifier's variables, read by package config, fail naming the
// variable and never quote a secret.
func TestNotifyVariablesFailNamingTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"NOTIFY_ROUTES_FILE":      "",
		"MARKETPLACE_WEBHOOK_URL": "shop.example/hooks",
		"TEAM_WEBHOOK_URLS":       "security=https://hooks.example/hunter2-path,security=https://hooks.example/hunter2-path",
		"WEBHOOK_SIGNING_SECRET":  "hunter2-not-whsec",
		"WEBHOOK_KEY_ID":          "key id",
		"SURVEY_URL":              "",
		"DELIVERY_PAGE_URL":       "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.LoadFrom(func(n string) (string, bool) {
				if n == name {
					return value, true
				}
				return "", false
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), name+":")
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	for _, tc := range []struct{ value, want string }{
		{"whsec_abc", "not valid base64"},
		{"whsec_" + "c2hvcnQ=", "want a key of 24 to 64 bytes, got 5"},
	} {
		_, err := config.LoadFrom(func(n string) (string, bool) { return tc.value, n == "WEBHOOK_SIGNING_SECRET" })
		assert.ErrorContains(t, err, tc.want)
	}
	cfg, err := config.LoadFrom(func(n string) (string, bool) {
		return " security = https://hooks.example/a , trust_safety=https://hooks.example/b", n == "TEAM_WEBHOOK_URLS"
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"security": "https://hooks.example/a", "trust_safety": "https://hooks.example/b"}, cfg.Notify.TeamWebhookURLs)
}

// fakeSMTP is an SMTP server that takes every mail and keeps it.
type fakeSMTP struct {
	Addr  string
	mu    sync.Mutex
	mails []fakeMail
	// conns are the sessions open, closed when the test ends (the
	// notifier keeps its sessions open between sends).
	conns  map[net.Conn]bool
	closed bool
}

// fakeMail is one mail fakeSMTP took.
type fakeMail struct {
	To  []string
	Msg *netmail.Message
}

// newFakeSMTP answers a fakeSMTP listening on a free local port until the
// test ends.
func newFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &fakeSMTP{Addr: l.Addr().String(), conns: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = l.Close()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				_ = conn.Close()
				return
			}
			s.conns[conn] = true
			s.mu.Unlock()
			wg.Go(func() {
				s.serve(conn)
				s.mu.Lock()
				delete(s.conns, conn)
				s.mu.Unlock()
			})
		}
	})
	return s
}

// serve speaks just enough SMTP for go-mail: no TLS, no auth.
func (s *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	_ = tp.PrintfLine("220 fake ESMTP")
	var to []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-fake\r\n250 8BITMIME")
		case "MAIL", "RSET", "NOOP":
			if verb == "RSET" {
				to = nil
			}
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			_, addr, _ := strings.Cut(line, ":")
			to = append(to, strings.Trim(strings.TrimSpace(addr), "<>"))
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg, err := netmail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				_ = tp.PrintfLine("554 unreadable: %v", err)
				continue
			}
			s.mu.Lock()
			s.mails = append(s.mails, fakeMail{To: to, Msg: msg})
			s.mu.Unlock()
			to = nil
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

func (s *fakeSMTP) received() []fakeMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mails)
}

// TestDeliveryProblemGoesToTheBuyerAndToTheMarketplaceForTheSeller runs a
// delivery's problem report through the shipped routes: the buyer gets the
// email, and the marketplace gets the delivery's facts, the seller's id
// among them, with no case and no survey.
func TestDeliveryProblemGoesToTheBuyerAndToTheMarketplaceForTheSeller(t *testing.T) {
	smtp := newFakeSMTP(t)
	market := newReceiver(t)
	cfg := testConfig(t)
	cfg.SMTP.Addr, cfg.SMTP.Username, cfg.SMTP.StartTLS = smtp.Addr, "", false
	cfg.Notify.MarketplaceWebhookURL = market.URL
	log := newMemoryLog()
	n, err := newNotifier(cfg, log)
	require.NoError(t, err)
	require.Equal(t, []string{ChannelEmail, ChannelMarketplaceWebhook}, n.routes.channels(deliveries.EventProblemReported, vocab.AudienceCustomer))

	problem := deliveryNote(deliveries.EventProblemReported, "fr", "Le mot de passe ne fonctionne plus.")
	require.NoError(t, notify(t, n, problem))
	require.NoError(t, notify(t, n, problem), "a retry sends nothing again")

	mails := smtp.received()
	require.Len(t, mails, 1)
	assert.Equal(t, []string{"ada@example.com"}, mails[0].To)
	assert.Equal(t, "<delivery.D-7.4.customer.email@handoff.localhost>", mails[0].Msg.Header.Get("Message-Id"))
	subject, err := new(mime.WordDecoder).DecodeHeader(mails[0].Msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "[D-7] Nous avons bien reçu votre signalement : Valorant", subject)
	assert.Equal(t, "sent", log.row(problem.ID, ChannelEmail).Status)

	hooks := market.received()
	require.Len(t, hooks, 1)
	require.NoError(t, verifyStandardWebhook(cfg.Notify.WebhookSecret, hooks[0].Header, hooks[0].Body, time.Now()))
	assert.Equal(t, problem.ID+"/marketplace_webhook", hooks[0].Header.Get("webhook-id"))
	var raw struct {
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(hooks[0].Body, &raw))
	assert.Equal(t, "delivery.delivery_problem_received", raw.Type)
	assert.ElementsMatch(t, []string{"notification_id", "event", "audience", "delivery", "detail", "message"}, slices.Collect(maps.Keys(raw.Data)),
		"a delivery's event carries the delivery, no case and no survey")
	var delivery struct {
		vocab.NotificationDelivery
		Buyer vocab.Customer `json:"buyer"`
	}
	require.NoError(t, json.Unmarshal(raw.Data["delivery"], &delivery))
	assert.Equal(t, *problem.Delivery, delivery.NotificationDelivery)
	assert.Equal(t, "seller-3", delivery.SellerID, "the marketplace can tell the seller")
	assert.Equal(t, "buyer-1", delivery.Buyer.ID)
	var message marketplaceMessage
	require.NoError(t, json.Unmarshal(raw.Data["message"], &message))
	assert.Equal(t, subject, message.Subject)
	assert.Equal(t, "sent", log.row(problem.ID, ChannelMarketplaceWebhook).Status)
}

// A case's marketplace body keeps its shape: the case, and no delivery.
func TestCaseMarketplaceEventCarriesTheCaseAndNoDelivery(t *testing.T) {
	n, err := newNotifier(testConfig(t), newMemoryLog())
	require.NoError(t, err)
	resolved := note(vocab.AudienceCustomer)
	resolved.Event, resolved.Detail = cases.EventResolved, "Code re-sent"
	body, err := json.Marshal(n.marketplaceEvent(resolved, message{Locale: "fr", Subject: "s"}, time.Now()))
	require.NoError(t, err)
	var raw struct {
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.Equal(t, "case.resolved", raw.Type)
	assert.ElementsMatch(t, []string{"notification_id", "event", "audience", "case", "detail", "survey_url", "message"}, slices.Collect(maps.Keys(raw.Data)))
	var c vocab.NotificationCase
	require.NoError(t, json.Unmarshal(raw.Data["case"], &c))
	assert.Equal(t, resolved.Case, c)
}

// A send whose record failed (Postgres away) is remembered by the worker
// that sent it: its retries, even after the lease ended, record it instead
// of sending it again, and it is recorded in the background once Postgres
// answers.
func TestASendWhoseRecordFailedIsNotSentAgainByItsWorker(t *testing.T) {
	market := newReceiver(t)
	n, log := webhookNotifier(t, market.URL, "")
	note := opened("C-9")
	log.setRecordDown(true)
	err := notify(t, n, note)
	require.Error(t, err)
	assert.False(t, appError(t, err).NonRetryable())
	assert.Contains(t, err.Error(), "not recorded yet")

	log.expireLeases()
	require.Error(t, notify(t, n, note), "Postgres is still away: the retry waits")
	assert.Len(t, market.received(), 1, "the retry sent nothing")
	assert.Equal(t, "sending", log.row(note.ID, ChannelMarketplaceWebhook).Status)

	log.setRecordDown(false)
	require.Eventually(t, func() bool {
		return log.row(note.ID, ChannelMarketplaceWebhook).Status == "sent"
	}, 5*recordRetry, 50*time.Millisecond, "recorded in the background once Postgres answers")
	require.NoError(t, notify(t, n, note))
	assert.Len(t, market.received(), 1, "sent once")
	assert.Equal(t, 1, log.row(note.ID, ChannelMarketplaceWebhook).Attempts)
}
