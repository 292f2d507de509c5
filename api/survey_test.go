package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/links"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// surveyTemporal stands for Temporal behind the survey pages: it answers
// the case query with view and runs the csat update on it once per update
// id, as Temporal does; anything else panics on the nil client.
type surveyTemporal struct {
	client.Client
	mu      sync.Mutex
	view    cases.CaseView
	updates map[string]cases.CaseView
	inputs  []cases.CSATInput
	ids     []string
}

func (f *surveyTemporal) QueryWorkflowWithOptions(_ context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.WorkflowID != cases.CaseWorkflowID(f.view.ID) || req.QueryType != cases.QueryCase {
		panic("unexpected query " + req.WorkflowID + " " + req.QueryType)
	}
	return &client.QueryWorkflowWithOptionsResponse{QueryResult: surveyValue{f.view}}, nil
}

func (f *surveyTemporal) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if opts.WorkflowID != cases.CaseWorkflowID(f.view.ID) || opts.UpdateName != cases.UpdateCSAT {
		panic("unexpected update " + opts.WorkflowID + " " + opts.UpdateName)
	}
	if v, ok := f.updates[opts.UpdateID]; ok {
		return surveyUpdate{v: v}, nil
	}
	in := opts.Args[0].(cases.CSATInput)
	f.inputs, f.ids = append(f.inputs, in), append(f.ids, opts.UpdateID)
	if f.view.CSAT != nil {
		return surveyUpdate{err: temporal.NewApplicationError("cannot answer the survey: already rated", vocab.ErrInvalidTransition)}, nil
	}
	f.view.CSAT = &cases.CSAT{Rating: in.Rating, Comment: in.Comment, At: time.Now()}
	f.updates[opts.UpdateID] = f.view
	return surveyUpdate{v: f.view}, nil
}

type surveyUpdate struct {
	client.WorkflowUpdateHandle
	v   cases.CaseView
	err error
}

func (u surveyUpdate) Get(_ context.Context, ptr any) error {
	if u.err != nil {
		return u.err
	}
	return surveyValue{u.v}.Get(ptr)
}

// surveyValue is an answer decoded as the data converter would.
type surveyValue struct{ v any }

func (surveyValue) HasValue() bool { return true }

func (j surveyValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

// testLinkSigner signs with the key the tests share.
func testLinkSigner(t testing.TB) *links.Signer {
	t.Helper()
	s, err := links.NewSigner([]links.Key{{ID: "k1", Secret: []byte("a survey page test secret of 32 bytes or more")}})
	require.NoError(t, err)
	return s
}

// surveyStack is the pages over a fake Temporal holding one resolved case.
type surveyStack struct {
	p      *pages
	h      http.Handler
	tc     *surveyTemporal
	signer *links.Signer
	now    time.Time
}

func newSurveyStack(t *testing.T, locale string) *surveyStack {
	t.Helper()
	resolved := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tc := &surveyTemporal{updates: map[string]cases.CaseView{}, view: cases.CaseView{
		ID: "C-1", Subject: "Cannot log in <after> the delivery", Status: cases.StatusResolved, ResolvedAt: &resolved,
		Customer: vocab.Customer{ID: "cus-1", Email: "ada@example.com", Name: "Ada", Locale: locale}}}
	s := &server{registry: prometheus.NewRegistry(), logger: quiet, temporal: tc}
	st := &surveyStack{tc: tc, signer: testLinkSigner(t), now: resolved.Add(time.Hour)}
	st.p = newPages(s, st.signer)
	st.p.now = func() time.Time { return st.now }
	r := chi.NewRouter()
	st.p.mount(r)
	st.h = r
	return st
}

// link signs a survey link of case id for customer, expiring in a day.
func (st *surveyStack) link(id, customer string) string {
	return st.signer.Sign(links.Claims{Purpose: links.PurposeSurvey, Subject: id, Customer: customer, Expires: st.now.Add(24 * time.Hour)})
}

func (st *surveyStack) do(req *http.Request, header ...string) *httptest.ResponseRecorder {
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	st.h.ServeHTTP(rec, req)
	return rec
}

func (st *surveyStack) get(path string, header ...string) *httptest.ResponseRecorder {
	return st.do(httptest.NewRequest(http.MethodGet, path, nil), header...)
}

func (st *surveyStack) post(path string, form url.Values, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return st.do(req, header...)
}

// formOf reads the hidden fields of the survey form in a page.
func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	out := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		out.Set(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, out.Get("t"), "the form carries the link token: %s", body)
	require.NotEmpty(t, out.Get("csrf"), "the form carries its CSRF token")
	return out
}

