package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"handoff/config"
	"handoff/store"
	"handoff/workflows/vocab"
)

// The notifier's files: this one holds the Notifier, its constructor and
// Notify, which routes a notification to its channels; deliverylog.go
// sends each delivery once (claim, send, record); email.go builds and
// sends the emails; webhook.go signs and posts the webhooks, whose
// marketplace body is in marketplace.go; routes.go and templates.go read
// the routes file and the message templates.

// Notifier tells people what happens to their case or their account
// delivery: by email over SMTP and by signed webhooks, on the channels the
// routes file names for each event and audience, in the audience's language.
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
	// ErrTypeNotificationTemplate marks a notification no template renders.
	ErrTypeNotificationTemplate = "NotificationTemplate"
	// ErrTypeNotificationRefused marks a notification whose every failed
	// channel failed for good (a refused address, a receiver's 4xx).
	ErrTypeNotificationRefused = "NotificationRefused"
	// ErrTypeNotificationNotDelivered marks a notification a retry may
	// still deliver on some channel.
	ErrTypeNotificationNotDelivered = "NotificationNotDelivered"
)

// Notify tells a notification's audience what happened to a case or an
// account delivery (note.Delivery set), on every channel the routes give
// its event and audience (activity vocab.ActivityNotify). Channels already
// sent by an earlier attempt are skipped. It fails for a retry while a
// channel may still be delivered, and without retry once every failing
// channel failed for good; the other channels are sent either way.
func (n *Notifier) Notify(ctx context.Context, note vocab.Notification) error {
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

// delivery prepares note on channel; a delivery without send means the
// channel is off for it.
func (n *Notifier) delivery(note vocab.Notification, channel string, msg message, at time.Time) (delivery, error) {
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
func (n *Notifier) render(note vocab.Notification) (message, error) {
	locale := n.routes.staffLocale
	if note.Audience == vocab.AudienceCustomer {
		locale = note.Case.Customer.Locale
	}
	data := messageData{
		NotificationID: note.ID,
		Audience:       note.Audience,
		Case:           note.Case,
		Delivery:       note.Delivery,
		Detail:         note.Detail,
	}
	// A delivery is no case: it has no survey and no first response due.
	if note.Delivery == nil {
		data.SurveyURL = surveyLink(n.surveyURL, note.Case.ID)
		data.FirstResponseDue = note.Case.FirstResponseDue
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
