// Package smtptest runs a real SMTP server in the test process, built on
// github.com/emersion/go-smtp, and records the messages it receives.
//
// It speaks plain TCP on 127.0.0.1 (no TLS). With a username set it offers
// AUTH PLAIN, checks the credentials and refuses MAIL until they are given;
// without one it offers no AUTH at all, like a relay on loopback.
package smtptest

import (
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Options configure a Server.
type Options struct {
	// Username empty: no AUTH required (none is offered). Set: AUTH PLAIN
	// with Username and Password is required before MAIL.
	Username, Password string
	// Refuse, when set, is asked about each RCPT TO: a non-nil Reply is
	// the server's answer (a 4xx or 5xx), as a real server refuses an
	// unknown mailbox (550) or a full one (452).
	Refuse func(rcpt string) *Reply
}

// Reply is an SMTP error answer: Code 400-599 and its text.
type Reply struct {
	Code    int
	Message string
}

// Message is one message as the server received it.
type Message struct {
	From    string
	To      []string  // RCPT TO addresses
	Subject string    // decoded header
	Date    time.Time // the Date header; zero if absent or unreadable
	Text    string    // the text/plain part, decoded
	HTML    string    // the text/html part, decoded
	Raw     []byte    // the whole message as received
}

// Bounds on one connection, so a stuck client cannot hold a test forever.
const (
	ioTimeout       = 10 * time.Second
	maxMessageBytes = 10 << 20
	rebindTimeout   = 5 * time.Second
)

// Server is a running (or stopped) test SMTP server. It is safe for
// concurrent use.
type Server struct {
	opts Options
	port int

	mu           sync.Mutex
	messages     []Message
	authFailures int
	arrived      chan struct{} // closed and replaced when a message arrives
	run          *running      // nil while stopped
}

// running is one listening period between Start/Restart and Stop.
type running struct {
	srv     *smtp.Server
	ln      net.Listener
	backend *backend
	served  chan struct{} // closed when Serve returns
}

// Start listens on 127.0.0.1:0 and serves until t's cleanup (or Stop).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{
		opts:    opts,
		port:    l.Addr().(*net.TCPAddr).Port,
		arrived: make(chan struct{}),
	}
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

// Host is the address the server listens on.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the TCP port, the same across Stop and Restart.
func (s *Server) Port() int { return s.port }

// Addr is Host:Port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host(), strconv.Itoa(s.port)) }

// Messages returns a copy of everything received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyMessages(s.messages)
}

// AuthFailures is the number of failed AUTH attempts seen.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFailures
}

// Wait returns the messages once at least n have arrived; it fails the test
// if that takes longer than timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.messages) >= n {
			msgs := copyMessages(s.messages)
			s.mu.Unlock()
			return msgs
		}
		arrived := s.arrived
		s.mu.Unlock()

		select {
		case <-arrived:
		case <-timer.C:
			got := s.Messages()
			t.Fatalf("smtptest: waited %v for %d messages, got %d: %s", timeout, n, len(got), summary(got))
			return nil
		}
	}
}

// Stop closes the listener and every open connection; new connections are
// refused until Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	r := s.run
	s.run = nil
	s.mu.Unlock()
	if r == nil {
		return
	}
	// Refuse sessions on connections that were accepted just before the
	// listener closed but not yet registered with go-smtp (Close misses them).
	r.backend.stop()
	r.srv.Close()
	// go-smtp only closes listeners that Serve has registered, which it may
	// not have done yet right after Start.
	r.ln.Close()
	<-r.served
}

// Restart listens again on the same port. The port may take a moment to be
// free again, so the bind is retried briefly. Restarting a running server
// does nothing.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.run != nil
	s.mu.Unlock()
	if running {
		return
	}
	deadline := time.Now().Add(rebindTimeout)
	for {
		l, err := net.Listen("tcp", s.Addr())
		if err == nil {
			s.serve(l)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: listen again on %s: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serve starts a fresh go-smtp server on l: a go-smtp Server cannot be
// served again after Close.
func (s *Server) serve(l net.Listener) {
	be := &backend{s: s}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = ioTimeout
	srv.WriteTimeout = ioTimeout
	srv.MaxMessageBytes = maxMessageBytes
	srv.MaxRecipients = 100
	srv.ErrorLog = log.New(io.Discard, "", 0) // t.Log would panic after the test ends

	r := &running{srv: srv, ln: l, backend: be, served: make(chan struct{})}
	s.mu.Lock()
	s.run = r
	s.mu.Unlock()
	go func() {
		defer close(r.served)
		srv.Serve(l)
	}()
}

// record stores a received message and wakes waiters.
func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

func (s *Server) authFailed() {
	s.mu.Lock()
	s.authFailures++
	s.mu.Unlock()
}

func copyMessages(in []Message) []Message {
	out := make([]Message, len(in))
	for i, m := range in {
		m.To = append([]string(nil), m.To...)
		m.Raw = append([]byte(nil), m.Raw...)
		out[i] = m
	}
	return out
}

func summary(msgs []Message) string {
	if len(msgs) == 0 {
		return "none"
	}
	var out string
	for i, m := range msgs {
		if i > 0 {
			out += "; "
		}
		out += fmt.Sprintf("to %v subject %q", m.To, m.Subject)
	}
	return out
}
