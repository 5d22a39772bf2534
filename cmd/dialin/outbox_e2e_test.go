package main

// End-to-end tests of the mail queue: the built bridge, its CLI and the
// real SMTP test server (internal/smtptest).

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/internal/smtptest"
)

const outboxWait = 15 * time.Second

// outboxList runs dialin outbox list [--status S] --json.
func outboxList(c apiCLI, status string) []client.OutboxEmail {
	c.t.Helper()
	args := []string{"outbox", "list"}
	if status != "" {
		args = append(args, "--status", status)
	}
	var emails []client.OutboxEmail
	c.okJSON(&emails, args...)
	return emails
}

// waitNoPending waits until the outbox has no pending email.
func waitNoPending(c apiCLI) {
	c.t.Helper()
	deadline := time.Now().Add(outboxWait)
	for len(outboxList(c, "pending")) > 0 {
		if time.Now().After(deadline) {
			c.t.Fatalf("emails still pending after %v: %+v", outboxWait, outboxList(c, ""))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkWritten checks a message's Date is within [from, to] (whole
// seconds: the header has no more).
func checkWritten(t *testing.T, m smtptest.Message, from, to time.Time) {
	t.Helper()
	if m.Date.Before(from.Truncate(time.Second)) || m.Date.After(to) {
		t.Errorf("email %q: Date %v, want when it was written, %v to %v", m.Subject, m.Date, from, to)
	}
}

// TestOutboxServerDownOnlyTrueMailsArrive: while the SMTP server is down,
// the PIN is reset several times and the conference ID twice, and a new
// user is enabled and has its PIN reset. When the server is back it gets
// only the emails still true: one with the current PIN, one with the
// current conference ID, one welcome with the new user's current PIN and
// ID, each dated when it was written. The others are listed as dropped
// (superseded); no listing shows a PIN.
func TestOutboxServerDownOnlyTrueMailsArrive(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t, smtptest.Options{})
	b, c := startAdminBridge(t, "demo_organizer: false\n"+emailYAML(smtp, "", ""))
	c.ok("settings", "set", "dial-in-numbers", "+1 425 555 0100")

	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com", "--name", "Ada")
	smtp.Wait(t, 1, outboxWait)
	waitNoPending(c) // marked sent before the server goes away

	smtp.Stop()
	var pins []string
	var pinWritten time.Time
	for range 4 {
		pinWritten = time.Now()
		var ch client.Change
		c.okJSON(&ch, "pin", "reset", "ada@example.com")
		pins = append(pins, ch.PIN)
	}
	pinDone := time.Now()
	// The mailer tries while the server is down: attempts are counted.
	b.WaitLog(t, allOf(msgIs("email not sent; kept in the outbox"), fieldIs("to", "ada@example.com")), outboxWait)
	time.Sleep(1100 * time.Millisecond) // the Dates differ by whole seconds
	var ids []string
	var idWritten time.Time
	for range 2 {
		idWritten = time.Now()
		var ch client.Change
		c.okJSON(&ch, "conference-id", "reset", "ada@example.com")
		ids = append(ids, ch.User.ConferenceID)
	}
	idDone := time.Now()
	var bob client.Change
	c.okJSON(&bob, "user", "enable", "bob@example.com")
	c.okJSON(&bob, "pin", "reset", "bob@example.com")
	bobDone := time.Now()

	pending := outboxList(c, "pending")
	if len(pending) != 3 {
		t.Fatalf("%d pending while down, want 3: %+v", len(pending), pending)
	}
	smtp.Restart(t)
	smtp.Wait(t, 4, outboxWait)
	waitNoPending(c)
	time.Sleep(500 * time.Millisecond) // nothing more may come
	msgs := smtp.Messages()
	if len(msgs) != 4 {
		t.Fatalf("%d emails, want 4: %v", len(msgs), subjects(msgs))
	}
	byKind := map[string]smtptest.Message{}
	for _, m := range msgs[1:] {
		byKind[m.Subject+" "+m.To[0]] = m
	}
	pinMail, ok := byKind["Your audio conferencing PIN has been reset ada@example.com"]
	if !ok {
		t.Fatalf("no PIN email to ada: %v", subjects(msgs))
	}
	checkMail(t, pinMail, "ada@example.com", []string{pins[len(pins)-1]}, pins[:len(pins)-1])
	checkWritten(t, pinMail, pinWritten, pinDone)

	idMail, ok := byKind["Your conference ID has changed ada@example.com"]
	if !ok {
		t.Fatalf("no conference ID email to ada: %v", subjects(msgs))
	}
	current := ids[len(ids)-1]
	checkMail(t, idMail, "ada@example.com", []string{current, "+1 425 555 0100", "tel:+14255550100,," + current + "#"},
		append([]string{ids[0], ada.User.ConferenceID}, pins...))
	checkWritten(t, idMail, idWritten, idDone)
	if !pinMail.Date.Before(idMail.Date) {
		t.Errorf("the PIN email (written first) is dated %v, the conference ID one %v", pinMail.Date, idMail.Date)
	}

	welcome, ok := byKind["Your audio conferencing details bob@example.com"]
	if !ok {
		t.Fatalf("no welcome to bob: %v", subjects(msgs))
	}
	checkMail(t, welcome, "bob@example.com", []string{bob.PIN, bob.User.ConferenceID}, nil)
	checkWritten(t, welcome, idDone, bobDone)

	// The listing: the superseded ones dropped with the reason, the rest
	// sent; never a PIN, in text or JSON.
	dropped := outboxList(c, "dropped")
	if len(dropped) != 5 { // 3 of ada's PIN emails, 1 of her ID emails, bob's first welcome
		t.Errorf("%d dropped, want 5: %+v", len(dropped), dropped)
	}
	for _, e := range dropped {
		if !strings.HasPrefix(e.Reason, "superseded by email ") || e.DoneAt.IsZero() {
			t.Errorf("dropped %+v", e)
		}
	}
	if sent := outboxList(c, "sent"); len(sent) != 4 {
		t.Errorf("%d sent, want 4", len(sent))
	}
	text := c.ok("outbox", "list")
	raw := c.ok("outbox", "list", "--json")
	if !strings.Contains(text, "superseded by email") || !strings.Contains(text, "dropped") {
		t.Errorf("outbox list:\n%s", text)
	}
	for _, pin := range append(pins, bob.PIN, ada.PIN) {
		if countPIN(text, pin) > 0 || countPIN(raw, pin) > 0 {
			t.Errorf("outbox list shows PIN %s:\n%s", pin, text)
		}
	}
	for _, l := range b.Logs() {
		line, _ := json.Marshal(l)
		for _, pin := range append(pins, bob.PIN, ada.PIN) {
			if countPIN(string(line), pin) > 0 {
				t.Errorf("log line shows PIN %s: %s", pin, line)
			}
		}
	}
	var st struct {
		EmailsPending int `json:"emails_pending"`
	}
	ivrAPI(t, b, 200, "GET", "/api/v1/status", "", &st)
	if st.EmailsPending != 0 {
		t.Errorf("emails_pending %d, want 0", st.EmailsPending)
	}
}

// TestOutboxFailuresRetryDrop: a permanent 5xx fails at once with the
// server's answer; a temporary refusal is retried email.max_attempts times,
// then failed; failed emails do not count as pending and can be retried or
// dropped; the override address changes after enabling; --email-to sends
// with send-emails off; send-info without a static conference ID is
// refused with nothing queued.
func TestOutboxFailuresRetryDrop(t *testing.T) {
	t.Parallel()
	refuse := func(rcpt string) *smtptest.Reply {
		switch rcpt {
		case "gone@example.com":
			return &smtptest.Reply{Code: 550, Message: "No such mailbox"}
		case "full@example.com":
			return &smtptest.Reply{Code: 452, Message: "Mailbox full"}
		}
		return nil
	}
	smtp := smtptest.Start(t, smtptest.Options{Refuse: refuse})
	email := strings.TrimSuffix(emailYAML(smtp, "", ""), "}\n") + ", max_attempts: 3}\n"
	b, c := startAdminBridge(t, "demo_organizer: false\n"+email)

	// 550: failed at once, one attempt, the server's answer kept.
	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com", "--email-override", "gone@example.com")
	b.WaitLog(t, allOf(msgIs("email failed: not retried (dialin outbox retry ID sends it again)"), fieldIs("to", "gone@example.com")), outboxWait)
	failed := outboxList(c, "failed")
	if len(failed) != 1 || failed[0].Attempts != 1 || !strings.Contains(failed[0].LastError, "550") ||
		!strings.Contains(failed[0].LastError, "No such mailbox") || failed[0].To != "gone@example.com" {
		t.Fatalf("after a 550: %+v", failed)
	}
	if p := outboxList(c, "pending"); len(p) != 0 {
		t.Fatalf("a failed email counts as pending: %+v", p)
	}
	goneID := strconv.FormatInt(failed[0].ID, 10)
	if out := c.ok("outbox", "list", "--status", "failed"); !strings.Contains(out, "No such mailbox") || !strings.Contains(out, "failed") {
		t.Errorf("outbox list --status failed:\n%s", out)
	}

	// Retry: tried again (and refused again: the address is still wrong).
	c.ok("outbox", "retry", goneID)
	b.WaitLogCount(t, allOf(msgIs("email failed: not retried (dialin outbox retry ID sends it again)"), fieldIs("to", "gone@example.com")), 2, outboxWait)
	// Fix the address, drop the failed email, send the details anew.
	out := c.ok("user", "set", "ada@example.com", "--email-override", "ada.home@example.org")
	if !strings.Contains(out, "ada.home@example.org") {
		t.Errorf("user set:\n%s", out)
	}
	out = c.ok("outbox", "drop", goneID)
	if !strings.Contains(out, "dropped") {
		t.Errorf("outbox drop:\n%s", out)
	}
	if stderr := c.fails(1, "outbox", "drop", goneID); !strings.Contains(stderr, "was dropped already") {
		t.Errorf("drop twice: %q", stderr)
	}
	if stderr := c.fails(1, "outbox", "retry", goneID); !strings.Contains(stderr, "cannot be retried") {
		t.Errorf("retry a dropped email: %q", stderr)
	}
	c.ok("conference-id", "send-info", "ada@example.com")
	m := smtp.Wait(t, 1, outboxWait)[0]
	checkMail(t, m, "ada.home@example.org", []string{ada.User.ConferenceID}, []string{ada.PIN})

	// 452 each time: three attempts (email.max_attempts), then failed.
	c.ok("pin", "reset", "ada@example.com", "--email-to", "full@example.com")
	l := b.WaitLog(t, allOf(msgIs("email failed: not retried (dialin outbox retry ID sends it again)"), fieldIs("to", "full@example.com")), outboxWait)
	if l["attempts"] != float64(3) {
		t.Errorf("gave up after %v attempts, want 3: %v", l["attempts"], l)
	}
	if n := b.CountLogs(allOf(msgIs("email not sent; kept in the outbox"), fieldIs("to", "full@example.com"))); n != 2 {
		t.Errorf("%d retries logged, want 2", n)
	}
	full := outboxList(c, "failed")
	if len(full) != 1 || !strings.Contains(full[0].LastError, "gave up after 3 attempts") || !strings.Contains(full[0].LastError, "452") {
		t.Errorf("failed after 452s: %+v", full)
	}

	// send-emails off: only a change naming --email-to sends.
	c.ok("settings", "set", "send-emails", "off")
	var ch client.Change
	c.okJSON(&ch, "pin", "reset", "ada@example.com")
	if ch.EmailQueued {
		t.Error("send-emails off: a reset without --email-to queued an email")
	}
	c.okJSON(&ch, "pin", "reset", "ada@example.com", "--email-to", "desk@example.com")
	if !ch.EmailQueued {
		t.Fatal("send-emails off: --email-to queued nothing")
	}
	m = smtp.Wait(t, 2, outboxWait)[1]
	checkMail(t, m, "desk@example.com", []string{ch.PIN}, nil)

	// Dynamic mode: send-info has no conference ID to send: refused.
	c.ok("settings", "set", "conference-id-mode", "dynamic")
	c.ok("user", "enable", "bob@example.com", "--no-email")
	before := len(outboxList(c, ""))
	stderr := c.fails(1, "conference-id", "send-info", "bob@example.com")
	if !strings.Contains(stderr, "no static conference ID") {
		t.Errorf("send-info in dynamic mode: %q", stderr)
	}
	if after := len(outboxList(c, "")); after != before {
		t.Errorf("the refused send-info queued something: %d emails, then %d", before, after)
	}
}
