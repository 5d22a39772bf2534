package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/store"
)

var testSecret = bytes.Repeat([]byte{7}, 32)

// fakeClock is an injectable clock for the lockout windows.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type testDir struct {
	*store.Directory
	db    store.Backend // the directory's backend, to check what is stored
	path  string        // where the database is (backend's create): to reopen it
	clock *fakeClock
	logs  *bytes.Buffer
}

// openTestDir opens a directory on b's database at path (a new one when
// path is ""): a real SQLite file in t's temp folder, or a real PostgreSQL
// database (backends_test.go).
func openTestDir(t *testing.T, b testBackend, path string) *testDir {
	t.Helper()
	return openTestDirAt(t, b, path, cheapPasswords)
}

// openTestDirWith is openTestDir on a new database with these password costs.
func openTestDirWith(t *testing.T, b testBackend, p store.PasswordParams) *testDir {
	t.Helper()
	return openTestDirAt(t, b, "", p)
}

func openTestDirAt(t *testing.T, b testBackend, path string, passwords store.PasswordParams) *testDir {
	t.Helper()
	if path == "" {
		path = b.create(t)
	}
	ctx := context.Background()
	db := b.open(t, path)
	clock := &fakeClock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	logs := &bytes.Buffer{}
	d, err := store.Open(ctx, store.Options{Backend: db, Secret: testSecret, Now: clock.Now, Logger: zerolog.New(logs),
		PasswordParams: passwords})
	if err != nil {
		t.Fatal(err)
	}
	td := &testDir{Directory: d, db: db, path: path, clock: clock, logs: logs}
	t.Cleanup(func() { d.Close() })
	return td
}

// replaceSettings is an UpdateSettings change that sets every field to s.
func replaceSettings(s store.Settings) func(*store.Settings) error {
	return func(p *store.Settings) error { *p = s; return nil }
}

func enable(t *testing.T, d *testDir, email string) store.Change {
	t.Helper()
	e, err := d.EnableUser(context.Background(), store.EnableRequest{Email: email, DisplayName: "Test " + email})
	if err != nil {
		t.Fatalf("enable %s: %v", email, err)
	}
	return e
}

