package mailer

import (
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/smtptest"
	"github.com/dialin/dialin/store"
)

// refuse answers RCPT TO for the given recipients with code.
func refuse(code int, text string, rcpts ...string) func(string) *smtptest.Reply {
	return func(rcpt string) *smtptest.Reply {
		for _, r := range rcpts {
			if r == rcpt {
				return &smtptest.Reply{Code: code, Message: text}
			}
		}
		return nil
	}
}

// A permanent 5xx to a recipient fails that email at once, with the
// server's answer; the email beside it is sent.
func TestPermanentRefusalFailsAtOnce(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Refuse: refuse(550, "No such mailbox here", "nobody@example.com")})
	outbox := newFakeOutbox()
	bad := outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "nobody@example.com", PIN: testPIN})
	outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "ada@example.com", PIN: otherPIN})

	logs := start(t, testConfig(srv), outbox, 10*time.Millisecond)
	srv.Wait(t, 1, testTimeout)
	waitUntil(t, "the refused email fails", func() bool { return outbox.outcome(bad) != "" })
	got := outbox.outcome(bad)
	if !strings.HasPrefix(got, "failed: ") || !strings.Contains(got, "550") || !strings.Contains(got, "No such mailbox here") {
		t.Errorf("refused email: %q, want failed with the server's answer", got)
	}
	if n := len(outbox.failureList()); n != 0 {
		t.Errorf("%d retries scheduled for a permanent refusal", n)
	}
	waitUntil(t, "the other is sent", func() bool { return outbox.pending() == 0 })
	waitUntil(t, "the failure is logged", func() bool { return logs.count(`"email failed`) == 1 })
	assertNoSecrets(t, logs, testPIN, otherPIN)
}

// A temporary refusal is retried with the backoff, email.max_attempts
// times in all, then failed with the server's last answer.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Refuse: refuse(452, "Mailbox full, try later", "busy@example.com")})
	outbox := newFakeOutbox()
	id := outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "busy@example.com", PIN: testPIN})
	cfg := testConfig(srv)
	cfg.MaxAttempts = 3

	logs := start(t, cfg, outbox, 10*time.Millisecond)
	waitUntil(t, "the email fails", func() bool { return outbox.outcome(id) != "" })
	got := outbox.outcome(id)
	if !strings.Contains(got, "failed: gave up after 3 attempts (email.max_attempts)") || !strings.Contains(got, "452") ||
		!strings.Contains(got, "Mailbox full") {
		t.Errorf("outcome %q", got)
	}
	if n := len(outbox.failureList()); n != 2 {
		t.Errorf("%d retries scheduled, want 2", n)
	}
	// Given up: no further attempt, however long we wait.
	time.Sleep(10 * retryMax / 4)
	if n := len(outbox.failureList()); n != 2 {
		t.Errorf("%d retries after giving up", n)
	}
	assertNoSecrets(t, logs, testPIN)
}

// An email whose facts are no longer true is dropped with the reason,
// never sent.
func TestStaleEmailDropped(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	stale := outbox.queueMail(store.OutboxMail{MailContent: store.MailContent{Kind: store.MailPINReset,
		To: "ada@example.com", PIN: testPIN}, Stale: "the PIN was changed after this email was written"})
	outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "ada@example.com", PIN: otherPIN})

	logs := start(t, testConfig(srv), outbox, 10*time.Millisecond)
	msgs := srv.Wait(t, 1, testTimeout)
	waitUntil(t, "the outbox is empty", func() bool { return outbox.pending() == 0 })
	if got := outbox.outcome(stale); got != "dropped: the PIN was changed after this email was written" {
		t.Errorf("stale email: %q", got)
	}
	if len(srv.Messages()) != 1 || !strings.Contains(msgs[0].Text, otherPIN) {
		t.Errorf("sent %v", subjectsOf(srv.Messages()))
	}
	waitUntil(t, "the drop is logged", func() bool { return logs.count("email dropped: no longer true") == 1 })
	assertNoSecrets(t, logs, testPIN, otherPIN)
}

// The Date header is when the email was written, not when it went out.
func TestDateIsWhenWritten(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	written := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	outbox.queueMail(store.OutboxMail{MailContent: store.MailContent{Kind: store.MailPINReset,
		To: "ada@example.com", PIN: testPIN}, CreatedAt: written})

	start(t, testConfig(srv), outbox, 10*time.Millisecond)
	m := srv.Wait(t, 1, testTimeout)[0]
	if !m.Date.Equal(written) {
		t.Errorf("Date = %v, want %v", m.Date, written)
	}
}

// Run prunes finished emails past email.retention when it starts.
func TestPrunes(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	start(t, testConfig(srv), outbox, time.Hour)
	waitUntil(t, "a prune", func() bool { return len(outbox.pruneList()) >= 1 })
	if got := outbox.pruneList()[0]; got != time.Hour {
		t.Errorf("pruned with retention %v, want 1h", got)
	}
}

func subjectsOf(msgs []smtptest.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject+" -> "+strings.Join(m.To, ","))
	}
	return out
}
