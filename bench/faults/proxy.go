package faults

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a TCP proxy between the processes under test and one server
// (Postgres, MinIO, SMTP): it passes bytes through, holds the server's
// answers to chosen messages for a while (a slow server), or stands
// stopped: every connection closed and new ones refused, as a server that
// is down looks to its clients.
type Proxy struct {
	name, target, addr string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]struct{}
	stopped bool
	// hold and marker make a slow server: an answer to a client chunk
	// that holds marker waits hold before the client sees it.
	hold   time.Duration
	marker []byte
	// held counts the answers being held back right now.
	held atomic.Int64
}

// StartProxy listens on a free loopback port and forwards to target.
func StartProxy(name, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%s proxy: %w", name, err)
	}
	p := &Proxy{name: name, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	return p, nil
}

// Addr is where the processes under test connect.
func (p *Proxy) Addr() string { return p.addr }

// Name is the server the proxy stands for.
func (p *Proxy) Name() string { return p.name }

func (p *Proxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

// Stop closes every connection and the listener: the server is down.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	_ = p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
}

// Resume listens again on the same address: the server is back.
func (p *Proxy) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		return nil
	}
	var ln net.Listener
	var err error
	// The port was ours a moment ago; another listener taking it in
	// between is unlikely but not impossible, so try for a while.
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("%s proxy: listen again on %s: %w", p.name, p.addr, err)
	}
	p.stopped = false
	p.serve(ln)
	return nil
}

// Slow holds every answer to a client chunk holding marker for hold; a
// zero hold makes the server fast again.
func (p *Proxy) Slow(hold time.Duration, marker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold, p.marker = hold, []byte(marker)
}

// Drain waits, up to limit, until no answer is held back: the server has
// answered every message it took. A server that stops finishes what it
// accepted; cutting the connection while the proxy itself holds an answer
// the server already gave would stage a cut no real stop makes every
// time, at once for every message in flight.
func (p *Proxy) Drain(limit time.Duration) {
	for end := time.Now().Add(limit); p.held.Load() > 0 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops the proxy for good.
func (p *Proxy) Close() { p.Stop() }

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

func (p *Proxy) slowness() (time.Duration, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hold, p.marker
}

// pipe joins one client to a new connection to the server.
func (p *Proxy) pipe(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(client, server) {
		_ = client.Close()
		_ = server.Close()
		return
	}
	defer p.untrack(client, server)
	// held counts the client's messages whose answers are still to be held.
	held := make(chan time.Duration, 1024)
	done := make(chan struct{}, 2)
	go func() {
		copyWatching(server, client, func(chunk []byte) {
			if hold, marker := p.slowness(); hold > 0 && len(marker) > 0 && bytes.Contains(chunk, marker) {
				select {
				case held <- hold:
					p.held.Add(1)
				default:
				}
			}
		})
		done <- struct{}{}
	}()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				wasHeld := false
				select {
				case d := <-held:
					time.Sleep(d)
					wasHeld = true
				default:
				}
				_, werr := client.Write(buf[:n])
				if wasHeld {
					p.held.Add(-1)
				}
				if werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}()
	<-done
	_ = client.Close()
	_ = server.Close()
	<-done
}

// copyWatching copies src to dst, showing seen each chunk with the end of
// the one before, so a marker split across two reads is still found.
func copyWatching(dst io.Writer, src io.Reader, seen func([]byte)) {
	buf := make([]byte, 32<<10)
	var tail []byte
	for {
		n, err := src.Read(buf)
		if n > 0 {
			seen(append(tail, buf[:n]...))
			tail = append(tail[:0], buf[max(0, n-8):n]...)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
