package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// Every test here uses a real SQLite file in t.TempDir().

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

func sqIntp(v int) *int    { return &v }
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

func TestSQLiteSettingsRoundTrip(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	want := store.Settings{
		PINLength:         9,
		SendEmails:        false,
		ConferenceIDMode:  store.ConferenceIDDynamic,
		AnonymousCanStart: true,
		LobbyAdmission:    store.AdmitAuto,
		DialInBypassLobby: true,
		BlockCommonPINs:   false,
		Lockout: store.Lockout{
			Window:            17*time.Minute + 3*time.Nanosecond,
			LocalLockDuration: 2*time.Hour + 1,
			LocalLimit:        11,
			GlobalLimit:       111,
		},
		DialInNumbers: []string{"+1 206 555 0100", "+44 20 7946 0000"},
	}
	if err := s.SaveSettings(ctx, store.DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSettings(ctx, want); err != nil { // replaces the row
		t.Fatal(err)
	}
	if got := sqLoad(t, s).Settings; !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", got, want)
	}
}

// A stored settings row written before a field existed loads that field
// with its default.
func TestSQLiteSettingsMissingFieldsDefault(t *testing.T) {
	s, _ := sqTempStore(t)
	if _, err := s.db.Exec(`INSERT INTO settings (id, value) VALUES (1, '{"pin_length": 7}')`); err != nil {
		t.Fatal(err)
	}
	want := store.DefaultSettings()
	want.PINLength = 7
	if got := sqLoad(t, s).Settings; !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", got, want)
	}
}

func TestSQLiteUserRoundTrip(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()

	u := sqFullUser(1)
	m := sqStaticMeeting(&u)
	if err := s.CreateUser(ctx, &u, m, nil); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || m.OrganizerID != u.ID {
		t.Fatalf("u.ID = %d, meeting organizer %d", u.ID, m.OrganizerID)
	}

	// Load, GetUser and ListUsers all give back every field.
	snap := sqLoad(t, s)
	if len(snap.Users) != 1 || len(snap.Meetings) != 1 {
		t.Fatalf("loaded %d users, %d meetings", len(snap.Users), len(snap.Meetings))
	}
	sqCheckUser(t, snap.Users[0], u)
	sqCheckMeeting(t, snap.Meetings[0], *m)
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	sqCheckUser(t, got, u)
	list, err := s.ListUsers(ctx, 0, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListUsers = %d users, %v", len(list), err)
	}
	sqCheckUser(t, list[0], u)
	ms, err := s.ListMeetings(ctx, store.MeetingFilter{OrganizerID: u.ID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("ListMeetings = %v, %v", ms, err)
	}
	sqCheckMeeting(t, ms[0], *m)

	// UpdateUser replaces every field but the ID and conference ID.
	v := sqFullUser(2)
	v.ID, v.ConferenceID = u.ID, u.ConferenceID
	if err := s.UpdateUser(ctx, &v, nil); err != nil {
		t.Fatal(err)
	}
	sqCheckUser(t, sqLoadUser(t, s, u.ID), v)

	// Back to zero values: no policy, zero times, no override.
	w := store.User{ID: u.ID, Email: "bare@example.com", ConferenceID: u.ConferenceID, PINDigest: sqDigest("bare"), PINLength: 4}
	if err := s.UpdateUser(ctx, &w, nil); err != nil {
		t.Fatal(err)
	}
	sqCheckUser(t, sqLoadUser(t, s, u.ID), w)

	// SaveLockState replaces the counters and lock only.
	lock := store.LockState{
		Failures:      9,
		WindowStart:   time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC),
		TotalFailures: 99,
		LockedUntil:   time.Date(2030, 1, 2, 4, 4, 5, 7, time.Local),
		LockedByAdmin: true,
	}
	if err := s.SaveLockState(ctx, u.ID, lock); err != nil {
		t.Fatal(err)
	}
	w.Lock = lock
	sqCheckUser(t, sqLoadUser(t, s, u.ID), w)
	if err := s.SaveLockState(ctx, u.ID, store.LockState{}); err != nil {
		t.Fatal(err)
	}
	w.Lock = store.LockState{}
	sqCheckUser(t, sqLoadUser(t, s, u.ID), w)
}

