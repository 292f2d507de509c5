//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"handoff/stacktest"
	"handoff/store"
	"handoff/worker/registry"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// The customer pages in a real browser: headless Chromium opens the links
// of the emails the worker actually sent to Mailpit, and answers the pages
// as a customer would, by clicking and typing. Each page is pictured at a
// phone's and a desktop's width (stacktest.Screenshot); with
// HANDOFF_SCREENSHOTS_DIR=docs/pages the pictures are the README's.

// newPagesStack is the case stack whose emails link to its own API: the
// API serves the customer pages with the /v1 API, and the worker, started
// after it, writes SURVEY_URL and DELIVERY_PAGE_URL on that API's address.
// Delivery files are kept locked one day only, as in newDeliveryStack.
func newPagesStack(t *testing.T) *caseStack {
	t.Helper()
	cfg := stacktest.Config(t)
	cfg.Evidence.RetentionDays = 1
	db := stacktest.Store(t)
	tc := stacktest.Temporal(t)
	cfg.Temporal.TaskQueue = "test-pages-" + unique()
	s := &caseStack{cfg: cfg, db: db, tc: tc, keys: map[store.Role]apiKey{}}
	s.base = startAPI(t, cfg)
	cfg.Notify.SurveyURL = s.base + "/survey"
	cfg.Notify.DeliveryPageURL = s.base + "/deliveries"
	w := worker.New(tc, cfg.Temporal.TaskQueue, worker.Options{})
	require.NoError(t, registry.Register(w, registry.Deps{Config: cfg, Logger: slog.New(slog.DiscardHandler),
		Store: db, Temporal: tc, S3: stacktest.S3(t)}))
	require.NoError(t, w.Start(), "start worker on %s", cfg.Temporal.TaskQueue)
	t.Cleanup(w.Stop)
	for _, r := range store.Roles {
		s.keys[r] = newAPIKey(t, db, r)
	}
	return s
}

// mailHTML answers the HTML body of the Mailpit message with id.
func mailHTML(t *testing.T, id string) string {
	t.Helper()
	r, err := sendRequest(stacktest.Context(t), stacktest.MailpitURL(), "", http.MethodGet, "/api/v1/message/"+url.PathEscape(id), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status, "mailpit message %s: %s", id, r)
	var msg struct {
		HTML string `json:"HTML"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &msg))
	require.NotEmpty(t, msg.HTML, "mailpit message %s has no HTML part", id)
	return msg.HTML
}

var hrefAttr = regexp.MustCompile(`href="([^"]+)"`)

// linksTo answers the links of an HTML email that lead under base, in
// their order.
func linksTo(mail, base string) []string {
	var out []string
	for _, m := range hrefAttr.FindAllStringSubmatch(mail, -1) {
		if u := html.UnescapeString(m[1]); strings.HasPrefix(u, base) {
			out = append(out, u)
		}
	}
	return out
}

// surveyLinksOf waits for the resolved email of case c to its customer and
// answers its survey page's link and its one-click links by rating.
func (s *caseStack) surveyLinksOf(t *testing.T, c cases.CaseView) (string, map[string]string) {
	t.Helper()
	mail := awaitMail(t, c.Customer.Email, fmt.Sprintf("[%s] Your request is resolved", c.ID))
	page := ""
	ratings := map[string]string{}
	for _, link := range linksTo(mailHTML(t, mail.ID), s.base+"/survey/"+c.ID+"?") {
		u, err := url.Parse(link)
		require.NoError(t, err)
		require.NotEmpty(t, u.Query().Get("t"), "a survey link without its token: %s", link)
		if r := u.Query().Get("rating"); r != "" {
			ratings[r] = link
		} else {
			page = link
		}
	}
	require.NotEmpty(t, page, "no survey link in the resolved email of %s", c.ID)
	require.Len(t, ratings, 5, "one-click links in the resolved email of %s", c.ID)
	return page, ratings
}

// resolvedCase opens a case through the API, replies and resolves it.
func (s *caseStack) resolvedCase(t *testing.T) cases.CaseView {
	t.Helper()
	body := newCaseBody(vocab.CategoryLoginFailure)
	// A subject as a customer writes it: the pictures of the page show it.
	body.Subject = "I cannot sign in since my password was changed"
	c := s.open(t, store.RoleIntegration, body)
	s.act(t, store.RoleAgent, c.ID, "replies", map[string]string{"body": "We reset your password: try to sign in now."})
	return s.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "Password reset"})
}

