package activities

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/links"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// The links customers follow from their emails are signed (package links):
// the survey of a resolved case and the page of an account delivery.

var (
	textLink = regexp.MustCompile(`https?://[^\s<>"]+`)
	htmlHref = regexp.MustCompile(`href="([^"]+)"`)
)

// linksIn answers the links of a rendered message's text and HTML parts
// starting with base, the HTML's unescaped.
func linksIn(t *testing.T, msg message, base string) (inText, inHTML []*url.URL) {
	t.Helper()
	parse := func(raw string) *url.URL {
		u, err := url.Parse(raw)
		require.NoError(t, err, raw)
		return u
	}
	for _, raw := range textLink.FindAllString(msg.Text, -1) {
		if strings.HasPrefix(raw, base) {
			inText = append(inText, parse(raw))
		}
	}
	for _, m := range htmlHref.FindAllStringSubmatch(msg.HTML, -1) {
		if raw := html.UnescapeString(m[1]); strings.HasPrefix(raw, base) {
			inHTML = append(inHTML, parse(raw))
		}
	}
	return inText, inHTML
}

// page answers a link without its query.
func page(u *url.URL) string { return u.Scheme + "://" + u.Host + u.EscapedPath() }

func linkSigner(t *testing.T, cfg config.Config) *links.Signer {
	t.Helper()
	s, err := links.FromConfig(cfg.Notify.LinkKeys)
	require.NoError(t, err)
	return s
}

// resolvedNote answers the resolved notification SupportCase sends the
// customer of C-7, whose survey closes at until.
func resolvedNote(locale string, until *time.Time) vocab.Notification {
	n := note(vocab.AudienceCustomer)
	n.Event, n.Detail = cases.EventResolved, "Code re-sent"
	n.Case.Status = string(cases.StatusResolved)
	n.Case.Customer = vocab.Customer{ID: "cus-1", Email: "ada@example.com", Name: "Ada", Locale: locale}
	n.Case.SurveyUntil = until
	return n
}

func TestResolvedEmailLinksTheSurveySignedForTheCaseAndItsCustomer(t *testing.T) {
	cfg := testConfig(t)
	n, err := newNotifier(cfg, newMemoryLog())
	require.NoError(t, err)
	signer := linkSigner(t, cfg)
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	until := at.Add(168 * time.Hour)
	for _, locale := range []string{"en", "fr"} {
		t.Run(locale, func(t *testing.T) {
			msg, err := n.render(resolvedNote(locale, &until), at)
			require.NoError(t, err)
			inText, inHTML := linksIn(t, msg, cfg.Notify.SurveyURL)
			require.Len(t, inText, 1, "the text part links the survey once:\n%s", msg.Text)
			require.Len(t, inHTML, 6, "the HTML part has five ratings and the survey page:\n%s", msg.HTML)

			survey := inText[0]
			assert.Equal(t, "http://127.0.0.1:8080/survey/C-7", page(survey))
			assert.Equal(t, []string{"t"}, slices.Collect(maps.Keys(survey.Query())), "the survey page's link carries the token alone")
			token := survey.Query().Get("t")
			claims, err := signer.Verify(token, links.PurposeSurvey, "C-7", at)
			require.NoError(t, err)
			assert.Equal(t, links.Claims{Purpose: links.PurposeSurvey, Subject: "C-7", Customer: "cus-1", Expires: until}, claims)
			_, err = signer.Verify(token, links.PurposeSurvey, "C-7", until)
			assert.ErrorIs(t, err, links.ErrExpired, "the link ends with the survey window")
			_, err = signer.Verify(token, links.PurposeSurvey, "C-8", at)
			assert.ErrorIs(t, err, links.ErrWrongUse, "the link opens no other case's survey")
			_, err = signer.Verify(token, links.PurposeDelivery, "C-7", at)
			assert.ErrorIs(t, err, links.ErrWrongUse, "the link opens no delivery page")

			// One link per rating, in order, each with the same token; then
			// the survey page itself.
			for i, u := range inHTML[:5] {
				assert.Equal(t, "http://127.0.0.1:8080/survey/C-7", page(u))
				assert.Equal(t, strconv.Itoa(i+1), u.Query().Get("rating"))
				assert.Equal(t, token, u.Query().Get("t"))
				assert.True(t, strings.HasPrefix(u.RawQuery, "t="), "t comes first: %s", u.RawQuery)
			}
			assert.Equal(t, survey.String(), inHTML[5].String())
		})
	}
}

