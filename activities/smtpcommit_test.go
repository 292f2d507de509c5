package activities

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"

	"handoff/config"
)

// tapSMTP is an SMTP server that shows what it has received of a
// message while it is still coming: the data so far, the messages taken
// (250 to their final dot) and the ones whose connection ended before the
// dot (discarded).
type tapSMTP struct {
	addr string
	// dataReply answers the final dot; "250 taken" when empty.
	dataReply string
	// rude drops a connection at the command after a message.
	rude bool

	mu        sync.Mutex
	partial   string
	taken     []string
	discarded int
	conns     int
}

func newTapSMTP(t *testing.T, configure func(*tapSMTP)) *tapSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	s := &tapSMTP{addr: l.Addr().String(), dataReply: "250 taken"}
	if configure != nil {
		configure(s)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return s
}

func (s *tapSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 tap.test ESMTP")
	afterMessage := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if afterMessage && s.rude {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 tap.test")
		case cmd == "DATA":
			say("354 go on")
			s.mu.Lock()
			s.partial = ""
			s.mu.Unlock()
			// Byte by byte, so partial holds all that arrived, a last line
			// without its CRLF included.
			for {
				c, err := r.ReadByte()
				if err != nil {
					s.mu.Lock()
					s.discarded++
					s.mu.Unlock()
					return
				}
				s.mu.Lock()
				s.partial += string(c)
				done := s.partial == ".\r\n" || strings.HasSuffix(s.partial, "\r\n.\r\n")
				s.mu.Unlock()
				if done {
					break
				}
			}
			s.mu.Lock()
			if strings.HasPrefix(s.dataReply, "250") {
				s.taken = append(s.taken, strings.TrimSuffix(s.partial, ".\r\n"))
			}
			s.mu.Unlock()
			say(s.dataReply)
			afterMessage = true
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// state answers the data of the message under way, the messages taken and
// the ones discarded.
func (s *tapSMTP) state() (partial string, taken []string, discarded int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.partial, append([]string(nil), s.taken...), s.discarded
}

func (s *tapSMTP) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func tapMessage(t *testing.T, last string) *mail.Msg {
	t.Helper()
	msg := mail.NewMsg()
	require.NoError(t, msg.From("support@shop.example"))
	require.NoError(t, msg.To("ada@example.com"))
	msg.Subject("Your case")
	msg.SetBodyString(mail.TypeTextPlain, "hello\n"+last)
	return msg
}

// The commit point comes once the server holds the whole message and
// before it has the final dot; the dot after it delivers the message.
func TestEmailCommitsAfterTheWholeMessageAndBeforeTheFinalDot(t *testing.T) {
	srv := newTapSMTP(t, nil)
	sessions := &smtpSessions{cfg: config.SMTP{Addr: srv.addr}}
	commits := 0
	commit := func(context.Context) error {
		commits++
		// The message's last line reaches the server without the dot.
		require.Eventually(t, func() bool {
			partial, _, _ := srv.state()
			return strings.HasSuffix(partial, "the last line")
		}, 5*time.Second, 5*time.Millisecond, "the message is on the wire before the commit point")
		time.Sleep(50 * time.Millisecond) // a dot sent before the commit would have arrived by now
		partial, taken, _ := srv.state()
		assert.Empty(t, taken, "the server has no final dot at the commit point")
		assert.True(t, strings.HasSuffix(partial, "the last line"), "nothing after the message's last byte")
		return nil
	}
	require.NoError(t, sessions.send(context.Background(), tapMessage(t, "the last line"), commit))
	assert.Equal(t, 1, commits)
	_, taken, discarded := srv.state()
	require.Len(t, taken, 1, "the dot after the commit point delivers it")
	assert.Contains(t, taken[0], "the last line")
	assert.Zero(t, discarded)
	assert.Len(t, sessions.idle, 1, "the session is kept for the next message")
}

// A failed commit point sends no dot: the server discards the message.
func TestEmailWhoseCommitFailsNeverGetsItsFinalDot(t *testing.T) {
	srv := newTapSMTP(t, nil)
	sessions := &smtpSessions{cfg: config.SMTP{Addr: srv.addr}}
	refused := errors.New("the delivery log is down")
	err := sessions.send(context.Background(), tapMessage(t, "never delivered"), func(context.Context) error { return refused })
	require.ErrorIs(t, err, refused)
	require.Eventually(t, func() bool {
		_, _, discarded := srv.state()
		return discarded == 1
	}, 5*time.Second, 5*time.Millisecond, "the connection ends inside the data")
	partial, taken, _ := srv.state()
	assert.Empty(t, taken, "no message taken")
	assert.Contains(t, partial, "never delivered", "the data reached the server, only its end did not")
	assert.Empty(t, sessions.idle, "the session is not kept")

	// The next message goes out on a new session.
	require.NoError(t, sessions.send(context.Background(), tapMessage(t, "the next one"), func(context.Context) error { return nil }))
	_, taken, _ = srv.state()
	require.Len(t, taken, 1)
	assert.Contains(t, taken[0], "the next one")
}

// A session the server dropped while idle is found by the NOOP before any
// of the next message is sent; that message goes on a new session and
// passes its commit point once.
func TestEmailOnADroppedSessionGoesOnANewOneAndCommitsOnce(t *testing.T) {
	srv := newTapSMTP(t, func(s *tapSMTP) { s.rude = true })
	sessions := &smtpSessions{cfg: config.SMTP{Addr: srv.addr}}
	for i := range 3 {
		commits := 0
		require.NoError(t, sessions.send(context.Background(), tapMessage(t, "mail"), func(context.Context) error { commits++; return nil }), "message %d", i+1)
		assert.Equal(t, 1, commits, "message %d", i+1)
		_, taken, discarded := srv.state()
		assert.Len(t, taken, i+1, "each message taken once")
		assert.Zero(t, discarded)
	}
	assert.Equal(t, 3, srv.connections(), "each message after the first replaced a dropped session")
}

// A session the client closed (as the integration test drops one) is
// replaced the same way.
func TestEmailOnAClosedSessionGoesOnANewOne(t *testing.T) {
	srv := newTapSMTP(t, nil)
	sessions := &smtpSessions{cfg: config.SMTP{Addr: srv.addr}}
	require.NoError(t, sessions.send(context.Background(), tapMessage(t, "one"), nil))
	require.Len(t, sessions.idle, 1)
	first := sessions.idle[0].c
	require.NoError(t, sessions.send(context.Background(), tapMessage(t, "two"), nil))
	require.Len(t, sessions.idle, 1)
	assert.Same(t, first, sessions.idle[0].c, "a live session is reused")
	require.NoError(t, first.Close())
	require.NoError(t, sessions.send(context.Background(), tapMessage(t, "three"), nil))
	require.Len(t, sessions.idle, 1)
	assert.NotSame(t, first, sessions.idle[0].c)
	_, taken, _ := srv.state()
	assert.Len(t, taken, 3)
	assert.Equal(t, 2, srv.connections())
}

// A refusal of the data after the commit point is a failure to retry,
// not a delivery.
func TestEmailRefusedAfterItsCommitPointFails(t *testing.T) {
	srv := newTapSMTP(t, func(s *tapSMTP) { s.dataReply = "451 try again later" })
	sessions := &smtpSessions{cfg: config.SMTP{Addr: srv.addr}}
	committed := false
	err := sessions.send(context.Background(), tapMessage(t, "refused"), func(context.Context) error { committed = true; return nil })
	require.Error(t, err)
	assert.True(t, committed)
	assert.Contains(t, err.Error(), "451")
	var se *smtpStepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, smtpStepDataEnd, se.step)
	assert.Equal(t, 451, se.replyCode())
	assert.Empty(t, sessions.idle)
}
