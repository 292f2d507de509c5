//go:build integration

package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/links"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// stackNotifier answers a Notifier on the running stack (Mailpit, Postgres)
// with the shipped routes, posting marketplace webhooks to marketplace.
func stackNotifier(t *testing.T, marketplace string) (*Notifier, *store.Store) {
	t.Helper()
	cfg := stacktest.Config(t)
	if !filepath.IsAbs(cfg.Notify.RoutesFile) {
		cfg.Notify.RoutesFile = filepath.Join("..", cfg.Notify.RoutesFile) // tests run in activities/
	}
	cfg.Notify.MarketplaceWebhookURL = marketplace
	db := stacktest.Store(t)
	n, err := NewNotifier(cfg, db)
	require.NoError(t, err)
	return n, db
}

// uniqueCase answers a notification about a new case for a customer
// address no other test uses.
func uniqueCase(event, locale string) vocab.Notification {
	id := fmt.Sprintf("N-%d", time.Now().UnixNano())
	return vocab.Notification{
		ID: "case/" + id + "/5/customer", Event: event, Audience: "customer",
		Case: vocab.NotificationCase{
			ID: id, Subject: "Cannot log in", Category: vocab.CategoryLoginFailure, Priority: vocab.P2,
			Status: string(cases.StatusOpen), Team: vocab.TeamTier1Support,
			Customer: vocab.Customer{ID: "cus-" + id, Email: "cus-" + id + "@example.com", Name: "Ada", Locale: locale},
		},
	}
}

// mailpitMessage is what Mailpit's GET /api/v1/message/{ID} answers that tests read.
type mailpitMessage struct {
	MessageID string
	Subject   string
	Text      string
	HTML      string
}

