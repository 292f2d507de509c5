package activities

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"

	"handoff/config"
)

// rudeSMTP is an SMTP server that takes each message (250 to its final
// dot) and then drops the connection at the client's next command, as a
// server overloaded or restarting between two messages does.
func rudeSMTP(t *testing.T) (addr string, taken *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	taken = &atomic.Int32{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				say := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
				say("220 rude.test ESMTP")
				afterMessage := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if afterMessage {
						return // the next command finds the connection gone
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						say("250 rude.test")
					case cmd == "DATA":
						say("354 go on")
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
						}
						taken.Add(1)
						say("250 taken")
						afterMessage = true
					case cmd == "QUIT":
						say("221 bye")
						return
					default:
						say("250 ok")
					}
				}
			}()
		}
	}()
	return l.Addr().String(), taken
}

// A message the server answered 250 is sent, whatever fails after it (an
// error then would release the delivery, and the retry would deliver a
// copy); the session it leaves dead is found so before the next message.
func TestAMessageTheServerTookIsSentEvenWhenTheSessionDiesAfter(t *testing.T) {
	addr, taken := rudeSMTP(t)
	sessions := &smtpSessions{cfg: config.SMTP{Addr: addr}}
	for i := range 2 {
		msg := mail.NewMsg()
		require.NoError(t, msg.From("support@shop.example"))
		require.NoError(t, msg.To("ada@example.com"))
		msg.Subject("Your case")
		msg.SetBodyString(mail.TypeTextPlain, "hello")
		require.NoError(t, sessions.send(context.Background(), msg), "message %d", i+1)
		assert.Equal(t, int32(i+1), taken.Load(), "each message taken once")
	}
}