// text answers the text of the first node sel matches, once it shows.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, "text of %s", sel)
	return strings.TrimSpace(out)
}

// checked reports whether the radio or checkbox sel is checked.
func checked(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked"))
	require.NoError(t, err, "checked of %s", sel)
	return out
}

// csatEvents answers the csat events of a case's timeline.
func csatEvents(t *testing.T, s *caseStack, id string) []vocab.Event {
	t.Helper()
	var out []vocab.Event
	for _, e := range s.timeline(t, id) {
		if e.Kind == cases.EventCSAT {
			out = append(out, e)
		}
	}
	return out
}

func TestBrowserAnswersTheSurveyFromTheResolvedEmail(t *testing.T) {
	s := newPagesStack(t)
	ctx := stacktest.Browser(t)
	shots := stacktest.ScreenshotsDir(t)

	// The customer follows the survey link of the email Mailpit got.
	c := s.resolvedCase(t)
	page, _ := s.surveyLinksOf(t, c)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("form"))))
	assert.Equal(t, textEN.SurveyTitle, text(t, ctx, "h1"))
	assert.Equal(t, c.Subject, text(t, ctx, ".subject"))
	for r := 1; r <= 5; r++ {
		assert.False(t, checked(t, ctx, fmt.Sprintf("#rating-%d", r)), "rating %d selected before any choice", r)
	}

	// Rating 4 by its label, a comment typed in; the page as it looks then.
	comment := "Quick and clear, thank you."
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`label[for="rating-4"]`)),
		chromedp.SendKeys(chromedp.CSS("#comment"), comment),
		chromedp.Blur(chromedp.CSS("#comment")),
	))
	assert.True(t, checked(t, ctx, "#rating-4"), "clicking the label of 4 selects 4")
	stacktest.Screenshot(t, ctx, shots, "survey")

	// Sent: the thank-you page, and the rating on the case and its timeline.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS("form")),
	))
	assert.Equal(t, textEN.ThanksTitle, text(t, ctx, "h1"))
	assert.Contains(t, text(t, ctx, "main"), textEN.rating(4))
	stacktest.Screenshot(t, ctx, shots, "survey-thanks")
	v := s.get(t, c.ID)
	require.NotNil(t, v.CSAT, "the answer did not land on the case")
	assert.Equal(t, 4, v.CSAT.Rating)
	assert.Equal(t, comment, v.CSAT.Comment)
	events := csatEvents(t, s, c.ID)
	require.Len(t, events, 1, "answered once")
	assert.Equal(t, "customer:"+c.Customer.ID, events[0].Actor)
	assert.Equal(t, "4", events[0].Payload["rating"])

	// The link again: already answered, with the first rating.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("h1"))))
	assert.Equal(t, textEN.AlreadyTitle, text(t, ctx, "h1"))
	assert.Contains(t, text(t, ctx, "main"), textEN.rating(4))

	// Another case's one-click "5" from its email opens the form with 5
	// chosen and answers nothing: a mail scanner's GET changes no case.
	other := s.resolvedCase(t)
	_, ratings := s.surveyLinksOf(t, other)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ratings["5"]), chromedp.WaitVisible(chromedp.CSS("form"))))
	assert.Equal(t, other.Subject, text(t, ctx, ".subject"))
	assert.True(t, checked(t, ctx, "#rating-5"), "the one-click link pre-selects 5")
	for r := 1; r <= 4; r++ {
		assert.False(t, checked(t, ctx, fmt.Sprintf("#rating-%d", r)), "rating %d selected by the link of 5", r)
	}
	assert.Nil(t, s.get(t, other.ID).CSAT, "the GET of a one-click link answered the survey")
	assert.Empty(t, csatEvents(t, s, other.ID))

	// The customer sends the pre-selected rating from the keyboard.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`button[type="submit"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitNotPresent(chromedp.CSS("form")),
	))
	assert.Equal(t, textEN.ThanksTitle, text(t, ctx, "h1"))
	v = s.get(t, other.ID)
	require.NotNil(t, v.CSAT)
	assert.Equal(t, 5, v.CSAT.Rating)
	assert.Empty(t, v.CSAT.Comment)
}

