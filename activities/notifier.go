package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"handoff/config"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Notifier tells people what happens to their case: by email over SMTP and
// by signed webhooks, on the channels the routes file names for each event
// and audience, in the audience's language.
//
// Exactly once as people see it: every delivery (one notification on one
// channel) has a deterministic id, <notification id>/<channel>, that is the
// email's Message-ID and the webhook-id, and a row in Postgres keyed by
// (notification id, channel). Before sending, Notify claims the row
// ('sending', with a lease as long as the attempt may run); after the send
// it marks it 'sent'. A retried activity skips what is 'sent', waits for a
// lease another attempt holds, and never resends what a receiver refused
// for good ('failed'). One window stays open: a crash after the send and
// before the mark leaves 'sending', and the retry sends again, under the
// same id, for the mail client or webhook receiver to drop as a duplicate.
// Recording before sending instead would lose the message in the same
// crash; a message told twice with one id beats one never told.
type Notifier struct {
	smtp      config.SMTP
	templates *templateBook
	routes    *routes
	webhooks  *webhookPoster
	// marketplaceURL receives customer events; empty turns the channel off.
	marketplaceURL string
	// teamWebhooks maps a team to its incoming-webhook URL.
	teamWebhooks map[string]string
	surveyURL    string
	// codeSecret keys the one-time codes SendCode derives (package codes).
	codeSecret []byte
	log        deliveryLog
	// sessions sends emails over SMTP sessions kept open between sends.
	sessions *smtpSessions
}

// deliveryLog records what was sent (store.Store).
type deliveryLog interface {
	ClaimDelivery(ctx context.Context, d store.Delivery, lease time.Duration) (store.Claim, error)
	MarkDeliverySent(ctx context.Context, notificationID, channel string) error
	ReleaseDelivery(ctx context.Context, notificationID, channel, reason string) error
	FailDelivery(ctx context.Context, notificationID, channel, reason string) error
}

// NewNotifier answers a Notifier configured by cfg (SMTP, the routes file
// and webhook settings) that records deliveries in db. It loads and checks
// every template and the routes file, so a bad one fails the worker at
// start; the error names each problem.
func NewNotifier(cfg config.Config, db *store.Store) (*Notifier, error) {
	if db == nil {
		return nil, errors.New("notifier: needs the store to record deliveries")
	}
	return newNotifier(cfg, db)
}

