package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

func testSettingsRoundTrip(t *testing.T, e Engine) {
	s := e.fresh(t)
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
	if got := LoadFull(t, s).Settings; !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", got, want)
	}
}

func testUserRoundTrip(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()

	u := FullUser(1)
	m := StaticMeeting(&u)
	if err := s.CreateUser(ctx, &u, m, nil); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || m.OrganizerID != u.ID {
		t.Fatalf("u.ID = %d, meeting organizer %d", u.ID, m.OrganizerID)
	}

	// Load, GetUser and ListUsers all give back every field.
	snap := LoadFull(t, s)
	if len(snap.Users) != 1 || len(snap.Meetings) != 1 {
		t.Fatalf("loaded %d users, %d meetings", len(snap.Users), len(snap.Meetings))
	}
	CheckUser(t, snap.Users[0], u)
	checkMeeting(t, snap.Meetings[0], *m)
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	CheckUser(t, got, u)
	list, err := s.ListUsers(ctx, 0, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListUsers = %d users, %v", len(list), err)
	}
	CheckUser(t, list[0], u)
	ms, err := s.ListMeetings(ctx, store.MeetingFilter{OrganizerID: u.ID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("ListMeetings = %v, %v", ms, err)
	}
	checkMeeting(t, ms[0], *m)

	// UpdateUser replaces every field but the ID and conference ID.
	v := FullUser(2)
	v.ID, v.ConferenceID = u.ID, u.ConferenceID
	if err := s.UpdateUser(ctx, &v, nil); err != nil {
		t.Fatal(err)
	}
	CheckUser(t, LoadUser(t, s, u.ID), v)

	// Back to zero values: no policy, zero times, no override.
	w := store.User{ID: u.ID, Email: "bare@example.com", ConferenceID: u.ConferenceID, PINDigest: Digest("bare"), PINLength: 4}
	if err := s.UpdateUser(ctx, &w, nil); err != nil {
		t.Fatal(err)
	}
	CheckUser(t, LoadUser(t, s, u.ID), w)

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
	CheckUser(t, LoadUser(t, s, u.ID), w)
	if err := s.SaveLockState(ctx, u.ID, store.LockState{}); err != nil {
		t.Fatal(err)
	}
	w.Lock = store.LockState{}
	CheckUser(t, LoadUser(t, s, u.ID), w)
}

// A user in dynamic mode has no conference ID (NULL, so many can coexist).
func testDynamicModeUsers(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	for i := range 3 {
		u := FullUser(i)
		u.ConferenceID = ""
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatal(err)
		}
		CheckUser(t, LoadUser(t, s, u.ID), u)
	}
	if n := len(LoadFull(t, s).Meetings); n != 0 {
		t.Errorf("%d meetings, want none", n)
	}
}

func testTimesRoundTripExactly(t *testing.T, e Engine) {
	s := e.fresh(t)
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
		u := store.User{Email: fmt.Sprintf("t%d@example.com", i), PINDigest: Digest("x"), PINLength: 5,
			PINSetAt: tm, CreatedAt: tm, Lock: store.LockState{WindowStart: tm, LockedUntil: tm}}
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatalf("%v: %v", tm, err)
		}
		CheckUser(t, LoadUser(t, s, u.ID), u)
	}

	// Outside what Unix nanoseconds hold: refused, not stored wrong.
	far := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	u := store.User{Email: "far@example.com", PINDigest: Digest("x"), PINLength: 5, CreatedAt: far}
	mustErr(t, s.CreateUser(ctx, &u, nil, nil), store.ErrInvalidInput, "2300")
	mustErr(t, s.SaveLockState(ctx, 1, store.LockState{LockedUntil: far}), store.ErrInvalidInput, "2300")
}

func testMeetingRoundTrip(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	u := FullUser(1)
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
		checkMeeting(t, got[i], variants[i])
	}
	if err := s.DeleteMeeting(ctx, "2000002"); err != nil {
		t.Fatal(err)
	}
	mustErr(t, s.DeleteMeeting(ctx, "2000002"), store.ErrNotFound, "2000002")
	if n := len(LoadFull(t, s).Meetings); n != 3 {
		t.Errorf("%d meetings after delete, want 3", n)
	}
	if ms, err := s.ListMeetings(ctx, store.MeetingFilter{OrganizerID: 999}); err != nil || len(ms) != 0 {
		t.Errorf("ListMeetings(unknown) = %v, %v", ms, err)
	}
}

