package main

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/links"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// deliveryTemporal stands for Temporal behind the delivery pages: it
// answers the delivery query with view and runs confirm and report-problem
// on it once per update id, refusing them as the workflow does.
type deliveryTemporal struct {
	client.Client
	mu      sync.Mutex
	view    deliveries.DeliveryView
	updates map[string]deliveries.DeliveryView
	names   []string
	ids     []string
	inputs  []any
}

func (f *deliveryTemporal) QueryWorkflowWithOptions(_ context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.WorkflowID != deliveries.DeliveryWorkflowID(f.view.ID) || req.QueryType != deliveries.QueryDelivery {
		panic("unexpected query " + req.WorkflowID + " " + req.QueryType)
	}
	return &client.QueryWorkflowWithOptionsResponse{QueryResult: surveyValue{f.view}}, nil
}

func (f *deliveryTemporal) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if opts.WorkflowID != deliveries.DeliveryWorkflowID(f.view.ID) {
		panic("unexpected update " + opts.WorkflowID)
	}
	if v, ok := f.updates[opts.UpdateID]; ok {
		return deliveryUpdate{v: v}, nil
	}
	f.names, f.ids, f.inputs = append(f.names, opts.UpdateName), append(f.ids, opts.UpdateID), append(f.inputs, opts.Args[0])
	refuse := func(msg string) (client.WorkflowUpdateHandle, error) {
		return deliveryUpdate{err: temporal.NewApplicationError(msg, vocab.ErrInvalidTransition)}, nil
	}
	now := time.Now()
	switch opts.UpdateName {
	case deliveries.UpdateConfirm:
		if !canConfirm(f.view) {
			return refuse("cannot confirm")
		}
		f.view.Confirmed, f.view.ConfirmedAt, f.view.ConfirmedBy = true, &now, opts.Args[0].(deliveries.ActorInput).Actor
		f.view.Status, f.view.ConfirmBy = deliveries.StatusDelivered, nil
	case deliveries.UpdateReportProblem:
		if !canReport(f.view) {
			return refuse("cannot report a problem")
		}
		f.view.Status, f.view.ConfirmBy = deliveries.StatusUnderReview, nil
	default:
		panic("unexpected update " + opts.UpdateName)
	}
	f.updates[opts.UpdateID] = f.view
	return deliveryUpdate{v: f.view}, nil
}

type deliveryUpdate struct {
	client.WorkflowUpdateHandle
	v   deliveries.DeliveryView
	err error
}

func (u deliveryUpdate) Get(_ context.Context, ptr any) error {
	if u.err != nil {
		return u.err
	}
	return surveyValue{u.v}.Get(ptr)
}

// deliveryStack is the pages over a fake Temporal holding one delivery.
type deliveryStack struct {
	*surveyStack
	dt *deliveryTemporal
}

func newDeliveryPageStack(t *testing.T, locale string, status deliveries.Status) *deliveryStack {
	t.Helper()
	delivered := time.Date(2025, 3, 1, 9, 5, 0, 0, time.UTC)
	confirmBy, warranty := delivered.Add(72*time.Hour), delivered.Add(30*24*time.Hour)
	dt := &deliveryTemporal{updates: map[string]deliveries.DeliveryView{}, view: deliveries.DeliveryView{
		ID: "D-1", Status: status, Product: "game <account>",
		Buyer: vocab.Customer{ID: "cus-1", Email: "ada@example.com", Name: "Ada", Locale: locale},
		Handoff: deliveries.HandoffRecord{AccountID: "acc-1", OrderID: "ord-1", DeliveredAt: &delivered,
			RecoveryPath: deliveries.RecoveryPath{ResetBy: "buyer", Instructions: "Change the password, then turn on 2FA."}},
		ConfirmBy: &confirmBy, WarrantyEndsAt: &warranty,
	}}
	s := &server{registry: prometheus.NewRegistry(), logger: quiet, temporal: dt}
	st := &surveyStack{signer: testLinkSigner(t), now: delivered.Add(time.Hour)}
	st.p = newPages(s, st.signer)
	st.p.now = func() time.Time { return st.now }
	r := chi.NewRouter()
	st.p.mount(r)
	st.h = r
	return &deliveryStack{surveyStack: st, dt: dt}
}

