package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/wneessen/go-mail"

	"handoff/workflows/vocab"
)

// Email is one message to one recipient.
type Email struct {
	// ID is deterministic for the event it reports (workflow id, event
	// sequence, channel) and becomes the Message-ID, so a receiver can
	// recognise a retried send.
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
}

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
	msg.SetBodyString(mail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	}
	return msg, nil
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