// requirePage checks an answer is an HTML page of status that says want.
func requirePage(t *testing.T, rec *httptest.ResponseRecorder, status int, want ...string) string {
	t.Helper()
	body := rec.Body.String()
	require.Equal(t, status, rec.Code, body)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.True(t, strings.HasPrefix(body, "<!doctype html>"), "an HTML page: %s", body)
	assert.NotContains(t, body, "goroutine", "no stack trace")
	assert.NotContains(t, body, "<script")
	for _, w := range want {
		assert.Contains(t, body, html.EscapeString(w))
	}
	return body
}

func TestSurveyLinkRefusalsArePages(t *testing.T) {
	st := newSurveyStack(t, "en")
	good := st.link("C-1", "cus-1")
	altered := good[:len(good)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(good, "AA")]
	expired := st.signer.Sign(links.Claims{Purpose: links.PurposeSurvey, Subject: "C-1", Customer: "cus-1", Expires: st.now.Add(-time.Second)})
	delivery := st.signer.Sign(links.Claims{Purpose: links.PurposeDelivery, Subject: "C-1", Customer: "cus-1", Expires: st.now.Add(time.Hour)})
	other, err := links.NewSigner([]links.Key{{ID: "k1", Secret: []byte("another secret that is 32 bytes or longer")}})
	require.NoError(t, err)
	forged := other.Sign(links.Claims{Purpose: links.PurposeSurvey, Subject: "C-1", Customer: "cus-1", Expires: st.now.Add(time.Hour)})

	for _, c := range []struct {
		name, path string
		status     int
		title      string
	}{
		{"altered", "/survey/C-1?t=" + url.QueryEscape(altered), 403, textEN.ForbiddenTitle},
		{"signed by another key", "/survey/C-1?t=" + url.QueryEscape(forged), 403, textEN.ForbiddenTitle},
		{"missing", "/survey/C-1", 403, textEN.ForbiddenTitle},
		{"expired", "/survey/C-1?t=" + url.QueryEscape(expired), 410, textEN.ExpiredTitle},
		{"another case", "/survey/C-2?t=" + url.QueryEscape(good), 403, textEN.ForbiddenTitle},
		{"another purpose", "/survey/C-1?t=" + url.QueryEscape(delivery), 403, textEN.ForbiddenTitle},
		{"another customer", "/survey/C-1?t=" + url.QueryEscape(st.link("C-1", "cus-2")), 403, textEN.ForbiddenTitle},
		{"malformed case id", "/survey/C%201?t=" + url.QueryEscape(good), 404, textEN.NotFoundTitle},
		{"no such page", "/survey/C-1/more", 404, textEN.NotFoundTitle},
	} {
		t.Run(c.name, func(t *testing.T) {
			requirePage(t, st.get(c.path), c.status, c.title)
		})
	}
	assert.Empty(t, st.tc.inputs, "no refusal answers the survey")

	// A refused POST is a page too.
	rec := st.post("/survey/C-1", url.Values{"t": {altered}, "rating": {"4"}, "csrf": {"x"}})
	requirePage(t, rec, 403, textEN.ForbiddenTitle)
	rec = st.post("/survey/C-1", url.Values{"t": {expired}, "rating": {"4"}, "csrf": {"x"}})
	requirePage(t, rec, 410, textEN.ExpiredTitle)
	requirePage(t, st.do(httptest.NewRequest(http.MethodPut, "/survey/C-1", nil)), 405, textEN.MethodTitle)
}