// A case resolved before SupportCase filled SurveyUntil still gets a
// working link, for a week from the notification.
func TestResolvedEmailWithoutSurveyUntilLinksForAWeek(t *testing.T) {
	cfg := testConfig(t)
	n, err := newNotifier(cfg, newMemoryLog())
	require.NoError(t, err)
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	msg, err := n.render(resolvedNote("en", nil), at)
	require.NoError(t, err)
	inText, _ := linksIn(t, msg, cfg.Notify.SurveyURL)
	require.Len(t, inText, 1)
	claims, err := linkSigner(t, cfg).Verify(inText[0].Query().Get("t"), links.PurposeSurvey, "C-7", at)
	require.NoError(t, err)
	assert.Equal(t, at.Add(7*24*time.Hour), claims.Expires)
}

func TestDeliveryEmailsLinkTheDeliveryPageSignedForTheBuyer(t *testing.T) {
	cfg := testConfig(t)
	n, err := newNotifier(cfg, newMemoryLog())
	require.NoError(t, err)
	signer := linkSigner(t, cfg)
	at := time.Date(2026, 3, 6, 11, 0, 0, 0, time.UTC)
	words := map[string]string{"en": "Confirm or report a problem", "fr": "Confirmer ou signaler un problème"}
	for _, event := range []string{deliveries.EventDelivered, deliveries.EventReminder} {
		for _, locale := range []string{"en", "fr"} {
			t.Run(event+"/"+locale, func(t *testing.T) {
				note := deliveryNote(event, locale, "")
				msg, err := n.render(note, at)
				require.NoError(t, err)
				assert.Contains(t, msg.Text, words[locale])
				assert.Contains(t, visibleText(msg.HTML), words[locale])
				inText, inHTML := linksIn(t, msg, cfg.Notify.DeliveryPageURL)
				require.Len(t, inText, 1, msg.Text)
				require.Len(t, inHTML, 1, msg.HTML)
				assert.Equal(t, inText[0].String(), inHTML[0].String())
				assert.Equal(t, "http://127.0.0.1:8080/deliveries/D-7", page(inText[0]))
				assert.Equal(t, []string{"t"}, slices.Collect(maps.Keys(inText[0].Query())))
				token := inText[0].Query().Get("t")
				claims, err := signer.Verify(token, links.PurposeDelivery, "D-7", at)
				require.NoError(t, err)
				assert.Equal(t, links.Claims{Purpose: links.PurposeDelivery, Subject: "D-7", Customer: "buyer-1", Expires: *note.Delivery.ConfirmBy}, claims)
				_, err = signer.Verify(token, links.PurposeSurvey, "D-7", at)
				assert.ErrorIs(t, err, links.ErrWrongUse)
				_, err = signer.Verify(token, links.PurposeDelivery, "D-8", at)
				assert.ErrorIs(t, err, links.ErrWrongUse)
			})
		}
	}

	// Without a confirmation deadline the link lasts the warranty.
	note := deliveryNote(deliveries.EventDelivered, "en", "")
	note.Delivery.ConfirmBy = nil
	msg, err := n.render(note, at)
	require.NoError(t, err)
	inText, _ := linksIn(t, msg, cfg.Notify.DeliveryPageURL)
	require.Len(t, inText, 1)
	claims, err := signer.Verify(inText[0].Query().Get("t"), links.PurposeDelivery, "D-7", at)
	require.NoError(t, err)
	assert.Equal(t, *note.Delivery.WarrantyEndsAt, claims.Expires)
}