// link signs a delivery link of id for customer, expiring in a day.
func (st *deliveryStack) link(id, customer string) string {
	return st.signer.Sign(links.Claims{Purpose: links.PurposeDelivery, Subject: id, Customer: customer, Expires: st.now.Add(24 * time.Hour)})
}

func (st *deliveryStack) page(token string, header ...string) *httptest.ResponseRecorder {
	return st.get("/deliveries/D-1?t="+url.QueryEscape(token), header...)
}

// report posts the report-problem form with fields in order and, when
// shot is set, the screenshot last.
func (st *deliveryStack) report(t *testing.T, fields [][2]string, shot []byte) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		require.NoError(t, mw.WriteField(f[0], f[1]))
	}
	if shot != nil {
		part, err := mw.CreateFormFile("screenshot", "shot.png")
		require.NoError(t, err)
		_, err = part.Write(shot)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, "/deliveries/D-1/report-problem", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return st.do(req)
}

func TestDeliveryPageLinkRefusalsArePages(t *testing.T) {
	st := newDeliveryPageStack(t, "en", deliveries.StatusDelivered)
	good := st.link("D-1", "cus-1")
	altered := good[:len(good)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(good, "AA")]
	expired := st.signer.Sign(links.Claims{Purpose: links.PurposeDelivery, Subject: "D-1", Customer: "cus-1", Expires: st.now.Add(-time.Second)})
	survey := st.signer.Sign(links.Claims{Purpose: links.PurposeSurvey, Subject: "D-1", Customer: "cus-1", Expires: st.now.Add(time.Hour)})
	for _, c := range []struct {
		name, path string
		status     int
		title      string
	}{
		{"altered", "/deliveries/D-1?t=" + url.QueryEscape(altered), 403, deliveryEN.ForbiddenTitle},
		{"missing", "/deliveries/D-1", 403, deliveryEN.ForbiddenTitle},
		{"expired", "/deliveries/D-1?t=" + url.QueryEscape(expired), 410, deliveryEN.ExpiredTitle},
		{"another delivery", "/deliveries/D-2?t=" + url.QueryEscape(good), 403, deliveryEN.ForbiddenTitle},
		{"a survey link", "/deliveries/D-1?t=" + url.QueryEscape(survey), 403, deliveryEN.ForbiddenTitle},
		{"another buyer", "/deliveries/D-1?t=" + url.QueryEscape(st.link("D-1", "cus-2")), 403, deliveryEN.ForbiddenTitle},
		{"malformed id", "/deliveries/D%201?t=" + url.QueryEscape(good), 404, deliveryEN.NotFoundTitle},
		{"no such page", "/deliveries/D-1/more", 404, deliveryEN.NotFoundTitle},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := requirePage(t, st.get(c.path), c.status, c.title)
			assert.Contains(t, body, html.EscapeString(deliveryEN.Footer), "worded as the delivery's page")
		})
	}
	requirePage(t, st.post("/deliveries/D-1/confirm", url.Values{"t": {altered}, "csrf": {"x"}}), 403, deliveryEN.ForbiddenTitle)
	requirePage(t, st.post("/deliveries/D-1/confirm", url.Values{"t": {expired}, "csrf": {"x"}}), 410, deliveryEN.ExpiredTitle)
	requirePage(t, st.report(t, [][2]string{{"t", altered}, {"csrf", "x"}, {"description", "broken"}}, nil), 403, deliveryEN.ForbiddenTitle)
	requirePage(t, st.do(httptest.NewRequest(http.MethodGet, "/deliveries/D-1/confirm", nil)), 405, deliveryEN.MethodTitle)
	requirePage(t, st.post("/deliveries/D-1/confirm", url.Values{"csrf": {"x"}}), 400, deliveryEN.BadFormTitle)
	assert.Empty(t, st.dt.names, "no refusal runs an update")

	// An expired link is answered in the buyer's locale.
	st = newDeliveryPageStack(t, "fr", deliveries.StatusDelivered)
	expired = st.signer.Sign(links.Claims{Purpose: links.PurposeDelivery, Subject: "D-1", Customer: "cus-1", Expires: st.now.Add(-time.Second)})
	body := requirePage(t, st.page(expired, "Accept-Language", "en"), 410, deliveryFR.ExpiredTitle)
	assert.Contains(t, body, `<html lang="fr">`)
	requirePage(t, st.get("/deliveries/D-1?t=nope", "Accept-Language", "fr-FR,fr;q=0.9"), 403, deliveryFR.ForbiddenTitle)
}

