package mailin

import (
	"net"
	"sync"
	"time"
)

// The connection and listener wrappers the gateway hands go-smtp, so that
// Shutdown ends idle sessions and a slow message body is not cut off by
// the per-command read timeout.

// gatewayListener hands go-smtp tracked connections, and closes once
// however many of Shutdown and go-smtp close it.
type gatewayListener struct {
	net.Listener
	g        *Gateway
	once     sync.Once
	closeErr error
}

func (l *gatewayListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		gc := &gatewayConn{Conn: c, g: l.g}
		if l.g.track(gc) {
			return gc, nil
		}
		// Closing: the listener closes in a moment.
		_ = c.Close()
	}
}

func (l *gatewayListener) Close() error {
	l.once.Do(func() { l.closeErr = l.Listener.Close() })
	return l.closeErr
}

// gatewayConn is a client connection whose reads Shutdown can end between
// commands: go-smtp then answers 421 and hangs up. go-smtp's own Shutdown
// waits for every connection to end by itself, an idle one until its
// ReadTimeout.
type gatewayConn struct {
	net.Conn
	g *Gateway

	mu sync.Mutex
	// receiving is set while a message body is read, which Shutdown lets
	// finish.
	receiving bool
}

// Read extends the read deadline while a body is read: go-smtp sets it
// once, before it reads the DATA command, which would bound the transfer
// of a whole message (photos of a parcel, from a slow MTA) by ReadTimeout.
func (c *gatewayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.receiving {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.g.opt.ReadTimeout))
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// SetReadDeadline sets t, or now once the Gateway is closing: go-smtp sets
// a deadline before reading each command.
func (c *gatewayConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.g.closing.Load() && !c.receiving {
		t = time.Now()
	}
	return c.Conn.SetReadDeadline(t)
}

// expire ends the read under way unless a body is being read.
func (c *gatewayConn) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.receiving {
		_ = c.Conn.SetReadDeadline(time.Now())
	}
}

// startBody answers whether a body may be read: not once the Gateway is
// closing.
func (c *gatewayConn) startBody() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.g.closing.Load() {
		return false
	}
	c.receiving = true
	return true
}

func (c *gatewayConn) endBody() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.receiving = false
	if c.g.closing.Load() {
		_ = c.Conn.SetReadDeadline(time.Now())
	}
}

func (c *gatewayConn) Close() error {
	c.g.untrack(c)
	return c.Conn.Close()
}
