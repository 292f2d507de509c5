//go:build integration

package main

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/links"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// deliveredOnTheStack starts a delivery through the API, attaches its
// delivery evidence and hands it over, and answers it with a signed link
// of its page as the delivery email carries it.
func deliveredOnTheStack(t *testing.T, s *caseStack, locale string) (deliveries.DeliveryView, string) {
	t.Helper()
	body := newDeliveryBody()
	body.Buyer.Locale = localeName(locale)
	d := s.startDelivery(t, body)
	evidenceOf(t, s.uploadTo(t, store.RoleIntegration, "/v1/deliveries/"+d.ID+"/evidence", "delivery_screenshot", pngBytes(t, 1024)), http.StatusCreated)
	d = deliveryOf(t, s.deliveryAct(t, store.RoleIntegration, d.ID, "deliver", map[string]string{"note": "credentials sent"}), http.StatusOK)
	require.Equal(t, deliveries.StatusDelivered, d.Status)
	require.NotNil(t, d.ConfirmBy)
	signer, err := links.FromConfig(s.cfg.Notify.LinkKeys)
	require.NoError(t, err)
	token := signer.Sign(links.Claims{Purpose: links.PurposeDelivery, Subject: d.ID, Customer: d.Buyer.ID, Expires: *d.ConfirmBy})
	return d, s.base + "/deliveries/" + d.ID + "?t=" + url.QueryEscape(token)
}

// pageRequest sends req to a page and reads its answer whole.
func pageRequest(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	return resp.StatusCode, string(data)
}

func TestDeliveryPageConfirmsFromItsSignedLinkOnTheStack(t *testing.T) {
	s := newDeliveryStack(t)
	d, link := deliveredOnTheStack(t, s, "fr")

	status, _, got := surveyPage(t, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, status, got)
	for _, want := range []string{deliveryFR.Delivery.Title, d.Handoff.AccountID, d.Handoff.OrderID, d.Product,
		d.Handoff.RecoveryPath.Instructions, deliveryFR.Delivery.ConfirmButton, deliveryFR.Delivery.ReportButton} {
		assert.Contains(t, got, html.EscapeString(want))
	}
	assert.False(t, s.getDelivery(t, store.RoleAgent, d.ID).Confirmed, "a GET confirmed the delivery")

	form := url.Values{"t": {formFieldOf(t, got, "t")}, "csrf": {formFieldOf(t, got, "csrf")}}
	status, _, got = surveyPage(t, http.MethodPost, s.base+"/deliveries/"+d.ID+"/confirm", form)
	require.Equal(t, http.StatusOK, status, got)
	assert.Contains(t, got, html.EscapeString(deliveryFR.Delivery.ConfirmedTitle))
	v := s.getDelivery(t, store.RoleAgent, d.ID)
	assert.True(t, v.Confirmed)
	assert.Equal(t, "customer:"+d.Buyer.ID, v.ConfirmedBy)

	// A second submit confirms nothing more; the page says it is confirmed.
	status, _, got = surveyPage(t, http.MethodPost, s.base+"/deliveries/"+d.ID+"/confirm", form)
	require.Equal(t, http.StatusConflict, status, got)
	assert.Contains(t, got, html.EscapeString(deliveryFR.Delivery.AlreadyConfirmedTitle))
	status, _, got = surveyPage(t, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.NotContains(t, got, html.EscapeString(deliveryFR.Delivery.ConfirmButton))
	n := 0
	for _, e := range s.getDelivery(t, store.RoleAgent, d.ID).Timeline {
		if e.Kind == deliveries.EventConfirmed {
			n++
		}
	}
	assert.Equal(t, 1, n, "confirmed once")

	// Refusals on the stack: an altered and an expired link.
	status, _, got = surveyPage(t, http.MethodGet, link[:len(link)-3]+"xyz", nil)
	assert.Equal(t, http.StatusForbidden, status, got)
	signer, err := links.FromConfig(s.cfg.Notify.LinkKeys)
	require.NoError(t, err)
	expired := signer.Sign(links.Claims{Purpose: links.PurposeDelivery, Subject: d.ID, Customer: d.Buyer.ID, Expires: time.Now().Add(-time.Minute)})
	status, _, got = surveyPage(t, http.MethodGet, s.base+"/deliveries/"+d.ID+"?t="+url.QueryEscape(expired), nil)
	assert.Equal(t, http.StatusGone, status, got)
	assert.Contains(t, got, html.EscapeString(deliveryFR.ExpiredTitle))
}

func TestDeliveryPageReportsAProblemWithAScreenshotOnTheStack(t *testing.T) {
	s := newDeliveryStack(t)
	d, link := deliveredOnTheStack(t, s, "en")
	status, _, got := surveyPage(t, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, status, got)

	shot := pngBytes(t, 3000)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("t", formFieldOf(t, got, "t")))
	require.NoError(t, mw.WriteField("csrf", formFieldOf(t, got, "csrf")))
	require.NoError(t, mw.WriteField("description", "The seller took the account back"))
	part, err := mw.CreateFormFile("screenshot", "problem.png")
	require.NoError(t, err)
	_, err = part.Write(shot)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodPost, s.base+"/deliveries/"+d.ID+"/report-problem", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, got = pageRequest(t, req)
	require.Equal(t, http.StatusOK, status, got)
	assert.Contains(t, got, html.EscapeString(deliveryEN.Delivery.ReportedTitle))

	var linked deliveries.LinkedCase
	var shotOf vocab.Evidence
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		v := s.getDelivery(t, store.RoleAgent, d.ID)
		assert.Equal(ct, deliveries.StatusUnderReview, v.Status)
		for _, e := range v.Evidence {
			if e.SHA256 == sha256Hex(shot) {
				shotOf = e
			}
		}
		if assert.Len(ct, v.LinkedCases, 1) {
			linked = v.LinkedCases[0]
		}
	}, 20*time.Second, 100*time.Millisecond)
	require.NotEmpty(t, shotOf.ID, "the screenshot is the delivery's evidence")
	assert.Equal(t, "deliveries/"+d.ID+"/"+shotOf.ID, shotOf.Key)
	assert.Equal(t, screenshotKind, shotOf.Kind)
	assert.Equal(t, "image/png", shotOf.ContentType)
	assert.Equal(t, int64(len(shot)), shotOf.Size)
	assert.Equal(t, "customer:"+d.Buyer.ID, shotOf.UploadedBy)
	sum, _ := fetch(t, s.downloadDeliveryFile(t, store.RoleAgent, d.ID, shotOf.ID).URL)
	assert.Equal(t, shotOf.SHA256, sum, "the stored bytes are the buyer's")
	assert.Equal(t, deliveries.LinkProblemReport, linked.Reason)
	require.NotEmpty(t, linked.CaseID)
	s.terminateAtEnd(t, linked.CaseID)

	// Under review: the page says a case is open, with no forms.
	status, _, got = surveyPage(t, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Contains(t, got, html.EscapeString(deliveryEN.Delivery.UnderReviewNote))
	assert.NotContains(t, got, html.EscapeString(deliveryEN.Delivery.ReportButton))
}