// A user in dynamic mode has no conference ID (NULL, so many can coexist).
func TestSQLiteDynamicModeUsers(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	for i := range 3 {
		u := sqFullUser(i)
		u.ConferenceID = ""
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatal(err)
		}
		sqCheckUser(t, sqLoadUser(t, s, u.ID), u)
	}
	if n := len(sqLoad(t, s).Meetings); n != 0 {
		t.Errorf("%d meetings, want none", n)
	}
}

func TestSQLiteTimesRoundTripExactly(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	times := []time.Time{
		{},
		time.Date(2026, 11, 23, 9, 11, 0, 1, time.UTC),
		time.Date(2026, 11, 23, 9, 11, 0, 999999999, time.FixedZone("", -7*3600)),
		time.Now(), // with a monotonic reading
		time.Date(1700, 1, 1, 0, 0, 0, 123, time.UTC),
		time.Date(2262, 1, 1, 0, 0, 0, 456, time.UTC),
		time.Unix(0, 1),
		time.Unix(0, -1),
	}
	for i, tm := range times {
		u := store.User{Email: fmt.Sprintf("t%d@example.com", i), PINDigest: sqDigest("x"), PINLength: 5,
			PINSetAt: tm, CreatedAt: tm, Lock: store.LockState{WindowStart: tm, LockedUntil: tm}}
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatalf("%v: %v", tm, err)
		}
		sqCheckUser(t, sqLoadUser(t, s, u.ID), u)
	}

	// Outside what Unix nanoseconds hold: refused, not stored wrong.
	far := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	u := store.User{Email: "far@example.com", PINDigest: sqDigest("x"), PINLength: 5, CreatedAt: far}
	sqMustErr(t, s.CreateUser(ctx, &u, nil, nil), store.ErrInvalidInput, "2300")
	sqMustErr(t, s.SaveLockState(ctx, 1, store.LockState{LockedUntil: far}), store.ErrInvalidInput, "2300")
}

