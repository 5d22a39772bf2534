package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// sendAll marks every due email sent, as the mailer would.
func sendAll(t *testing.T, d *testDir) {
	t.Helper()
	for _, m := range dueMail(t, d) {
		if err := d.MailSent(context.Background(), m.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func listMail(t *testing.T, d *testDir, status store.MailStatus) []store.SealedMail {
	t.Helper()
	mails, err := d.ListMail(context.Background(), store.MailFilter{Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return mails
}

// testSupersedeLatestPIN: PIN resets while the welcome waits leave one
// welcome with the latest PIN and the conference ID; the others are
// dropped as superseded, their content erased.
func testSupersedeLatestPIN(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com")
	var last store.Change
	for range 3 {
		d.clock.Advance(time.Minute)
		c, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{})
		if err != nil || !c.MailQueued {
			t.Fatalf("reset: %+v, %v", c, err)
		}
		last = c
	}
	due := dueMail(t, d)
	if len(due) != 1 {
		t.Fatalf("%d due, want 1: %+v", len(due), due)
	}
	m := due[0]
	if m.Kind != store.MailEnabled || m.PIN != last.PIN || m.ConferenceID != e.User.ConferenceID || m.Stale != "" {
		t.Fatalf("the email left: %+v", m)
	}
	if !m.CreatedAt.Equal(d.clock.Now()) {
		t.Errorf("written %v, want %v (the last reset)", m.CreatedAt, d.clock.Now())
	}
	if got := d.SupersededMail(); got != 3 {
		t.Errorf("SupersededMail = %d, want 3", got)
	}
	dropped := listMail(t, d, store.OutboxDropped)
	if len(dropped) != 3 {
		t.Fatalf("%d dropped, want 3", len(dropped))
	}
	for i, s := range dropped {
		if !strings.HasPrefix(s.Reason, "superseded by email ") || s.DoneAt.IsZero() || s.UserEmail != "ada@example.com" {
			t.Errorf("dropped %d: %+v", i, s)
		}
	}
	if n := pending(t, d); n != 1 {
		t.Errorf("%d pending, want 1", n)
	}
}

// testSupersedeByFact: a PIN email and a conference-ID email are about
// different facts and both stay; a second conference-ID change supersedes
// the first; an email to another address supersedes nothing.
func testSupersedeByFact(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com")
	sendAll(t, d)

	p, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var c store.Change
	for range 2 {
		if c, err = d.ResetConferenceID(ctx, e.User.ID, store.MailOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.SendConferenceInfo(ctx, e.User.ID, store.MailOptions{To: "helpdesk@example.com"}); err != nil {
		t.Fatal(err)
	}
	due := dueMail(t, d)
	if len(due) != 3 {
		t.Fatalf("%d due, want 3: %+v", len(due), due)
	}
	if due[0].Kind != store.MailPINReset || due[0].PIN != p.PIN {
		t.Errorf("first: %+v", due[0].MailContent)
	}
	if due[1].Kind != store.MailConferenceIDReset || due[1].ConferenceID != c.User.ConferenceID || due[1].PIN != "" {
		t.Errorf("second: %+v", due[1].MailContent)
	}
	if due[2].Kind != store.MailConferenceInfo || due[2].To != "helpdesk@example.com" {
		t.Errorf("third: %+v", due[2].MailContent)
	}
	for _, m := range due {
		if m.Stale != "" {
			t.Errorf("%s: stale %q", m.Kind, m.Stale)
		}
	}

	// send-info while the change email waits: one email, still saying the
	// ID changed.
	if _, err := d.SendConferenceInfo(ctx, e.User.ID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	due = dueMail(t, d)
	if len(due) != 3 || due[2].Kind != store.MailConferenceIDReset || due[2].To != "ada@example.com" {
		t.Fatalf("after send-info: %+v", due)
	}
}

// testStaleMailDropped: an email whose PIN or conference ID was changed
// without an email, or whose user was disabled, is marked stale.
func testStaleMailDropped(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	a := enable(t, d, "ada@example.com")
	b := enable(t, d, "bob@example.com")
	c := enable(t, d, "cy@example.com")
	sendAll(t, d)

	if _, err := d.ResetPIN(ctx, a.User.ID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ResetPIN(ctx, a.User.ID, store.MailOptions{Skip: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SendConferenceInfo(ctx, b.User.ID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ResetConferenceID(ctx, b.User.ID, store.MailOptions{Skip: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ResetPIN(ctx, c.User.ID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.DisableUser(ctx, c.User.ID); err != nil {
		t.Fatal(err)
	}
	due := dueMail(t, d)
	if len(due) != 3 {
		t.Fatalf("%d due, want 3", len(due))
	}
	for i, want := range []string{"the PIN was changed", "the conference ID was changed", "the user was disabled"} {
		if !strings.HasPrefix(due[i].Stale, want) {
			t.Errorf("email %d (%s): stale %q, want %q", i, due[i].To, due[i].Stale, want)
		}
		if err := d.MailDropped(ctx, due[i].ID, due[i].Stale); err != nil {
			t.Fatal(err)
		}
	}
	if n := pending(t, d); n != 0 {
		t.Fatalf("%d pending after dropping", n)
	}
	if got := listMail(t, d, store.OutboxDropped); len(got) != 3 || got[0].Reason != due[0].Stale {
		t.Fatalf("dropped: %+v", got)
	}
}

// testCannotProduceMailRefused: a user without a static conference ID has
// none to send: refused, nothing queued. Their welcome email has the PIN.
func testCannotProduceMailRefused(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	if _, err := d.UpdateSettings(ctx, func(s *store.Settings) error {
		s.ConferenceIDMode = store.ConferenceIDDynamic
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e := enable(t, d, "ada@example.com")
	due := dueMail(t, d)
	if len(due) != 1 || due[0].Kind != store.MailEnabled || due[0].PIN != e.PIN || due[0].ConferenceID != "" {
		t.Fatalf("welcome in dynamic mode: %+v", due)
	}
	_, err := d.SendConferenceInfo(ctx, e.User.ID, store.MailOptions{})
	var ie *store.InputError
	if !errors.As(err, &ie) || ie.Field != "conference_id" || !strings.Contains(err.Error(), "no static conference ID") {
		t.Fatalf("send-info in dynamic mode: %v", err)
	}
	if n := pending(t, d); n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
	// A PIN reset while the welcome waits: one welcome, the new PIN.
	r, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if due := dueMail(t, d); len(due) != 1 || due[0].Kind != store.MailEnabled || due[0].PIN != r.PIN {
		t.Fatalf("after a reset: %+v", due)
	}
}

// testEmailToWithEmailsOff: an address named by hand is sent to even with
// send_emails off; nothing else is.
func testEmailToWithEmailsOff(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	if _, err := d.UpdateSettings(ctx, func(s *store.Settings) error { s.SendEmails = false; return nil }); err != nil {
		t.Fatal(err)
	}
	e, err := d.EnableUser(ctx, store.EnableRequest{Email: "ada@example.com", Mail: store.MailOptions{To: "ada.home@example.org"}})
	if err != nil || !e.MailQueued {
		t.Fatalf("enable --email-to: %+v, %v", e, err)
	}
	if c, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{}); err != nil || c.MailQueued {
		t.Fatalf("reset without --email-to: %+v, %v", c, err)
	}
	c, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{To: "ada.home@example.org"})
	if err != nil || !c.MailQueued {
		t.Fatalf("reset --email-to: %+v, %v", c, err)
	}
	due := dueMail(t, d)
	if len(due) != 1 || due[0].To != "ada.home@example.org" || due[0].PIN != c.PIN || due[0].Kind != store.MailEnabled {
		t.Fatalf("due: %+v", due)
	}
}

// testOutboxStates: failed, retried, dropped by hand, pruned.
func testOutboxStates(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	a := enable(t, d, "ada@example.com")
	enable(t, d, "bob@example.com")
	due := dueMail(t, d)
	ma, mb := due[0], due[1]

	if err := d.MailGaveUp(ctx, ma.ID, "550 5.1.1 no such user"); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, d); n != 1 {
		t.Fatalf("failed counted as pending: %d", n)
	}
	f, err := d.GetMail(ctx, ma.ID)
	if err != nil || f.Status != store.OutboxFailed || f.Attempts != 1 || f.LastError != "550 5.1.1 no such user" || f.Sealed != nil {
		t.Fatalf("failed email: %+v, %v", f, err)
	}
	// Retry: pending again, due now, a fresh set of attempts, same content.
	r, err := d.RetryMail(ctx, ma.ID)
	if err != nil || r.Status != store.OutboxPending || r.Attempts != 0 {
		t.Fatalf("retry: %+v, %v", r, err)
	}
	if due := dueMail(t, d); len(due) != 2 || due[0].PIN != a.PIN {
		t.Fatalf("after retry: %+v", due)
	}
	// Drop by hand: never sent, content gone, not retried.
	dr, err := d.DropMail(ctx, mb.ID)
	if err != nil || dr.Status != store.OutboxDropped || dr.Reason != "dropped by an administrator" {
		t.Fatalf("drop: %+v, %v", dr, err)
	}
	if _, err := d.RetryMail(ctx, mb.ID); !errors.Is(err, store.ErrMailDone) {
		t.Fatalf("retry a dropped email: %v", err)
	}
	if _, err := d.DropMail(ctx, mb.ID); !errors.Is(err, store.ErrMailDone) {
		t.Fatalf("drop twice: %v", err)
	}
	if _, err := d.DropMail(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("drop unknown: %v", err)
	}
	if err := d.MailSent(ctx, ma.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DropMail(ctx, ma.ID); !errors.Is(err, store.ErrMailDone) {
		t.Fatalf("drop a sent email: %v", err)
	}

	// Listing: by status, paged by ID.
	if got := listMail(t, d, ""); len(got) != 2 || got[0].Status != store.OutboxSent || got[1].Status != store.OutboxDropped {
		t.Fatalf("list: %+v", got)
	}
	page, err := d.ListMail(ctx, store.MailFilter{After: ma.ID, Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != mb.ID {
		t.Fatalf("page after %d: %+v, %v", ma.ID, page, err)
	}
	if _, err := d.ListMail(ctx, store.MailFilter{Status: "lost"}); err == nil {
		t.Fatal("status lost accepted")
	}

	// Prune: finished emails older than keep go; pending ones stay.
	if _, err := d.ResetPIN(ctx, a.User.ID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(2 * time.Hour)
	n, err := d.PruneMail(ctx, time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want 2", n, err)
	}
	if got := listMail(t, d, ""); len(got) != 1 || got[0].Status != store.OutboxPending {
		t.Fatalf("after prune: %+v", got)
	}
}

// testSetEmailOverride: the override can be changed and cleared after
// enabling; the next email goes to it.
func testSetEmailOverride(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com")
	sendAll(t, d)
	u, err := d.SetEmailOverride(ctx, e.User.ID, " ada.home@example.org ")
	if err != nil || u.EmailOverride != "ada.home@example.org" {
		t.Fatalf("set: %+v, %v", u, err)
	}
	var ie *store.InputError
	if _, err := d.SetEmailOverride(ctx, e.User.ID, "Ada <ada@example.org>"); !errors.As(err, &ie) || ie.Field != "email_override" {
		t.Fatalf("bad address: %v", err)
	}
	if _, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	if due := dueMail(t, d); len(due) != 1 || due[0].To != "ada.home@example.org" {
		t.Fatalf("after setting: %+v", due)
	}
	if u, err := d.SetEmailOverride(ctx, e.User.ID, ""); err != nil || u.EmailOverride != "" {
		t.Fatalf("clear: %+v, %v", u, err)
	}
	if u, err := d.GetUser(ctx, e.User.ID); err != nil || u.EmailOverride != "" || u.PINLength != len(e.PIN) {
		t.Fatalf("stored: %+v, %v", u, err)
	}
}

// testSendInfoBesideWelcome: send-info while the welcome waits supersedes
// nothing (the welcome tells more and is still true), and never takes on
// the PIN.
func testSendInfoBesideWelcome(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com")
	if _, err := d.SendConferenceInfo(ctx, e.User.ID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	due := dueMail(t, d)
	if len(due) != 2 || due[0].Kind != store.MailEnabled || due[0].PIN != e.PIN ||
		due[1].Kind != store.MailConferenceInfo || due[1].PIN != "" {
		t.Fatalf("due: %+v", due)
	}
}
