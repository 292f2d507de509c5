package mailin_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/mailin"
)

// gatewayInbox stands for the Receiver: it records what the gateway hands
// it and answers what the test says.
type gatewayInbox struct {
	// accept and deliver answer AcceptRecipient and Deliver; nil takes.
	accept  func(rcpt string) error
	deliver func(ctx context.Context, m mailin.Incoming) error

	mu        sync.Mutex
	asked     []string
	delivered []mailin.Incoming
}

func (in *gatewayInbox) AcceptRecipient(_ context.Context, rcpt string) error {
	in.mu.Lock()
	in.asked = append(in.asked, rcpt)
	in.mu.Unlock()
	if in.accept != nil {
		return in.accept(rcpt)
	}
	return nil
}

func (in *gatewayInbox) Deliver(ctx context.Context, m mailin.Incoming) error {
	if in.deliver != nil {
		if err := in.deliver(ctx, m); err != nil {
			return err
		}
	}
	in.mu.Lock()
	in.delivered = append(in.delivered, m)
	in.mu.Unlock()
	return nil
}

func (in *gatewayInbox) got() []mailin.Incoming {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]mailin.Incoming(nil), in.delivered...)
}

var gatewayNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// gatewayMessage is a reply as a client sends it: CRLF line ends, a line
// that starts with a dot (dot-stuffed on the wire) and 8-bit text.
var gatewayMessage = []byte("From: Ana <ana@example.org>\r\n" +
	"To: reply+C-1@reply.handoff.test\r\n" +
	"Subject: Re: your delivery\r\n" +
	"Message-ID: <m1@example.org>\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"The parcel is not here.\r\n" +
	".a line that starts with a dot\r\n" +
	"Merci, à bientôt\r\n")

// startGateway serves a Gateway on a loopback port and answers its address;
// the test's end shuts it down.
func startGateway(t *testing.T, inbox mailin.Inbox, opt mailin.GatewayOptions) (*mailin.Gateway, string, <-chan error) {
	t.Helper()
	if opt.Domain == "" {
		opt.Domain = "reply.handoff.test"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = func() time.Time { return gatewayNow }
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := mailin.NewGateway(inbox, opt)
	served := make(chan error, 1)
	go func() { served <- g.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
	})
	return g, ln.Addr().String(), served
}

func dialGateway(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Hello("mx.example.org"))
	return c
}

// sendBody sends DATA and raw, answering the reply to the end of data.
func sendBody(c *smtp.Client, raw []byte) error {
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	return w.Close()
}

// requireReply checks that err is the server's reply code and enhanced
// code.
func requireReply(t *testing.T, err error, code int, enhanced string) *smtp.SMTPError {
	t.Helper()
	var se *smtp.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, code, se.Code, "reply %q", se.Message)
	assert.Equal(t, enhanced, fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2]))
	return se
}

func TestGatewayHandsTheMessageToTheInboxByteForByteForEachRecipient(t *testing.T) {
	inbox := &gatewayInbox{}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("Ana@Example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	require.NoError(t, c.Rcpt("reply+C-2@reply.handoff.test", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil), "a repeated recipient is taken")
	require.NoError(t, sendBody(c, gatewayMessage))
	require.NoError(t, c.Quit())

	assert.Equal(t, []string{"reply+C-1@reply.handoff.test", "reply+C-2@reply.handoff.test"}, inbox.asked,
		"the repeated recipient is not asked again")
	got := inbox.got()
	require.Len(t, got, 2, "one delivery per distinct recipient")
	for i, rcpt := range []string{"reply+C-1@reply.handoff.test", "reply+C-2@reply.handoff.test"} {
		assert.Equal(t, "Ana@Example.org", got[i].MailFrom, "the envelope sender as sent")
		assert.Equal(t, rcpt, got[i].Rcpt)
		assert.Equal(t, string(gatewayMessage), string(got[i].Raw), "the message byte for byte, dots unstuffed")
		assert.True(t, strings.HasPrefix(got[i].Remote, "127.0.0.1:"), "remote %q", got[i].Remote)
		assert.Equal(t, gatewayNow, got[i].ReceivedAt)
	}
}

func TestGatewayGreetsAsItsDomainAndOffersNeitherAuthNorStartTLS(t *testing.T) {
	_, addr, _ := startGateway(t, &gatewayInbox{}, mailin.GatewayOptions{MaxMessageBytes: 4096})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	text := textproto.NewConn(conn)

	_, greeting, err := text.ReadResponse(220)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(greeting, "reply.handoff.test "), "greeting %q", greeting)

	require.NoError(t, text.PrintfLine("EHLO mx.example.org"))
	_, ehlo, err := text.ReadResponse(250)
	require.NoError(t, err)
	assert.Contains(t, ehlo, "SIZE 4096")
	assert.NotContains(t, ehlo, "AUTH")
	assert.NotContains(t, ehlo, "STARTTLS")

	require.NoError(t, text.PrintfLine("AUTH PLAIN AGFuYQBzZWNyZXQ="))
	code, _, err := text.ReadResponse(235)
	require.Error(t, err, "AUTH is refused")
	assert.Equal(t, 5, code/100, "for good")
}

