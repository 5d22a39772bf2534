package sqlite

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// Every test of this package uses a real SQLite file in t.TempDir().

// sqOpen opens a store at path, closed when the test ends.
func sqOpen(t testing.TB, path string) *DB {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sqTempStore(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dialin.db")
	return sqOpen(t, path), path
}

func sqIntp(v int) *int { return &v }

func sqBoolp(v bool) *bool { return &v }

// sqDigest is a stand-in PIN digest, distinct per seed.
func sqDigest(seed string) []byte {
	d := sha256.Sum256([]byte(seed))
	return d[:]
}

// sqFullUser has every field set, times with nanoseconds in a zone that
// is not UTC, so that a lossy round trip shows.
func sqFullUser(n int) store.User {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(n) * time.Hour)
	return store.User{
		Email:         fmt.Sprintf("user%d@example.com", n),
		DisplayName:   fmt.Sprintf("User Nº%d «quoted»", n),
		EmailOverride: fmt.Sprintf("other%d@example.org", n),
		ConferenceID:  fmt.Sprintf("%07d", 1000000+n),
		PINDigest:     sqDigest("pin" + strconv.Itoa(n)),
		PINLength:     6,
		PINSetAt:      base.Add(1),
		Policy: store.PINPolicy{
			Length:      sqIntp(8),
			BlockCommon: sqBoolp(false),
			LocalLimit:  sqIntp(7),
			GlobalLimit: sqIntp(77),
		},
		Lock: store.LockState{
			Failures:      3,
			WindowStart:   base.Add(2),
			TotalFailures: 42,
			LockedUntil:   base.Add(time.Hour + 3),
			LockedByAdmin: true,
		},
		CreatedAt: base.Add(-time.Hour),
	}
}

func sqStaticMeeting(u *store.User) *store.Meeting {
	return &store.Meeting{
		ConferenceID:     u.ConferenceID,
		Static:           true,
		RequireOrganizer: true,
		BypassLobby:      true,
		CreatedAt:        u.CreatedAt.Add(123),
	}
}

// sqSameTime: equal instants, and a loaded time is in UTC (or zero).
func sqSameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
	if got.IsZero() != want.IsZero() {
		t.Errorf("%s zero = %v, want %v", what, got.IsZero(), want.IsZero())
	}
}

func sqCheckUser(t *testing.T, got, want store.User) {
	t.Helper()
	sqSameTime(t, "PINSetAt", got.PINSetAt, want.PINSetAt)
	sqSameTime(t, "Lock.WindowStart", got.Lock.WindowStart, want.Lock.WindowStart)
	sqSameTime(t, "Lock.LockedUntil", got.Lock.LockedUntil, want.Lock.LockedUntil)
	sqSameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	got.PINSetAt, want.PINSetAt = time.Time{}, time.Time{}
	got.Lock.WindowStart, want.Lock.WindowStart = time.Time{}, time.Time{}
	got.Lock.LockedUntil, want.Lock.LockedUntil = time.Time{}, time.Time{}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("user:\n got %+v\nwant %+v", got, want)
	}
}

func sqCheckMeeting(t *testing.T, got, want store.Meeting) {
	t.Helper()
	sqSameTime(t, "meeting CreatedAt", got.CreatedAt, want.CreatedAt)
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("meeting:\n got %+v\nwant %+v", got, want)
	}
}

// sqLoad is Load with each user's profile (name, email, dates, which Load
// leaves out) filled in from GetUser, after checking that the fields Load
// does read agree with GetUser's.
func sqLoad(t *testing.T, s *DB) *store.Snapshot {
	t.Helper()
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range snap.Users {
		if u.Email != "" || u.DisplayName != "" || !u.CreatedAt.IsZero() || !u.PINSetAt.IsZero() {
			t.Fatalf("Load read the profile of user %d: %+v", u.ID, u)
		}
		full, err := s.GetUser(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		index := full
		index.Email, index.DisplayName, index.EmailOverride = "", "", u.EmailOverride
		index.CreatedAt, index.PINSetAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(u, index) {
			t.Fatalf("Load and GetUser disagree on user %d:\n load %+v\n get  %+v", u.ID, u, index)
		}
		snap.Users[i] = full
	}
	return snap
}

// sqLoadUser finds user id in a fresh Load.
func sqLoadUser(t *testing.T, s *DB, id int64) store.User {
	t.Helper()
	for _, u := range sqLoad(t, s).Users {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("user %d not in Load", id)
	return store.User{}
}

func sqMustErr(t *testing.T, err, target error, mention string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Errorf("err %q does not mention %q", err, mention)
	}
}

func TestSQLiteEmptyStore(t *testing.T) {
	s, _ := sqTempStore(t)
	snap := sqLoad(t, s)
	if !reflect.DeepEqual(snap.Settings, store.DefaultSettings()) {
		t.Errorf("settings = %+v, want the defaults", snap.Settings)
	}
	if len(snap.Users) != 0 || len(snap.Meetings) != 0 {
		t.Errorf("users %d, meetings %d, want none", len(snap.Users), len(snap.Meetings))
	}
}

// A settings row written before a setting existed loads with that
// setting's default: entry_exit_announcements came later, as tones.
func TestSQLiteSettingsAddedLaterGetTheirDefault(t *testing.T) {
	s, _ := sqTempStore(t)
	if _, err := s.db.Exec(`INSERT INTO settings (id, value) VALUES (1, '{"pin_length":7,"lobby_admission":"auto"}')`); err != nil {
		t.Fatal(err)
	}
	got := sqLoad(t, s).Settings
	if got.PINLength != 7 || got.LobbyAdmission != store.AdmitAuto || got.EntryExitAnnouncements != store.AnnounceTones {
		t.Fatalf("settings = %+v", got)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("the old row with its defaults: %v", err)
	}
}

func TestSQLiteRestartKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st := store.DefaultSettings()
	st.PINLength, st.DialInNumbers = 8, []string{"+1 555 0100"}
	if err := s.SaveSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	var deleted int64
	for i := range 5 {
		u := sqFullUser(i)
		if err := s.CreateUser(ctx, &u, sqStaticMeeting(&u), nil); err != nil {
			t.Fatal(err)
		}
		deleted = u.ID
	}
	if err := s.DeleteUser(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	m := store.Meeting{ConferenceID: "6000006", OrganizerID: 1, RequireOrganizer: true, CreatedAt: time.Now()}
	if err := s.CreateMeeting(ctx, &m); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLockState(ctx, 2, store.LockState{Failures: 5, WindowStart: time.Now()}); err != nil {
		t.Fatal(err)
	}
	before := sqLoad(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = sqOpen(t, path)
	after := sqLoad(t, s)
	if !reflect.DeepEqual(after.Settings, before.Settings) {
		t.Errorf("settings %+v, want %+v", after.Settings, before.Settings)
	}
	if len(after.Users) != len(before.Users) || len(after.Meetings) != len(before.Meetings) {
		t.Fatalf("%d users, %d meetings; want %d, %d", len(after.Users), len(after.Meetings),
			len(before.Users), len(before.Meetings))
	}
	for i := range before.Users {
		sqCheckUser(t, after.Users[i], before.Users[i])
	}
	for i := range before.Meetings {
		sqCheckMeeting(t, after.Meetings[i], before.Meetings[i])
	}
	// AUTOINCREMENT survives the restart: the deleted ID stays retired.
	u := sqFullUser(9)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	if u.ID <= deleted {
		t.Errorf("new user got ID %d, deleted was %d", u.ID, deleted)
	}
}
