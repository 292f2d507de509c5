package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
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

// send delivers msg on an idle session, or on a new one. commit, when not
// nil, is called once the whole message is on the wire but its final dot
// is not: the last step before the server takes it. If commit fails the
// session is closed without the dot, so the server discards what it got,
// and send answers commit's error.
func (p *smtpSessions) send(ctx context.Context, msg *mail.Msg, commit func(context.Context) error) error {
	client, err := p.mailer()
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", p.cfg.Addr, err)
	}
	if s := p.take(); s != nil {
		// NOOP first: a session the server dropped while idle is found
		// before anything of the message is sent, and it goes on a new one.
		if s.HasConnection() && s.UpdateDeadline(smtpTimeout) == nil && s.Noop() == nil {
			if err := sendOn(ctx, s, msg, commit); err != nil {
				_ = s.Close()
				return err
			}
			p.put(s)
			return nil
		}
		_ = s.Close()
	}
	s, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	if err := sendOn(ctx, s, msg, commit); err != nil {
		_ = s.Close()
		return err
	}
	p.put(s)
	return nil
}

// sendOn sends msg as one transaction on s: MAIL FROM, RCPT TO for each
// recipient, DATA and the message, then commit, then the final dot, whose
// 250 means the server took it. No RSET follows: that 250 ends the
// transaction (see mailer), and a session left broken by anything after
// it is found by the next send's NOOP. Any error leaves s to be closed.
//
// The envelope is go-mail's own choice (Client.Send): the envelope sender
// when set, else From, without display names; To, Cc and Bcc as
// recipients. smtp.Client.Mail adds BODY=8BITMIME and SMTPUTF8 when the
// server offers them; the project asks for no DSN.
func sendOn(ctx context.Context, s *smtp.Client, msg *mail.Msg, commit func(context.Context) error) error {
	timeout := smtpTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	if err := s.UpdateDeadline(timeout); err != nil {
		return &smtpStepError{step: smtpStepConn, err: err}
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return &smtpStepError{step: smtpStepMail, err: err}
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return &smtpStepError{step: smtpStepRcpt, err: err}
	}
	if err := s.Mail(from); err != nil {
		return &smtpStepError{step: smtpStepMail, err: err}
	}
	for _, rcpt := range rcpts {
		if err := s.Rcpt(rcpt); err != nil {
			return &smtpStepError{step: smtpStepRcpt, err: fmt.Errorf("%s: %w", rcpt, err)}
		}
	}
	w, err := s.Data()
	if err != nil {
		return &smtpStepError{step: smtpStepData, err: err}
	}
	if _, err := msg.WriteTo(w); err != nil {
		return &smtpStepError{step: smtpStepData, err: fmt.Errorf("write the message: %w", err)}
	}
	// The whole message goes to the server now, so that after commit only
	// the final dot (and the CRLF before it, if the message lacks one) is
	// left to write: three to five bytes in one write.
	if err := s.Text.W.Flush(); err != nil {
		return &smtpStepError{step: smtpStepData, err: fmt.Errorf("write the message: %w", err)}
	}
	if commit != nil {
		if err := commit(ctx); err != nil {
			// No dot: the caller closes the connection, and a server
			// discards a message whose data never ended.
			return fmt.Errorf("commit point, message not handed over: %w", err)
		}
	}
	// The dot, then the server's answer to the message. An error here
	// leaves the outcome unknown when the dot was written (the connection
	// dropped before the answer): it is returned, as before the commit
	// point existed, so the delivery is released and a retry sends it
	// again under the same Message-ID rather than risk losing it.
	if err := w.Close(); err != nil {
		return &smtpStepError{step: smtpStepDataEnd, err: err}
	}
	return nil
}

// smtpTimeout bounds each SMTP command and the whole data of a message,
// as go-mail's WithTimeout bounds a session's dial and greeting.
const smtpTimeout = 10 * time.Second

// The steps of one message's transaction, as smtpStepError names them.
const (
	smtpStepConn    = "session"
	smtpStepMail    = "MAIL FROM"
	smtpStepRcpt    = "RCPT TO"
	smtpStepData    = "DATA"
	smtpStepDataEnd = "end of data"
)

// smtpStepError is a failed step of one message's transaction.
type smtpStepError struct {
	step string
	err  error
}

// Error answers the step and what failed.
func (e *smtpStepError) Error() string { return e.step + ": " + e.err.Error() }

// Unwrap answers what failed.
func (e *smtpStepError) Unwrap() error { return e.err }

// replyCode answers the server's reply code to the step, 0 when it gave
// none (a network error, say).
func (e *smtpStepError) replyCode() int {
	var te *textproto.Error
	if errors.As(e.err, &te) {
		return te.Code
	}
	return 0
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
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(smtpTimeout), mail.WithTLSPolicy(mail.NoTLS),
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