func TestGatewayAnswersARecipientRefusalAtRcptAndDeliversNothing(t *testing.T) {
	inbox := &gatewayInbox{accept: func(rcpt string) error {
		if strings.HasPrefix(rcpt, "reply+") {
			return nil
		}
		return fmt.Errorf("checking %s: %w", rcpt, &mailin.Refusal{Code: 550, Enhanced: "5.1.1", Reason: "no such reply address"})
	}}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("ana@example.org", nil))
	se := requireReply(t, c.Rcpt("support@reply.handoff.test", nil), 550, "5.1.1")
	assert.Equal(t, "no such reply address", se.Message)
	assert.Error(t, sendBody(c, gatewayMessage), "no recipient, no DATA")
	assert.Empty(t, inbox.got())

	// Beside a taken recipient, the refused one gets nothing.
	require.NoError(t, c.Reset())
	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	requireReply(t, c.Rcpt("support@reply.handoff.test", nil), 550, "5.1.1")
	require.NoError(t, sendBody(c, gatewayMessage))
	got := inbox.got()
	require.Len(t, got, 1)
	assert.Equal(t, "reply+C-1@reply.handoff.test", got[0].Rcpt)
}

func TestGatewayAnswersATemporaryRecipientErrorWith451AndHidesIt(t *testing.T) {
	inbox := &gatewayInbox{accept: func(string) error { return errors.New("postgres: connection refused") }}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("ana@example.org", nil))
	se := requireReply(t, c.Rcpt("reply+C-1@reply.handoff.test", nil), 451, "4.3.0")
	assert.NotContains(t, se.Message, "postgres", "the cause stays in the log")
	assert.Empty(t, inbox.got())
}

func TestGatewayRefusesTooManyRecipients(t *testing.T) {
	inbox := &gatewayInbox{}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{MaxRecipients: 2})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	require.NoError(t, c.Rcpt("reply+C-2@reply.handoff.test", nil))
	requireReply(t, c.Rcpt("reply+C-3@reply.handoff.test", nil), 452, "4.5.3")
	require.NoError(t, sendBody(c, gatewayMessage))
	assert.Len(t, inbox.got(), 2, "the first two recipients have the message")
}

func TestGatewayRefusesAnOversizeMessageAndStaysInStep(t *testing.T) {
	const limit = 1024
	inbox := &gatewayInbox{}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{MaxMessageBytes: limit})
	c := dialGateway(t, addr)

	line := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n")
	big := append(bytes.Repeat(line, limit/len(line)), "one line too many\r\n"...)
	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	requireReply(t, sendBody(c, big), 552, "5.3.4")
	assert.Empty(t, inbox.got(), "the inbox never sees it")

	// go-smtp refuses a message of exactly the limit as well; one byte
	// less passes, on the same connection.
	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	requireReply(t, sendBody(c, withLineEnd(big[:limit])), 552, "5.3.4")
	under := withLineEnd(big[:limit-1])
	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	require.NoError(t, sendBody(c, under))
	got := inbox.got()
	require.Len(t, got, 1)
	assert.Equal(t, under, got[0].Raw)

	// A declared SIZE over the limit is refused at MAIL.
	requireReply(t, c.Mail("ana@example.org", &smtp.MailOptions{Size: limit + 1}), 552, "5.3.4")
}