// A link altered anywhere in its token opens nothing.
func TestTamperedLinkFromTheEmailDoesNotVerify(t *testing.T) {
	cfg := testConfig(t)
	n, err := newNotifier(cfg, newMemoryLog())
	require.NoError(t, err)
	signer := linkSigner(t, cfg)
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	until := at.Add(168 * time.Hour)
	resolved, err := n.render(resolvedNote("en", &until), at)
	require.NoError(t, err)
	delivered, err := n.render(deliveryNote(deliveries.EventDelivered, "en", ""), at)
	require.NoError(t, err)
	for _, tc := range []struct {
		msg              message
		base             string
		purpose, subject string
	}{
		{resolved, cfg.Notify.SurveyURL, links.PurposeSurvey, "C-7"},
		{delivered, cfg.Notify.DeliveryPageURL, links.PurposeDelivery, "D-7"},
	} {
		inText, _ := linksIn(t, tc.msg, tc.base)
		require.Len(t, inText, 1)
		token := inText[0].Query().Get("t")
		_, err := signer.Verify(token, tc.purpose, tc.subject, at)
		require.NoError(t, err, "the link as sent verifies")
		parts := strings.Split(token, ".")
		require.Len(t, parts, 4)
		// Claims for another customer, and for a later expiry, under the
		// email's signature.
		for _, body := range []string{
			forgedBody(links.Claims{Purpose: tc.purpose, Subject: tc.subject, Customer: "cus-2", Expires: until}),
			forgedBody(links.Claims{Purpose: tc.purpose, Subject: tc.subject, Customer: "cus-1", Expires: until.AddDate(1, 0, 0)}),
		} {
			_, err := signer.Verify(parts[0]+"."+parts[1]+"."+body+"."+parts[3], tc.purpose, tc.subject, at)
			assert.ErrorIs(t, err, links.ErrInvalid)
		}
		for i := range parts {
			altered := append([]string(nil), parts...)
			altered[i] = flip(altered[i])
			_, err := signer.Verify(strings.Join(altered, "."), tc.purpose, tc.subject, at)
			assert.ErrorIs(t, err, links.ErrInvalid, "part %d altered", i)
		}
		// The link's own query altered (as a reader of the URL would do it).
		u := *inText[0]
		u.RawQuery = "t=" + url.QueryEscape(flip(token))
		_, err = signer.Verify(u.Query().Get("t"), tc.purpose, tc.subject, at)
		assert.ErrorIs(t, err, links.ErrInvalid)
	}
}

// Staff messages carry no customer's link, and a case's events other than
// its resolution no survey.
func TestOnlyTheCustomerGetsTheirLinks(t *testing.T) {
	cfg := testConfig(t)
	n, err := newNotifier(cfg, newMemoryLog())
	require.NoError(t, err)
	at := time.Now()
	until := at.Add(time.Hour)

	staff := resolvedNote("en", &until)
	staff.Audience = vocab.AudienceTeam
	msg, err := n.render(staff, at)
	require.NoError(t, err)
	assert.NotContains(t, msg.Text+msg.HTML, "t=v1.")

	opened := resolvedNote("en", &until)
	opened.Event = cases.EventOpened
	msg, err = n.render(opened, at)
	require.NoError(t, err)
	assert.NotContains(t, msg.Text+msg.HTML, cfg.Notify.SurveyURL)

	problem := deliveryNote(deliveries.EventProblemReported, "en", "")
	problem.Audience = vocab.AudienceTeam
	msg, err = n.render(problem, at)
	require.NoError(t, err)
	assert.NotContains(t, msg.Text+msg.HTML, "t=v1.")
}

// The marketplace's survey_url is the email's link, token included.
func TestMarketplaceSurveyURLIsTheEmailsSignedLink(t *testing.T) {
	cfg := testConfig(t)
	n, err := newNotifier(cfg, newMemoryLog())
	require.NoError(t, err)
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	until := at.Add(168 * time.Hour)
	resolved := resolvedNote("fr", &until)
	msg, err := n.render(resolved, at)
	require.NoError(t, err)
	inText, _ := linksIn(t, msg, cfg.Notify.SurveyURL)
	require.Len(t, inText, 1)
	body, err := json.Marshal(n.marketplaceEvent(resolved, msg, at))
	require.NoError(t, err)
	var event struct {
		Data struct {
			SurveyURL string `json:"survey_url"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &event))
	assert.Equal(t, inText[0].String(), event.Data.SurveyURL)
}

func TestNewNotifierRefusesBadLinkKeysNamingTheVariable(t *testing.T) {
	for name, keys := range map[string][]config.LinkKey{
		"none":         nil,
		"short secret": {{ID: "k1", Secret: "too-short"}},
		"dotted id":    {{ID: "k.1", Secret: strings.Repeat("a", 32)}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Notify.LinkKeys = keys
			_, err := newNotifier(cfg, newMemoryLog())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "LINK_SIGNING_KEYS: ")
			assert.NotContains(t, err.Error(), "too-short", "the secret is never quoted")
		})
	}
}

// flip answers s with its middle character changed.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// forgedBody writes claims as package links does, so a test can forge a
// token's body.
func forgedBody(c links.Claims) string {
	raw := strings.Join([]string{c.Purpose, c.Subject, c.Customer, strconv.FormatInt(c.Expires.Unix(), 10)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}
