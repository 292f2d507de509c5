package faults

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echo answers every line it reads with the same line.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					_, _ = c.Write([]byte(line))
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestASlowProxyHoldsTheAnswerAndDrainWaitsForIt(t *testing.T) {
	p, err := StartProxy("echo", echo(t))
	require.NoError(t, err)
	defer p.Close()
	p.Slow(400*time.Millisecond, "END")

	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	_, err = c.Write([]byte("fast\n"))
	require.NoError(t, err)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "fast\n", line, "an answer to anything else is not held")

	sent := time.Now()
	_, err = c.Write([]byte("END\n"))
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond) // the server has answered; the proxy holds it
	got := make(chan time.Time, 1)
	go func() {
		if _, err := r.ReadString('\n'); err == nil {
			got <- time.Now()
		}
		close(got)
	}()
	p.Drain(2 * time.Second)
	p.Stop()
	at, ok := <-got
	require.True(t, ok, "the held answer reached the client before the stop")
	assert.GreaterOrEqual(t, at.Sub(sent), 400*time.Millisecond, "it was held")

	_, err = net.DialTimeout("tcp", p.Addr(), time.Second)
	assert.Error(t, err, "stopped, the proxy refuses connections")
	require.NoError(t, p.Resume())
	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	_ = c2.Close()
}
