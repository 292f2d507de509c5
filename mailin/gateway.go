package mailin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"handoff/ratelimit"
)

const (
	defaultGatewayMaxBytes   = 25 << 20
	defaultGatewayRecipients = 10
	defaultGatewayTimeout    = time.Minute
	// gatewayRecipientTimeout bounds one AcceptRecipient and
	// gatewayDeliverTimeout one Deliver: a sending MTA waits minutes for a
	// reply (RFC 5321 4.5.3.2), not forever.
	gatewayRecipientTimeout = 30 * time.Second
	gatewayDeliverTimeout   = 2 * time.Minute
)

// GatewayOptions configure a Gateway.
type GatewayOptions struct {
	// Domain is the inbound mail domain, announced in the greeting and
	// the EHLO reply.
	Domain string
	// MaxMessageBytes bounds a message: a larger one is refused with
	// 552 5.3.4 and the Inbox never sees it (default 25 MiB). It is
	// go-smtp's limit, advertised in EHLO as SIZE, and go-smtp refuses a
	// message of exactly MaxMessageBytes too: its reader fails once the
	// budget is spent, before it reads the end of data.
	MaxMessageBytes int64
	// MaxRecipients bounds the recipients of one message; the next is
	// answered 452 4.5.3 and the client sends it in another transaction
	// (default 10).
	MaxRecipients int
	// PerSender is how many messages (MAIL FROM commands) one sender
	// address may send in a burst, and PerSenderRate how many it regains a
	// second (default: the burst again in an hour). The key is the lower-
	// cased MAIL FROM; the null sender's is the client's IP address. Zero
	// PerSender means no limit.
	PerSender     int
	PerSenderRate float64
	// ReadTimeout bounds each wait for a command or for more of a message
	// body, WriteTimeout each reply (default 1 minute each).
	ReadTimeout, WriteTimeout time.Duration
	// Logger takes one line per message (never its body); slog.Default()
	// by default.
	Logger *slog.Logger
	// Now stamps ReceivedAt and drives the rate limit; time.Now by default.
	Now func() time.Time
}

// Gateway is the inbound SMTP server for replies: an MX that takes mail to
// the reply addresses and hands every message to an Inbox, once per
// recipient. It offers no AUTH (nobody submits mail through it) and no
// STARTTLS: in production TLS terminates at the mail provider or at a TLS
// proxy in front of it.
//
// A message is taken only when the end of its DATA is answered 250, after
// the Inbox took it for every recipient. Any temporary failure answers 451
// and the client sends the whole message again later, to every recipient,
// so Inbox.Deliver must be idempotent: the Receiver keys each message by
// its Message-ID. The recipients of one message share its Raw bytes, which
// the Inbox must not modify.
type Gateway struct {
	inbox  Inbox
	opt    GatewayOptions
	log    *slog.Logger
	server *smtp.Server
	// senders is nil without a per-sender limit.
	senders *ratelimit.Limiter

	// ctx is every session's parent: Shutdown and Close cancel it.
	ctx    context.Context
	cancel context.CancelFunc

	// closing is set under mu, so that a connection is either tracked
	// before Shutdown looks at conns or refused by Accept.
	closing   atomic.Bool
	mu        sync.Mutex
	listeners []*gatewayListener
	conns     map[*gatewayConn]struct{}
}

