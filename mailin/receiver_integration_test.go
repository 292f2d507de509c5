//go:build integration

package mailin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/config"
	"handoff/evidence"
	"handoff/links"
	"handoff/mailin"
	"handoff/stacktest"
	"handoff/stacktest/stackworker"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// mailStack is a worker on a queue of its own, an opener of cases on it and
// the inbound gateway in front of a Receiver, all on the real stack.
type mailStack struct {
	cfg     config.Config
	tc      client.Client
	db      *store.Store
	s3      *s3.Client
	opener  cases.Opener
	signer  *links.Signer
	gateway string
}

var counter atomic.Int64

func unique() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(counter.Add(1), 36)
}

func newMailStack(t *testing.T) *mailStack {
	t.Helper()
	cfg := stackworker.Start(t, stacktest.Config(t), "test-mail")
	db, tc, s3c := stacktest.Store(t), stacktest.Temporal(t), stacktest.S3(t)
	book, err := sla.Load(cfg.SLAPolicyFile)
	require.NoError(t, err)
	signer, err := links.FromConfig(cfg.Notify.LinkKeys)
	require.NoError(t, err)
	s := &mailStack{cfg: cfg, tc: tc, db: db, s3: s3c, signer: signer,
		opener: cases.Opener{Temporal: tc, Book: book, TaskQueue: cfg.Temporal.TaskQueue}}
	r := &mailin.Receiver{Temporal: tc, Store: db, Evidence: evidence.NewStore(s3c, cfg.S3.Bucket, cfg.Evidence),
		Links: signer, Opener: s.opener, Domain: cfg.Inbound.Domain, MaxBytes: 1 << 20, Logger: stacktest.Logger(t)}
	g := mailin.NewGateway(r, mailin.GatewayOptions{Domain: cfg.Inbound.Domain, MaxMessageBytes: 1 << 20, PerSender: 1000, Logger: stacktest.Logger(t)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- g.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, g.Shutdown(ctx))
		assert.NoError(t, <-served)
	})
	s.gateway = ln.Addr().String()
	return s
}

// recordHistory keeps, when HANDOFF_RECORD_HISTORY=<name> is set, the
// case's history as workflows/cases/testdata/supportcase-<name>-<what>.json
// for the replay test.
func (s *mailStack) recordHistory(t *testing.T, caseID, what string) {
	t.Helper()
	name := os.Getenv("HANDOFF_RECORD_HISTORY")
	if name == "" {
		return
	}
	stacktest.WriteHistory(t, s.tc, cases.CaseWorkflowID(caseID), "",
		filepath.Join(stacktest.RepoRoot(t), "workflows", "cases", "testdata", "supportcase-"+name+"-"+what+".json"))
}

// customer is a new customer of the test, with an address no other test uses.
func customer(locale string) vocab.Customer {
	id := "cus-" + unique()
	return vocab.Customer{ID: id, Email: id + "@example.com", Name: "Ada Lovelace", Locale: locale}
}

// open opens a login case of c and answers its id.
func (s *mailStack) open(t *testing.T, c vocab.Customer) string {
	t.Helper()
	in, err := s.opener.Open(stacktest.Context(t), cases.OpenRequest{Category: vocab.CategoryLoginFailure,
		Subject: "Cannot log in", Description: "The password is refused.", Customer: c, Channel: "web", OpenedBy: "test"}, vocab.Once{})
	require.NoError(t, err)
	return in.ID
}