func TestDeliveryPagesSendTheSecurityHeaders(t *testing.T) {
	st := newDeliveryPageStack(t, "en", deliveries.StatusDelivered)
	token := st.link("D-1", "cus-1")
	page := st.page(token)
	requirePage(t, page, 200)
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"page": page, "refusal": st.get("/deliveries/D-1?t=nope"), "not found": st.get("/deliveries/"),
		"confirm": st.post("/deliveries/D-1/confirm", url.Values{"t": {token}}),
	} {
		h := rec.Header()
		assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'", name)
		assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'", name)
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"), name)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), name)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), name)
		assert.Equal(t, "no-store", h.Get("Cache-Control"), name)
	}
}

func TestDeliveryPageShowsTheDeliveryInTheBuyerLocale(t *testing.T) {
	for _, c := range []struct {
		locale, accept, delivered, deadline string
		want                                *pageText
	}{
		{"en", "fr-FR,fr;q=0.9", "1 March 2025, 09:05 UTC", "4 March 2025, 09:05 UTC", deliveryEN},
		{"fr", "en-US,en;q=0.9", "1 mars 2025 à 09:05 UTC", "4 mars 2025 à 09:05 UTC", deliveryFR},
	} {
		t.Run(c.locale, func(t *testing.T) {
			st := newDeliveryPageStack(t, c.locale, deliveries.StatusDelivered)
			d := c.want.Delivery
			body := requirePage(t, st.page(st.link("D-1", "cus-1"), "Accept-Language", c.accept), 200,
				d.Title, "game <account>", "acc-1", "ord-1", c.delivered, c.deadline, d.DeadlineHint,
				d.Statuses[deliveries.StatusDelivered], "Change the password, then turn on 2FA.",
				d.ConfirmButton, d.ReportHeading, d.DescriptionLabel, d.ScreenshotLabel, d.ReportButton)
			assert.Contains(t, body, `<html lang="`+c.locale+`">`)
			assert.Contains(t, body, `<link rel="stylesheet" href="../pages/style.css">`)
			assert.Contains(t, body, `<form method="post" action="../deliveries/D-1/confirm">`)
			assert.Contains(t, body, `<form method="post" action="../deliveries/D-1/report-problem" enctype="multipart/form-data">`)
			assert.Contains(t, body, `<input type="file" id="screenshot" name="screenshot" accept="image/*">`)
			for _, in := range regexp.MustCompile(`<(?:input type="file"|textarea) id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
				assert.Regexp(t, `<label [^>]*for="`+in[1]+`"`, body, "label of %s", in[1])
			}
			assert.Empty(t, st.dt.names, "a GET changes nothing")
		})
	}
}

func TestDeliveryPageShowsTheFormsItsStatusAllows(t *testing.T) {
	confirmed := func(v *deliveries.DeliveryView) {
		at := time.Date(2025, 3, 2, 10, 0, 0, 0, time.UTC)
		v.Confirmed, v.ConfirmedAt, v.ConfirmedBy, v.ConfirmBy = true, &at, "customer:cus-1", nil
	}
	d := deliveryEN.Delivery
	for _, c := range []struct {
		status           deliveries.Status
		edit             func(*deliveries.DeliveryView)
		confirm, report  bool
		say, statusWords string
	}{
		{deliveries.StatusReady, func(v *deliveries.DeliveryView) { v.Handoff.DeliveredAt, v.ConfirmBy = nil, nil }, false, false, d.ReadyNote, "Being prepared"},
		{deliveries.StatusDelivered, nil, true, true, "", "Delivered"},
		{deliveries.StatusWaitingCustomer, nil, true, true, "", "Waiting for you to secure the account"},
		{deliveries.StatusDelivered, confirmed, false, true, "You confirmed that the account works (2 March 2025, 10:00 UTC).", "Delivered"},
		{deliveries.StatusUnderReview, func(v *deliveries.DeliveryView) { v.ConfirmBy = nil }, false, false, d.UnderReviewNote, "Under review"},
		{deliveries.StatusRecovered, nil, false, true, "", "Recovered"},
		{deliveries.StatusRetired, func(v *deliveries.DeliveryView) { v.ConfirmBy = nil }, false, false, d.RetiredNote, "Ended"},
	} {
		t.Run(string(c.status), func(t *testing.T) {
			st := newDeliveryPageStack(t, "en", c.status)
			if c.edit != nil {
				c.edit(&st.dt.view)
			}
			body := requirePage(t, st.page(st.link("D-1", "cus-1")), 200, c.statusWords, c.say)
			assert.Equal(t, c.confirm, strings.Contains(body, html.EscapeString(d.ConfirmButton)), "confirm button")
			assert.Equal(t, c.report, strings.Contains(body, html.EscapeString(d.ReportButton)), "report form")
		})
	}
}

func TestDeliveryConfirmRunsOnceWithItsFormToken(t *testing.T) {
	st := newDeliveryPageStack(t, "fr", deliveries.StatusWaitingCustomer)
	token := st.link("D-1", "cus-1")
	form := formOf(t, st.page(token).Body.String())
	other := formOf(t, st.page(st.signer.Sign(links.Claims{Purpose: links.PurposeDelivery, Subject: "D-1", Customer: "cus-1",
		Expires: st.now.Add(48 * time.Hour)})).Body.String())
	for name, csrf := range map[string]string{"none": "", "link token": token, "another link's": other.Get("csrf")} {
		t.Run(name, func(t *testing.T) {
			requirePage(t, st.post("/deliveries/D-1/confirm", url.Values{"t": {token}, "csrf": {csrf}}), 403, deliveryFR.StaleFormTitle)
		})
	}
	require.Empty(t, st.dt.names)

	requirePage(t, st.post("/deliveries/D-1/confirm", form), 200, deliveryFR.Delivery.ConfirmedTitle, "31 mars 2025 à 09:05 UTC")
	require.Equal(t, []string{deliveries.UpdateConfirm}, st.dt.names)
	assert.Equal(t, deliveries.ActorInput{Actor: "customer:cus-1"}, st.dt.inputs[0])
	assert.Equal(t, deliveries.UpdateConfirm+"/0/"+deliveryUpdateKey("confirm", token), st.dt.ids[0])

	// Confirmed: the page says so, without the button; a second submit confirms nothing more.
	body := requirePage(t, st.page(token), 200, "Vous avez confirmé que le compte fonctionne")
	assert.NotContains(t, body, html.EscapeString(deliveryFR.Delivery.ConfirmButton))
	requirePage(t, st.post("/deliveries/D-1/confirm", form), 409, deliveryFR.Delivery.AlreadyConfirmedTitle)
	assert.Len(t, st.dt.names, 1, "confirmed once")
}

func TestDeliveryConfirmRefusedByTheWorkflowIsA409Page(t *testing.T) {
	st := newDeliveryPageStack(t, "en", deliveries.StatusDelivered)
	token := st.link("D-1", "cus-1")
	form := formOf(t, st.page(token).Body.String())
	// The delivery moved under review between the page and the click.
	st.dt.view.Status = deliveries.StatusUnderReview
	requirePage(t, st.post("/deliveries/D-1/confirm", form), 409, deliveryEN.Delivery.UnderReviewTitle)
	st.dt.view.Status = deliveries.StatusRetired
	requirePage(t, st.post("/deliveries/D-1/confirm", form), 409, deliveryEN.Delivery.RetiredTitle)
	assert.Empty(t, st.dt.names, "the page's own check spares the update")
}

func TestDeliveryReportProblemOpensACase(t *testing.T) {
	st := newDeliveryPageStack(t, "en", deliveries.StatusDelivered)
	token := st.link("D-1", "cus-1")
	form := formOf(t, st.page(token).Body.String())
	fields := func(description string) [][2]string {
		return [][2]string{{"t", token}, {"csrf", form.Get("csrf")}, {"description", description}}
	}

	requirePage(t, st.report(t, [][2]string{{"t", token}, {"csrf", "forged"}, {"description", "x"}}, nil), 403, deliveryEN.StaleFormTitle)
	body := requirePage(t, st.report(t, fields("   "), nil), 400, deliveryEN.Delivery.DescriptionMissing)
	assert.Contains(t, body, `enctype="multipart/form-data"`, "the form again")
	requirePage(t, st.report(t, fields(strings.Repeat("é", maxDescriptionRunes+1)), nil), 400, deliveryEN.Delivery.DescriptionTooLong)
	requirePage(t, st.report(t, fields("a\x00b"), nil), 400, deliveryEN.Delivery.DescriptionInvalid)
	// A file that is no image is refused before anything is stored.
	body = requirePage(t, st.report(t, fields("It <fails>"), []byte("%PDF-1.4 not a screenshot")), 415, deliveryEN.Delivery.ScreenshotNotImage)
	assert.Contains(t, body, "It &lt;fails&gt;</textarea>", "the description is kept")
	requirePage(t, st.report(t, [][2]string{{"description", "x"}}, nil), 400, deliveryEN.BadFormTitle)
	require.Empty(t, st.dt.names)

	requirePage(t, st.report(t, fields("  The seller took the account back.  "), nil), 200,
		deliveryEN.Delivery.ReportedTitle, deliveryEN.Delivery.ReportedBody)
	require.Equal(t, []string{deliveries.UpdateReportProblem}, st.dt.names)
	assert.Equal(t, deliveries.ProblemInput{Actor: "customer:cus-1", Description: "The seller took the account back."}, st.dt.inputs[0])

	// Under review: the page says a case is open; another report is a 409 page.
	body = requirePage(t, st.page(token), 200, deliveryEN.Delivery.UnderReviewNote)
	assert.NotContains(t, body, html.EscapeString(deliveryEN.Delivery.ReportButton))
	requirePage(t, st.report(t, fields("Still broken"), nil), 409, deliveryEN.Delivery.UnderReviewTitle)
	assert.Len(t, st.dt.names, 1)
}

func TestDeliveryPagesAreRateLimitedPerLink(t *testing.T) {
	st := newDeliveryPageStack(t, "en", deliveries.StatusDelivered)
	token := st.link("D-1", "cus-1")
	for i := range linkBurst {
		require.Equal(t, http.StatusOK, st.page(token).Code, "request %d", i)
	}
	requirePage(t, st.page(token), 429, deliveryEN.TooManyTitle)
	requirePage(t, st.post("/deliveries/D-1/confirm", url.Values{"t": {token}}), 429, deliveryEN.TooManyTitle)
}

func TestDeliveryTextsHaveEveryStatus(t *testing.T) {
	for _, ts := range []*pageText{deliveryEN, deliveryFR} {
		for _, s := range deliveries.Statuses {
			assert.NotEmpty(t, ts.Delivery.Statuses[s], "%s %s", ts.Lang, s)
		}
	}
	assert.Equal(t, deliveryFR, deliveryTexts.accepted("fr-CA,fr;q=0.9,en;q=0.8"))
	assert.Equal(t, deliveryEN, deliveryTexts.locale("de"))
}