// withLineEnd answers b cut to end in CRLF at its length: the client adds
// a CRLF to a message that lacks one.
func withLineEnd(b []byte) []byte {
	out := append([]byte(nil), b[:len(b)-2]...)
	return append(out, "\r\n"...)
}

func TestGatewayReadTimeoutBoundsEachWaitNotTheWholeBody(t *testing.T) {
	const timeout = 300 * time.Millisecond
	inbox := &gatewayInbox{}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{ReadTimeout: timeout})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	text := textproto.NewConn(conn)
	command := func(code int, format string, args ...any) {
		t.Helper()
		if format != "" {
			require.NoError(t, text.PrintfLine(format, args...))
		}
		_, msg, err := text.ReadResponse(code)
		require.NoError(t, err, msg)
	}
	command(220, "")
	command(250, "EHLO mx.example.org")
	command(250, "MAIL FROM:<ana@example.org>")
	command(250, "RCPT TO:<reply+C-1@reply.handoff.test>")
	command(354, "DATA")

	// A slow MTA: the body takes three timeouts to arrive, each piece
	// within one. (The message has no line that starts with a dot.)
	body := bytes.ReplaceAll(gatewayMessage, []byte("\r\n."), []byte("\r\n"))
	pieces := bytes.SplitAfter(body, []byte("\r\n"))
	pause := 3 * timeout / time.Duration(len(pieces))
	for _, piece := range pieces {
		_, err := conn.Write(piece)
		require.NoError(t, err)
		time.Sleep(pause)
	}
	command(250, ".")
	got := inbox.got()
	require.Len(t, got, 1)
	assert.Equal(t, string(body), string(got[0].Raw))
}

func TestGatewayRateLimitsEachSender(t *testing.T) {
	var mu sync.Mutex
	now := gatewayNow
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	inbox := &gatewayInbox{}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{PerSender: 2, PerSenderRate: 1.0 / 60, Now: clock})
	c := dialGateway(t, addr)

	send := func(from string) error {
		if err := c.Mail(from, nil); err != nil {
			return err
		}
		if err := c.Rcpt("reply+C-1@reply.handoff.test", nil); err != nil {
			return err
		}
		return sendBody(c, gatewayMessage)
	}
	require.NoError(t, send("ana@example.org"))
	require.NoError(t, send("ana@example.org"))
	se := requireReply(t, send("ANA@example.org"), 450, "4.7.1")
	assert.Contains(t, se.Message, "try again later")
	assert.True(t, se.Temporary())
	assert.Len(t, inbox.got(), 2, "the third message is not taken")

	require.NoError(t, send("bea@example.org"), "another sender still passes")

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	require.NoError(t, send("ana@example.org"), "the sender's bucket refills")
}

func TestGatewayAcceptsTheNullSenderAndLimitsItByClientAddress(t *testing.T) {
	inbox := &gatewayInbox{}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{PerSender: 1, PerSenderRate: 1.0 / 60})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("", nil), "MAIL FROM:<> for a bounce")
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	require.NoError(t, sendBody(c, gatewayMessage))
	got := inbox.got()
	require.Len(t, got, 1)
	assert.Empty(t, got[0].MailFrom)

	requireReply(t, c.Mail("", nil), 450, "4.7.1")
	require.NoError(t, c.Mail("ana@example.org", nil), "a named sender has its own bucket")
}

func TestGatewayAnswersADeliverRefusalAtTheEndOfData(t *testing.T) {
	inbox := &gatewayInbox{deliver: func(context.Context, mailin.Incoming) error {
		return fmt.Errorf("receiving: %w", &mailin.Refusal{Code: 554, Enhanced: "5.7.1", Reason: "this case is closed"})
	}}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	se := requireReply(t, sendBody(c, gatewayMessage), 554, "5.7.1")
	assert.Equal(t, "this case is closed", se.Message)
}

func TestGatewayAnswersATemporaryDeliverErrorWith451(t *testing.T) {
	var calls int
	var mu sync.Mutex
	inbox := &gatewayInbox{deliver: func(context.Context, mailin.Incoming) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return errors.New("temporal: deadline exceeded")
	}}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	require.NoError(t, c.Rcpt("reply+C-2@reply.handoff.test", nil))
	se := requireReply(t, sendBody(c, gatewayMessage), 451, "4.3.0")
	assert.NotContains(t, se.Message, "temporal")
	mu.Lock()
	assert.Equal(t, 1, calls, "the first failure answers: the client sends the whole message again")
	mu.Unlock()
}

