package mailer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/internal/smtptest"
)

// TestSendNow: the sign-in link email goes out at once, with the link in
// both parts, and nothing touches the outbox; without a server, or with
// one that is down, SendNow says so without the message's text.
func TestSendNow(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	logs := &logBuffer{}
	m, err := New(Options{Config: testConfig(srv), Outbox: outbox, Logger: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://dialin.example.com/me/link?t=dialin-link-SECRET"
	r, err := RenderSignInLink("Ada <Lovelace>", link)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SendNow(context.Background(), "ada@example.com", r); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Wait(t, 1, testTimeout)
	got := msgs[0]
	if got.Subject != signInLinkSubject || got.To[0] != "ada@example.com" ||
		!strings.Contains(got.Text, link) || !strings.Contains(got.HTML, `href="`+link+`"`) ||
		!strings.Contains(got.Text, "15 minutes") || !strings.Contains(got.HTML, "Hello Ada &lt;Lovelace&gt;,") {
		t.Errorf("the email: %+v", got)
	}
	if outbox.pending() != 0 || len(outbox.sent) != 0 {
		t.Error("SendNow used the outbox")
	}

	srv.Stop()
	err = m.SendNow(context.Background(), "ada@example.com", r)
	if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), srv.Addr()) {
		t.Errorf("server down: %v", err)
	}
	off, err := New(Options{Config: testConfig(srv), Outbox: outbox})
	if err != nil {
		t.Fatal(err)
	}
	off.cfg.SMTPHost = ""
	if err := off.SendNow(context.Background(), "ada@example.com", r); !errors.Is(err, ErrNoServer) {
		t.Errorf("no server: %v", err)
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Error("the link reached the log")
	}
}
