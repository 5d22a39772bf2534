package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/store"
)

// dueMail returns every due email, failing the test on error.
func dueMail(t *testing.T, d *testDir) []store.OutboxMail {
	t.Helper()
	mails, err := d.DueMail(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return mails
}

func pending(t *testing.T, d *testDir) int {
	t.Helper()
	n, err := d.PendingMail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func setDialInNumbers(t *testing.T, d *testDir, numbers ...string) {
	t.Helper()
	_, err := d.UpdateSettings(context.Background(), func(s *store.Settings) error {
		s.DialInNumbers = numbers
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testEnableQueuesWelcomeEmail(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	setDialInNumbers(t, d, "+1 425 555 0100")
	e := enable(t, d, "ada@example.com")
	if !e.MailQueued {
		t.Fatal("enable with send_emails on queued no email")
	}
	select {
	case <-d.MailQueued():
	default:
		t.Fatal("MailQueued did not fire")
	}
	mails := dueMail(t, d)
	if len(mails) != 1 {
		t.Fatalf("%d due emails, want 1", len(mails))
	}
	m := mails[0]
	want := store.MailContent{Kind: store.MailEnabled, To: "ada@example.com", UserEmail: "ada@example.com",
		DisplayName: "Test ada@example.com", ConferenceID: e.User.ConferenceID, PIN: e.PIN,
		DialInNumbers: []string{"+1 425 555 0100"}}
	if m.Kind != want.Kind || m.To != want.To || m.PIN != want.PIN || m.ConferenceID != want.ConferenceID ||
		m.DisplayName != want.DisplayName || strings.Join(m.DialInNumbers, ",") != "+1 425 555 0100" {
		t.Fatalf("queued %+v, want %+v", m.MailContent, want)
	}

	// Sent: gone, and the PIN with it.
	if err := d.MailSent(context.Background(), m.ID); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, d); n != 0 {
		t.Fatalf("%d emails pending after sending", n)
	}
	if err := d.MailSent(context.Background(), m.ID); err != nil {
		t.Fatalf("second MailSent: %v", err)
	}
}

func testOutboxHoldsNoPINInClear(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	var pins []string
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		pins = append(pins, enable(t, d, email).PIN)
	}
	r, err := d.ResetPIN(context.Background(), 1, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pins = append(pins, r.PIN)
	// The reset supersedes a@'s welcome (which takes the new PIN).
	if n := pending(t, d); n != 3 {
		t.Fatalf("%d pending, want 3", n)
	}
	d.Close()
	data := be.stored(t, d.path)
	for _, pin := range pins {
		if bytes.Contains(data, []byte(`"pin":"`+pin)) || bytes.Contains(data, []byte(`"`+pin+`"`)) {
			t.Fatalf("PIN %s in clear in %s", pin, d.path)
		}
	}
}

func testEmailsOffQueuesNothingOnChanges(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	if _, err := d.UpdateSettings(ctx, func(s *store.Settings) error { s.SendEmails = false; return nil }); err != nil {
		t.Fatal(err)
	}
	e := enable(t, d, "ada@example.com")
	if e.MailQueued {
		t.Fatal("enable queued an email with send_emails off")
	}
	if c, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{}); err != nil || c.MailQueued {
		t.Fatalf("reset PIN: queued %v, %v", c.MailQueued, err)
	}
	if c, err := d.ResetConferenceID(ctx, e.User.ID, store.MailOptions{}); err != nil || c.MailQueued {
		t.Fatalf("reset conference ID: queued %v, %v", c.MailQueued, err)
	}
	if n := pending(t, d); n != 0 {
		t.Fatalf("%d emails queued with send_emails off", n)
	}
	// Sending the conference info is asked for by name: it goes.
	c, err := d.SendConferenceInfo(ctx, e.User.ID, store.MailOptions{})
	if err != nil || !c.MailQueued {
		t.Fatalf("send info: queued %v, %v", c.MailQueued, err)
	}
	m := dueMail(t, d)
	if len(m) != 1 || m[0].Kind != store.MailConferenceInfo || m[0].PIN != "" || m[0].ConferenceID != c.User.ConferenceID {
		t.Fatalf("send info queued %+v", m)
	}
}

func testMailOptions(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e, err := d.EnableUser(ctx, store.EnableRequest{Email: "ada@example.com", EmailOverride: "ada.home@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	// The override address gets the user's emails.
	if m := dueMail(t, d); len(m) != 1 || m[0].To != "ada.home@example.org" {
		t.Fatalf("enable email: %+v", m)
	}
	// Skip: no email for this one change.
	if c, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{Skip: true}); err != nil || c.MailQueued {
		t.Fatalf("skip: queued %v, %v", c.MailQueued, err)
	}
	// A one-off address wins over both.
	c, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{To: "helpdesk@example.com"})
	if err != nil || !c.MailQueued {
		t.Fatal(err)
	}
	m := dueMail(t, d)
	if len(m) != 2 || m[1].To != "helpdesk@example.com" || m[1].Kind != store.MailPINReset || m[1].PIN != c.PIN {
		t.Fatalf("one-off address: %+v", m)
	}
	// A bad one-off address changes nothing.
	var ie *store.InputError
	_, err = d.ResetPIN(ctx, e.User.ID, store.MailOptions{To: "not an address"})
	if !errors.As(err, &ie) || ie.Field != "email_to" {
		t.Fatalf("bad email_to: %v", err)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, e.User.ConferenceID, c.PIN); r != store.PINOK {
		t.Fatalf("PIN changed by a refused reset: %v", r)
	}
	if n := pending(t, d); n != 2 {
		t.Fatalf("%d pending, want 2", n)
	}
}

func testMailFailedKeepsAndDelays(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	enable(t, d, "ada@example.com")
	m := dueMail(t, d)[0]
	if err := d.MailFailed(ctx, m.ID, d.clock.Now().Add(time.Minute), "connection refused"); err != nil {
		t.Fatal(err)
	}
	if got := dueMail(t, d); len(got) != 0 {
		t.Fatalf("retried before its time: %+v", got)
	}
	d.clock.Advance(time.Minute)
	got := dueMail(t, d)
	if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "connection refused" || got[0].PIN != m.PIN {
		t.Fatalf("after the delay: %+v", got)
	}
	if err := d.MailFailed(ctx, 999, time.Now(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failure of an unknown email: %v", err)
	}
}

func testOutboxSurvivesRestart(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	e := enable(t, d, "ada@example.com")
	d.Close()
	d2 := openTestDir(t, be, d.path)
	m := dueMail(t, d2)
	if len(m) != 1 || m[0].PIN != e.PIN {
		t.Fatalf("after restart: %+v", m)
	}
}

func testOutboxWithAnotherSecret(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	enable(t, d, "ada@example.com")
	d.Close()
	db := be.open(t, d.path)
	logs := &bytes.Buffer{}
	other, err := store.Open(context.Background(), store.Options{Backend: db, Secret: bytes.Repeat([]byte{8}, 32), Logger: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	m, err := other.DueMail(context.Background(), 10)
	if err != nil || len(m) != 1 || !strings.Contains(m[0].Unreadable, "cannot be read") || m[0].PIN != "" {
		t.Fatalf("DueMail = %+v, %v; want one unreadable", m, err)
	}
	if n, _ := other.PendingMail(context.Background()); n != 1 {
		t.Fatalf("unreadable email deleted: %d pending", n)
	}
}

func testSetConferenceID(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	a := enable(t, d, "ada@example.com")
	b := enable(t, d, "bob@example.com")
	for _, m := range dueMail(t, d) {
		if err := d.MailSent(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	n0 := pending(t, d)

	var ie *store.InputError
	// 123456 takes check digit 6 (Damm).
	want := "1234566"
	if !store.ValidConferenceID(want) {
		t.Fatalf("%s is not a valid conference ID", want)
	}
	wrong := want[:6] + string('0'+(want[6]-'0'+1)%10)
	_, err := d.SetConferenceID(ctx, a.User.ID, wrong, store.MailOptions{})
	if !errors.As(err, &ie) || ie.Field != "conference_id" || !strings.Contains(err.Error(), "must be "+want[6:]) || !strings.Contains(err.Error(), want) {
		t.Fatalf("wrong check digit: %v", err)
	}
	for _, bad := range []string{"", "123", "12345678", "12a4567"} {
		if _, err := d.SetConferenceID(ctx, a.User.ID, bad, store.MailOptions{}); !errors.As(err, &ie) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if _, err := d.SetConferenceID(ctx, a.User.ID, b.User.ConferenceID, store.MailOptions{}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("taken ID: %v", err)
	}
	if pending(t, d) != n0 {
		t.Fatal("a refused change queued an email")
	}
	c, err := d.SetConferenceID(ctx, a.User.ID, want, store.MailOptions{})
	if err != nil || c.User.ConferenceID != want || !c.MailQueued {
		t.Fatalf("set: %+v, %v", c, err)
	}
	if _, ok := d.LookupConference(a.User.ConferenceID); ok {
		t.Fatal("old ID still works")
	}
	if conf, ok := d.LookupConference(want); !ok || conf.OrganizerID != a.User.ID {
		t.Fatal("new ID does not work")
	}
	m := dueMail(t, d)
	last := m[len(m)-1]
	if last.Kind != store.MailConferenceIDReset || last.ConferenceID != want || last.PIN != "" {
		t.Fatalf("email: %+v", last.MailContent)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, want, a.PIN); r != store.PINOK {
		t.Fatalf("PIN on the new ID: %v", r)
	}
}

func testUserByEmailAndListing(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	var ids []int64
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		ids = append(ids, enable(t, d, e).User.ID)
	}
	u, err := d.UserByEmail(ctx, "B@Example.COM")
	if err != nil || u.ID != ids[1] {
		t.Fatalf("by email: %+v, %v", u, err)
	}
	if _, err := d.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	page, err := d.ListUsers(ctx, ids[0], 1)
	if err != nil || len(page) != 1 || page[0].ID != ids[1] {
		t.Fatalf("page: %+v, %v", page, err)
	}
	if _, err := d.ListUsers(ctx, 0, 1001); !errors.Is(err, store.ErrInvalidInput) {
		t.Fatalf("limit 1001: %v", err)
	}
	m, err := d.CreateMeeting(ctx, ids[2], true, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.GetMeeting(ctx, m.ConferenceID)
	if err != nil || got.OrganizerID != ids[2] || got.Static || !got.RequireOrganizer {
		t.Fatalf("get meeting: %+v, %v", got, err)
	}
	if _, err := d.GetMeeting(ctx, "1234567"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown meeting: %v", err)
	}
	all, err := d.ListMeetings(ctx, store.MeetingFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("all meetings: %d, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ConferenceID >= all[i].ConferenceID {
			t.Fatal("meetings not ordered by conference ID")
		}
	}
	mine, err := d.ListMeetings(ctx, store.MeetingFilter{OrganizerID: ids[2]})
	if err != nil || len(mine) != 2 {
		t.Fatalf("organizer's meetings: %+v, %v", mine, err)
	}
	rest, err := d.ListMeetings(ctx, store.MeetingFilter{After: all[1].ConferenceID, Limit: 1})
	if err != nil || len(rest) != 1 || rest[0].ConferenceID != all[2].ConferenceID {
		t.Fatalf("page of meetings: %+v, %v", rest, err)
	}
}