func mailpitGet(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, stacktest.MailpitURL()+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// mailsTo waits for the sentinel mail sent after everything else, then
// answers every other mail to, in the order Mailpit got them. Mailpit
// stores a mail before it acknowledges it, so nothing sent before the
// sentinel arrives after it.
func mailsTo(t *testing.T, n *Notifier, to string) []stacktest.MailpitMessage {
	t.Helper()
	ctx := stacktest.Context(t)
	require.NoError(t, n.sendEmail(ctx, Email{ID: "sentinel/" + to, To: to, Subject: "sentinel", Text: "end of test"}))
	var got []stacktest.MailpitMessage
	var err error
	require.Eventually(t, func() bool {
		got, err = stacktest.MailpitSearch(ctx, "to:"+to)
		for _, m := range got {
			if m.Subject == "sentinel" {
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the sentinel mail to %s never arrived: %v", to, err)
	var out []stacktest.MailpitMessage
	for _, m := range got {
		if m.Subject != "sentinel" {
			out = append(out, m)
		}
	}
	return out
}

func TestSendEmailArrivesInMailpitWithItsMessageID(t *testing.T) {
	ctx := stacktest.Context(t)
	to := fmt.Sprintf("customer-%d@example.com", time.Now().UnixNano())
	n, _ := stackNotifier(t, "")
	err := n.sendEmail(ctx, Email{
		ID:      "case/C-1/7/email",
		To:      to,
		Subject: "We received your request",
		Text:    "Hello, we are on it.",
		HTML:    "<p>Hello, we are on it.</p>",
	})
	require.NoError(t, err)

	var got []stacktest.MailpitMessage
	require.Eventually(t, func() bool {
		got, err = stacktest.MailpitSearch(ctx, "to:"+to)
		return err == nil && len(got) == 1
	}, 10*time.Second, 100*time.Millisecond, "mail to %s never arrived: %v", to, err)
	assert.Equal(t, "We received your request", got[0].Subject)
	assert.Equal(t, "case.C-1.7.email@handoff.localhost", got[0].MessageID)
}

func TestSendEmailRefusesAMalformedMessageWithoutRetry(t *testing.T) {
	n, _ := stackNotifier(t, "")
	err := n.sendEmail(stacktest.Context(t), Email{ID: "x", To: "not an address", Subject: "s", Text: "t"})
	require.Error(t, err)
	assert.True(t, isPermanent(err), "a malformed address is refused for good, not retried: %v", err)
}

func TestNotifyEmailArrivesInTheCustomersLocaleWithItsTemplate(t *testing.T) {
	ctx := stacktest.Context(t)
	n, db := stackNotifier(t, "")
	reply := "Essayez ceci : <script>alert(\"x\")</script>\nPuis reconnectez-vous."
	note := uniqueCase(cases.EventAgentReply, "fr")
	note.Detail = reply
	require.NoError(t, notify(t, n, note))

	mails := mailsTo(t, n, note.Case.Customer.Email)
	require.Len(t, mails, 1)
	var msg mailpitMessage
	require.NoError(t, mailpitGet(ctx, "/api/v1/message/"+mails[0].ID, &msg))
	assert.Equal(t, "case."+note.Case.ID+".5.customer.email@handoff.localhost", msg.MessageID)
	assert.Equal(t, "["+note.Case.ID+"] Nouvelle réponse à votre demande : Cannot log in", msg.Subject)
	text := strings.ReplaceAll(msg.Text, "\r\n", "\n") // SMTP lines end in CRLF
	assert.Contains(t, text, "Bonjour Ada,")
	assert.Contains(t, text, reply, "the text part carries the reply as written")
	assert.NotContains(t, msg.HTML, "<script>")
	assert.Contains(t, msg.HTML, "&lt;script&gt;", "the HTML part escapes it")
	assert.Contains(t, msg.HTML, `<html lang="fr">`)

	var headers map[string][]string
	require.NoError(t, mailpitGet(ctx, "/api/v1/message/"+mails[0].ID+"/headers", &headers))
	assert.Equal(t, []string{"fr"}, headers["Content-Language"])
	assert.Equal(t, []string{"auto-generated"}, headers["Auto-Submitted"])

	recs, err := db.Deliveries(ctx, note.ID)
	require.NoError(t, err)
	require.Len(t, recs, 1, "the marketplace channel is off without MARKETPLACE_WEBHOOK_URL")
	assert.Equal(t, "sent", recs[0].Status)
	assert.Equal(t, note.Case.Customer.Email, recs[0].Target)
}

func TestNotifyWebhookArrivesSignedAtTheMarketplace(t *testing.T) {
	market := newReceiver(t)
	n, _ := stackNotifier(t, market.URL)
	note := uniqueCase(cases.EventResolved, "en")
	note.Detail = "Code re-sent"
	require.NoError(t, notify(t, n, note))

	got := market.received()
	require.Len(t, got, 1)
	require.NoError(t, verifyStandardWebhook(stacktest.Config(t).Notify.WebhookSecret, got[0].Header, got[0].Body, time.Now()))
	assert.Equal(t, note.ID+"/marketplace_webhook", got[0].Header.Get("webhook-id"))
	var body struct {
		Type string `json:"type"`
		Data struct {
			Detail    string `json:"detail"`
			SurveyURL string `json:"survey_url"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	assert.Equal(t, "case.resolved", body.Type)
	assert.Equal(t, "Code re-sent", body.Data.Detail)
	survey, err := url.Parse(body.Data.SurveyURL)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/survey/"+note.Case.ID, survey.Scheme+"://"+survey.Host+survey.Path)
	claims, err := n.links.Verify(survey.Query().Get("t"), links.PurposeSurvey, note.Case.ID, time.Now())
	require.NoError(t, err, "the marketplace gets the email's signed survey link")
	assert.Equal(t, note.Case.Customer.ID, claims.Customer)
}

func TestNotifyTwiceSendsOneMailAndOneWebhook(t *testing.T) {
	ctx := stacktest.Context(t)
	market := newReceiver(t)
	n, db := stackNotifier(t, market.URL)
	note := uniqueCase(cases.EventOpened, "en")
	require.NoError(t, notify(t, n, note))
	require.NoError(t, notify(t, n, note), "a retried activity finds both channels sent")

	assert.Len(t, mailsTo(t, n, note.Case.Customer.Email), 1)
	assert.Len(t, market.received(), 1)
	recs, err := db.Deliveries(ctx, note.ID)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, "sent", r.Status, r.Channel)
		assert.Equal(t, 1, r.Attempts, r.Channel)
	}
}

func TestConcurrentNotifiesSendOnce(t *testing.T) {
	market := newReceiver(t)
	n, _ := stackNotifier(t, market.URL)
	note := uniqueCase(cases.EventOpened, "en")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = notify(t, n, note) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// The attempts that lost the race wait for the winner's lease.
			assert.Contains(t, err.Error(), "another attempt is sending it")
		}
	}
	require.NoError(t, notify(t, n, note))
	assert.Len(t, mailsTo(t, n, note.Case.Customer.Email), 1)
	assert.Len(t, market.received(), 1)
}

// An attempt that sent on both channels and died before recording it:
// the retry sends again under the same ids, which is what the receivers
// drop; after that the record holds and nothing more goes out.
func TestNotifyAfterACrashBetweenSendAndRecordResendsUnderTheSameIDs(t *testing.T) {
	ctx := stacktest.Context(t)
	market := newReceiver(t)
	n, db := stackNotifier(t, market.URL)
	note := uniqueCase(cases.EventOpened, "en")

	// The attempt that dies: it claims and sends each channel, and never records.
	msg, err := n.render(note, time.Now())
	require.NoError(t, err)
	for _, channel := range []string{ChannelEmail, ChannelMarketplaceWebhook} {
		d, err := n.delivery(note, channel, msg, time.Now())
		require.NoError(t, err)
		c, err := db.ClaimDelivery(ctx, d.record, time.Minute)
		require.NoError(t, err)
		require.Equal(t, store.ClaimSend, c.State)
		require.NoError(t, d.send(ctx))
	}
	// While its lease lasts a retry waits rather than send a second time.
	err = notify(t, n, note)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another attempt is sending it")
	assert.Len(t, market.received(), 1)

	// The lease runs out (the dead attempt's deadline passed).
	_, err = db.Pool().Exec(ctx, `UPDATE notification_deliveries SET claimed_until = now() - interval '1 second' WHERE notification_id = $1`, note.ID)
	require.NoError(t, err)
	require.NoError(t, notify(t, n, note))
	require.NoError(t, notify(t, n, note), "once recorded, a retry sends nothing")

	hooks := market.received()
	require.Len(t, hooks, 2)
	seen := map[string]bool{}
	for _, h := range hooks {
		require.NoError(t, verifyStandardWebhook(stacktest.Config(t).Notify.WebhookSecret, h.Header, h.Body, time.Now()))
		seen[h.Header.Get("webhook-id")] = true
	}
	assert.Equal(t, map[string]bool{note.ID + "/marketplace_webhook": true}, seen, "a receiver deduplicating by webhook-id acts once")

	mails := mailsTo(t, n, note.Case.Customer.Email)
	require.NotEmpty(t, mails)
	assert.LessOrEqual(t, len(mails), 2)
	for _, m := range mails {
		assert.Equal(t, "case."+note.Case.ID+".5.customer.email@handoff.localhost", m.MessageID, "mail clients thread and drop by Message-ID")
	}
	recs, err := db.Deliveries(ctx, note.ID)
	require.NoError(t, err)
	for _, r := range recs {
		assert.Equal(t, "sent", r.Status, r.Channel)
		assert.Equal(t, 2, r.Attempts, r.Channel)
	}
}

func TestNotifyToTheTeamMailsTheTeamAddress(t *testing.T) {
	n, _ := stackNotifier(t, "")
	note := uniqueCase(cases.EventSLABreach, "fr")
	note.ID, note.Audience = "case/"+note.Case.ID+"/9/team", "team"
	note.Case.Team = vocab.Team(fmt.Sprintf("t%d", time.Now().UnixNano())) // an address no other test uses
	note.Detail = "first response was due 2026-03-02T11:00:00Z; escalated to level 1"
	require.NoError(t, notify(t, n, note))

	mails := mailsTo(t, n, "team-"+string(note.Case.Team)+"@"+stacktest.Config(t).SMTP.StaffDomain)
	require.Len(t, mails, 1)
	assert.Equal(t, "["+note.Case.ID+"] SLA breached (p2): Cannot log in", mails[0].Subject, "staff are written to in the staff locale")
}

// uniqueDelivery answers the notification a delivery sends its buyer about
// event, for a buyer address no other test uses.
func uniqueDelivery(event, locale, detail string) vocab.Notification {
	n := deliveryNote(event, locale, detail)
	id := fmt.Sprintf("D-%d", time.Now().UnixNano())
	n.ID = "delivery/" + id + "/4/customer"
	n.Case.ID, n.Case.Subject = id, "Account delivery "+id+" (Valorant)"
	n.Case.Customer.ID, n.Case.Customer.Email = "buyer-"+id, "buyer-"+id+"@example.com"
	d := *n.Delivery
	d.ID = id
	n.Delivery = &d
	return n
}

func TestNotifyDeliveryProblemMailsTheBuyerAndTellsTheMarketplaceTheSeller(t *testing.T) {
	ctx := stacktest.Context(t)
	market := newReceiver(t)
	n, db := stackNotifier(t, market.URL)
	note := uniqueDelivery(deliveries.EventProblemReported, "fr", "Le mot de passe a été changé par quelqu'un d'autre.")
	require.NoError(t, notify(t, n, note))

	mails := mailsTo(t, n, note.Case.Customer.Email)
	require.Len(t, mails, 1)
	var msg mailpitMessage
	require.NoError(t, mailpitGet(ctx, "/api/v1/message/"+mails[0].ID, &msg))
	assert.Equal(t, "delivery."+note.Delivery.ID+".4.customer.email@handoff.localhost", msg.MessageID)
	assert.Equal(t, "["+note.Delivery.ID+"] Nous avons bien reçu votre signalement : Valorant", msg.Subject)
	text := strings.ReplaceAll(msg.Text, "\r\n", "\n")
	assert.Contains(t, text, "votre compte Valorant acc-42 (commande ord-9001)")
	assert.Contains(t, text, "Le mot de passe a été changé par quelqu'un d'autre.")
	assert.Contains(t, text, "Votre référence de livraison est "+note.Delivery.ID+".")
	assert.NotContains(t, text, "survey")
	assert.Contains(t, msg.HTML, `<html lang="fr">`)

	hooks := market.received()
	require.Len(t, hooks, 1)
	require.NoError(t, verifyStandardWebhook(stacktest.Config(t).Notify.WebhookSecret, hooks[0].Header, hooks[0].Body, time.Now()))
	var body struct {
		Type string `json:"type"`
		Data struct {
			Case     *vocab.NotificationCase `json:"case"`
			Delivery struct {
				ID       string         `json:"id"`
				SellerID string         `json:"seller_id"`
				OrderID  string         `json:"order_id"`
				Buyer    vocab.Customer `json:"buyer"`
			} `json:"delivery"`
			Detail    string `json:"detail"`
			SurveyURL string `json:"survey_url"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(hooks[0].Body, &body))
	assert.Equal(t, "delivery.delivery_problem_received", body.Type)
	assert.Nil(t, body.Data.Case)
	assert.Equal(t, note.Delivery.ID, body.Data.Delivery.ID)
	assert.Equal(t, "seller-3", body.Data.Delivery.SellerID)
	assert.Equal(t, "ord-9001", body.Data.Delivery.OrderID)
	assert.Equal(t, note.Case.Customer.ID, body.Data.Delivery.Buyer.ID)
	assert.Equal(t, note.Detail, body.Data.Detail)
	assert.Empty(t, body.Data.SurveyURL)

	recs, err := db.Deliveries(ctx, note.ID)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, "sent", r.Status, r.Channel)
	}
}

func TestNotifyEachDeliveryEventMailsTheBuyerOnly(t *testing.T) {
	market := newReceiver(t)
	n, _ := stackNotifier(t, market.URL)
	for _, event := range deliveries.NotifiedEvents {
		if event == deliveries.EventProblemReported {
			continue
		}
		t.Run(event, func(t *testing.T) {
			note := uniqueDelivery(event, "en", "")
			require.NoError(t, notify(t, n, note))
			mails := mailsTo(t, n, note.Case.Customer.Email)
			require.Len(t, mails, 1)
			assert.True(t, strings.HasPrefix(mails[0].Subject, "["+note.Delivery.ID+"] "), mails[0].Subject)
		})
	}
	assert.Empty(t, market.received(), "only a problem report goes to the marketplace")
}