func TestSQLiteMeetingRoundTrip(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	u := sqFullUser(1)
	u.ConferenceID = ""
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)
	variants := []store.Meeting{
		{ConferenceID: "2000001", OrganizerID: u.ID, CreatedAt: created},
		{ConferenceID: "2000002", OrganizerID: u.ID, RequireOrganizer: true, CreatedAt: created.Add(1)},
		{ConferenceID: "2000003", OrganizerID: u.ID, BypassLobby: true, CreatedAt: created.Add(2)},
		{ConferenceID: "2000004", OrganizerID: u.ID, Static: true, RequireOrganizer: true, BypassLobby: true, CreatedAt: created.Add(3)},
	}
	for i := range variants {
		if err := s.CreateMeeting(ctx, &variants[i]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListMeetings(ctx, store.MeetingFilter{OrganizerID: u.ID})
	if err != nil || len(got) != len(variants) {
		t.Fatalf("ListMeetings = %v, %v", got, err)
	}
	for i := range variants {
		sqCheckMeeting(t, got[i], variants[i])
	}
	if err := s.DeleteMeeting(ctx, "2000002"); err != nil {
		t.Fatal(err)
	}
	sqMustErr(t, s.DeleteMeeting(ctx, "2000002"), store.ErrNotFound, "2000002")
	if n := len(sqLoad(t, s).Meetings); n != 3 {
		t.Errorf("%d meetings after delete, want 3", n)
	}
	if ms, err := s.ListMeetings(ctx, store.MeetingFilter{OrganizerID: 999}); err != nil || len(ms) != 0 {
		t.Errorf("ListMeetings(unknown) = %v, %v", ms, err)
	}
}

func TestSQLiteErrExists(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	a := sqFullUser(1)
	if err := s.CreateUser(ctx, &a, sqStaticMeeting(&a), nil); err != nil {
		t.Fatal(err)
	}
	dyn := store.Meeting{ConferenceID: "3000003", OrganizerID: a.ID, CreatedAt: time.Now()}
	if err := s.CreateMeeting(ctx, &dyn); err != nil {
		t.Fatal(err)
	}
	before := sqLoad(t, s)

	t.Run("email, any case", func(t *testing.T) {
		b := sqFullUser(2)
		b.Email = strings.ToUpper(a.Email)
		sqMustErr(t, s.CreateUser(ctx, &b, sqStaticMeeting(&b), nil), store.ErrExists, "email")
		if b.ID != 0 {
			t.Errorf("b.ID = %d after a failed create", b.ID)
		}
	})
	t.Run("conference ID of another user", func(t *testing.T) {
		b := sqFullUser(2)
		b.ConferenceID = a.ConferenceID
		sqMustErr(t, s.CreateUser(ctx, &b, sqStaticMeeting(&b), nil), store.ErrExists, "conference ID")
		sqMustErr(t, s.CreateUser(ctx, &b, nil, nil), store.ErrExists, "conference ID")
	})
	t.Run("user's ID taken by a dynamic meeting", func(t *testing.T) {
		b := sqFullUser(2)
		b.ConferenceID = dyn.ConferenceID
		sqMustErr(t, s.CreateUser(ctx, &b, sqStaticMeeting(&b), nil), store.ErrExists, "conference ID")
		sqMustErr(t, s.CreateUser(ctx, &b, nil, nil), store.ErrExists, "conference ID")
	})
	t.Run("meeting takes a user's ID", func(t *testing.T) {
		m := store.Meeting{ConferenceID: a.ConferenceID, OrganizerID: a.ID}
		sqMustErr(t, s.CreateMeeting(ctx, &m), store.ErrExists, "conference ID")
		m.ConferenceID = dyn.ConferenceID
		sqMustErr(t, s.CreateMeeting(ctx, &m), store.ErrExists, "conference ID")
	})
	t.Run("meeting takes the ID of a user without meeting", func(t *testing.T) {
		c := sqFullUser(3) // a static ID whose meeting is missing
		if err := s.CreateUser(ctx, &c, nil, nil); err != nil {
			t.Fatal(err)
		}
		defer s.DeleteUser(ctx, c.ID)
		m := store.Meeting{ConferenceID: c.ConferenceID, OrganizerID: a.ID}
		sqMustErr(t, s.CreateMeeting(ctx, &m), store.ErrExists, "conference ID")
		// The owner may have its static meeting back.
		m.OrganizerID, m.Static = c.ID, true
		if err := s.CreateMeeting(ctx, &m); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the user is not created when its meeting fails", func(t *testing.T) {
		b := sqFullUser(2)
		m := sqStaticMeeting(&b)
		m.ConferenceID = dyn.ConferenceID // differs from b's: only the meeting insert fails
		sqMustErr(t, s.CreateUser(ctx, &b, m, nil), store.ErrExists, "conference ID")
		for _, u := range sqLoad(t, s).Users {
			if u.Email == b.Email {
				t.Fatalf("user %d was created without its meeting", u.ID)
			}
		}
	})
	t.Run("update to another user's email", func(t *testing.T) {
		b := sqFullUser(2)
		if err := s.CreateUser(ctx, &b, sqStaticMeeting(&b), nil); err != nil {
			t.Fatal(err)
		}
		defer s.DeleteUser(ctx, b.ID)
		b.Email = a.Email
		sqMustErr(t, s.UpdateUser(ctx, &b, nil), store.ErrExists, "email")
	})
	t.Run("replace with a taken ID", func(t *testing.T) {
		b := sqFullUser(2)
		if err := s.CreateUser(ctx, &b, sqStaticMeeting(&b), nil); err != nil {
			t.Fatal(err)
		}
		defer s.DeleteUser(ctx, b.ID)
		sqMustErr(t, s.ReplaceConferenceID(ctx, b.ID, b.ConferenceID, a.ConferenceID, nil), store.ErrExists, "conference ID")
		sqMustErr(t, s.ReplaceConferenceID(ctx, b.ID, b.ConferenceID, dyn.ConferenceID, nil), store.ErrExists, "conference ID")
		sqCheckUser(t, sqLoadUser(t, s, b.ID), b)
	})

	// Failed writes left nothing behind.
	after := sqLoad(t, s)
	if len(after.Users) != len(before.Users) || len(after.Meetings) != len(before.Meetings) {
		t.Errorf("after failed writes: %d users, %d meetings; want %d, %d",
			len(after.Users), len(after.Meetings), len(before.Users), len(before.Meetings))
	}
}

func TestSQLiteErrNotFound(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	ghost := sqFullUser(1)
	ghost.ID = 12345
	sqMustErr(t, s.UpdateUser(ctx, &ghost, nil), store.ErrNotFound, "12345")
	sqMustErr(t, s.SaveLockState(ctx, 12345, store.LockState{Failures: 1}), store.ErrNotFound, "12345")
	sqMustErr(t, s.DeleteUser(ctx, 12345), store.ErrNotFound, "12345")
	_, err := s.GetUser(ctx, 12345)
	sqMustErr(t, err, store.ErrNotFound, "12345")
	sqMustErr(t, s.ReplaceConferenceID(ctx, 12345, "1000001", "1000002", nil), store.ErrNotFound, "12345")
	sqMustErr(t, s.DeleteMeeting(ctx, "1000001"), store.ErrNotFound, "1000001")
	m := store.Meeting{ConferenceID: "1000001", OrganizerID: 12345}
	sqMustErr(t, s.CreateMeeting(ctx, &m), store.ErrNotFound, "12345")
	if snap := sqLoad(t, s); len(snap.Users)+len(snap.Meetings) != 0 {
		t.Errorf("something was written: %+v", snap)
	}
}

func TestSQLiteInvalidInput(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	u := sqFullUser(1)
	u.PINDigest = nil
	sqMustErr(t, s.CreateUser(ctx, &u, nil, nil), store.ErrInvalidInput, "digest")
	_, err := s.ListUsers(ctx, 0, 0)
	sqMustErr(t, err, store.ErrInvalidInput, "limit")
	sqMustErr(t, s.ReplaceConferenceID(ctx, 1, "1000001", "", nil), store.ErrInvalidInput, "empty")
}

func TestSQLiteReplaceConferenceID(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	a, b := sqFullUser(1), sqFullUser(2)
	ma := sqStaticMeeting(&a)
	if err := s.CreateUser(ctx, &a, ma, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &b, sqStaticMeeting(&b), nil); err != nil {
		t.Fatal(err)
	}
	oldID, newID := a.ConferenceID, "4000004"
	if err := s.ReplaceConferenceID(ctx, a.ID, oldID, newID, nil); err != nil {
		t.Fatal(err)
	}
	a.ConferenceID = newID
	sqCheckUser(t, sqLoadUser(t, s, a.ID), a)
	ms, err := s.ListMeetings(ctx, store.MeetingFilter{OrganizerID: a.ID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("ListMeetings = %v, %v", ms, err)
	}
	want := *ma
	want.ConferenceID = newID
	sqCheckMeeting(t, ms[0], want) // moved with its options and creation time

	// A stale old ID (already replaced) is refused and changes nothing.
	sqMustErr(t, s.ReplaceConferenceID(ctx, a.ID, oldID, "4000005", nil), store.ErrNotFound, oldID)

	// The old ID is free: another user's meeting may take it.
	m := store.Meeting{ConferenceID: oldID, OrganizerID: b.ID, CreatedAt: time.Now()}
	if err := s.CreateMeeting(ctx, &m); err != nil {
		t.Fatalf("old ID not freed: %v", err)
	}
	// So may a user.
	c := sqFullUser(3)
	c.ConferenceID = "4000006"
	if err := s.CreateUser(ctx, &c, sqStaticMeeting(&c), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceConferenceID(ctx, c.ID, c.ConferenceID, newID, nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("took a's new ID: %v", err)
	}
}

func TestSQLiteDeleteUserCascades(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	a, b := sqFullUser(1), sqFullUser(2)
	if err := s.CreateUser(ctx, &a, sqStaticMeeting(&a), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &b, sqStaticMeeting(&b), nil); err != nil {
		t.Fatal(err)
	}
	for i, org := range []int64{a.ID, a.ID, b.ID} {
		m := store.Meeting{ConferenceID: fmt.Sprintf("500000%d", i), OrganizerID: org, CreatedAt: time.Now()}
		if err := s.CreateMeeting(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	snap := sqLoad(t, s)
	if len(snap.Users) != 1 || snap.Users[0].ID != b.ID {
		t.Fatalf("users after delete: %+v", snap.Users)
	}
	if len(snap.Meetings) != 2 {
		t.Fatalf("meetings after delete: %+v", snap.Meetings)
	}
	for _, m := range snap.Meetings {
		if m.OrganizerID != b.ID {
			t.Errorf("meeting %s of deleted user %d survived", m.ConferenceID, m.OrganizerID)
		}
	}
	// The deleted user's email and IDs are free again; its numeric ID is
	// never given to another user.
	a2 := a
	if err := s.CreateUser(ctx, &a2, sqStaticMeeting(&a2), nil); err != nil {
		t.Fatal(err)
	}
	if a2.ID == a.ID {
		t.Errorf("user ID %d reused", a.ID)
	}
}

func TestSQLiteListUsersPages(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	var ids []int64
	for i := range 7 {
		u := sqFullUser(i)
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	var got []int64
	after := int64(0)
	for {
		page, err := s.ListUsers(ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d", len(page))
		}
		for _, u := range page {
			got = append(got, u.ID)
		}
		after = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("paged IDs %v, want %v", got, ids)
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

func TestSQLiteMigrationsRecorded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	versions := func() map[int64]int64 {
		t.Helper()
		s := sqOpen(t, path)
		defer s.Close()
		rows, err := s.db.Query(`SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[int64]int64{}
		for rows.Next() {
			var v, at int64
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			got[v] = at
		}
		var app int64
		if err := s.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil || app != sqliteApplicationID {
			t.Errorf("application_id = %#x, %v; want %#x", app, err, sqliteApplicationID)
		}
		return got
	}
	first := versions()
	if len(first) != latestSchemaVersion() {
		t.Fatalf("schema_migrations = %v, want versions 1-%d", first, latestSchemaVersion())
	}
	for v := int64(1); v <= int64(latestSchemaVersion()); v++ {
		if first[v] == 0 {
			t.Fatalf("schema_migrations = %v: version %d missing", first, v)
		}
	}
	// Reopening applies nothing again.
	if second := versions(); !reflect.DeepEqual(second, first) {
		t.Errorf("after reopen: %v, want %v", second, first)
	}
}

// sqFileBytes reads a file, failing the test if it cannot.
func sqFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := sqFullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	want := sqFileBytes(t, path)

	s, err = Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("opened a database of schema version 99")
	}
	for _, mention := range []string{"99", "newer", path} {
		if !strings.Contains(err.Error(), mention) {
			t.Errorf("error %q does not mention %q", err, mention)
		}
	}
	if !bytes.Equal(sqFileBytes(t, path), want) {
		t.Error("the refused database file was changed")
	}
}

func TestSQLiteRefusesNonDatabase(t *testing.T) {
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte(i * 7)
	}
	cases := map[string][]byte{
		"text":            []byte("users:\n  - alice@example.com 1234567\n"),
		"short":           []byte("SQLite format 3\x00"),
		"binary":          junk,
		"header, garbage": append([]byte("SQLite format 3\x00"), junk...),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "dialin.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("opened a file that is not a database")
			}
			if !strings.Contains(err.Error(), "not a SQLite database") || !strings.Contains(err.Error(), path) {
				t.Errorf("unclear error: %v", err)
			}
			if !bytes.Equal(sqFileBytes(t, path), content) {
				t.Error("the file was changed")
			}
		})
	}
}

// A database whose pages were damaged gives an error (at Open or at Load),
// and is not changed by the attempt.
func TestSQLiteDamagedDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	users := make([]store.User, 2000)
	meetings := make([]store.Meeting, len(users))
	for i := range users {
		users[i] = sqFullUser(i)
		meetings[i] = *sqStaticMeeting(&users[i])
		meetings[i].OrganizerID = int64(i + 1)
	}
	sqBulkInsert(t, s, users, meetings)
	s.Close()
	content := sqFileBytes(t, path)
	if len(content) < 40*4096 {
		t.Fatalf("database only %d bytes", len(content))
	}
	// Overwrite pages in the middle of the file (the users and meetings
	// b-trees) with a pattern.
	for i := len(content) / 3; i < len(content)*2/3; i++ {
		content[i] = 0xA5
	}
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err == nil {
		_, err = s.Load(ctx)
		s.Close()
	}
	if err == nil {
		t.Fatal("a damaged database loaded without error")
	}
	t.Logf("error: %v", err)
	if !bytes.Equal(sqFileBytes(t, path), content) {
		t.Error("the damaged file was changed")
	}
}

func TestSQLiteRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	want := sqFileBytes(t, path)
	s, err := Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("opened another program's database")
	}
	if !strings.Contains(err.Error(), "not a dialin database") {
		t.Errorf("unclear error: %v", err)
	}
	if !bytes.Equal(sqFileBytes(t, path), want) {
		t.Error("the other program's database was changed")
	}
}

func TestSQLiteFileModes(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "dialin")
	path := filepath.Join(dir, "dialin.db")
	s := sqOpen(t, path)
	u := sqFullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil { // so that the WAL exists
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(dir); m != 0o700 {
		t.Errorf("folder mode %o, want 700", m)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(p); m != 0o600 {
			t.Errorf("%s mode %o, want 600", filepath.Base(p), m)
		}
	}
	s.Close()

	// A copy restored with a wider mode is tightened when opened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	sqOpen(t, path)
	if m := mode(path); m != 0o600 {
		t.Errorf("reopened file mode %o, want 600", m)
	}
}

// The parallel Load (ranges on several connections) gives exactly what the
// sequential one gives: every user in ID order, with gaps in the IDs, the
// rare extras (email override, policy, lock state) merged in, every
// meeting whatever its ID.
func TestSQLiteLoadParallelMatchesSequential(t *testing.T) {
	s, _ := sqTempStore(t)
	ctx := context.Background()
	users := make([]store.User, 500)
	var meetings []store.Meeting
	for i := range users {
		users[i] = sqFullUser(i)
		users[i].ConferenceID = fmt.Sprintf("%07d", i*19997%10000000)
		if i%7 != 0 { // most users have no extras
			users[i].EmailOverride, users[i].Policy, users[i].Lock = "", store.PINPolicy{}, store.LockState{}
		}
		if i%50 == 0 {
			users[i].ConferenceID = "" // dynamic mode
			continue
		}
		meetings = append(meetings, store.Meeting{ConferenceID: users[i].ConferenceID, OrganizerID: int64(i + 1), Static: true, CreatedAt: users[i].CreatedAt})
	}
	sqBulkInsert(t, s, users, meetings)
	for i, id := range []string{"9999999", "0000001", "A-12345", "5", "4999999x"} {
		m := store.Meeting{ConferenceID: id, OrganizerID: int64(1 + i), BypassLobby: true, CreatedAt: time.Now()}
		if err := s.CreateMeeting(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	for id := int64(100); id < 200; id += 3 { // gaps in the IDs
		if err := s.DeleteUser(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveLockState(ctx, 2, store.LockState{LockedByAdmin: true}); err != nil {
		t.Fatal(err)
	}

	defer func(rows int, parts func() int) { parallelLoadRows, loadParts = rows, parts }(parallelLoadRows, loadParts)
	parallelLoadRows, loadParts = 1<<62, func() int { return 1 }
	want := sqLoad(t, s)
	if !slices.IsSortedFunc(want.Users, func(a, b store.User) int { return cmp.Compare(a.ID, b.ID) }) {
		t.Error("users not in ID order")
	}
	if n := len(want.Users); n != 500-34 {
		t.Fatalf("%d users", n)
	}
	for _, parts := range []int{2, 3, 8, 10, 16} {
		parallelLoadRows, loadParts = 1, func() int { return parts }
		got := sqLoad(t, s)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d parts: the parallel Load differs from the sequential one", parts)
		}
	}
	// The write lock Load held is released.
	u := sqFullUser(1000)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// A path with characters that mean something in a URI stays the path.
func TestSQLiteOddPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a b?c#d%20e", "dialin?mode=ro.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := sqFullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	s = sqOpen(t, path)
	sqCheckUser(t, sqLoadUser(t, s, u.ID), u)
}

// sqBulkInsert writes users and their meetings straight into the tables,
// 100,000 rows per transaction, for benchmarks: the Backend's one
// transaction per user is too slow to set up a million. Users get IDs
// 1..len(users) in order.
func sqBulkInsert(tb testing.TB, s *DB, users []store.User, meetings []store.Meeting) {
	tb.Helper()
	ctx := context.Background()
	const batch = 100_000
	for start := 0; start < len(users) || start < len(meetings); start += batch {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		insUser, err := tx.Prepare(`INSERT INTO users (id, email, display_name, email_override,
			conference_id, pin_digest, pin_length, pin_set_at, policy, failures, window_start,
			total_failures, locked_until, locked_by_admin, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tb.Fatal(err)
		}
		for i := start; i < min(start+batch, len(users)); i++ {
			u := &users[i]
			r, err := userColumns(u)
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := insUser.Exec(i+1, r.email, r.displayName, r.emailOverride, r.conferenceID,
				r.digest, r.pinLength, r.pinSetAt, r.policy, r.failures, r.windowStart,
				r.totalFailures, r.lockedUntil, r.lockedByAdmin, r.createdAt); err != nil {
				tb.Fatal(err)
			}
		}
		insMeeting, err := tx.Prepare(`INSERT INTO meetings (conference_id, organizer_id, static,
			require_organizer, bypass_lobby, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tb.Fatal(err)
		}
		for i := start; i < min(start+batch, len(meetings)); i++ {
			m := &meetings[i]
			if _, err := insMeeting.Exec(m.ConferenceID, m.OrganizerID, m.Static,
				m.RequireOrganizer, m.BypassLobby, nanos(m.CreatedAt)); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkSQLiteLoad1M: Load of a million users, each with its static
// meeting, from a real file: the database's share of start-up. Reports the
// file size and the heap the snapshot holds.
//
//	go test ./store -run '^$' -bench SQLiteLoad1M -benchtime 3x
func BenchmarkSQLiteLoad1M(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "dialin.db")
	s := sqOpen(b, path)
	users := make([]store.User, n)
	meetings := make([]store.Meeting, n)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("%07d", i)
		users[i] = store.User{Email: "u" + strconv.Itoa(i) + "@example.com", DisplayName: "User " + strconv.Itoa(i),
			ConferenceID: id, PINDigest: sqDigest(id), PINLength: 5, PINSetAt: created, CreatedAt: created}
		meetings[i] = store.Meeting{ConferenceID: id, OrganizerID: int64(i + 1), Static: true, RequireOrganizer: true, CreatedAt: created}
	}
	start := time.Now()
	sqBulkInsert(b, s, users, meetings)
	b.Logf("inserted %d users and meetings in %v", n, time.Since(start).Round(time.Millisecond))
	users, meetings = nil, nil
	if err := s.Close(); err != nil { // checkpoint: the size is the file's
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	s = sqOpen(b, path)

	var heapMB float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		snap, err := s.Load(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Users) != n || len(snap.Meetings) != n {
			b.Fatalf("loaded %d users, %d meetings", len(snap.Users), len(snap.Meetings))
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heapMB = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(snap)
		b.StartTimer()
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	b.ReportMetric(heapMB, "snapshot-MB")
}
