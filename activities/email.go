package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"handoff/links"
	"handoff/mailin"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Email is one message to one recipient.
type Email struct {
	// ID is deterministic for the event it reports (workflow id, the
	// notification's cause and event, audience, channel) and becomes the
	// Message-ID, so a receiver can recognise a retried send.
	ID string
	// To is the recipient's address.
	To string
	// Subject is the subject line, on one line.
	Subject string
	// Text is the plain-text body, always sent.
	Text string
	// HTML, when set, is sent as an alternative to Text.
	HTML string
	// Locale, when set, is the Content-Language.
	Locale string
	// Thread, set on a case's emails to its customer, makes the email part
	// of the case's conversation: answers reach the case by its reply
	// address and mail clients keep one thread per case.
	Thread *Thread
}

// Thread is what ties a customer email to its case's conversation.
type Thread struct {
	// ReplyTo is the case's signed reply address (links.ReplyAddress): the
	// Reply-To, and the envelope sender, so bounces come back to the case too.
	ReplyTo string
	// Root is the Message-ID of the case's first email (its
	// acknowledgement), the In-Reply-To and References of every later one;
	// empty on the first email itself.
	Root string
	// NotificationID names the notification in the X-Handoff-Notification
	// header, which a bounce quotes back.
	NotificationID string
	// Marker, when set, is the first line of the text body (and of the
	// HTML): the reply above this line marker, under which everything an
	// answer quotes is history.
	Marker string
}

// HeaderNotification names the notification an email tells; a delivery
// status notification that quotes the email's headers says which failed.
const HeaderNotification = "X-Handoff-Notification"

// sendEmail delivers e, marking failures no retry fixes as permanent.
func (n *Notifier) sendEmail(ctx context.Context, e Email) error {
	msg, err := n.message(e)
	if err != nil {
		return permanent(err)
	}
	if err := n.sessions.send(ctx, msg); err != nil {
		err = fmt.Errorf("send email %s via %s: %w", e.ID, n.smtp.Addr, err)
		// A 5xx to RCPT TO is this recipient refused for good; any other
		// failure (the server, auth, the network) may pass later.
		var se *mail.SendError
		if errors.As(err, &se) && se.Reason == mail.ErrSMTPRcptTo && se.ErrorCode()/100 == 5 {
			return permanent(err)
		}
		return err
	}
	return nil
}

func (n *Notifier) message(e Email) (*mail.Msg, error) {
	if e.ID == "" || e.Subject == "" || e.Text == "" {
		return nil, errors.New("email needs an id, a subject and a text body")
	}
	msg := mail.NewMsg()
	if err := msg.From(n.smtp.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", n.smtp.From, err)
	}
	if err := msg.To(e.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", e.To, err)
	}
	msg.SetMessageIDWithValue(messageID(e.ID, n.smtp.From))
	msg.SetDate()
	// RFC 3834: out-of-office and other robots do not answer it.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	if e.Locale != "" {
		msg.SetGenHeader(mail.HeaderContentLang, e.Locale)
	}
	msg.Subject(e.Subject)
	text, html := e.Text, e.HTML
	if t := e.Thread; t != nil {
		if err := msg.ReplyTo(t.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply address %q: %w", t.ReplyTo, err)
		}
		if err := msg.EnvelopeFrom(t.ReplyTo); err != nil {
			return nil, fmt.Errorf("envelope sender %q: %w", t.ReplyTo, err)
		}
		if t.Root != "" {
			msg.SetGenHeader(mail.HeaderInReplyTo, "<"+t.Root+">")
			msg.SetGenHeader(mail.HeaderReferences, "<"+t.Root+">")
		}
		msg.SetGenHeader(mail.Header(HeaderNotification), t.NotificationID)
		if t.Marker != "" {
			text = t.Marker + "\n\n" + text
			if html != "" {
				html = `<p style="color:#888;font-size:12px">` + htmltemplate.HTMLEscapeString(t.Marker) + "</p>\n" + html
			}
		}
	}
	msg.SetBodyString(mail.TypeTextPlain, text)
	if html != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, html)
	}
	return msg, nil
}

// caseThread answers the thread of note's email on a case to its customer,
// sent at: the case's reply address, valid for the configured time, and its
// first email's Message-ID. Nil when replies are off, for an email that is
// no case's (a delivery's), or to another address than the customer's.
func (n *Notifier) caseThread(note vocab.Notification, at time.Time) *Thread {
	if n.links == nil || n.inbound.Domain == "" || note.Audience != vocab.AudienceCustomer ||
		note.Delivery != nil || note.To != "" || note.Case.ID == "" {
		return nil
	}
	token := n.links.ReplyToken(note.Case.ID, note.Case.Customer.ID, at.Add(n.inbound.ReplyAddressTTL))
	t := &Thread{
		ReplyTo:        links.ReplyAddress(token, n.inbound.Domain),
		NotificationID: note.ID,
		Marker:         mailin.ReplyAboveMarkers[note.Case.Customer.Locale],
	}
	if note.Event != cases.EventOpened {
		t.Root = CaseThreadRoot(note.Case.ID, n.smtp.From)
	}
	return t
}

// CaseThreadRoot answers the Message-ID of case caseID's acknowledgement,
// sent from from: the root of the case's email thread.
func CaseThreadRoot(caseID, from string) string {
	return messageID(vocab.CaseWorkflowID(caseID)+"/1/"+vocab.AudienceCustomer+"/"+ChannelEmail, from)
}

// dotAtom matches an RFC 5322 dot-atom, what a Message-ID's left part must be.
var dotAtom = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+(\\.[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+)*$")

// messageID builds an RFC 5322 Message-ID from id under the sender's
// domain: id with its slashes turned into dots when that is valid, else a
// hash of id (a case id may hold any character).
func messageID(id, from string) string {
	domain := "handoff.localhost"
	if at := strings.LastIndex(from, "@"); at >= 0 {
		domain = strings.TrimRight(from[at+1:], ">")
	}
	local := strings.ReplaceAll(id, "/", ".")
	if !dotAtom.MatchString(local) {
		sum := sha256.Sum256([]byte(id))
		local = "h." + hex.EncodeToString(sum[:16])
	}
	return local + "@" + domain
}

// recipient answers the address of a notification's audience: for the
// customer, the notification's own address when it has one (the old
// address of a contact change, the new one a code confirms), else the
// case customer's.
func (n *Notifier) recipient(note vocab.Notification) (string, error) {
	switch note.Audience {
	case vocab.AudienceCustomer:
		if note.To != "" {
			return note.To, nil
		}
		if note.Case.Customer.Email == "" {
			return "", fmt.Errorf("notification %s: the customer has no email address", note.ID)
		}
		return note.Case.Customer.Email, nil
	case vocab.AudienceAssignee:
		if note.Case.Assignee == "" {
			return "", fmt.Errorf("notification %s: the case has no assignee", note.ID)
		}
		if strings.Contains(note.Case.Assignee, "@") {
			return note.Case.Assignee, nil
		}
		return note.Case.Assignee + "@" + n.smtp.StaffDomain, nil
	case vocab.AudienceTeam:
		return "team-" + string(note.Case.Team) + "@" + n.smtp.StaffDomain, nil
	}
	return "", fmt.Errorf("notification %s: unknown audience %q", note.ID, note.Audience)
}
