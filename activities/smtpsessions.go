package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"handoff/config"
)

// Bounds on the SMTP sessions kept open between sends.
const (
	// maxIdleSMTP is how many idle sessions are kept; a burst opens more
	// and closes what does not fit.
	maxIdleSMTP = 4
	// smtpIdleFor is how long an idle session is reused: well inside the
	// five minutes RFC 5321 lets a server wait before dropping one.
	smtpIdleFor = 30 * time.Second
)

// smtpSessions sends emails over SMTP sessions kept open between sends.
// A new session costs a connection, the greeting, EHLO (with STARTTLS and
// AUTH when configured) and QUIT: round trips an email made in the
// workflow task of its event, that is, in the answer to the update that
// caused it. A session reused says NOOP first, so one the server dropped
// is found before anything is sent, and the email goes on a new one.
type smtpSessions struct {
	cfg config.SMTP

	mu sync.Mutex
	// client holds the settings every session is dialled with; built at
	// the first send, so a bad address fails that send, not the worker.
	client *mail.Client
	// idle are the sessions ready for a send, the most recent last.
	idle []idleSession
}

type idleSession struct {
	c     *smtp.Client
	since time.Time
}

// send delivers msg on an idle session, or on a new one.
func (p *smtpSessions) send(ctx context.Context, msg *mail.Msg) error {
	client, err := p.mailer()
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", p.cfg.Addr, err)
	}
	if s := p.take(); s != nil {
		err := client.SendWithSMTPClient(s, msg)
		if err == nil {
			p.put(s)
			return nil
		}
		_ = s.Close()
		if msg.IsDelivered() {
			return nil // taken; only the session's reset after it failed
		}
		var se *mail.SendError
		if !errors.As(err, &se) || se.Reason != mail.ErrConnCheck {
			return err
		}
	}
	s, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	if err := client.SendWithSMTPClient(s, msg); err != nil {
		_ = s.Close()
		if msg.IsDelivered() {
			// The server answered the message with 250: it is sent, and
			// sending it again would deliver a copy. Only what followed
			// (the RSET that readies the session for the next) failed.
			return nil
		}
		return err
	}
	p.put(s)
	return nil
}

// take answers the most recent idle session if it is young enough to
// reuse, or nil; when it is not, neither is any before it, and all are
// closed.
func (p *smtpSessions) take() *smtp.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) == 0 {
		return nil
	}
	last := p.idle[len(p.idle)-1]
	if time.Since(last.since) < smtpIdleFor {
		p.idle = p.idle[:len(p.idle)-1]
		return last.c
	}
	for _, old := range p.idle {
		_ = old.c.Close()
	}
	p.idle = p.idle[:0]
	return nil
}

// put keeps s for the next send, or ends it when enough are kept.
func (p *smtpSessions) put(s *smtp.Client) {
	p.mu.Lock()
	if len(p.idle) < maxIdleSMTP {
		p.idle = append(p.idle, idleSession{c: s, since: time.Now()})
		s = nil
	}
	client := p.client
	p.mu.Unlock()
	if s != nil {
		_ = client.CloseWithSMTPClient(s)
	}
}

// mailer answers the client the sessions are dialled with.
func (p *smtpSessions) mailer() (*mail.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	host, portText, err := net.SplitHostPort(p.cfg.Addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, err
	}
	// No RSET after a message: the server's 250 to its data ends the
	// transaction (RFC 5321, 4.1.1.4), so the next MAIL needs none, and the
	// message counts as sent one round trip sooner.
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(10 * time.Second), mail.WithTLSPolicy(mail.NoTLS),
		mail.WithoutRset()}
	if p.cfg.StartTLS {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if p.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(p.cfg.Username), mail.WithPassword(p.cfg.Password))
	}
	if p.client, err = mail.NewClient(host, opts...); err != nil {
		return nil, err
	}
	return p.client, nil
}
