//go:build integration

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/signedhttp"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// postMail posts raw to the inbound mail webhook for rcpt, signed with
// secret (unsigned when empty).
func (s *caseStack) postMail(t *testing.T, secret, rcpt, sender, raw string) reply {
	t.Helper()
	target := inboundMailPath + "?" + url.Values{"recipient": {rcpt}, "sender": {sender}}.Encode()
	header := []string{"Content-Type", "message/rfc822"}
	if secret != "" {
		ts := time.Now().Unix()
		header = append(header, signedhttp.HeaderTimestamp, strconv.FormatInt(ts, 10),
			signedhttp.HeaderSignature, signedhttp.Sign([]byte(secret), http.MethodPost, target, ts, []byte(raw)))
	}
	r, err := sendRequest(stacktest.Context(t), s.base, "", http.MethodPost, target, raw, header...)
	require.NoError(t, err)
	return r
}

// eventsOf answers the events of kind.
func eventsOf(events []vocab.Event, kind string) []vocab.Event {
	var out []vocab.Event
	for _, e := range events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestTheMailProvidersWebhookPutsAReplyOnTheCaseOnce(t *testing.T) {
	s := newCaseStack(t)
	v := s.open(t, store.RoleIntegration, newCaseBody("login_failure"))
	ack := awaitMail(t, v.Customer.Email, v.ID)
	headers, err := stacktest.MailpitHeaders(stacktest.Context(t), ack.ID)
	require.NoError(t, err)
	require.NotEmpty(t, headers["Reply-To"])
	rcpt := strings.Trim(headers["Reply-To"][0], "<> ")

	raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: %s\r\nMessage-ID: <%s@mail.example.com>\r\n\r\nIt works on my phone but not on my laptop.\r\n\r\nOn Tue, 1 Dec 2026 at 09:00, Support <support@handoff.localhost> wrote:\r\n> We received your request\r\n",
		v.Customer.Email, rcpt, v.Subject, unique())
	secret := s.cfg.Inbound.WebhookSecret

	p := problemOf(t, s.postMail(t, "", rcpt, v.Customer.Email, raw), http.StatusUnauthorized)
	assert.Contains(t, fieldsOfProblem(p), signedhttp.HeaderSignature)
	p = problemOf(t, s.postMail(t, secret, "reply+nope.k.1.x@"+s.cfg.Inbound.Domain, v.Customer.Email, raw), http.StatusNotFound)
	assert.Contains(t, fieldsOfProblem(p), "recipient")
	problemOf(t, s.postMail(t, secret, "", v.Customer.Email, raw), http.StatusUnprocessableEntity)
	assert.Empty(t, eventsOf(s.timeline(t, v.ID), cases.EventCustomerMessage), "a refused post changes nothing")

	r := s.postMail(t, secret, rcpt, v.Customer.Email, raw)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	var got []vocab.Event
	require.Eventually(t, func() bool {
		got = eventsOf(s.timeline(t, v.ID), cases.EventCustomerMessage)
		return len(got) == 1
	}, 30*time.Second, 100*time.Millisecond, "the case takes the message")
	assert.Equal(t, "It works on my phone but not on my laptop.", got[0].Payload["body"])
	before := s.get(t, v.ID)

	r = s.postMail(t, secret, rcpt, v.Customer.Email, raw)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	ctx, cancel := context.WithTimeout(stacktest.Context(t), 2*time.Second)
	defer cancel()
	<-ctx.Done()
	assert.Len(t, eventsOf(s.timeline(t, v.ID), cases.EventCustomerMessage), 1, "the same message twice lands once")
	assert.Equal(t, before.LastSeq, s.get(t, v.ID).LastSeq)
}