// NewGateway answers a Gateway handing its mail to inbox; it serves once
// Serve is called.
func NewGateway(inbox Inbox, opt GatewayOptions) *Gateway {
	if opt.MaxMessageBytes <= 0 {
		opt.MaxMessageBytes = defaultGatewayMaxBytes
	}
	if opt.MaxRecipients <= 0 {
		opt.MaxRecipients = defaultGatewayRecipients
	}
	if opt.PerSender > 0 && opt.PerSenderRate <= 0 {
		opt.PerSenderRate = float64(opt.PerSender) / time.Hour.Seconds()
	}
	if opt.ReadTimeout <= 0 {
		opt.ReadTimeout = defaultGatewayTimeout
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = defaultGatewayTimeout
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	g := &Gateway{inbox: inbox, opt: opt, log: opt.Logger, conns: map[*gatewayConn]struct{}{}}
	if opt.PerSender > 0 {
		g.senders = ratelimit.New(opt.PerSender, opt.PerSenderRate)
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())

	s := smtp.NewServer(smtp.BackendFunc(g.newSession))
	s.Domain = opt.Domain
	s.MaxMessageBytes = opt.MaxMessageBytes
	// MaxRecipients is counted by the session (distinct accepted
	// recipients), not by go-smtp.
	s.AllowInsecureAuth = false
	s.ReadTimeout, s.WriteTimeout = opt.ReadTimeout, opt.WriteTimeout
	s.ErrorLog = slog.NewLogLogger(opt.Logger.Handler(), slog.LevelWarn)
	// No TLSConfig, so no STARTTLS; the sessions implement no AuthSession,
	// so no AUTH.
	g.server = s
	return g
}

// Serve answers SMTP on ln until Shutdown or Close, and then answers nil
// (also when called after them); otherwise it answers why ln failed.
func (g *Gateway) Serve(ln net.Listener) error {
	gl := &gatewayListener{Listener: ln, g: g}
	g.mu.Lock()
	if g.closing.Load() {
		g.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	g.listeners = append(g.listeners, gl)
	g.mu.Unlock()

	err := g.server.Serve(gl)
	if err == nil || g.closing.Load() {
		return nil
	}
	return fmt.Errorf("mailin: serving smtp on %s: %w", ln.Addr(), err)
}

// Shutdown stops taking connections, cancels every session's context (an
// AcceptRecipient or Deliver under way fails, its client is answered a
// temporary failure and sends again later), answers each connection's next
// command with 421 and waits for the connections to end. When ctx ends
// first, it closes the remaining connections and answers ctx's error.
func (g *Gateway) Shutdown(ctx context.Context) error {
	listeners, conns := g.beginClosing()
	for _, l := range listeners {
		_ = l.Close()
	}
	for _, c := range conns {
		c.expire()
	}
	err := g.server.Shutdown(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		g.closeConns()
		return fmt.Errorf("mailin: shutting the smtp gateway down: %w", err)
	default:
		return fmt.Errorf("mailin: shutting the smtp gateway down: %w", err)
	}
}

// Close stops the Gateway at once: it closes the listeners and every
// connection, cancelling the sessions' contexts.
func (g *Gateway) Close() error {
	listeners, _ := g.beginClosing()
	for _, l := range listeners {
		_ = l.Close()
	}
	g.closeConns()
	// After a Shutdown go-smtp's Close closes nothing and answers
	// ErrServerClosed: closeConns has done its work.
	if err := g.server.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return fmt.Errorf("mailin: closing the smtp gateway: %w", err)
	}
	return nil
}

// beginClosing marks the Gateway closing, cancels the sessions' contexts
// and answers the listeners and connections it holds.
func (g *Gateway) beginClosing() ([]*gatewayListener, []*gatewayConn) {
	g.mu.Lock()
	g.closing.Store(true)
	listeners := slices.Clone(g.listeners)
	conns := make([]*gatewayConn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	g.cancel()
	return listeners, conns
}

// closeConns closes every connection under go-smtp's feet: its session
// loop ends on the next read.
func (g *Gateway) closeConns() {
	g.mu.Lock()
	conns := make([]net.Conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c.Conn)
	}
	g.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// track holds c until it closes, or answers false once the Gateway closes.
func (g *Gateway) track(c *gatewayConn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing.Load() {
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *Gateway) untrack(c *gatewayConn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// The replies the gateway writes itself. They are answered exactly as
// written: go-smtp looks for *smtp.SMTPError by type assertion, not
// errors.As, and writes any other error's text to the client.
var (
	replyTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "temporary failure, try again later"}
	replyShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "service shutting down, try again later"}
	replySenderLimited = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
		Message: "too many messages from this sender, try again later"}
	replyTooManyRecipients = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3},
		Message: "too many recipients"}
	replyNestedMail = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
		Message: "a message is already under way, send RSET first"}
	replyNoRecipients = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
		Message: "no valid recipients"}
	replyLineTooLong = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "message has a line too long"}
)