func testErrExists(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	a := FullUser(1)
	if err := s.CreateUser(ctx, &a, StaticMeeting(&a), nil); err != nil {
		t.Fatal(err)
	}
	dyn := store.Meeting{ConferenceID: "3000003", OrganizerID: a.ID, CreatedAt: time.Now()}
	if err := s.CreateMeeting(ctx, &dyn); err != nil {
		t.Fatal(err)
	}
	before := LoadFull(t, s)

	t.Run("email, any case", func(t *testing.T) {
		b := FullUser(2)
		b.Email = strings.ToUpper(a.Email)
		mustErr(t, s.CreateUser(ctx, &b, StaticMeeting(&b), nil), store.ErrExists, "email")
		if b.ID != 0 {
			t.Errorf("b.ID = %d after a failed create", b.ID)
		}
	})
	t.Run("conference ID of another user", func(t *testing.T) {
		b := FullUser(2)
		b.ConferenceID = a.ConferenceID
		mustErr(t, s.CreateUser(ctx, &b, StaticMeeting(&b), nil), store.ErrExists, "conference ID")
		mustErr(t, s.CreateUser(ctx, &b, nil, nil), store.ErrExists, "conference ID")
	})
	t.Run("user's ID taken by a dynamic meeting", func(t *testing.T) {
		b := FullUser(2)
		b.ConferenceID = dyn.ConferenceID
		mustErr(t, s.CreateUser(ctx, &b, StaticMeeting(&b), nil), store.ErrExists, "conference ID")
		mustErr(t, s.CreateUser(ctx, &b, nil, nil), store.ErrExists, "conference ID")
	})
	t.Run("meeting takes a user's ID", func(t *testing.T) {
		m := store.Meeting{ConferenceID: a.ConferenceID, OrganizerID: a.ID}
		mustErr(t, s.CreateMeeting(ctx, &m), store.ErrExists, "conference ID")
		m.ConferenceID = dyn.ConferenceID
		mustErr(t, s.CreateMeeting(ctx, &m), store.ErrExists, "conference ID")
	})
	t.Run("meeting takes the ID of a user without meeting", func(t *testing.T) {
		c := FullUser(3) // a static ID whose meeting is missing
		if err := s.CreateUser(ctx, &c, nil, nil); err != nil {
			t.Fatal(err)
		}
		defer s.DeleteUser(ctx, c.ID)
		m := store.Meeting{ConferenceID: c.ConferenceID, OrganizerID: a.ID}
		mustErr(t, s.CreateMeeting(ctx, &m), store.ErrExists, "conference ID")
		// The owner may have its static meeting back.
		m.OrganizerID, m.Static = c.ID, true
		if err := s.CreateMeeting(ctx, &m); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the user is not created when its meeting fails", func(t *testing.T) {
		b := FullUser(2)
		m := StaticMeeting(&b)
		m.ConferenceID = dyn.ConferenceID // differs from b's: only the meeting insert fails
		mustErr(t, s.CreateUser(ctx, &b, m, nil), store.ErrExists, "conference ID")
		for _, u := range LoadFull(t, s).Users {
			if u.Email == b.Email {
				t.Fatalf("user %d was created without its meeting", u.ID)
			}
		}
	})
	t.Run("update to another user's email", func(t *testing.T) {
		b := FullUser(2)
		if err := s.CreateUser(ctx, &b, StaticMeeting(&b), nil); err != nil {
			t.Fatal(err)
		}
		defer s.DeleteUser(ctx, b.ID)
		b.Email = a.Email
		mustErr(t, s.UpdateUser(ctx, &b, nil), store.ErrExists, "email")
	})
	t.Run("replace with a taken ID", func(t *testing.T) {
		b := FullUser(2)
		if err := s.CreateUser(ctx, &b, StaticMeeting(&b), nil); err != nil {
			t.Fatal(err)
		}
		defer s.DeleteUser(ctx, b.ID)
		mustErr(t, s.ReplaceConferenceID(ctx, b.ID, b.ConferenceID, a.ConferenceID, nil), store.ErrExists, "conference ID")
		mustErr(t, s.ReplaceConferenceID(ctx, b.ID, b.ConferenceID, dyn.ConferenceID, nil), store.ErrExists, "conference ID")
		CheckUser(t, LoadUser(t, s, b.ID), b)
	})

	// Failed writes left nothing behind.
	after := LoadFull(t, s)
	if len(after.Users) != len(before.Users) || len(after.Meetings) != len(before.Meetings) {
		t.Errorf("after failed writes: %d users, %d meetings; want %d, %d",
			len(after.Users), len(after.Meetings), len(before.Users), len(before.Meetings))
	}
}

