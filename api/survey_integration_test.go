//go:build integration

package main

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/links"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// surveyPagesOn serves the survey pages against the stack's Temporal and
// Postgres, signed with the configured link keys, and answers their base
// URL and the signer. (Until routes() mounts the pages, the API that
// newCaseStack runs does not serve them.)
func surveyPagesOn(t *testing.T, cs *caseStack) (string, *links.Signer) {
	t.Helper()
	signer, err := links.FromConfig(cs.cfg.Notify.LinkKeys)
	require.NoError(t, err)
	s := &server{logger: stacktest.Logger(t), registry: prometheus.NewRegistry(), temporal: cs.tc, store: cs.db,
		taskQueue: cs.cfg.Temporal.TaskQueue}
	r := chi.NewRouter()
	s.mountPages(r, signer)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return ts.URL, signer
}

// surveyPage sends a request to a page and reads its answer whole.
func surveyPage(t *testing.T, method, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(stacktest.Context(t), method, u, body)
	require.NoError(t, err)
	// The browser prefers English: only the case's locale chooses.
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), "%s %s", method, u)
	return resp.StatusCode, resp.Header, string(data)
}

func TestSurveyIsAnsweredOnceFromItsSignedLinkOnTheStack(t *testing.T) {
	cs := newCaseStack(t)
	base, signer := surveyPagesOn(t, cs)
	body := newCaseBody(vocab.CategoryLoginFailure)
	body.Customer.Locale = "fr"
	c := cs.open(t, store.RoleIntegration, body)
	cs.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "Mot de passe réinitialisé"})

	token := signer.Sign(links.Claims{Purpose: links.PurposeSurvey, Subject: c.ID, Customer: body.Customer.ID,
		Expires: time.Now().Add(time.Hour)})
	link := base + "/survey/" + c.ID + "?t=" + url.QueryEscape(token)

	// The page, in the case's French whatever the browser asks.
	status, header, got := surveyPage(t, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Contains(t, got, html.EscapeString(body.Subject))
	assert.Contains(t, got, html.EscapeString(textFR.Legend))
	assert.Equal(t, "no-referrer", header.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", header.Get("Cache-Control"))

	// The email's one-click link pre-selects, and answers nothing: a mail
	// scanner fetching it changes nothing on the case.
	status, _, got = surveyPage(t, http.MethodGet, link+"&rating=5", nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Contains(t, got, `value="5" required checked`)
	assert.Nil(t, cs.get(t, c.ID).CSAT, "a GET answered the survey")
	assert.NotContains(t, kinds(cs.timeline(t, c.ID)), cases.EventCSAT)

	// The answer lands on the case's timeline as the customer's.
	form := url.Values{"t": {token}, "csrf": {formFieldOf(t, got, "csrf")}, "rating": {"5"}, "comment": {"Très rapide, merci"}}
	status, _, got = surveyPage(t, http.MethodPost, base+"/survey/"+c.ID, form)
	require.Equal(t, http.StatusOK, status, got)
	assert.Contains(t, got, html.EscapeString(textFR.ThanksTitle))
	v := cs.get(t, c.ID)
	require.NotNil(t, v.CSAT)
	assert.Equal(t, 5, v.CSAT.Rating)
	assert.Equal(t, "Très rapide, merci", v.CSAT.Comment)
	var csat []vocab.Event
	for _, e := range cs.timeline(t, c.ID) {
		if e.Kind == cases.EventCSAT {
			csat = append(csat, e)
		}
	}
	require.Len(t, csat, 1, "answered once")
	assert.Equal(t, "customer:"+body.Customer.ID, csat[0].Actor)
	assert.Equal(t, "5", csat[0].Payload["rating"])

	// A second answer, and the page opened again: "already answered", the
	// first rating.
	form.Set("rating", "1")
	status, _, got = surveyPage(t, http.MethodPost, base+"/survey/"+c.ID, form)
	require.Equal(t, http.StatusConflict, status, got)
	assert.Contains(t, got, html.EscapeString(textFR.AlreadyTitle))
	assert.Contains(t, got, "5 sur 5")
	status, _, got = surveyPage(t, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Contains(t, got, html.EscapeString(textFR.AlreadyTitle))
	assert.Equal(t, 5, cs.get(t, c.ID).CSAT.Rating)
}

func TestSurveyLinkRefusalsOnTheStack(t *testing.T) {
	cs := newCaseStack(t)
	base, signer := surveyPagesOn(t, cs)
	body := newCaseBody(vocab.CategoryLoginFailure)
	c := cs.open(t, store.RoleIntegration, body)
	sign := func(id, customer string, expires time.Time) string {
		return url.QueryEscape(signer.Sign(links.Claims{Purpose: links.PurposeSurvey, Subject: id, Customer: customer, Expires: expires}))
	}
	soon := time.Now().Add(time.Hour)
	good := sign(c.ID, body.Customer.ID, soon)

	// Not resolved yet: the survey cannot be answered.
	status, _, got := surveyPage(t, http.MethodGet, base+"/survey/"+c.ID+"?t="+good, nil)
	require.Equal(t, http.StatusConflict, status, got)
	assert.Contains(t, got, html.EscapeString(textEN.ClosedTitle))

	unknown := "C-" + strings.ToUpper(unique())
	for _, r := range []struct {
		name, path string
		status     int
		title      string
	}{
		{"altered", "/survey/" + c.ID + "?t=" + good[:len(good)-3] + "xyz", 403, textEN.ForbiddenTitle},
		{"expired", "/survey/" + c.ID + "?t=" + sign(c.ID, body.Customer.ID, time.Now().Add(-time.Minute)), 410, textEN.ExpiredTitle},
		{"another case", "/survey/" + unknown + "?t=" + good, 403, textEN.ForbiddenTitle},
		{"another customer", "/survey/" + c.ID + "?t=" + sign(c.ID, "cus-someone-else", soon), 403, textEN.ForbiddenTitle},
		{"unknown case", "/survey/" + unknown + "?t=" + sign(unknown, body.Customer.ID, soon), 404, textEN.NotFoundTitle},
	} {
		status, _, got := surveyPage(t, http.MethodGet, base+r.path, nil)
		assert.Equal(t, r.status, status, "%s: %s", r.name, got)
		assert.Contains(t, got, html.EscapeString(r.title), r.name)
	}
	assert.Nil(t, cs.get(t, c.ID).CSAT)
}

// formFieldOf reads a hidden field of the survey form.
func formFieldOf(t *testing.T, body, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `<input type="hidden" name="`+name+`" value="`)
	require.True(t, ok, "no %s field in %s", name, body)
	value, _, _ := strings.Cut(rest, `"`)
	return html.UnescapeString(value)
}