func TestSurveyExpiredLinkIsAnsweredInTheCaseLocale(t *testing.T) {
	st := newSurveyStack(t, "fr")
	expired := st.signer.Sign(links.Claims{Purpose: links.PurposeSurvey, Subject: "C-1", Customer: "cus-1", Expires: st.now.Add(-time.Second)})
	body := requirePage(t, st.get("/survey/C-1?t="+url.QueryEscape(expired), "Accept-Language", "en"), 410, textFR.ExpiredTitle)
	assert.Contains(t, body, `<html lang="fr">`)
}

func TestSurveyPagesSendTheSecurityHeaders(t *testing.T) {
	st := newSurveyStack(t, "en")
	token := st.link("C-1", "cus-1")
	form := st.get("/survey/C-1?t=" + url.QueryEscape(token))
	requirePage(t, form, 200)
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"form":       form,
		"refusal":    st.get("/survey/C-1?t=nope"),
		"not found":  st.get("/survey/"),
		"post":       st.post("/survey/C-1", formOf(t, form.Body.String())),
		"stylesheet": st.get("/pages/style.css"),
	} {
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", name)
		assert.Contains(t, csp, "style-src 'self'", name)
		assert.Contains(t, csp, "form-action 'self'", name)
		assert.Contains(t, csp, "frame-ancestors 'none'", name)
		assert.NotContains(t, csp, "script-src", name)
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"), name)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), name)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), name)
		if name != "stylesheet" {
			assert.Equal(t, "no-store", h.Get("Cache-Control"), name)
		}
	}
	css := st.get("/pages/style.css")
	require.Equal(t, http.StatusOK, css.Code)
	assert.Equal(t, "text/css; charset=utf-8", css.Header().Get("Content-Type"))
	assert.Less(t, css.Body.Len(), 8<<10, "one small stylesheet")
}

func TestSurveyPageIsAnAccessibleFormInTheCaseLocale(t *testing.T) {
	for _, c := range []struct {
		locale, accept string
		want           *pageText
	}{
		{"en", "fr-FR,fr;q=0.9", textEN},
		{"fr", "en-US,en;q=0.9", textFR},
	} {
		t.Run(c.locale, func(t *testing.T) {
			st := newSurveyStack(t, c.locale)
			token := st.link("C-1", "cus-1")
			rec := st.get("/survey/C-1?t="+url.QueryEscape(token)+"&rating=4", "Accept-Language", c.accept)
			body := requirePage(t, rec, 200, c.want.SurveyTitle, c.want.Legend, c.want.Submit, c.want.CommentLabel,
				"Cannot log in <after> the delivery")
			assert.Contains(t, body, `<html lang="`+c.locale+`">`)
			assert.Contains(t, body, `<meta name="viewport" content="width=device-width, initial-scale=1">`)
			assert.Contains(t, body, `<link rel="stylesheet" href="../pages/style.css">`)
			assert.Contains(t, body, `<form method="post" action="./C-1">`)
			assert.Contains(t, body, "<fieldset>")
			assert.Contains(t, body, "<legend>")
			for _, l := range c.want.RatingLabels {
				assert.Contains(t, body, html.EscapeString(l))
			}
			// Every visible input has its label.
			inputs := regexp.MustCompile(`<(?:input|textarea) (?:type="radio" )?id="([^"]+)"`).FindAllStringSubmatch(body, -1)
			require.Len(t, inputs, 6, "five ratings and the comment")
			for _, in := range inputs {
				assert.Regexp(t, `<label [^>]*for="`+in[1]+`"`, body, "label of %s", in[1])
			}
			checked := regexp.MustCompile(`value="(\d)" required checked`).FindAllStringSubmatch(body, -1)
			require.Len(t, checked, 1, "one rating pre-selected")
			assert.Equal(t, "4", checked[0][1])
			assert.Empty(t, st.tc.inputs, "a GET with a rating answers nothing: a mail scanner's prefetch changes nothing")
		})
	}

	st := newSurveyStack(t, "en")
	token := url.QueryEscape(st.link("C-1", "cus-1"))
	for _, rating := range []string{"", "0", "6", "04", "x"} {
		body := requirePage(t, st.get("/survey/C-1?t="+token+"&rating="+rating), 200)
		assert.NotContains(t, body, "checked", "rating %q selects nothing", rating)
	}
}