func testEnableUserGivesConferenceIDAndPIN(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	e := enable(t, d, "ada@example.com")
	if !store.ValidConferenceID(e.User.ConferenceID) {
		t.Fatalf("conference ID %q invalid", e.User.ConferenceID)
	}
	if len(e.PIN) != store.DefaultPINLength || e.User.PINLength != store.DefaultPINLength {
		t.Fatalf("PIN length %d, want %d", len(e.PIN), store.DefaultPINLength)
	}
	c, ok := d.LookupConference(e.User.ConferenceID)
	if !ok || c.OrganizerID != e.User.ID || !c.Static || !c.RequireOrganizer {
		t.Fatalf("lookup = %+v, %v", c, ok)
	}
	if r, err := d.VerifyOrganizerPIN(context.Background(), e.User.ConferenceID, e.PIN); r != store.PINOK || err != nil {
		t.Fatalf("right PIN: %v, %v", r, err)
	}
	if _, err := d.EnableUser(context.Background(), store.EnableRequest{Email: "ADA@example.com"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second enable of the same email: %v, want ErrExists", err)
	}
	if _, err := d.EnableUser(context.Background(), store.EnableRequest{Email: "not an email"}); !errors.Is(err, store.ErrInvalidInput) {
		t.Fatalf("bad email: %v, want ErrInvalidInput", err)
	}
}

func testMistypedConferenceIDRefused(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	e := enable(t, d, "ada@example.com")
	id := []byte(e.User.ConferenceID)
	id[6] = '0' + (id[6]-'0'+1)%10 // wrong check digit
	if _, ok := d.LookupConference(string(id)); ok {
		t.Fatal("ID with a wrong check digit found")
	}
	for _, bad := range []string{"", "123", "12345678", "abcdefg"} {
		if _, ok := d.LookupConference(bad); ok {
			t.Fatalf("%q found", bad)
		}
	}
}

func testPINLengthChangeAppliesToNewPINsOnly(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	old := enable(t, d, "old@example.com")
	s := d.Settings()
	s.PINLength = 8
	if _, err := d.UpdateSettings(ctx, replaceSettings(s)); err != nil {
		t.Fatal(err)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, old.User.ConferenceID, old.PIN); r != store.PINOK {
		t.Fatalf("existing 5-digit PIN after the length change: %v", r)
	}
	fresh := enable(t, d, "new@example.com")
	if len(fresh.PIN) != 8 {
		t.Fatalf("new PIN has %d digits, want 8", len(fresh.PIN))
	}
	reset, err := d.ResetPIN(ctx, old.User.ID, store.MailOptions{})
	if err != nil || len(reset.PIN) != 8 {
		t.Fatalf("reset PIN: %q, %v; want 8 digits", reset.PIN, err)
	}
	s.PINLength = 13
	if _, err := d.UpdateSettings(ctx, replaceSettings(s)); !errors.Is(err, store.ErrInvalidInput) {
		t.Fatalf("PIN length 13: %v", err)
	}
}

func testSetPINPolicy(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com")
	cases := map[string]string{
		"1234":          "length",
		"55555":         "repeated",
		"91234":         "sequence",
		"12a45":         "digits",
		"1234567890123": "length",
	}
	for pin, rule := range cases {
		_, err := d.SetPIN(ctx, e.User.ID, pin)
		var pe *store.PolicyError
		if !errors.As(err, &pe) || pe.Rule != rule {
			t.Errorf("SetPIN(%q) = %v, want rule %s", pin, err, rule)
		}
	}
	if _, err := d.SetPIN(ctx, e.User.ID, e.User.ConferenceID[:5]); err == nil {
		t.Errorf("a PIN inside the conference ID was accepted")
	}
	if _, err := d.SetPIN(ctx, e.User.ID, "80613"); err != nil {
		t.Fatalf("good PIN refused: %v", err)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, e.User.ConferenceID, "80613"); r != store.PINOK {
		t.Fatalf("hand-set PIN: %v", r)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, e.User.ConferenceID, e.PIN); r != store.PINWrong && e.PIN != "80613" {
		t.Fatalf("old PIN still works: %v", r)
	}
	// Per-user override: blocking off lets 55555 through.
	off := false
	five := 5
	e2, err := d.EnableUser(ctx, store.EnableRequest{Email: "bob@example.com", Policy: store.PINPolicy{BlockCommon: &off, Length: &five}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetPIN(ctx, e2.User.ID, "55555"); err != nil {
		t.Fatalf("55555 with blocking off for this user: %v", err)
	}
}

func testResetConferenceIDKillsOldID(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com")
	c, err := d.ResetConferenceID(ctx, e.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u := c.User
	if u.ConferenceID == e.User.ConferenceID || !store.ValidConferenceID(u.ConferenceID) {
		t.Fatalf("new ID %q (old %q)", u.ConferenceID, e.User.ConferenceID)
	}
	if _, ok := d.LookupConference(e.User.ConferenceID); ok {
		t.Fatal("old conference ID still works")
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, e.User.ConferenceID, e.PIN); r == store.PINOK {
		t.Fatal("PIN accepted on the old conference ID")
	}
	if c, ok := d.LookupConference(u.ConferenceID); !ok || c.OrganizerID != e.User.ID {
		t.Fatal("new conference ID does not work")
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, u.ConferenceID, e.PIN); r != store.PINOK {
		t.Fatal("PIN refused on the new conference ID")
	}
}

func testLockoutLocalWindowAndGlobal(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com") // 5 digits: local 25, global 1000
	id := e.User.ConferenceID
	wrong := "00000"
	if e.PIN == wrong {
		wrong = "99999"
	}

	// 24 failures, then the window passes: the count starts again.
	for range 24 {
		if r, _ := d.VerifyOrganizerPIN(ctx, id, wrong); r != store.PINWrong {
			t.Fatalf("early failure: %v", r)
		}
	}
	d.clock.Advance(31 * time.Minute)
	for range 24 {
		d.VerifyOrganizerPIN(ctx, id, wrong)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINOK {
		t.Fatalf("right PIN after 24 failures in a fresh window: %v", r)
	}

	// A success resets the counters: 25 failures in one window lock it.
	for i := range 25 {
		r, err := d.VerifyOrganizerPIN(ctx, id, wrong)
		if err != nil {
			t.Fatal(err)
		}
		if want := store.PINWrong; i == 24 {
			want = store.PINLocked
			if r != want {
				t.Fatalf("25th failure: %v, want locked", r)
			}
		} else if r != want {
			t.Fatalf("failure %d: %v", i+1, r)
		}
	}
	// Locked: even the right PIN is refused, and the lock is on disk.
	if r, _ := d.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINLocked {
		t.Fatalf("right PIN while locked: %v", r)
	}
	if _, err := d.ResetPIN(ctx, e.User.ID, store.MailOptions{}); !errors.Is(err, store.ErrPINLocked) {
		t.Fatalf("reset while locked: %v, want ErrPINLocked", err)
	}
	if _, err := d.SetPIN(ctx, e.User.ID, "80613"); !errors.Is(err, store.ErrPINLocked) {
		t.Fatalf("set while locked: %v, want ErrPINLocked", err)
	}
	u, err := d.db.GetUser(ctx, e.User.ID)
	if err != nil || !u.Lock.Locked(d.clock.Now()) {
		t.Fatalf("lock not persisted: %+v, %v", u.Lock, err)
	}
	// One hour later it unlocks by itself.
	d.clock.Advance(61 * time.Minute)
	if r, _ := d.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINOK {
		t.Fatalf("right PIN after the local lock expired: %v", r)
	}

	// Global limit: lower it for the test through the per-user policy path
	// (settings) and check only an administrator unlocks.
	s := d.Settings()
	s.Lockout.GlobalLimit = 30
	if _, err := d.UpdateSettings(ctx, replaceSettings(s)); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for r := store.PINWrong; r != store.PINLocked || !mustUser(t, d, e.User.ID).Lock.LockedByAdmin; {
		r, _ = d.VerifyOrganizerPIN(ctx, id, wrong)
		failures++
		if r == store.PINLocked && !mustUser(t, d, e.User.ID).Lock.LockedByAdmin {
			d.clock.Advance(61 * time.Minute) // a local lock on the way: wait it out
		}
		if failures > 100 {
			t.Fatal("global lock never came")
		}
	}
	if failures != 30 {
		t.Fatalf("global lock after %d failures, want 30", failures)
	}
	d.clock.Advance(48 * time.Hour)
	if r, _ := d.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINLocked {
		t.Fatalf("global lock expired by itself: %v", r)
	}
	if _, err := d.UnlockPIN(ctx, e.User.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINOK {
		t.Fatalf("after unlock: %v", r)
	}
	if !strings.Contains(d.logs.String(), "PIN locked") {
		t.Fatalf("lock not logged: %s", d.logs.String())
	}
}

func mustUser(t *testing.T, d *testDir, id int64) store.User {
	t.Helper()
	u, err := d.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testPerUserLockoutOverride(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	three := 3
	e, err := d.EnableUser(ctx, store.EnableRequest{Email: "ada@example.com", Policy: store.PINPolicy{LocalLimit: &three}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		d.VerifyOrganizerPIN(ctx, e.User.ConferenceID, "0")
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, e.User.ConferenceID, "0"); r != store.PINLocked {
		t.Fatalf("third failure with local_limit 3: %v", r)
	}
	two := 2
	if _, err := d.EnableUser(ctx, store.EnableRequest{Email: "bob@example.com", Policy: store.PINPolicy{LocalLimit: &three, GlobalLimit: &two}}); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("a policy with local_limit above global_limit: %v", err)
	}
}

func testRestartKeepsEverythingAndNoClearPIN(t *testing.T, be testBackend) {
	path := be.create(t)
	ctx := context.Background()
	d := openTestDir(t, be, path)
	a := enable(t, d, "ada@example.com")
	b := enable(t, d, "bob@example.com")
	reset, err := d.ResetPIN(ctx, b.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wrong := "00000"
	for range 3 {
		d.VerifyOrganizerPIN(ctx, a.User.ConferenceID, wrong)
	}
	s := d.Settings()
	s.PINLength = 6
	s.SendEmails = false
	s.DialInNumbers = []string{"+14255550100"}
	if _, err := d.UpdateSettings(ctx, replaceSettings(s)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d2 := openTestDir(t, be, path)
	if got := d2.Settings(); got.PINLength != 6 || got.SendEmails || len(got.DialInNumbers) != 1 {
		t.Fatalf("settings after restart: %+v", got)
	}
	if r, _ := d2.VerifyOrganizerPIN(ctx, b.User.ConferenceID, reset.PIN); r != store.PINOK {
		t.Fatalf("reset PIN after restart: %v", r)
	}
	if u := mustUser(t, d2, a.User.ID); u.Lock.Failures != 3 {
		t.Fatalf("failure counter after restart: %+v (write-behind not flushed on Close?)", u.Lock)
	}
	if err := d2.Close(); err != nil {
		t.Fatal(err)
	}

	// No PIN in clear in what the database stores (SQLite's WAL
	// included) or in logs.
	data := be.stored(t, path)
	for _, pin := range []string{a.PIN, b.PIN, reset.PIN} {
		if bytes.Contains(data, []byte(pin)) {
			t.Errorf("PIN %s in clear in %s", store.MaskedPIN, path)
		}
		if strings.Contains(d.logs.String()+d2.logs.String(), pin) {
			t.Error("a PIN appears in the logs")
		}
	}
}

func testDisableUserAndDynamicMeetings(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	e := enable(t, d, "ada@example.com")
	m, err := d.CreateMeeting(ctx, e.User.ID, true, true)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := d.LookupConference(m.ConferenceID)
	if !ok || c.Static || !c.BypassLobby || c.OrganizerID != e.User.ID {
		t.Fatalf("dynamic meeting lookup %+v %v", c, ok)
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, m.ConferenceID, e.PIN); r != store.PINOK {
		t.Fatalf("organizer PIN on a dynamic meeting: %v", r)
	}
	if err := d.DeleteMeeting(ctx, e.User.ConferenceID); !errors.Is(err, store.ErrInvalidInput) {
		t.Fatalf("deleting a static ID as a meeting: %v", err)
	}
	if err := d.DisableUser(ctx, e.User.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{e.User.ConferenceID, m.ConferenceID} {
		if _, ok := d.LookupConference(id); ok {
			t.Fatalf("%s still works after disabling its organizer", id)
		}
	}
	if err := d.DisableUser(ctx, e.User.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second disable: %v", err)
	}
}

func testConcurrentLookupsVerificationsAndWrites(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	var users []store.Change
	for i := range 20 {
		users = append(users, enable(t, d, "user"+string(rune('a'+i))+"@example.com"))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := users[(i+w)%len(users)]
				d.LookupConference(u.User.ConferenceID)
				pin := u.PIN
				if i%3 == 0 {
					pin = "0"
				}
				d.VerifyOrganizerPIN(ctx, u.User.ConferenceID, pin)
			}
		})
	}
	for i := range 40 {
		u := users[i%len(users)]
		switch i % 4 {
		case 0:
			d.UnlockPIN(ctx, u.User.ID)
		case 1:
			// Workers keep using the old ID: from now on it must fail.
			d.ResetConferenceID(ctx, u.User.ID, store.MailOptions{})
		case 2:
			d.CreateMeeting(ctx, u.User.ID, true, false)
		case 3:
			enable(t, d, "extra"+string(rune('a'+i))+"@example.com")
		}
	}
	close(stop)
	wg.Wait()
}

func testUserJSONMasksPIN(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	e := enable(t, d, "ada@example.com")
	u := mustUser(t, d, e.User.ID)
	data, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, `"pin":"***********"`) || strings.Contains(s, e.PIN) || strings.Contains(s, "digest") {
		t.Fatalf("user JSON %s: want the PIN masked and no digest", s)
	}
	if !strings.Contains(s, `"email":"ada@example.com"`) || !strings.Contains(s, `"conference_id":"`+u.ConferenceID+`"`) {
		t.Fatalf("user JSON %s lacks its fields", s)
	}
}

func testDynamicConferenceIDMode(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	static := enable(t, d, "before@example.com")
	s := d.Settings()
	s.ConferenceIDMode = store.ConferenceIDDynamic
	s.AnonymousCanStart = true
	if _, err := d.UpdateSettings(ctx, replaceSettings(s)); err != nil {
		t.Fatal(err)
	}
	e := enable(t, d, "ada@example.com")
	if e.User.ConferenceID != "" {
		t.Fatalf("dynamic mode gave a static ID %q", e.User.ConferenceID)
	}
	if _, err := d.ResetConferenceID(ctx, e.User.ID, store.MailOptions{}); !errors.Is(err, store.ErrInvalidInput) {
		t.Fatalf("reset of a dynamic-mode user's ID: %v", err)
	}
	m1, err := d.CreateMeeting(ctx, e.User.ID, true, false)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := d.CreateMeeting(ctx, e.User.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if m1.ConferenceID == m2.ConferenceID {
		t.Fatal("two meetings share an ID")
	}
	c1, _ := d.LookupConference(m1.ConferenceID)
	c2, _ := d.LookupConference(m2.ConferenceID)
	if !c1.RequireOrganizer || c1.BypassLobby || c2.RequireOrganizer || !c2.BypassLobby {
		t.Fatalf("per-meeting options: %+v %+v", c1, c2)
	}
	// The static ID from before the switch keeps working, with the
	// organisation's settings (anonymous callers may now start it).
	if c, ok := d.LookupConference(static.User.ConferenceID); !ok || c.RequireOrganizer {
		t.Fatalf("static ID after the switch: %+v %v", c, ok)
	}
	if err := d.DeleteMeeting(ctx, m1.ConferenceID); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LookupConference(m1.ConferenceID); ok {
		t.Fatal("deleted meeting still found")
	}
	if r, _ := d.VerifyOrganizerPIN(ctx, m2.ConferenceID, e.PIN); r != store.PINOK {
		t.Fatalf("organizer PIN on a dynamic meeting: %v", r)
	}
}

// A caller who hangs up as its failure locks the PIN (cancelled context)
// must not lose the lock, and a restart must keep it.
func testLockSurvivesCancelledCallerAndRestart(t *testing.T, be testBackend) {
	path := be.create(t)
	d := openTestDir(t, be, path)
	e := enable(t, d, "ada@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var r store.PINResult
	for range 25 {
		r, _ = d.VerifyOrganizerPIN(ctx, e.User.ConferenceID, "0")
	}
	if r != store.PINLocked {
		t.Fatalf("25th failure: %v", r)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := openTestDir(t, be, path)
	d2.clock.now = d.clock.Now()
	if r, _ := d2.VerifyOrganizerPIN(context.Background(), e.User.ConferenceID, e.PIN); r != store.PINLocked {
		t.Fatalf("right PIN after restart: %v, want still locked", r)
	}
}
