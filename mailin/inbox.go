// Package mailin takes the customers' email replies into their cases: an
// SMTP gateway and a signed webhook (for a mail provider in production)
// both hand each message to one Receiver, which checks the reply address,
// parses the MIME message, keeps only the new text, stores the attachments
// as evidence and tells the case, once per Message-ID.
package mailin

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Incoming is one message as a transport received it, for one recipient.
type Incoming struct {
	// MailFrom is the envelope sender (SMTP MAIL FROM); empty for the null
	// sender of a delivery status notification.
	MailFrom string
	// Rcpt is the reply address the message was sent to.
	Rcpt string
	// Raw is the whole message, headers and body, as received.
	Raw []byte
	// Remote is the address of the client that sent it, for the log.
	Remote string
	// ReceivedAt is when the transport took the message.
	ReceivedAt time.Time
}

// Inbox is what a transport hands mail to: the Receiver, or a stand-in in
// the gateway's tests.
type Inbox interface {
	// AcceptRecipient answers nil when mail to rcpt is taken, else a
	// *Refusal saying why not (an SMTP gateway answers it at RCPT TO).
	AcceptRecipient(ctx context.Context, rcpt string) error
	// Deliver takes one message. A *Refusal is for good (the sender must not
	// retry); any other error is temporary and the sender retries later.
	Deliver(ctx context.Context, m Incoming) error
}

// Refusal is a message or recipient refused for good, with the SMTP reply
// that says so.
type Refusal struct {
	// Code is the SMTP reply code (550, 552, 554...) and Enhanced the
	// RFC 3463 status code ("5.1.1").
	Code     int
	Enhanced string
	// Reason is the text a sender reads.
	Reason string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%d %s %s", r.Code, r.Enhanced, r.Reason)
}

// refuse answers a *Refusal.
func refuse(code int, enhanced, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Enhanced: enhanced, Reason: fmt.Sprintf(format, args...)}
}

// AsRefusal answers the *Refusal in err's chain, if any.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}