func TestSurveyPostAnswersOnceWithItsFormToken(t *testing.T) {
	st := newSurveyStack(t, "fr")
	token := st.link("C-1", "cus-1")
	form := formOf(t, st.get("/survey/C-1?t="+url.QueryEscape(token)).Body.String())
	form.Set("rating", "4")
	form.Set("comment", "  Rapide et efficace.  ")

	// No form token, a forged one, the link token itself, or the form token of
	// another link of the same case: refused, nothing answered.
	other := formOf(t, st.get("/survey/C-1?t="+url.QueryEscape(st.signer.Sign(links.Claims{
		Purpose: links.PurposeSurvey, Subject: "C-1", Customer: "cus-1", Expires: st.now.Add(48 * time.Hour)}))).Body.String())
	for name, csrf := range map[string]string{"none": "", "forged": "v1.k1.abc.def", "link token": token, "another link's": other.Get("csrf")} {
		t.Run(name, func(t *testing.T) {
			bad := url.Values{"t": {token}, "rating": {"4"}, "csrf": {csrf}}
			requirePage(t, st.post("/survey/C-1", bad), 403, textFR.StaleFormTitle)
		})
	}
	require.Empty(t, st.tc.inputs, "a refused form answers nothing")

	// Malformed forms are 400: the form again with what is wrong.
	noRating := url.Values{"t": {token}, "csrf": {form.Get("csrf")}, "comment": {"sans note"}}
	body := requirePage(t, st.post("/survey/C-1", noRating), 400, textFR.RatingMissing)
	assert.Contains(t, body, ">sans note</textarea>", "the comment is kept")
	tooHigh := url.Values{"t": {token}, "csrf": {form.Get("csrf")}, "rating": {"6"}}
	requirePage(t, st.post("/survey/C-1", tooHigh), 400, textFR.RatingMissing)
	long := url.Values{"t": {token}, "csrf": {form.Get("csrf")}, "rating": {"3"}, "comment": {strings.Repeat("é", 2001)}}
	requirePage(t, st.post("/survey/C-1", long), 400, textFR.CommentTooLong)
	nul := url.Values{"t": {token}, "csrf": {form.Get("csrf")}, "rating": {"3"}, "comment": {"a\x00b"}}
	requirePage(t, st.post("/survey/C-1", nul), 400, textFR.CommentInvalid)
	requirePage(t, st.post("/survey/C-1", url.Values{"rating": {"3"}}), 400, textEN.BadFormTitle)
	require.Empty(t, st.tc.inputs)

	// The answer: the csat update as the link's customer, keyed by the link.
	requirePage(t, st.post("/survey/C-1", form), 200, textFR.ThanksTitle, "4 sur 5")
	require.Len(t, st.tc.inputs, 1)
	assert.Equal(t, cases.CSATInput{Actor: "customer:cus-1", Rating: 4, Comment: "Rapide et efficace."}, st.tc.inputs[0])
	assert.Equal(t, cases.UpdateCSAT+"/0/"+surveyUpdateKey(token), st.tc.ids[0])

	// A second answer shows the first.
	form.Set("rating", "1")
	requirePage(t, st.post("/survey/C-1", form), 409, textFR.AlreadyTitle, "4 sur 5")
	requirePage(t, st.get("/survey/C-1?t="+url.QueryEscape(token)), 200, textFR.AlreadyTitle, "4 sur 5")
	assert.Len(t, st.tc.inputs, 1, "answered once")
}