func newNotifier(cfg config.Config, log deliveryLog) (*Notifier, error) {
	var errs []error
	book, err := loadTemplates(templateFiles, "templates")
	if err != nil {
		errs = append(errs, fmt.Errorf("notification templates: %w", err))
	}
	r, err := loadRoutes(cfg.Notify.RoutesFile)
	if err != nil {
		errs = append(errs, fmt.Errorf("NOTIFY_ROUTES_FILE: %w", err))
	}
	signer, err := newWebhookSigner(cfg.Notify.WebhookSecret, cfg.Notify.WebhookKeyID)
	if err != nil {
		errs = append(errs, fmt.Errorf("WEBHOOK_SIGNING_SECRET: %w", err))
	}
	teamWebhooks := map[string]string{}
	if r != nil {
		for team, u := range r.teamWebhooks {
			teamWebhooks[team] = u
		}
	}
	for team, u := range cfg.Notify.TeamWebhookURLs {
		if !slices.Contains(vocab.Teams, vocab.Team(team)) {
			errs = append(errs, fmt.Errorf("TEAM_WEBHOOK_URLS: unknown team %q (want one of %s)", team, teamList()))
			continue
		}
		teamWebhooks[team] = u
	}
	if len(cfg.Notify.CodeSecret) < minCodeSecret {
		// config refuses it too; a Notifier built otherwise must not
		// derive guessable codes.
		errs = append(errs, fmt.Errorf("VERIFICATION_CODE_SECRET: want a secret of at least %d bytes, got %d", minCodeSecret, len(cfg.Notify.CodeSecret)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Notifier{
		smtp:           cfg.SMTP,
		templates:      book,
		routes:         r,
		webhooks:       newWebhookPoster(signer),
		marketplaceURL: cfg.Notify.MarketplaceWebhookURL,
		teamWebhooks:   teamWebhooks,
		surveyURL:      cfg.Notify.SurveyURL,
		codeSecret:     []byte(cfg.Notify.CodeSecret),
		log:            log,
		sessions:       &smtpSessions{cfg: cfg.SMTP},
	}, nil
}

// Error types of the notifier's failures, stable across the Temporal boundary.
const (
	// ErrTypeInvalidEmail marks an email that no retry can deliver.
	ErrTypeInvalidEmail = "InvalidEmail"
	// ErrTypeNotificationTemplate marks a notification no template renders.
	ErrTypeNotificationTemplate = "NotificationTemplate"
	// ErrTypeNotificationRefused marks a notification whose every failed
	// channel failed for good (a refused address, a receiver's 4xx).
	ErrTypeNotificationRefused = "NotificationRefused"
	// ErrTypeNotificationNotDelivered marks a notification a retry may
	// still deliver on some channel.
	ErrTypeNotificationNotDelivered = "NotificationNotDelivered"
)

// Notify tells a notification's audience what happened to a case, on every
// channel the routes give its event and audience (activity
// cases.ActivityNotify). Channels already sent by an earlier attempt are
// skipped. It fails for a retry while a channel may still be delivered, and
// without retry once every failing channel failed for good; the other
// channels are sent either way.
func (n *Notifier) Notify(ctx context.Context, note cases.Notification) error {
	logger := activity.GetLogger(ctx)
	channels := n.routes.channels(note.Event, note.Audience)
	if len(channels) == 0 {
		logger.Info("notification routed nowhere", "notification", note.ID, "event", note.Event, "audience", note.Audience)
		return nil
	}
	msg, err := n.render(note)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("notification %s: %v", note.ID, err), ErrTypeNotificationTemplate, err)
	}
	at := activity.GetInfo(ctx).ScheduledTime
	if at.IsZero() {
		at = time.Now()
	}
	// The channels go out side by side: each has its own delivery row, and
	// the case's update waits for the slowest when this runs in its task.
	failures := make([]error, len(channels))
	var wg sync.WaitGroup
	for i, channel := range channels {
		d, err := n.delivery(note, channel, msg, at)
		if err == nil && d.send == nil {
			logger.Debug("channel off", "notification", note.ID, "channel", channel)
			continue
		}
		if err != nil {
			failures[i] = fmt.Errorf("%s: %w", channel, err)
			continue
		}
		wg.Go(func() {
			if err := n.deliver(ctx, d); err != nil {
				failures[i] = fmt.Errorf("%s: %w", channel, err)
			}
		})
	}
	wg.Wait()
	return notifyError(note.ID, slices.DeleteFunc(failures, func(err error) bool { return err == nil }))
}

// delivery is one notification on one channel, ready to send.
type delivery struct {
	record store.Delivery
	// send delivers it; nil when the channel is off (no URL configured).
	send func(context.Context) error
}

// delivery prepares note on channel; a delivery without send means the
// channel is off for it.
func (n *Notifier) delivery(note cases.Notification, channel string, msg message, at time.Time) (delivery, error) {
	id := note.ID + "/" + channel
	d := delivery{record: store.Delivery{NotificationID: note.ID, Channel: channel, CaseID: note.Case.ID, Event: note.Event}}
	switch channel {
	case ChannelEmail:
		to, err := n.recipient(note)
		if err != nil {
			return d, permanent(err)
		}
		d.record.Target = to
		e := Email{ID: id, To: to, Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, Locale: msg.Locale}
		d.send = func(ctx context.Context) error { return n.sendEmail(ctx, e) }
	case ChannelTeamWebhook:
		target := n.teamWebhooks[string(note.Case.Team)]
		if target == "" {
			return d, nil
		}
		body, err := json.Marshal(map[string]string{"text": slackText(msg)})
		if err != nil {
			return d, permanent(err)
		}
		d.record.Target = redactURL(target)
		d.send = func(ctx context.Context) error { return n.webhooks.post(ctx, target, webhookID(id), body) }
	case ChannelMarketplaceWebhook:
		if n.marketplaceURL == "" {
			return d, nil
		}
		body, err := json.Marshal(n.marketplaceEvent(note, msg, at))
		if err != nil {
			return d, permanent(err)
		}
		target := n.marketplaceURL
		d.record.Target = redactURL(target)
		d.send = func(ctx context.Context) error { return n.webhooks.post(ctx, target, webhookID(id), body) }
	default:
		return d, permanent(fmt.Errorf("unknown channel %q", channel))
	}
	return d, nil
}

// deliver sends d once across attempts: claim, send, record.
func (n *Notifier) deliver(ctx context.Context, d delivery) error {
	logger := activity.GetLogger(ctx)
	id, channel := d.record.NotificationID, d.record.Channel
	claim, err := n.log.ClaimDelivery(ctx, d.record, leaseFor(ctx))
	if err != nil {
		return err
	}
	switch claim.State {
	case store.ClaimSent:
		logger.Info("notification already sent", "notification", id, "channel", channel)
		return nil
	case store.ClaimFailed:
		return permanent(fmt.Errorf("failed for good earlier: %s", claim.LastError))
	case store.ClaimBusy:
		wait := max(time.Until(claim.Until), 0) + time.Second
		return retryAfter(fmt.Errorf("another attempt is sending it (lease until %s)", claim.Until.UTC().Format(time.RFC3339)), wait)
	}
	if claim.Attempts > 1 {
		// An earlier attempt may have sent it and died before recording:
		// the same id goes out again for the receiver to drop.
		logger.Warn("sending a notification again", "notification", id, "channel", channel,
			"attempts", claim.Attempts, "last_error", claim.LastError)
	}
	sendErr := d.send(ctx)
	// Record even when the attempt's context is ending: a send that went
	// out must not be sent again for want of a row.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	switch {
	case sendErr == nil:
		if err := n.log.MarkDeliverySent(rctx, id, channel); err != nil {
			return fmt.Errorf("sent, but not recorded (a retry sends it again under the same id): %w", err)
		}
		logger.Info("notification sent", "notification", id, "channel", channel, "target", d.record.Target)
		return nil
	case isPermanent(sendErr):
		if err := n.log.FailDelivery(rctx, id, channel, sendErr.Error()); err != nil {
			return errors.Join(sendErr, err)
		}
		return sendErr
	default:
		if err := n.log.ReleaseDelivery(rctx, id, channel, sendErr.Error()); err != nil {
			return errors.Join(sendErr, err)
		}
		return sendErr
	}
}

