package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"handoff/config"
	"handoff/links"
	"handoff/store"
	"handoff/workflows/cases"
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
// ('sending', with a lease that outlasts the send: a send runs to its own
// bound even when the attempt that started it times out, so an abandoned
// try in the workflow task is never sent again behind its back); after
// the send it marks it 'sent'. A retried activity skips what is 'sent',
// waits for a lease another attempt holds, and never resends what a
// receiver refused for good ('failed'). One window stays open: a crash after the send and
// before the mark leaves 'sending', and the retry sends again, under the
// same id, for the mail client or webhook receiver to drop as a duplicate.
// Recording before sending instead would lose the message in the same
// crash; a message told twice with one id beats one never told.
type Notifier struct {
	smtp config.SMTP
	// inbound is where customers' replies go (their reply addresses).
	inbound   config.Inbound
	templates *templateBook
	routes    *routes
	webhooks  *webhookPoster
	// marketplaceURL receives customer events; empty turns the channel off.
	marketplaceURL string
	// teamWebhooks maps a team to its incoming-webhook URL.
	teamWebhooks map[string]string
	// surveyURL and deliveryPageURL are the bases of the pages a customer's
	// email links to (SURVEY_URL, DELIVERY_PAGE_URL); links signs those
	// links (LINK_SIGNING_KEYS), so the pages know whom they serve.
	surveyURL       string
	deliveryPageURL string
	links           *links.Signer
	// codeSecret keys the one-time codes SendCode derives (package codes).
	codeSecret []byte
	log        deliveryLog
	// sessions sends emails over SMTP sessions kept open between sends.
	sessions *smtpSessions
	// unrecorded holds the deliveries this process sent but could not yet
	// record as sent (deliveryKey → struct{}): no attempt here sends them
	// again, and recordLater keeps trying to record them.
	unrecorded sync.Map
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
	linkSigner, err := links.FromConfig(cfg.Notify.LinkKeys)
	if err != nil {
		errs = append(errs, fmt.Errorf("LINK_SIGNING_KEYS: %w", err))
	}
	for _, base := range [][2]string{{"SURVEY_URL", cfg.Notify.SurveyURL}, {"DELIVERY_PAGE_URL", cfg.Notify.DeliveryPageURL}} {
		// config checks them too; a Notifier built otherwise must not
		// write broken links.
		if _, err := url.Parse(base[1]); err != nil {
			errs = append(errs, fmt.Errorf("%s: not a URL", base[0]))
		}
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
		smtp:            cfg.SMTP,
		inbound:         cfg.Inbound,
		templates:       book,
		routes:          r,
		webhooks:        newWebhookPoster(signer),
		marketplaceURL:  cfg.Notify.MarketplaceWebhookURL,
		teamWebhooks:    teamWebhooks,
		surveyURL:       cfg.Notify.SurveyURL,
		deliveryPageURL: cfg.Notify.DeliveryPageURL,
		links:           linkSigner,
		codeSecret:      []byte(cfg.Notify.CodeSecret),
		log:             log,
		sessions:        &smtpSessions{cfg: cfg.SMTP},
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
	at := activity.GetInfo(ctx).ScheduledTime
	if at.IsZero() {
		at = time.Now()
	}
	msg, err := n.render(note, at)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("notification %s: %v", note.ID, err), ErrTypeNotificationTemplate, err)
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
		e := Email{ID: id, To: to, Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, Locale: msg.Locale,
			Thread: n.caseThread(note, at)}
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

// render writes note, asked for at, in its audience's language: the
// customer's own, the routes file's staff locale for assignees and teams.
func (n *Notifier) render(note vocab.Notification, at time.Time) (message, error) {
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
		data.SurveyURL, data.SurveyRatings = n.surveyLinks(note, at)
		data.FirstResponseDue = note.Case.FirstResponseDue
	} else {
		data.DeliveryURL = n.deliveryLink(note, at)
	}
	return n.templates.render(note.Event, locale, data)
}

// fallbackLinkLife is how long a customer link lasts when the notification
// does not say: the resolution of a case resolved before SupportCase
// filled SurveyUntil, a delivery told without its confirmation and
// warranty dates.
const fallbackLinkLife = 7 * 24 * time.Hour

// surveyLinks answers the signed links of a resolved case's survey, for its
// customer only: the survey page, SURVEY_URL/<case id>?t=<token>, then one
// link per rating (rating 1 to 5, &rating=N). The token is for the case and
// its customer and expires with the survey window (Case.SurveyUntil).
//
// A rating's link only opens the page with that rating chosen; the page
// still asks the customer to submit it, so a mail scanner that follows
// every link of the email answers nothing.
func (n *Notifier) surveyLinks(note vocab.Notification, at time.Time) (string, []ratingLink) {
	if note.Event != cases.EventResolved || note.Audience != vocab.AudienceCustomer || n.links == nil {
		return "", nil
	}
	until := at.Add(fallbackLinkLife) // a case resolved before SurveyUntil existed
	if note.Case.SurveyUntil != nil {
		until = *note.Case.SurveyUntil
	}
	token := n.links.Sign(links.Claims{
		Purpose: links.PurposeSurvey, Subject: note.Case.ID, Customer: note.Case.Customer.ID, Expires: until,
	})
	page := pageLink(n.surveyURL, note.Case.ID, token, 0)
	if page == "" {
		return "", nil
	}
	ratings := make([]ratingLink, 0, 5)
	for r := 1; r <= 5; r++ {
		ratings = append(ratings, ratingLink{Rating: r, URL: pageLink(n.surveyURL, note.Case.ID, token, r)})
	}
	return page, ratings
}

// deliveryLink answers the signed link of an account delivery's page,
// DELIVERY_PAGE_URL/<delivery id>?t=<token>, where its buyer confirms it
// or reports a problem; for the buyer only. The token is for the delivery
// and its buyer and expires at the confirmation deadline, else at the
// warranty's end.
func (n *Notifier) deliveryLink(note vocab.Notification, at time.Time) string {
	d := note.Delivery
	if d == nil || note.Audience != vocab.AudienceCustomer || n.links == nil {
		return ""
	}
	until := at.Add(fallbackLinkLife) // a delivery told without its dates
	switch {
	case d.ConfirmBy != nil:
		until = *d.ConfirmBy
	case d.WarrantyEndsAt != nil:
		until = *d.WarrantyEndsAt
	}
	token := n.links.Sign(links.Claims{
		Purpose: links.PurposeDelivery, Subject: d.ID, Customer: note.Case.Customer.ID, Expires: until,
	})
	return pageLink(n.deliveryPageURL, d.ID, token, 0)
}

// pageLink answers the link of a customer page: base, then id as one path
// segment, then the token in t and, when rating is set, the rating; empty
// without a base or an id.
func pageLink(base, id, token string, rating int) string {
	if base == "" || id == "" {
		return ""
	}
	u, err := url.Parse(base)
	if err != nil {
		return "" // newNotifier refuses such a base
	}
	u.RawPath = strings.TrimRight(u.EscapedPath(), "/") + "/" + url.PathEscape(id)
	u.Path = strings.TrimRight(u.Path, "/") + "/" + id
	query := "t=" + url.QueryEscape(token)
	if rating > 0 {
		query += "&rating=" + strconv.Itoa(rating)
	}
	if u.RawQuery != "" {
		query = u.RawQuery + "&" + query
	}
	u.RawQuery = query
	return u.String()
}