// smtpReply answers the SMTP reply of r.
func smtpReply(r *Refusal) error {
	code := r.Code
	if code < 400 || code > 599 {
		code = 550
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: parseEnhancedCode(r.Enhanced, code), Message: r.Reason}
}

// parseEnhancedCode parses an RFC 3463 code ("5.1.1") of a reply of class
// code/100; go-smtp writes X.0.0 for one not set.
func parseEnhancedCode(s string, code int) smtp.EnhancedCode {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return smtp.EnhancedCodeNotSet
	}
	var ec smtp.EnhancedCode
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return smtp.EnhancedCodeNotSet
		}
		ec[i] = n
	}
	if ec[0] != code/100 {
		return smtp.EnhancedCodeNotSet
	}
	return ec
}

// smtpSession is one SMTP connection's state, from EHLO to the end.
type smtpSession struct {
	g      *Gateway
	conn   *gatewayConn
	remote string
	// ctx ends with the connection or at Shutdown.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards the transaction: with BDAT go-smtp runs Data in its own
	// goroutine, beside Reset.
	mu    sync.Mutex
	open  bool // MAIL FROM answered 250
	from  string
	rcpts []string
}

func (g *Gateway) newSession(c *smtp.Conn) (smtp.Session, error) {
	conn, ok := c.Conn().(*gatewayConn)
	if !ok {
		return nil, replyTemporary
	}
	if g.closing.Load() {
		return nil, replyShuttingDown
	}
	ctx, cancel := context.WithCancel(g.ctx)
	return &smtpSession{g: g, conn: conn, remote: conn.RemoteAddr().String(), ctx: ctx, cancel: cancel}, nil
}

// Mail starts a message from from ("" for the null sender of a bounce),
// within the sender's rate limit.
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		return replyNestedMail
	}
	if s.ctx.Err() != nil {
		return replyShuttingDown
	}
	if !s.g.allowSender(from, s.remote) {
		s.g.log.Warn("smtp sender over its rate limit", "remote", s.remote, "from", from)
		return replySenderLimited
	}
	s.open, s.from = true, from
	return nil
}

// allowSender takes one message from the sender's bucket.
func (g *Gateway) allowSender(from, remote string) bool {
	if g.senders == nil {
		return true
	}
	key := "from:" + strings.ToLower(from)
	if from == "" {
		// Bounces come from the null sender: hold back each client instead.
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		key = "ip:" + host
	}
	_, ok := g.senders.Allow(key, g.opt.Now())
	return ok
}

// Rcpt adds to to the message when the Inbox takes mail for it.
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mu.Lock()
	if slices.Contains(s.rcpts, to) {
		// A repeated RCPT TO names one recipient, delivered once.
		s.mu.Unlock()
		return nil
	}
	if len(s.rcpts) >= s.g.opt.MaxRecipients {
		s.mu.Unlock()
		return replyTooManyRecipients
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(s.ctx, gatewayRecipientTimeout)
	err := s.g.inbox.AcceptRecipient(ctx, to)
	cancel()
	if r, ok := AsRefusal(err); ok {
		s.g.log.Info("smtp recipient refused", "remote", s.remote, "rcpt", to, "code", r.Code, "reason", r.Reason)
		return smtpReply(r)
	}
	if err != nil {
		s.g.log.Error("smtp recipient not checked", "remote", s.remote, "rcpt", to, "error", err)
		return replyTemporary
	}
	s.mu.Lock()
	s.rcpts = append(s.rcpts, to)
	s.mu.Unlock()
	return nil
}