// update runs a case update and fails t when it is refused.
func (s *mailStack) update(t *testing.T, caseID, name string, arg any) {
	t.Helper()
	h, err := s.tc.UpdateWorkflow(stacktest.Context(t), client.UpdateWorkflowOptions{
		WorkflowID: cases.CaseWorkflowID(caseID), UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err, name)
	require.NoError(t, h.Get(stacktest.Context(t), nil), name)
}

// waitOnCustomer answers the customer and waits on them.
func (s *mailStack) waitOnCustomer(t *testing.T, caseID string) {
	t.Helper()
	s.update(t, caseID, cases.UpdateReply, cases.MessageInput{Actor: "agent:ines", Body: "Which browser do you use?"})
	s.update(t, caseID, cases.UpdateWaitOnCustomer, cases.ReasonInput{Actor: "agent:ines", Reason: "asked for the browser"})
}

// view answers the case as its query does.
func (s *mailStack) view(t *testing.T, caseID string) cases.CaseView {
	t.Helper()
	res, err := s.tc.QueryWorkflow(stacktest.Context(t), cases.CaseWorkflowID(caseID), "", cases.QueryCase)
	require.NoError(t, err)
	var v cases.CaseView
	require.NoError(t, res.Get(&v))
	return v
}

// eventually waits for the case's view to satisfy ok and answers it.
func (s *mailStack) eventually(t *testing.T, caseID string, what string, ok func(cases.CaseView) bool) cases.CaseView {
	t.Helper()
	var v cases.CaseView
	deadline := time.Now().Add(30 * time.Second)
	for {
		v = s.view(t, caseID)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s: %s did not happen within 30s; timeline: %+v", caseID, what, v.Timeline)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// events answers the case's timeline events of kind.
func events(v cases.CaseView, kind string) []vocab.Event {
	var out []vocab.Event
	for _, e := range v.Timeline {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// mail is one email the Mailpit copy of which a test reads.
type mail struct {
	id, subject string
	headers     map[string][]string
}

// mailTo waits for an email to addr whose subject holds part and answers it.
func mailTo(t *testing.T, addr, part string) mail {
	t.Helper()
	ctx := stacktest.Context(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs, err := stacktest.MailpitSearch(ctx, "to:"+addr)
		require.NoError(t, err)
		for _, m := range msgs {
			if strings.Contains(m.Subject, part) {
				h, err := stacktest.MailpitHeaders(ctx, m.ID)
				require.NoError(t, err)
				return mail{id: m.ID, subject: m.Subject, headers: h}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to %s with %q in its subject within 30s", addr, part)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// header answers the first value of the header name, in any case.
func (m mail) header(name string) string {
	for k, v := range m.headers {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// replyAddress answers the Reply-To of the case's acknowledgement.
func replyAddress(t *testing.T, c vocab.Customer, caseID string) (string, mail) {
	t.Helper()
	ack := mailTo(t, c.Email, caseID)
	addr := strings.Trim(ack.header("Reply-To"), "<> ")
	require.True(t, strings.HasPrefix(addr, "reply+"+caseID+"."), "the acknowledgement's Reply-To names the case: %q", addr)
	return addr, ack
}

// send sends raw from mailFrom to rcpt through the gateway.
func (s *mailStack) send(mailFrom, rcpt string, raw string) error {
	return smtp.SendMail(s.gateway, nil, mailFrom, []string{rcpt}, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

// smtpCode answers the SMTP reply code of a refused send, 0 for none.
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// A 1x1 PNG.
var png = func() []byte {
	b, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	return b
}()

// replyWithScreenshot is a Gmail-style reply with a quote and a PNG attached.
func replyWithScreenshot(from, to, inReplyTo, messageID string) string {
	return fmt.Sprintf(`From: Ada Lovelace <%s>
To: %s
Subject: Re: [case] Cannot log in
Message-ID: <%s>
In-Reply-To: <%s>
Date: Tue, 1 Dec 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

I use Firefox, here is what I see.

On Tue, 1 Dec 2026 at 09:00, Handoff Support <support@handoff.localhost> wrote:
> Which browser do you use?
--b1
Content-Type: image/png
Content-Disposition: attachment; filename="screen.png"
Content-Transfer-Encoding: base64

%s
--b1--
`, from, to, messageID, inReplyTo, base64.StdEncoding.EncodeToString(png))
}

func TestAReplyToTheAcknowledgementLandsOnItsCaseOnce(t *testing.T) {
	s := newMailStack(t)
	c := customer("en")
	caseID := s.open(t, c)
	addr, ack := replyAddress(t, c, caseID)
	assert.Empty(t, ack.header("In-Reply-To"), "the acknowledgement starts the thread")
	s.waitOnCustomer(t, caseID)
	answer := mailTo(t, c.Email, "New reply")
	assert.Equal(t, ack.header("Message-ID"), answer.header("In-Reply-To"), "later emails answer the acknowledgement")
	assert.Equal(t, ack.header("Message-ID"), answer.header("References"))
	require.Equal(t, cases.StatusWaitingCustomer, s.view(t, caseID).Status)

	msgID := unique() + "@mail.example.com"
	require.NoError(t, s.send(c.Email, addr, replyWithScreenshot(c.Email, addr, strings.Trim(ack.header("Message-ID"), "<>"), msgID)))

	v := s.eventually(t, caseID, "the customer's message", func(v cases.CaseView) bool { return len(events(v, cases.EventCustomerMessage)) == 1 })
	got := events(v, cases.EventCustomerMessage)[0]
	assert.Equal(t, "I use Firefox, here is what I see.", got.Payload["body"], "only the new text, without the quote")
	assert.Equal(t, "email", got.Payload["channel"])
	assert.Equal(t, msgID, got.Payload["message_id"])
	assert.Equal(t, "customer:"+c.ID, got.Actor)
	assert.Equal(t, cases.StatusOpen, v.Status, "waiting_customer goes back to open")
	require.NotNil(t, v.SLA.NextResponseDue, "the next-response target is armed")
	assert.False(t, v.SLA.Paused)

	require.Len(t, v.Evidence, 1, "the screenshot is evidence")
	sum := sha256.Sum256(png)
	e := v.Evidence[0]
	assert.Equal(t, hex.EncodeToString(sum[:]), e.SHA256)
	assert.Equal(t, "image/png", e.ContentType)
	obj, err := s.s3.GetObject(stacktest.Context(t), &s3.GetObjectInput{Bucket: aws.String(s.cfg.S3.Bucket), Key: aws.String(e.Key)})
	require.NoError(t, err, "the screenshot is in MinIO")
	var body bytes.Buffer
	_, err = body.ReadFrom(obj.Body)
	require.NoError(t, err)
	assert.Equal(t, png, body.Bytes())

	// The staff hear of it.
	mailTo(t, "team-"+string(v.Team)+"@"+s.cfg.SMTP.StaffDomain, "The customer wrote")

	// The same mail again changes nothing.
	last := v.LastSeq
	require.NoError(t, s.send(c.Email, addr, replyWithScreenshot(c.Email, addr, strings.Trim(ack.header("Message-ID"), "<>"), msgID)))
	time.Sleep(time.Second)
	again := s.view(t, caseID)
	assert.Equal(t, last, again.LastSeq, "a second delivery adds nothing to the timeline")
	assert.Len(t, again.Evidence, 1)
	log, err := s.db.InboundMessages(stacktest.Context(t), caseID)
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, store.InboundDelivered, log[0].Status)
	assert.Equal(t, caseID, log[0].DeliveredTo)
	s.recordHistory(t, caseID, "reply")
}

func TestAFrenchHTMLReplyKeepsItsAccents(t *testing.T) {
	s := newMailStack(t)
	c := customer("fr")
	caseID := s.open(t, c)
	addr, _ := replyAddress(t, c, caseID)
	// HTML only, in ISO-8859-1 quoted-printable, with an encoded subject.
	raw := fmt.Sprintf(`From: =?UTF-8?Q?Ad=C3=A8le?= <%s>
To: %s
Subject: =?UTF-8?Q?Re=C2=A0:_Probl=C3=A8me_de_connexion?=
Message-ID: <%s@mail.example.fr>
MIME-Version: 1.0
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<html><body><p>Je n'arrive toujours pas =E0 me connecter, m=EAme apr=E8s=
 avoir r=E9initialis=E9 le mot de passe.</p>
<p>Le lun. 1 d=E9c. 2026 =E0 10:00, Support a =E9crit :</p>
<blockquote><p>Nous avons bien re=E7u votre demande.</p></blockquote>
</body></html>
`, c.Email, addr, unique())
	require.NoError(t, s.send(c.Email, addr, raw))
	v := s.eventually(t, caseID, "the message", func(v cases.CaseView) bool { return len(events(v, cases.EventCustomerMessage)) == 1 })
	body := events(v, cases.EventCustomerMessage)[0].Payload["body"]
	assert.Equal(t, "Je n'arrive toujours pas à me connecter, même après avoir réinitialisé le mot de passe.", body)
}

func TestMailThatMustNotActIsOnlyRecorded(t *testing.T) {
	s := newMailStack(t)
	c := customer("en")
	caseID := s.open(t, c)
	addr, ack := replyAddress(t, c, caseID)
	s.waitOnCustomer(t, caseID)

	// Someone else writes to the reply address.
	forged := fmt.Sprintf("From: Mallory <mallory@evil.example>\nTo: %s\nSubject: Re: Cannot log in\nMessage-ID: <%s@evil.example>\n\nPlease change the email to mallory@evil.example.\n", addr, unique())
	require.NoError(t, s.send("mallory@evil.example", addr, forged))
	v := s.eventually(t, caseID, "the note", func(v cases.CaseView) bool { return len(events(v, cases.EventInternalNote)) == 1 })
	note := events(v, cases.EventInternalNote)[0]
	assert.Equal(t, "Please change the email to mallory@evil.example.", note.Payload["body"])
	assert.Contains(t, note.Payload["review"], "mallory@evil.example")
	assert.Empty(t, events(v, cases.EventCustomerMessage), "never the customer's words")
	assert.Equal(t, cases.StatusWaitingCustomer, v.Status)

	// An out-of-office answer.
	ooo := fmt.Sprintf("From: %s\nTo: %s\nSubject: Out of Office: Cannot log in\nAuto-Submitted: auto-replied\nMessage-ID: <%s@mail.example.com>\n\nI am away until Monday.\n", c.Email, addr, unique())
	require.NoError(t, s.send(c.Email, addr, ooo))
	v = s.eventually(t, caseID, "the auto-reply", func(v cases.CaseView) bool { return len(events(v, cases.EventAutoReply)) == 1 })
	assert.Equal(t, "Auto-Submitted: auto-replied", events(v, cases.EventAutoReply)[0].Payload["reason"])
	assert.Equal(t, cases.StatusWaitingCustomer, v.Status, "an auto-reply reopens nothing")

	// A bounce of the acknowledgement, from the null sender.
	notification := strings.TrimSpace(ack.header("X-Handoff-Notification"))
	require.Equal(t, cases.CaseWorkflowID(caseID)+"/1/customer", notification)
	dsn := fmt.Sprintf(`From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: %s
Subject: Undelivered Mail Returned to Sender
Message-ID: <%s@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="r1"

--r1
Content-Type: text/plain

Your message could not be delivered.
--r1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; %s
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown
--r1
Content-Type: text/rfc822-headers

From: Handoff Support <support@handoff.localhost>
To: %s
X-Handoff-Notification: %s
--r1--
`, addr, unique(), c.Email, c.Email, notification)
	require.NoError(t, s.send("", addr, dsn))
	v = s.eventually(t, caseID, "the bounce", func(v cases.CaseView) bool {
		for _, e := range events(v, cases.EventNotifyFailed) {
			if e.Payload["notification"] == notification {
				return true
			}
		}
		return false
	})
	assert.Equal(t, cases.StatusWaitingCustomer, v.Status)
	mailTo(t, "team-"+string(v.Team)+"@"+s.cfg.SMTP.StaffDomain, "could not be delivered")
	s.recordHistory(t, caseID, "not-acting")
}

func TestRefusedReplyAddressesAnswerAtRcpt(t *testing.T) {
	s := newMailStack(t)
	c, other := customer("en"), customer("en")
	caseID, otherID := s.open(t, c), s.open(t, other)
	addr, _ := replyAddress(t, c, caseID)
	msg := func(to string) string {
		return fmt.Sprintf("From: %s\nTo: %s\nSubject: hi\nMessage-ID: <%s@x>\n\nhello\n", c.Email, to, unique())
	}

	// The token of one case with another case's id.
	tampered := strings.Replace(addr, caseID, otherID, 1)
	err := s.send(c.Email, tampered, msg(tampered))
	assert.Equal(t, 550, smtpCode(err), "a token for another case: %v", err)

	expired := links.ReplyAddress(s.signer.ReplyToken(caseID, c.ID, time.Now().Add(-time.Minute)), s.cfg.Inbound.Domain)
	err = s.send(c.Email, expired, msg(expired))
	assert.Equal(t, 550, smtpCode(err), "an expired token: %v", err)
	assert.ErrorContains(t, err, "expired")

	err = s.send(c.Email, "support@"+s.cfg.Inbound.Domain, msg("support@"+s.cfg.Inbound.Domain))
	assert.Equal(t, 550, smtpCode(err), "not a reply address: %v", err)

	big := msg(addr) + strings.Repeat(strings.Repeat("x", 76)+"\n", (1<<20)/77+1)
	err = s.send(c.Email, addr, big)
	assert.Equal(t, 552, smtpCode(err), "over the size limit: %v", err)

	time.Sleep(500 * time.Millisecond)
	for _, id := range []string{caseID, otherID} {
		assert.Empty(t, events(s.view(t, id), cases.EventCustomerMessage), "case %s heard nothing", id)
	}
}

func TestAReplyToAResolvedCaseReopensItAndOneToAClosedCaseOpensAFollowUp(t *testing.T) {
	s := newMailStack(t)
	c := customer("en")
	caseID := s.open(t, c)
	addr, _ := replyAddress(t, c, caseID)
	s.update(t, caseID, cases.UpdateResolve, cases.ResolveInput{Actor: "agent:ines", Resolution: "password reset"})

	reply := func(text string) string {
		return fmt.Sprintf("From: %s\nTo: %s\nSubject: Re: Cannot log in\nMessage-ID: <%s@mail.example.com>\n\n%s\n", c.Email, addr, unique(), text)
	}
	require.NoError(t, s.send(c.Email, addr, reply("It happens again.")))
	v := s.eventually(t, caseID, "the reopen", func(v cases.CaseView) bool { return v.Status == cases.StatusOpen })
	assert.Len(t, events(v, cases.EventCustomerMessage), 1)

	s.update(t, caseID, cases.UpdateResolve, cases.ResolveInput{Actor: "agent:ines", Resolution: "cleared cookies"})
	s.update(t, caseID, cases.UpdateClose, cases.ReasonInput{Actor: "agent:ines", Reason: "done"})
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := s.db.GetCase(stacktest.Context(t), caseID)
		require.NoError(t, err)
		if got.Status == cases.StatusClosed {
			break
		}
		require.False(t, time.Now().After(deadline), "the read model shows the case closed")
		time.Sleep(100 * time.Millisecond)
	}

	require.NoError(t, s.send(c.Email, addr, reply("Still locked out, sorry.")))
	var log []store.InboundMessage
	for deadline := time.Now().Add(30 * time.Second); ; {
		var err error
		log, err = s.db.InboundMessages(stacktest.Context(t), caseID)
		require.NoError(t, err)
		if len(log) == 2 && log[1].Status == store.InboundDelivered {
			break
		}
		require.False(t, time.Now().After(deadline), "the second reply is delivered")
		time.Sleep(100 * time.Millisecond)
	}
	next := log[1].DeliveredTo
	require.NotEqual(t, caseID, next, "a follow-up case took it")
	f := s.view(t, next)
	assert.Equal(t, caseID, f.FollowsUp)
	assert.Equal(t, "Still locked out, sorry.", f.Description)
	assert.Equal(t, "email", f.Channel)
	assert.Equal(t, c.ID, f.Customer.ID)
	ack := mailTo(t, c.Email, next)
	text, err := stacktest.MailpitText(stacktest.Context(t), ack.id)
	require.NoError(t, err)
	assert.Contains(t, text, "It continues your case "+caseID, "the customer is told the new number and the old")
}