func TestSurveyDoubleSubmitIsOneUpdate(t *testing.T) {
	st := newSurveyStack(t, "en")
	token := st.link("C-1", "cus-1")
	form := formOf(t, st.get("/survey/C-1?t="+url.QueryEscape(token)).Body.String())
	form.Set("rating", "5")
	// The first submit's update ran but the page read the case before it
	// (two submits at once): the same update id answers the first result.
	st.tc.updates[cases.UpdateCSAT+"/0/"+surveyUpdateKey(token)] = cases.CaseView{ID: "C-1", CSAT: &cases.CSAT{Rating: 2}}
	requirePage(t, st.post("/survey/C-1", form), 409, textEN.AlreadyTitle, "2 out of 5")
	assert.Empty(t, st.tc.inputs, "no second update ran")
}

func TestSurveyOfACaseNoLongerResolvedIsClosed(t *testing.T) {
	st := newSurveyStack(t, "en")
	st.tc.view.Status, st.tc.view.ResolvedAt = cases.StatusOpen, nil
	token := st.link("C-1", "cus-1")
	requirePage(t, st.get("/survey/C-1?t="+url.QueryEscape(token)), 409, textEN.ClosedTitle)
}

func TestSurveyPagesAreRateLimitedPerLinkAndPerAddress(t *testing.T) {
	st := newSurveyStack(t, "en")
	token := url.QueryEscape(st.link("C-1", "cus-1"))
	for i := range linkBurst {
		require.Equal(t, http.StatusOK, st.get("/survey/C-1?t="+token).Code, "request %d", i)
	}
	rec := st.get("/survey/C-1?t=" + token)
	requirePage(t, rec, 429, textEN.TooManyTitle)
	wait := time.Duration(float64(time.Second) / linkRate)
	assert.Equal(t, fmt.Sprint(int(wait.Seconds())), rec.Header().Get("Retry-After"), "until the bucket holds one request")
	st.now = st.now.Add(wait)
	assert.Equal(t, http.StatusOK, st.get("/survey/C-1?t="+token).Code, "the bucket refills")

	// Guessing tokens from one address runs its bucket dry; another address
	// is not held back.
	st = newSurveyStack(t, "fr")
	for i := range addrBurst {
		require.Equal(t, http.StatusForbidden, st.get("/survey/C-1?t=guess"+string(rune('a'+i%26))+strings.Repeat("x", i)).Code)
	}
	requirePage(t, st.get("/survey/C-1?t=guess-more", "Accept-Language", "fr"), 429, textFR.TooManyTitle)
	req := httptest.NewRequest(http.MethodGet, "/survey/C-1?t="+url.QueryEscape(st.link("C-1", "cus-1")), nil)
	req.RemoteAddr = "192.0.2.7:4000"
	requirePage(t, st.do(req), 200)
}

func TestSurveyPageTextPrefersTheBrowserOnlyWithoutACase(t *testing.T) {
	assert.Equal(t, textFR, acceptedText("fr-CA,fr;q=0.9,en;q=0.8"))
	assert.Equal(t, textEN, acceptedText("en;q=0.9,fr;q=0.5"))
	assert.Equal(t, textFR, acceptedText("de,fr;q=0.3"))
	assert.Equal(t, textEN, acceptedText(""))
	assert.Equal(t, textEN, caseText("en"))
	assert.Equal(t, textFR, caseText("fr"))
	assert.Equal(t, textEN, caseText("de"))
}

func TestPageOperationsDocumentEveryPageRouteWithoutAKey(t *testing.T) {
	st := newSurveyStack(t, "en")
	var routed, documented []string
	require.NoError(t, chi.Walk(st.h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" "+strings.TrimSuffix(route, "/"))
		return nil
	}))
	doc := huma.DefaultConfig("pages", "1").OpenAPI
	doc.Security = []map[string][]string{{"apiKey": {}}}
	for _, op := range pageOperations() {
		documented = append(documented, op.Method+" "+op.Path)
		doc.AddOperation(op)
	}
	assert.ElementsMatch(t, documented, routed)
	yaml, err := doc.YAML()
	require.NoError(t, err)
	assert.Equal(t, len(pageOperations()), strings.Count(string(yaml), "security: []"), "no page needs a key:\n%s", yaml)
}
