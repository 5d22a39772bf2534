package mailer

import (
	"bytes"
	"context"
	"html"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/smtptest"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// openDirectory opens a real directory on SQLite in t's temp folder.
func openDirectory(t *testing.T) *store.Directory {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dialin.db"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func pendingMail(t *testing.T, d *store.Directory) int {
	t.Helper()
	n, err := d.PendingMail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWithDirectory runs the mailer on a real directory's outbox: enabling
// a user sends the welcome email; a PIN reset while the server is down is
// kept and sent once it is back.
func TestWithDirectory(t *testing.T) {
	ctx := context.Background()
	d := openDirectory(t)
	if _, err := d.UpdateSettings(ctx, func(s *store.Settings) error {
		s.SendEmails = true
		s.PINLength = store.MaxPINLength // longer than a port number in the logs
		s.DialInNumbers = []string{"+1 425 555 0100"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t, smtptest.Options{})
	logs := start(t, testConfig(srv), d, 10*time.Millisecond)

	ch, err := d.EnableUser(ctx, store.EnableRequest{Email: "ada@example.com", DisplayName: "<b>Ada</b>"})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.MailQueued || ch.PIN == "" {
		t.Fatalf("enable: email queued %v, PIN %q", ch.MailQueued, ch.PIN)
	}
	m := srv.Wait(t, 1, testTimeout)[0]
	if len(m.To) != 1 || m.To[0] != "ada@example.com" || m.Subject != "Your audio conferencing details" {
		t.Errorf("sent to %v subject %q", m.To, m.Subject)
	}
	page := html.UnescapeString(m.HTML)
	for _, w := range []string{ch.PIN, ch.User.ConferenceID, "+1 425 555 0100"} {
		if !strings.Contains(m.Text, w) || !strings.Contains(page, w) {
			t.Errorf("email lacks %q:\n%s", w, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "&lt;b&gt;Ada&lt;/b&gt;") {
		t.Errorf("display name not escaped:\n%s", m.HTML)
	}
	waitUntil(t, "the outbox is empty", func() bool { return pendingMail(t, d) == 0 })

	srv.Stop()
	reset, err := d.ResetPIN(ctx, ch.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "2 failed attempts", func() bool { return logs.count("email not sent; kept in the outbox") >= 2 })
	if n := pendingMail(t, d); n != 1 {
		t.Errorf("pending = %d while the server is down, want 1", n)
	}
	srv.Restart(t)
	m = srv.Wait(t, 2, testTimeout)[1]
	if m.Subject != "Your audio conferencing PIN has been reset" || !strings.Contains(m.Text, reset.PIN) {
		t.Errorf("second email: subject %q text %q", m.Subject, m.Text)
	}
	waitUntil(t, "the outbox is empty", func() bool { return pendingMail(t, d) == 0 })
	assertNoSecrets(t, logs, ch.PIN, reset.PIN)
}
