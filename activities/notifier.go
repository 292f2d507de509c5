package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"handoff/config"
	"handoff/workflows"
)

// Notifier tells people what happens to their case.
type Notifier struct {
	smtp config.SMTP
}

// NewNotifier answers a Notifier sending email through the SMTP server in cfg.
func NewNotifier(cfg config.SMTP) *Notifier {
	return &Notifier{smtp: cfg}
}

// Email is one message to one recipient.
type Email struct {
	// ID is deterministic for the event it reports (workflow id, event
	// sequence, channel) and becomes the Message-ID, so a receiver can
	// recognise a retried send.
	ID      string
	To      string
	Subject string
	Text    string
	// HTML, when set, is sent as an alternative to Text.
	HTML string
}

// ErrTypeInvalidEmail marks an email that no retry can deliver.
const ErrTypeInvalidEmail = "InvalidEmail"

// SendEmail delivers e through SMTP. A malformed message fails without
// retries; a server that cannot be reached fails so Temporal retries it.
func (n *Notifier) SendEmail(ctx context.Context, e Email) error {
	msg, err := n.message(e)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidEmail, err)
	}
	c, err := n.client()
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", n.smtp.Addr, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send email %s via %s: %w", e.ID, n.smtp.Addr, err)
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
	msg.Subject(e.Subject)
	msg.SetBodyString(mail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	}
	return msg, nil
}

// messageID builds an RFC 5322 Message-ID from id under the sender's domain.
func messageID(id, from string) string {
	domain := "handoff.localhost"
	if at := strings.LastIndex(from, "@"); at >= 0 {
		domain = strings.TrimRight(from[at+1:], ">")
	}
	return strings.NewReplacer("/", ".", " ", "", "<", "", ">", "").Replace(id) + "@" + domain
}

func (n *Notifier) client() (*mail.Client, error) {
	host, portText, err := net.SplitHostPort(n.smtp.Addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, err
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(10 * time.Second), mail.WithTLSPolicy(mail.NoTLS)}
	if n.smtp.StartTLS {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if n.smtp.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(n.smtp.Username), mail.WithPassword(n.smtp.Password))
	}
	return mail.NewClient(host, opts...)
}

// Notify tells a notification's audience what happened to a case. The
// email's Message-ID is the notification's id, so a receiver recognises a
// retried delivery.
func (n *Notifier) Notify(ctx context.Context, note workflows.Notification) error {
	to, err := n.recipient(note)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidEmail, err)
	}
	subject, text := render(note)
	activity.GetLogger(ctx).Info("notify", "notification", note.ID, "event", note.Event, "audience", note.Audience)
	return n.SendEmail(ctx, Email{ID: note.ID, To: to, Subject: subject, Text: text})
}

// recipient answers the address of a notification's audience.
func (n *Notifier) recipient(note workflows.Notification) (string, error) {
	switch note.Audience {
	case "customer":
		return note.Case.Customer.Email, nil
	case "assignee":
		if strings.Contains(note.Case.Assignee, "@") {
			return note.Case.Assignee, nil
		}
		return note.Case.Assignee + "@" + n.smtp.StaffDomain, nil
	case "team":
		return "team-" + string(note.Case.Team) + "@" + n.smtp.StaffDomain, nil
	}
	return "", fmt.Errorf("notification %s: unknown audience %q", note.ID, note.Audience)
}

// render writes a plain-text message for a notification.
func render(note workflows.Notification) (subject, text string) {
	c := note.Case
	headline := map[string]string{
		workflows.EventOpened:           "We received your request",
		workflows.EventAgentReply:       "New reply on your request",
		workflows.EventWaitingCustomer:  "We are waiting for your answer",
		workflows.EventCustomerReminder: "Reminder: we are waiting for your answer",
		workflows.EventEscalated:        "Case escalated to " + string(c.Team),
		workflows.EventResolved:         "Your request is resolved",
		workflows.EventClosed:           "Your request is closed",
		workflows.EventSLAWarning:       "SLA warning",
		workflows.EventSLABreach:        "SLA breached",
	}[note.Event]
	if headline == "" {
		headline = "Update on case " + c.ID
	}
	subject = fmt.Sprintf("[%s] %s: %s", c.ID, headline, c.Subject)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nCase %s · %s · %s · %s\n", headline, c.ID, c.Category, c.Priority, c.Status)
	if note.Detail != "" {
		fmt.Fprintf(&b, "\n%s\n", note.Detail)
	}
	return subject, b.String()
}