func testErrNotFound(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	ghost := FullUser(1)
	ghost.ID = 12345
	mustErr(t, s.UpdateUser(ctx, &ghost, nil), store.ErrNotFound, "12345")
	mustErr(t, s.SaveLockState(ctx, 12345, store.LockState{Failures: 1}), store.ErrNotFound, "12345")
	mustErr(t, s.DeleteUser(ctx, 12345), store.ErrNotFound, "12345")
	_, err := s.GetUser(ctx, 12345)
	mustErr(t, err, store.ErrNotFound, "12345")
	mustErr(t, s.ReplaceConferenceID(ctx, 12345, "1000001", "1000002", nil), store.ErrNotFound, "12345")
	mustErr(t, s.DeleteMeeting(ctx, "1000001"), store.ErrNotFound, "1000001")
	m := store.Meeting{ConferenceID: "1000001", OrganizerID: 12345}
	mustErr(t, s.CreateMeeting(ctx, &m), store.ErrNotFound, "12345")
	if snap := LoadFull(t, s); len(snap.Users)+len(snap.Meetings) != 0 {
		t.Errorf("something was written: %+v", snap)
	}
}

func testInvalidInput(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	u := FullUser(1)
	u.PINDigest = nil
	mustErr(t, s.CreateUser(ctx, &u, nil, nil), store.ErrInvalidInput, "digest")
	_, err := s.ListUsers(ctx, 0, 0)
	mustErr(t, err, store.ErrInvalidInput, "limit")
	mustErr(t, s.ReplaceConferenceID(ctx, 1, "1000001", "", nil), store.ErrInvalidInput, "empty")
}

func testReplaceConferenceID(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	a, b := FullUser(1), FullUser(2)
	ma := StaticMeeting(&a)
	if err := s.CreateUser(ctx, &a, ma, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &b, StaticMeeting(&b), nil); err != nil {
		t.Fatal(err)
	}
	oldID, newID := a.ConferenceID, "4000004"
	if err := s.ReplaceConferenceID(ctx, a.ID, oldID, newID, nil); err != nil {
		t.Fatal(err)
	}
	a.ConferenceID = newID
	CheckUser(t, LoadUser(t, s, a.ID), a)
	ms, err := s.ListMeetings(ctx, store.MeetingFilter{OrganizerID: a.ID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("ListMeetings = %v, %v", ms, err)
	}
	want := *ma
	want.ConferenceID = newID
	want.NoCheckDigit = !store.ValidConferenceID(newID) // the flag follows the ID
	checkMeeting(t, ms[0], want)                        // moved with its options and creation time

	// A stale old ID (already replaced) is refused and changes nothing.
	mustErr(t, s.ReplaceConferenceID(ctx, a.ID, oldID, "4000005", nil), store.ErrNotFound, oldID)

	// The old ID is free: another user's meeting may take it.
	m := store.Meeting{ConferenceID: oldID, OrganizerID: b.ID, CreatedAt: time.Now()}
	if err := s.CreateMeeting(ctx, &m); err != nil {
		t.Fatalf("old ID not freed: %v", err)
	}
	// So may a user.
	c := FullUser(3)
	c.ConferenceID = "4000006"
	if err := s.CreateUser(ctx, &c, StaticMeeting(&c), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceConferenceID(ctx, c.ID, c.ConferenceID, newID, nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("took a's new ID: %v", err)
	}
}

func testDeleteUserCascades(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	a, b := FullUser(1), FullUser(2)
	if err := s.CreateUser(ctx, &a, StaticMeeting(&a), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &b, StaticMeeting(&b), nil); err != nil {
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
	snap := LoadFull(t, s)
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
	if err := s.CreateUser(ctx, &a2, StaticMeeting(&a2), nil); err != nil {
		t.Fatal(err)
	}
	if a2.ID == a.ID {
		t.Errorf("user ID %d reused", a.ID)
	}
}

func testListUsersPages(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	var ids []int64
	for i := range 7 {
		u := FullUser(i)
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
