package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

func intp(v int) *int { return &v }

func boolp(v bool) *bool { return &v }

// Digest is a stand-in PIN digest, distinct per seed.
func Digest(seed string) []byte {
	d := sha256.Sum256([]byte(seed))
	return d[:]
}

// FullUser has every field set, times with nanoseconds in a zone that
// is not UTC, so that a lossy round trip shows.
func FullUser(n int) store.User {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(n) * time.Hour)
	return store.User{
		Email:         fmt.Sprintf("user%d@example.com", n),
		DisplayName:   fmt.Sprintf("User Nº%d «quoted»", n),
		EmailOverride: fmt.Sprintf("other%d@example.org", n),
		ConferenceID:  fmt.Sprintf("%07d", 1000000+n),
		PINDigest:     Digest("pin" + strconv.Itoa(n)),
		PINLength:     6,
		PINSetAt:      base.Add(1),
		Policy: store.PINPolicy{
			Length:      intp(8),
			BlockCommon: boolp(false),
			LocalLimit:  intp(7),
			GlobalLimit: intp(77),
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

// StaticMeeting is u's static meeting, every flag set.
func StaticMeeting(u *store.User) *store.Meeting {
	return &store.Meeting{
		ConferenceID:     u.ConferenceID,
		Static:           true,
		RequireOrganizer: true,
		BypassLobby:      true,
		CreatedAt:        u.CreatedAt.Add(123),
	}
}

// sameTime: equal instants, and a loaded time is in UTC (or zero).
func sameTime(t *testing.T, what string, got, want time.Time) {
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

// CheckUser compares two users, their times as instants.
func CheckUser(t *testing.T, got, want store.User) {
	t.Helper()
	sameTime(t, "PINSetAt", got.PINSetAt, want.PINSetAt)
	sameTime(t, "Lock.WindowStart", got.Lock.WindowStart, want.Lock.WindowStart)
	sameTime(t, "Lock.LockedUntil", got.Lock.LockedUntil, want.Lock.LockedUntil)
	sameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	got.PINSetAt, want.PINSetAt = time.Time{}, time.Time{}
	got.Lock.WindowStart, want.Lock.WindowStart = time.Time{}, time.Time{}
	got.Lock.LockedUntil, want.Lock.LockedUntil = time.Time{}, time.Time{}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("user:\n got %+v\nwant %+v", got, want)
	}
}

// checkMeeting compares two meetings, their times as instants.
func checkMeeting(t *testing.T, got, want store.Meeting) {
	t.Helper()
	sameTime(t, "meeting CreatedAt", got.CreatedAt, want.CreatedAt)
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("meeting:\n got %+v\nwant %+v", got, want)
	}
}

// LoadFull is Load with each user's profile (name, email, dates, which Load
// leaves out) filled in from GetUser, after checking that the fields Load
// does read agree with GetUser's.
func LoadFull(t *testing.T, s store.Backend) *store.Snapshot {
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

// LoadUser finds user id in a fresh Load.
func LoadUser(t *testing.T, s store.Backend, id int64) store.User {
	t.Helper()
	for _, u := range LoadFull(t, s).Users {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("user %d not in Load", id)
	return store.User{}
}

func mustErr(t *testing.T, err, target error, mention string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Errorf("err %q does not mention %q", err, mention)
	}
}

func testEmptyStore(t *testing.T, e Engine) {
	s := e.fresh(t)
	snap := LoadFull(t, s)
	if !reflect.DeepEqual(snap.Settings, store.DefaultSettings()) {
		t.Errorf("settings = %+v, want the defaults", snap.Settings)
	}
	if len(snap.Users) != 0 || len(snap.Meetings) != 0 {
		t.Errorf("users %d, meetings %d, want none", len(snap.Users), len(snap.Meetings))
	}
}

func testRestartKeepsEverything(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e(t)
	s := open(t)
	st := store.DefaultSettings()
	st.PINLength, st.DialInNumbers = 8, []string{"+1 555 0100"}
	if err := s.SaveSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	var deleted int64
	for i := range 5 {
		u := FullUser(i)
		if err := s.CreateUser(ctx, &u, StaticMeeting(&u), nil); err != nil {
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
	before := LoadFull(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t)
	after := LoadFull(t, s)
	if !reflect.DeepEqual(after.Settings, before.Settings) {
		t.Errorf("settings %+v, want %+v", after.Settings, before.Settings)
	}
	if len(after.Users) != len(before.Users) || len(after.Meetings) != len(before.Meetings) {
		t.Fatalf("%d users, %d meetings; want %d, %d", len(after.Users), len(after.Meetings),
			len(before.Users), len(before.Meetings))
	}
	for i := range before.Users {
		CheckUser(t, after.Users[i], before.Users[i])
	}
	for i := range before.Meetings {
		checkMeeting(t, after.Meetings[i], before.Meetings[i])
	}
	// The IDs survive the restart: the deleted ID stays retired.
	u := FullUser(9)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	if u.ID <= deleted {
		t.Errorf("new user got ID %d, deleted was %d", u.ID, deleted)
	}
}