// Data reads the message and hands it to the Inbox for every recipient,
// logging one line for it.
func (s *smtpSession) Data(r io.Reader) error {
	start := time.Now()
	s.mu.Lock()
	from, rcpts := s.from, slices.Clone(s.rcpts)
	s.mu.Unlock()

	var raw []byte
	var cause error // what the log says beside the reply; never the client
	outcome, reply := "delivered", error(nil)
	switch {
	case len(rcpts) == 0:
		outcome, reply = "no recipients", replyNoRecipients
	case !s.conn.startBody():
		// Shutdown has expired the connection's reads: the body cannot be
		// read, nor drained to answer in step. Hang up; the client sends
		// again later.
		_ = s.conn.Conn.Close()
		outcome, reply = "shutting down", replyShuttingDown
	default:
		raw, cause = io.ReadAll(r)
		s.conn.endBody()
		if cause != nil {
			outcome, reply = readFailureReply(cause)
			break
		}
		outcome, reply, cause = s.deliver(from, rcpts, raw)
	}

	code := 250
	if e, ok := reply.(*smtp.SMTPError); ok {
		code = e.Code
	}
	level := slog.LevelInfo
	if code/100 == 4 {
		level = slog.LevelWarn
	}
	attrs := []any{"remote", s.remote, "from", from, "rcpts", rcpts, "bytes", len(raw),
		"outcome", outcome, "code", code, "duration", time.Since(start)}
	if cause != nil {
		attrs = append(attrs, "error", cause)
	}
	s.g.log.Log(s.ctx, level, "smtp message", attrs...)
	return reply
}

// readFailureReply answers the outcome and reply of a message that could
// not be read.
func readFailureReply(err error) (string, error) {
	switch {
	case errors.Is(err, smtp.ErrDataTooLarge):
		return "too large", smtp.ErrDataTooLarge
	case errors.Is(err, smtp.ErrTooLongLine):
		return "line too long", replyLineTooLong
	default:
		// Most likely the client went away; if it is still there, it
		// sends again.
		return "not read", replyTemporary
	}
}

// deliver hands raw to the Inbox for each recipient and answers the
// outcome, the reply and the Inbox's error. A temporary failure stops at
// once: the client sends the whole message again. A refusal of one
// recipient does not keep the message from the others, and is answered
// when no temporary failure is.
func (s *smtpSession) deliver(from string, rcpts []string, raw []byte) (string, error, error) {
	if err := s.ctx.Err(); err != nil {
		return "shutting down", replyShuttingDown, err
	}
	at := s.g.opt.Now()
	var refused, refusal error
	for _, rcpt := range rcpts {
		ctx, cancel := context.WithTimeout(s.ctx, gatewayDeliverTimeout)
		err := s.g.inbox.Deliver(ctx, Incoming{MailFrom: from, Rcpt: rcpt, Raw: raw, Remote: s.remote, ReceivedAt: at})
		cancel()
		if err == nil {
			continue
		}
		if r, ok := AsRefusal(err); ok {
			if refused == nil {
				refused, refusal = smtpReply(r), fmt.Errorf("refused for %s: %w", rcpt, err)
			}
			continue
		}
		return "temporary failure", replyTemporary, fmt.Errorf("delivering to %s: %w", rcpt, err)
	}
	if refused != nil {
		return "refused", refused, refusal
	}
	return "delivered", nil, nil
}

// Reset forgets the message under way (RSET, a new EHLO, the end of DATA).
func (s *smtpSession) Reset() {
	s.mu.Lock()
	s.open, s.from, s.rcpts = false, "", nil
	s.mu.Unlock()
}

// Logout ends the session with its connection.
func (s *smtpSession) Logout() error {
	s.cancel()
	return nil
}
