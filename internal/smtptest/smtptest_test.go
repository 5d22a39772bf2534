package smtptest

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sasl "github.com/emersion/go-sasl"
	smtp "github.com/emersion/go-smtp"
)

const waitTimeout = 10 * time.Second

// multipartMessage is a message as a mail client would write it: an
// encoded subject, quoted-printable text and base64 HTML.
const multipartMessage = "From: Sender <sender@example.com>\r\n" +
	"To: ada@example.com\r\n" +
	"Subject: =?UTF-8?q?Caf=C3=A9_details?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Conference ID: 1234567 =E2=80=94 a long line that is soft-=\r\n" +
	"wrapped\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+Jmx0O2ImZ3Q7QWRhJmx0Oy9iJmd0OzwvcD4=\r\n" +
	"--b1--\r\n"

// send delivers one message with a bounded go-smtp client; auth may be nil.
func send(t *testing.T, s *Server, auth sasl.Client, from string, to []string, msg string) error {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr(), waitTimeout)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(waitTimeout))
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.SendMail(from, to, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

func TestReceiveDecodesMIME(t *testing.T) {
	s := Start(t, Options{})
	if err := send(t, s, nil, "sender@example.com", []string{"ada@example.com", "bob@example.com"}, multipartMessage); err != nil {
		t.Fatal(err)
	}
	m := s.Wait(t, 1, waitTimeout)[0]
	if m.From != "sender@example.com" {
		t.Errorf("From = %q", m.From)
	}
	if strings.Join(m.To, ",") != "ada@example.com,bob@example.com" {
		t.Errorf("To = %q", m.To)
	}
	if m.Subject != "Café details" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if want := "Conference ID: 1234567 — a long line that is soft-wrapped"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	if want := "<p>&lt;b&gt;Ada&lt;/b&gt;</p>"; m.HTML != want {
		t.Errorf("HTML = %q, want %q", m.HTML, want)
	}
	if !strings.Contains(string(m.Raw), "boundary=\"b1\"") {
		t.Errorf("Raw lacks the headers: %q", m.Raw)
	}
}

func TestReceivePlainMessage(t *testing.T) {
	s := Start(t, Options{})
	msg := "Subject: hello\r\n\r\njust text\r\n"
	if err := send(t, s, nil, "a@example.com", []string{"b@example.com"}, msg); err != nil {
		t.Fatal(err)
	}
	m := s.Wait(t, 1, waitTimeout)[0]
	if m.Subject != "hello" || m.Text != "just text\r\n" || m.HTML != "" {
		t.Errorf("got subject %q text %q html %q", m.Subject, m.Text, m.HTML)
	}
}

func TestAuth(t *testing.T) {
	s := Start(t, Options{Username: "mailer", Password: "s3cret"})
	msg := "Subject: x\r\n\r\nx\r\n"

	err := send(t, s, nil, "a@example.com", []string{"b@example.com"}, msg)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 530 {
		t.Errorf("MAIL without AUTH: err = %v, want a 530", err)
	}
	err = send(t, s, sasl.NewPlainClient("", "mailer", "wrong"), "a@example.com", []string{"b@example.com"}, msg)
	if !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("wrong password: err = %v, want a 535", err)
	}
	if got := s.AuthFailures(); got != 1 {
		t.Errorf("AuthFailures = %d, want 1", got)
	}
	if err := send(t, s, sasl.NewPlainClient("", "mailer", "s3cret"), "a@example.com", []string{"b@example.com"}, msg); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if got := s.Wait(t, 1, waitTimeout); len(got) != 1 {
		t.Errorf("got %d messages, want 1", len(got))
	}
}

func TestNoAuthOffered(t *testing.T) {
	s := Start(t, Options{})
	err := send(t, s, sasl.NewPlainClient("", "u", "p"), "a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\nx\r\n")
	if err == nil {
		t.Fatal("AUTH accepted by a server without a username")
	}
	if got := s.AuthFailures(); got != 0 {
		t.Errorf("AuthFailures = %d, want 0", got)
	}
}

func TestStopRestart(t *testing.T) {
	s := Start(t, Options{})
	port := s.Port()
	msg := "Subject: x\r\n\r\nx\r\n"
	if err := send(t, s, nil, "a@example.com", []string{"b@example.com"}, msg); err != nil {
		t.Fatal(err)
	}

	s.Stop()
	s.Stop() // idempotent
	if conn, err := net.DialTimeout("tcp", s.Addr(), waitTimeout); err == nil {
		conn.Close()
		t.Fatal("connection accepted after Stop")
	}

	s.Restart(t)
	if s.Port() != port {
		t.Fatalf("port changed from %d to %d", port, s.Port())
	}
	if err := send(t, s, nil, "a@example.com", []string{"b@example.com"}, msg); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	if got := s.Wait(t, 2, waitTimeout); len(got) != 2 {
		t.Errorf("got %d messages, want 2", len(got))
	}
}

func TestStopAtOnce(t *testing.T) {
	for range 20 {
		s := Start(t, Options{})
		s.Stop() // must not hang when Serve has not started yet
		s.Restart(t)
		s.Stop()
	}
}

func TestConcurrentSenders(t *testing.T) {
	s := Start(t, Options{})
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- send(t, s, nil, "a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\nx\r\n")
		}()
	}
	// Readers race with writers on purpose (for -race).
	for range n {
		_ = s.Messages()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(s.Wait(t, n, waitTimeout)); got != n {
		t.Errorf("got %d messages, want %d", got, n)
	}
}

func TestMessagesIsACopy(t *testing.T) {
	s := Start(t, Options{})
	if err := send(t, s, nil, "a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	got := s.Wait(t, 1, waitTimeout)
	got[0].To[0] = "changed"
	got[0].Raw[0] = 'X'
	if again := s.Messages(); again[0].To[0] != "b@example.com" || again[0].Raw[0] == 'X' {
		t.Error("Messages shares memory with the server")
	}
}

// fatalTB records Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = format
	runtime.Goexit()
}

func TestWaitTimesOut(t *testing.T) {
	s := Start(t, Options{})
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Wait(f, 1, 20*time.Millisecond)
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Wait did not give up")
	}
	if !strings.Contains(f.msg, "waited") {
		t.Errorf("Fatalf message = %q", f.msg)
	}
}
