package mailin

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParseMessageReadsEncodedHeadersCharsetsAndFiles(t *testing.T) {
	raw := crlf(`From: =?ISO-8859-1?Q?Ren=E9e_Dupr=E9?= <Renee@Example.FR>
To: reply+C-1.k.1.x@reply.example
Subject: =?UTF-8?B?UmXCoDogUHJvYmzDqG1l?=
Message-ID: <abc@example.fr>
Authentication-Results: mx.example; spf=pass; dkim=pass; dmarc=pass
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Voil=E0 la capture d'=E9cran.

Le 01/12/2026 =E0 10:00, Support a =E9crit :
> Bonjour
--m
Content-Type: application/pdf
Content-Disposition: attachment; filename="=?UTF-8?Q?re=C3=A7u.pdf?="

%PDF-1.4
--m--
`)
	m, err := parseMessage(raw, "renee@example.fr")
	require.NoError(t, err)
	assert.Equal(t, "abc@example.fr", m.id)
	assert.Equal(t, "renee@example.fr", m.from)
	assert.Equal(t, "Re\u00a0: Problème", m.subject)
	assert.Equal(t, "Voilà la capture d'écran.", m.text)
	assert.Contains(t, m.auth, "dmarc=pass")
	assert.Empty(t, m.autoReply)
	assert.Nil(t, m.bounce)
	require.Len(t, m.files, 1)
	assert.Equal(t, "reçu.pdf", m.files[0].name)
	assert.True(t, strings.HasPrefix(string(m.files[0].content), "%PDF-1.4"))
}

func TestParseMessageTakesInlineImagesOfARelatedBody(t *testing.T) {
	raw := crlf(`From: a@example.com
Message-ID: <rel@example.com>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="r"

--r
Content-Type: text/html; charset=utf-8

<p>See <img src="cid:img1"></p>
--r
Content-Type: image/png
Content-ID: <img1>
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--r--
`)
	m, err := parseMessage(raw, "a@example.com")
	require.NoError(t, err)
	assert.Equal(t, "See", strings.TrimSpace(m.text))
	require.Len(t, m.files, 1, "the inline image is a file of the message")
	assert.Equal(t, "\x89PNG", string(m.files[0].content[:4]))
}

func TestAMessageWithoutAnIDIsNamedByItsBytes(t *testing.T) {
	raw := crlf("From: a@example.com\nSubject: hi\n\nhello\n")
	m1, err := parseMessage(raw, "a@example.com")
	require.NoError(t, err)
	m2, err := parseMessage(raw, "a@example.com")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(m1.id, "sha256:"))
	assert.Equal(t, m1.id, m2.id, "the same bytes, the same id")
}

func TestReadBounceNamesTheFailedNotification(t *testing.T) {
	raw := crlf(`From: MAILER-DAEMON@mx.example
Message-ID: <dsn@mx.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="d"

--d
Content-Type: text/plain

Delivery failed.
--d
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; ada@example.com
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 mailbox full
--d
Content-Type: message/rfc822

From: support@handoff.localhost
X-Handoff-Notification: case/C-1/4/customer
Subject: New reply

body
--d--
`)
	m, err := parseMessage(raw, "")
	require.NoError(t, err)
	require.NotNil(t, m.bounce)
	assert.Equal(t, "case/C-1/4/customer", m.bounce.notification)
	assert.Equal(t, "5.2.2 smtp; 552 mailbox full", m.bounce.reason)
	assert.Empty(t, m.files, "the quoted original is no attachment")
	kind, why := classify(m, cases.CaseView{Customer: vocab.Customer{Email: "ada@example.com"}})
	assert.Equal(t, cases.InboundBounce, kind)
	assert.Equal(t, m.bounce.reason, why)
}

func TestADelayReportIsNoBounceButStillActsOnNothing(t *testing.T) {
	raw := crlf(`From: MAILER-DAEMON@mx.example
Message-ID: <delay@mx.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="d"

--d
Content-Type: text/plain

Still trying.
--d
Content-Type: message/delivery-status

Final-Recipient: rfc822; ada@example.com
Action: delayed
Status: 4.4.1
--d--
`)
	m, err := parseMessage(raw, "")
	require.NoError(t, err)
	assert.Nil(t, m.bounce)
	assert.Equal(t, "null envelope sender", m.autoReply)
}

func TestClassifyTellsTheCustomerFromOthers(t *testing.T) {
	view := cases.CaseView{Customer: vocab.Customer{Email: "Ada@Example.com"}}
	for name, tc := range map[string]struct {
		m    message
		kind string
	}{
		"the customer":       {message{from: "ada@example.com"}, cases.InboundCustomer},
		"someone else":       {message{from: "eve@example.com"}, cases.InboundUnverifiedSender},
		"no From":            {message{}, cases.InboundUnverifiedSender},
		"DMARC failing":      {message{from: "ada@example.com", auth: "mx.example; spf=softfail; dmarc=fail (p=none)"}, cases.InboundUnverifiedSender},
		"an auto-reply":      {message{from: "ada@example.com", autoReply: "Precedence: bulk"}, cases.InboundAutoReply},
		"a bounce to anyone": {message{from: "mailer-daemon@mx.example", bounce: &bounce{reason: "5.1.1"}}, cases.InboundBounce},
	} {
		kind, why := classify(tc.m, view)
		assert.Equal(t, tc.kind, kind, name)
		if kind == cases.InboundUnverifiedSender {
			assert.NotEmpty(t, why, name)
		}
	}
}
