package store

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The call-path benchmarks use a directory of one million users, built from
// an in-memory snapshot (snapshotBackend) so that they measure the index,
// not SQLite; BenchmarkOpenSQLite1M (in store/sqlite) measures start-up from
// a real file.

const benchUsers = 1_000_000

var testSecret = bytes.Repeat([]byte{7}, 32)

var (
	benchOnce sync.Once
	benchSnap *Snapshot
	benchPINs []string // benchPINs[i] is user i's PIN
)

// millionUsers builds the snapshot once per test binary: user i has the
// conference ID withCheckDigit(i) (the whole 10^6 ID space) and a PIN.
func millionUsers(tb testing.TB) (*Snapshot, []string) {
	benchOnce.Do(func() {
		h, err := NewPINHasher(testSecret)
		if err != nil {
			tb.Fatal(err)
		}
		snap := &Snapshot{Settings: DefaultSettings(), Users: make([]User, benchUsers), Meetings: make([]Meeting, benchUsers)}
		pins := make([]string, benchUsers)
		digests := make([][32]byte, benchUsers)
		created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range benchUsers {
			id := withCheckDigit(i)
			pins[i] = strconv.Itoa(10000 + i%90000)
			digests[i] = h.Digest(pins[i])
			snap.Users[i] = User{ID: int64(i + 1), Email: "u" + strconv.Itoa(i) + "@example.com", ConferenceID: id,
				PINDigest: digests[i][:], PINLength: 5, CreatedAt: created}
			snap.Meetings[i] = Meeting{ConferenceID: id, OrganizerID: int64(i + 1), Static: true, CreatedAt: created}
		}
		benchSnap, benchPINs = snap, pins
	})
	return benchSnap, benchPINs
}

// snapshotBackend serves a fixed snapshot; writes are refused. It is a unit
// below the directory, for benchmarks of the index alone.
type snapshotBackend struct {
	snap                *Snapshot
	CallRecordBackend   // nil: the index's benchmarks write no call records
	AdminAccountBackend // nil: the index's benchmarks have no administrators
	SignInLinkBackend   // nil: the index's benchmarks send no sign-in links
}

var errReadOnly = errors.New("snapshot backend is read-only")

func (b snapshotBackend) Load(context.Context) (*Snapshot, error)      { return b.snap, nil }
func (snapshotBackend) AppendAudit(context.Context, *AuditEntry) error { return errReadOnly }
func (snapshotBackend) ListAudit(context.Context, AuditFilter) ([]AuditEntry, error) {
	return nil, nil
}
func (snapshotBackend) SaveSettings(context.Context, Settings) error { return errReadOnly }
func (snapshotBackend) CreateUser(context.Context, *User, *Meeting, *SealedMail) error {
	return errReadOnly
}
func (snapshotBackend) UpdateUser(context.Context, *User, *SealedMail) error  { return errReadOnly }
func (snapshotBackend) SaveLockState(context.Context, int64, LockState) error { return nil }
func (snapshotBackend) SaveUserToken(context.Context, int64, []byte, time.Time) error {
	return nil
}
func (snapshotBackend) UserIDByToken(context.Context, []byte) (int64, time.Time, error) {
	return 0, time.Time{}, ErrNotFound
}
func (snapshotBackend) DeleteUserToken(context.Context, int64) error { return errReadOnly }
func (snapshotBackend) ReplaceConferenceID(context.Context, int64, string, string, *SealedMail) error {
	return errReadOnly
}
func (snapshotBackend) DeleteUser(context.Context, int64) error       { return errReadOnly }
func (snapshotBackend) CreateMeeting(context.Context, *Meeting) error { return errReadOnly }
func (snapshotBackend) DeleteMeeting(context.Context, string) error   { return errReadOnly }
func (snapshotBackend) GetUser(context.Context, int64) (User, error)  { return User{}, errReadOnly }
func (snapshotBackend) ListUsers(context.Context, int64, int) ([]User, error) {
	return nil, errReadOnly
}
func (snapshotBackend) SearchUsers(context.Context, string, int64, int) ([]User, error) {
	return nil, errReadOnly
}
func (snapshotBackend) ListMeetings(context.Context, MeetingFilter) ([]Meeting, error) {
	return nil, errReadOnly
}
func (snapshotBackend) GetMeeting(context.Context, string) (Meeting, error) {
	return Meeting{}, errReadOnly
}
func (snapshotBackend) GetUserByEmail(context.Context, string) (User, error) {
	return User{}, errReadOnly
}
func (snapshotBackend) QueueMail(context.Context, *SealedMail) error { return errReadOnly }
func (snapshotBackend) DueMail(context.Context, time.Time, int) ([]SealedMail, error) {
	return nil, errReadOnly
}
func (snapshotBackend) PendingMailOf(context.Context, int64, string) ([]SealedMail, error) {
	return nil, errReadOnly
}
func (snapshotBackend) GetMail(context.Context, int64) (SealedMail, error) {
	return SealedMail{}, errReadOnly
}
func (snapshotBackend) ListMail(context.Context, MailFilter) ([]SealedMail, error) {
	return nil, errReadOnly
}
func (snapshotBackend) FinishMail(context.Context, int64, MailStatus, string, time.Time) error {
	return errReadOnly
}
func (snapshotBackend) GiveUpMail(context.Context, int64, string, time.Time) error {
	return errReadOnly
}
func (snapshotBackend) RetryMail(context.Context, int64, time.Time) error { return errReadOnly }
func (snapshotBackend) PruneMail(context.Context, time.Time) (int, error) { return 0, errReadOnly }
func (snapshotBackend) RecordMailFailure(context.Context, int64, time.Time, string) error {
	return errReadOnly
}
func (snapshotBackend) CountMail(context.Context) (int, error) { return 0, errReadOnly }
func (snapshotBackend) Close() error                           { return nil }
func (snapshotBackend) Probe(context.Context) error            { return errReadOnly }

func openMillion(b *testing.B) (*Directory, []string) {
	snap, pins := millionUsers(b)
	d, err := Open(context.Background(), Options{Backend: snapshotBackend{snap: snap}, Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d, pins
}

// BenchmarkLookupConference1M: conference ID → organizer, the IVR's first
// question, among a million IDs.
func BenchmarkLookupConference1M(b *testing.B) {
	d, _ := openMillion(b)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = withCheckDigit(rand.IntN(benchUsers))
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, ok := d.LookupConference(ids[i&4095]); !ok {
			b.Fatal("not found")
		}
		i++
	}
}

// BenchmarkVerifyPIN1M: the organizer's right PIN, checked in constant
// time against its HMAC digest.
func BenchmarkVerifyPIN1M(b *testing.B) {
	d, pins := openMillion(b)
	type try struct{ id, pin string }
	tries := make([]try, 4096)
	for i := range tries {
		n := rand.IntN(benchUsers)
		tries[i] = try{withCheckDigit(n), pins[n]}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		t := tries[i&4095]
		if r, _ := d.VerifyOrganizerPIN(ctx, t.id, t.pin); r != PINOK {
			b.Fatal(r)
		}
		i++
	}
}

// BenchmarkIndexBuild1M: building the index from a loaded snapshot, and the
// heap the index keeps (index-MB).
func BenchmarkIndexBuild1M(b *testing.B) {
	snap, _ := millionUsers(b)
	var mb float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d, err := Open(context.Background(), Options{Backend: snapshotBackend{snap: snap}, Secret: testSecret})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		mb = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(d)
		d.Close()
	}
	b.ReportMetric(mb, "index-MB")
}