// leaseFor answers how long a claim holds a delivery: until the attempt's
// deadline (after which Temporal may run another attempt and this one has
// been cancelled), plus a little for clocks that disagree.
func leaseFor(ctx context.Context) time.Duration {
	d := time.Minute
	if deadline, ok := ctx.Deadline(); ok {
		d = time.Until(deadline) + 2*time.Second
	}
	return min(max(d, 5*time.Second), 5*time.Minute)
}

// notifyError turns the failed channels of one notification into the
// activity's error: retryable while any channel may still pass.
func notifyError(id string, failures []error) error {
	if len(failures) == 0 {
		return nil
	}
	msgs := make([]string, len(failures))
	retryable := false
	var delay time.Duration
	for i, f := range failures {
		msgs[i] = f.Error()
		if !isPermanent(f) {
			retryable = true
			delay = max(delay, retryDelay(f))
		}
	}
	msg := fmt.Sprintf("notification %s: %s", id, strings.Join(msgs, "; "))
	cause := errors.Join(failures...)
	if !retryable {
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeNotificationRefused, cause)
	}
	return temporal.NewApplicationErrorWithOptions(msg, ErrTypeNotificationNotDelivered,
		temporal.ApplicationErrorOptions{Cause: cause, NextRetryDelay: delay})
}

// render writes note in its audience's language: the customer's own, the
// routes file's staff locale for assignees and teams.
func (n *Notifier) render(note cases.Notification) (message, error) {
	locale := n.routes.staffLocale
	if note.Audience == "customer" {
		locale = note.Case.Customer.Locale
	}
	data := messageData{
		NotificationID:   note.ID,
		Audience:         note.Audience,
		Case:             note.Case,
		Detail:           note.Detail,
		SurveyURL:        surveyLink(n.surveyURL, note.Case.ID),
		FirstResponseDue: note.Case.FirstResponseDue,
	}
	return n.templates.render(note.Event, locale, data)
}

// surveyLink answers the CSAT survey link of a case: base, then the case
// id as one path segment.
func surveyLink(base, caseID string) string {
	if base == "" || caseID == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/" + url.PathEscape(caseID)
}

// marketplaceEvent is the body of a marketplace webhook, in the Standard
// Webhooks shape: type, timestamp, data.
type marketplaceEvent struct {
	// Type is "case." and the event, such as case.opened.
	Type string `json:"type"`
	// Timestamp is when the workflow asked to tell it, the same on every retry.
	Timestamp time.Time            `json:"timestamp"`
	Data      marketplaceEventData `json:"data"`
}

type marketplaceEventData struct {
	NotificationID string                 `json:"notification_id"`
	Event          string                 `json:"event"`
	Audience       string                 `json:"audience"`
	Case           cases.NotificationCase `json:"case"`
	Detail         string                 `json:"detail,omitempty"`
	SurveyURL      string                 `json:"survey_url,omitempty"`
	// Message is what the email says, for a backend that shows it in-app.
	Message marketplaceMessage `json:"message"`
}