// deliveredTo starts a delivery through the API, uploads the seller's
// screenshot, hands the account over, and answers the delivery and the
// link of the delivery email its buyer got.
func (s *caseStack) deliveredTo(t *testing.T) (deliveries.DeliveryView, string) {
	t.Helper()
	body := newDeliveryBody()
	body.Product = "Game account, level 80"
	d := s.startDelivery(t, body)
	evidenceOf(t, s.uploadTo(t, store.RoleIntegration, "/v1/deliveries/"+d.ID+"/evidence", "delivery_screenshot", pngBytes(t, 2048)),
		http.StatusCreated)
	d = deliveryOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "deliver", map[string]string{"note": "credentials sent"}), http.StatusOK)
	require.Equal(t, deliveries.StatusDelivered, d.Status)
	mail := awaitMail(t, body.Buyer.Email, fmt.Sprintf("[%s] Your account is delivered", d.ID))
	found := linksTo(mailHTML(t, mail.ID), s.base+"/deliveries/"+d.ID+"?")
	require.Len(t, found, 1, "the delivery page's link in the delivery email of %s", d.ID)
	return d, found[0]
}

func TestBrowserConfirmsADeliveryAndReportsAProblemFromItsEmail(t *testing.T) {
	s := newPagesStack(t)
	ctx := stacktest.Browser(t)
	shots := stacktest.ScreenshotsDir(t)
	d := deliveryEN.Delivery

	// The buyer follows the link of the delivery email: what was delivered,
	// how to secure it, the deadline, and the two ways to answer.
	delivery, link := s.deliveredTo(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#confirm-heading"))))
	assert.Equal(t, d.Title, text(t, ctx, "h1"))
	facts := text(t, ctx, "dl.facts")
	for _, want := range []string{delivery.Product, delivery.Handoff.AccountID, delivery.Handoff.OrderID, d.Statuses[deliveries.StatusDelivered]} {
		assert.Contains(t, facts, want)
	}
	assert.Equal(t, delivery.Handoff.RecoveryPath.Instructions, text(t, ctx, ".instructions"))
	assert.Equal(t, d.ReportHeading, text(t, ctx, "#report-heading"))
	stacktest.Screenshot(t, ctx, shots, "delivery")

	// Confirmed with one click: the thank-you page, and the delivery confirmed
	// by its buyer.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action$="/confirm"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS("form")),
	))
	assert.Equal(t, d.ConfirmedTitle, text(t, ctx, "h1"))
	assert.Contains(t, text(t, ctx, "main"), d.ConfirmedBody)
	stacktest.Screenshot(t, ctx, shots, "delivery-confirmed")
	got := s.getDelivery(t, store.RoleAgent, delivery.ID)
	assert.True(t, got.Confirmed, "the delivery is not confirmed")
	assert.Equal(t, "customer:"+delivery.Buyer.ID, got.ConfirmedBy)
	assert.Equal(t, deliveries.StatusDelivered, got.Status)

	// Another delivery's buyer reports a problem with a screenshot: the
	// delivery is under review with the case it opened, and the screenshot is
	// its evidence, the buyer's.
	other, link := s.deliveredTo(t)
	shot := filepath.Join(t.TempDir(), "problem.png")
	require.NoError(t, os.WriteFile(shot, pngBytes(t, 4096), 0o600))
	description := "The password in the email does not work: the account says it is locked."
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#description")),
		chromedp.SendKeys(chromedp.CSS("#description"), description),
		chromedp.SetUploadFiles(chromedp.CSS("#screenshot"), []string{shot}),
		chromedp.Blur(chromedp.CSS("#description")),
	))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action$="/report-problem"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS("form")),
	))
	assert.Equal(t, d.ReportedTitle, text(t, ctx, "h1"))
	// The case opens in the background: the delivery names it once it is open.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got = s.getDelivery(t, store.RoleAgent, other.ID)
		assert.Len(ct, got.LinkedCases, 1, "the problem report opens one case")
	}, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, deliveries.StatusUnderReview, got.Status)
	assert.False(t, got.Confirmed)
	linked := got.LinkedCases[0]
	s.terminateAtEnd(t, linked.CaseID)
	assert.Equal(t, deliveries.LinkProblemReport, linked.Reason)
	assert.True(t, linked.Open)
	var buyers []vocab.Evidence
	for _, e := range got.Evidence {
		if e.UploadedBy == "customer:"+other.Buyer.ID {
			buyers = append(buyers, e)
		}
	}
	require.Len(t, buyers, 1, "the buyer's screenshot is the delivery's evidence")
	assert.Equal(t, "image/png", buyers[0].ContentType)
	assert.Equal(t, int64(4096), buyers[0].Size)
	c := s.get(t, linked.CaseID)
	assert.Contains(t, c.Description, description)
}