// gatewayLog is a log the gateway writes while the test reads it.
type gatewayLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *gatewayLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *gatewayLog) lines(msg string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	for line := range strings.Lines(l.buf.String()) {
		if strings.Contains(line, "msg=\""+msg+"\"") {
			lines = append(lines, line)
		}
	}
	return lines
}

func TestGatewayLogsOneLinePerMessageWithoutItsBody(t *testing.T) {
	log := &gatewayLog{}
	inbox := &gatewayInbox{}
	_, addr, _ := startGateway(t, inbox, mailin.GatewayOptions{Logger: slog.New(slog.NewTextHandler(log, nil))})
	c := dialGateway(t, addr)

	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))
	require.NoError(t, c.Rcpt("reply+C-2@reply.handoff.test", nil))
	require.NoError(t, sendBody(c, gatewayMessage))

	lines := log.lines("smtp message")
	require.Len(t, lines, 1)
	line := lines[0]
	assert.Contains(t, line, "from=ana@example.org")
	assert.Contains(t, line, "reply+C-1@reply.handoff.test reply+C-2@reply.handoff.test")
	assert.Contains(t, line, fmt.Sprintf("bytes=%d", len(gatewayMessage)))
	assert.Contains(t, line, "outcome=delivered")
	assert.Contains(t, line, "duration=")
	assert.NotContains(t, line, "parcel", "never the body")
}

func TestGatewayShutdownEndsIdleConnectionsAndServeAnswersNil(t *testing.T) {
	g, addr, served := startGateway(t, &gatewayInbox{}, mailin.GatewayOptions{})
	// An idle client: go-smtp alone would wait its ReadTimeout (a minute).
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	text := textproto.NewConn(conn)
	_, _, err = text.ReadResponse(220)
	require.NoError(t, err)
	require.NoError(t, text.PrintfLine("EHLO mx.example.org"))
	_, _, err = text.ReadResponse(250)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, g.Shutdown(ctx))
	assert.Less(t, time.Since(start), 5*time.Second, "the idle connection did not hold Shutdown up")
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	code, _, err := text.ReadResponse(0)
	assert.Equal(t, 421, code, "the idle client is told the service is going away: %v", err)

	_, err = net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "the listener is closed")
}

func TestGatewayShutdownCancelsADeliveryUnderWay(t *testing.T) {
	started := make(chan struct{})
	inbox := &gatewayInbox{deliver: func(ctx context.Context, _ mailin.Incoming) error {
		close(started)
		<-ctx.Done()
		return fmt.Errorf("telling the case: %w", ctx.Err())
	}}
	g, addr, served := startGateway(t, inbox, mailin.GatewayOptions{})
	c := dialGateway(t, addr)
	require.NoError(t, c.Mail("ana@example.org", nil))
	require.NoError(t, c.Rcpt("reply+C-1@reply.handoff.test", nil))

	reply := make(chan error, 1)
	go func() { reply <- sendBody(c, gatewayMessage) }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, g.Shutdown(ctx))

	requireReply(t, <-reply, 451, "4.3.0")
	assert.Empty(t, inbox.got())
	assert.NoError(t, <-served)
}

func TestGatewayServeAfterShutdownAnswersNil(t *testing.T) {
	g := mailin.NewGateway(&gatewayInbox{}, mailin.GatewayOptions{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, g.Shutdown(context.Background()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	assert.NoError(t, g.Serve(ln))
	_, err = ln.Accept()
	assert.Error(t, err, "Serve closed the listener")
}

func TestGatewayCloseEndsEveryConnection(t *testing.T) {
	g, addr, served := startGateway(t, &gatewayInbox{}, mailin.GatewayOptions{})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	r := bufio.NewReader(conn)
	_, err = r.ReadString('\n')
	require.NoError(t, err)

	require.NoError(t, g.Close())
	assert.NoError(t, <-served)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadAll(r)
	assert.NoError(t, err, "the server hung up (EOF), rather than the deadline passing")
}