type marketplaceMessage struct {
	Locale  string `json:"locale"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

func (n *Notifier) marketplaceEvent(note cases.Notification, msg message, at time.Time) marketplaceEvent {
	survey := ""
	if note.Event == cases.EventResolved {
		survey = surveyLink(n.surveyURL, note.Case.ID)
	}
	return marketplaceEvent{
		Type:      "case." + note.Event,
		Timestamp: at.UTC().Truncate(time.Millisecond),
		Data: marketplaceEventData{
			NotificationID: note.ID, Event: note.Event, Audience: note.Audience, Case: note.Case,
			Detail: note.Detail, SurveyURL: survey,
			Message: marketplaceMessage(msg),
		},
	}
}

// slackText writes a message for a Slack-compatible incoming webhook: the
// subject in bold, then the text, with the three characters Slack's
// markup reserves escaped.
func slackText(msg message) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return "*" + esc.Replace(msg.Subject) + "*\n" + esc.Replace(msg.Text)
}

// Email is one message to one recipient.
type Email struct {
	// ID is deterministic for the event it reports (workflow id, event
	// sequence, channel) and becomes the Message-ID, so a receiver can
	// recognise a retried send.
	ID      string
	To      string
	Subject string
	Text    string
	// HTML, when set, is sent as an alternative to Text.
	HTML string
	// Locale, when set, is the Content-Language.
	Locale string
}

// SendEmail delivers e through SMTP. A malformed message, or a recipient
// the server refuses for good, fails without retries; a server that cannot
// be reached fails so Temporal retries it.
func (n *Notifier) SendEmail(ctx context.Context, e Email) error {
	err := n.sendEmail(ctx, e)
	if isPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidEmail, err)
	}
	return err
}

// sendEmail delivers e, marking failures no retry fixes as permanent.
func (n *Notifier) sendEmail(ctx context.Context, e Email) error {
	msg, err := n.message(e)
	if err != nil {
		return permanent(err)
	}
	if err := n.sessions.send(ctx, msg); err != nil {
		err = fmt.Errorf("send email %s via %s: %w", e.ID, n.smtp.Addr, err)
		// A 5xx to RCPT TO is this recipient refused for good; any other
		// failure (the server, auth, the network) may pass later.
		var se *mail.SendError
		if errors.As(err, &se) && se.Reason == mail.ErrSMTPRcptTo && se.ErrorCode()/100 == 5 {
			return permanent(err)
		}
		return err
	}
	return nil
}

func (n *Notifier) message(e Email) (*mail.Msg, error) {
	if e.ID == "" || e.Subject == "" || e.Text == "" {
		return nil, errors.New("email needs an id, a subject and a text body")
	}
	msg := mail.NewMsg()
	if err := msg.From(n.smtp.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", n.smtp.From, err)
	}
	if err := msg.To(e.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", e.To, err)
	}
	msg.SetMessageIDWithValue(messageID(e.ID, n.smtp.From))
	msg.SetDate()
	// RFC 3834: out-of-office and other robots do not answer it.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	if e.Locale != "" {
		msg.SetGenHeader(mail.HeaderContentLang, e.Locale)
	}
	msg.Subject(e.Subject)
	msg.SetBodyString(mail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	}
	return msg, nil
}

// dotAtom matches an RFC 5322 dot-atom, what a Message-ID's left part must be.
var dotAtom = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+(\\.[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+)*$")

// messageID builds an RFC 5322 Message-ID from id under the sender's
// domain: id with its slashes turned into dots when that is valid, else a
// hash of id (a case id may hold any character).
func messageID(id, from string) string {
	domain := "handoff.localhost"
	if at := strings.LastIndex(from, "@"); at >= 0 {
		domain = strings.TrimRight(from[at+1:], ">")
	}
	local := strings.ReplaceAll(id, "/", ".")
	if !dotAtom.MatchString(local) {
		sum := sha256.Sum256([]byte(id))
		local = "h." + hex.EncodeToString(sum[:16])
	}
	return local + "@" + domain
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

// recipient answers the address of a notification's audience: for the
// customer, the notification's own address when it has one (the old
// address of a contact change, the new one a code confirms), else the
// case customer's.
func (n *Notifier) recipient(note cases.Notification) (string, error) {
	switch note.Audience {
	case "customer":
		if note.To != "" {
			return note.To, nil
		}
		if note.Case.Customer.Email == "" {
			return "", fmt.Errorf("notification %s: the customer has no email address", note.ID)
		}
		return note.Case.Customer.Email, nil
	case "assignee":
		if note.Case.Assignee == "" {
			return "", fmt.Errorf("notification %s: the case has no assignee", note.ID)
		}
		if strings.Contains(note.Case.Assignee, "@") {
			return note.Case.Assignee, nil
		}
		return note.Case.Assignee + "@" + n.smtp.StaffDomain, nil
	case "team":
		return "team-" + string(note.Case.Team) + "@" + n.smtp.StaffDomain, nil
	}
	return "", fmt.Errorf("notification %s: unknown audience %q", note.ID, note.Audience)
}
