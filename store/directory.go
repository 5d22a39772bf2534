package store

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Directory is the service the IVR and the administration API use. Reads
// on the call path (LookupConference, VerifyOrganizerPIN) use the in-memory
// index only; every write goes to the Backend in one transaction and then
// to the index, so the index never shows what the database does not hold.
type Directory struct {
	backend Backend
	hasher  *PINHasher
	sealer  cipher.AEAD // seals queued emails (outbox.go)
	now     func() time.Time
	random  io.Reader
	log     zerolog.Logger

	settings atomic.Pointer[Settings]
	conf     *confIndex

	mu    sync.Mutex           // serialises writes; taken before any userEntry.mu
	users map[int64]*userEntry // guarded by mu

	// Write-behind of failure counters (locks are written at once).
	dirty     chan *userEntry
	quit      chan struct{}
	persisted sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	retry     atomic.Bool // some entry is dirty but not queued: sweep

	mailSignal     chan struct{}  // an email was queued (MailQueued)
	mailSuperseded atomic.Uint64  // emails superseded since start (SupersededMail)
	stats          directoryStats // for metrics (stats.go)

	// The change feed of a backend several nodes share (changefeed.go).
	changes   chan ChangeEvent
	stopWatch context.CancelFunc
	resync    atomic.Bool // events were lost: reload

	passwordParams PasswordParams // administrators' password hashes (adminaccount.go)
	userTokenTTL   time.Duration  // how long a self-service token works (usertoken.go)
	dummyOnce      sync.Once
	dummyHash      string // verified against for a name that does not exist
}

// Options configure a Directory.
type Options struct {
	Backend Backend
	// Secret keys the PIN digests (LoadSecret); at least 32 bytes.
	Secret []byte
	// Now is the clock (tests inject one); default time.Now.
	Now func() time.Time
	// Random is the source of conference IDs and PINs; default crypto/rand.
	Random io.Reader
	Logger zerolog.Logger
	// PasswordParams are the costs of administrators' password hashes;
	// zero: DefaultPasswordParams.
	PasswordParams PasswordParams
	// UserTokenTTL is how long a self-service token works; zero:
	// DefaultUserTokenTTL.
	UserTokenTTL time.Duration
}

// Open loads the backend into a new Directory. Close it to flush pending
// writes and close the backend.
func Open(ctx context.Context, opts Options) (*Directory, error) {
	hasher, err := NewPINHasher(opts.Secret)
	if err != nil {
		return nil, err
	}
	sealer, err := newMailSealer(opts.Secret)
	if err != nil {
		return nil, err
	}
	d := &Directory{
		backend: opts.Backend,
		hasher:  hasher,
		sealer:  sealer,
		now:     opts.Now,
		random:  opts.Random,
		log:     opts.Logger,
		conf:    newConfIndex(),
		dirty:   make(chan *userEntry, 1024),
		quit:    make(chan struct{}),

		mailSignal:     make(chan struct{}, 1),
		passwordParams: opts.PasswordParams,
	}
	d.userTokenTTL = opts.UserTokenTTL
	if d.userTokenTTL <= 0 {
		d.userTokenTTL = DefaultUserTokenTTL
	}
	if d.passwordParams == (PasswordParams{}) {
		d.passwordParams = DefaultPasswordParams
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.random == nil {
		d.random = rand.Reader
	}
	// Listening starts before the load, so that a change another node
	// commits meanwhile is applied after it.
	if err := d.watch(ctx); err != nil {
		return nil, err
	}
	snap, err := opts.Backend.Load(ctx)
	if err != nil {
		d.stopWatching()
		return nil, fmt.Errorf("directory: load: %w", err)
	}
	d.users = make(map[int64]*userEntry, len(snap.Users))
	settings := snap.Settings
	d.settings.Store(&settings)
	for i := range snap.Users {
		u := &snap.Users[i]
		e := &userEntry{id: u.ID, pinLength: u.PINLength, conferenceID: u.ConferenceID, lock: compact(u.Lock)}
		copy(e.digest[:], u.PINDigest)
		if u.Policy != (PINPolicy{}) {
			p := u.Policy
			e.policy = &p
		}
		d.users[u.ID] = e
	}
	for _, m := range snap.Meetings {
		key, ok := ConferenceIDKey(m.ConferenceID)
		u := d.users[m.OrganizerID]
		if !ok || u == nil {
			d.stopWatching()
			return nil, fmt.Errorf("directory: meeting %s: bad ID or unknown organizer %d", m.ConferenceID, m.OrganizerID)
		}
		d.conf.put(&confEntry{key: key, organizerID: u.id, user: u, static: m.Static, requireOrganizer: m.RequireOrganizer,
			bypassLobby: m.BypassLobby, noCheckDigit: m.NoCheckDigit})
	}
	d.persisted.Add(1)
	go d.persistLoop()
	if d.changes != nil {
		d.persisted.Add(1)
		go d.applyChanges()
	}
	return d, nil
}

// Close writes pending failure counters and closes the backend. Calling
// it again does nothing.
func (d *Directory) Close() error {
	d.closeOnce.Do(func() {
		d.stopWatching()
		close(d.quit)
		d.persisted.Wait()
		// Everything still dirty, queued or not, is written before closing.
		d.sweep()
		d.closeErr = d.backend.Close()
	})
	return d.closeErr
}

// Settings are the current organisation-wide settings.
func (d *Directory) Settings() Settings { return *d.settings.Load() }

// Users is the number of users enabled for audio conferencing.
func (d *Directory) Users() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.users)
}

// ---- The call path ----------------------------------------------------

// Conference is what the IVR learns from a conference ID.
type Conference struct {
	OrganizerID      int64
	Static           bool // the organizer's own permanent ID
	RequireOrganizer bool // only the organizer (with PIN) can start the meeting
	BypassLobby      bool // phone callers skip the lobby
	LobbyAdmission   string
	// EntryExitAnnouncements is the setting of that name: what the meeting
	// plays as callers join and leave, from its start ("" plays tones).
	EntryExitAnnouncements string
}

// find is the entry of conference ID id, nil if none. A mistyped ID (bad
// check digit) is refused before any lookup unless some ID was imported
// without a check digit. No lock, no allocation.
func (d *Directory) find(id string) *confEntry {
	if !d.MayExist(id) {
		return nil
	}
	key, _ := ConferenceIDKey(id)
	return d.conf.get(key)
}

// MayExist reports whether an entered ID may be one of the directory's by
// its form: seven digits with a right check digit, or any seven digits
// while an ID imported without a check digit exists (a typo of that one
// cannot be told from its form). False is a typo, never a guess that could
// have hit. It allocates nothing.
func (d *Directory) MayExist(id string) bool {
	if ValidConferenceID(id) {
		return true
	}
	_, ok := ConferenceIDKey(id)
	return ok && d.conf.unchecked.Load() > 0
}

// LookupConference finds a conference ID (see find). It takes no lock a
// writer holds for more than one map operation, and allocates nothing.
func (d *Directory) LookupConference(id string) (Conference, bool) {
	e := d.find(id)
	if e == nil {
		return Conference{}, false
	}
	s := d.settings.Load()
	c := Conference{OrganizerID: e.organizerID, Static: e.static, LobbyAdmission: s.LobbyAdmission,
		EntryExitAnnouncements: s.EntryExitAnnouncements}
	c.RequireOrganizer, c.BypassLobby = admissionOf(e.static, e.requireOrganizer, e.bypassLobby, s)
	return c, true
}

// admissionOf is the one rule of who may start a meeting and who skips
// the lobby, for the call path and for what the API lists: a dynamic
// meeting keeps its own flags; a static conference ID follows the
// settings (anonymous_can_start, dial_in_bypass_lobby), whatever its row
// stores.
func admissionOf(static, requireOrganizer, bypassLobby bool, s *Settings) (require, bypass bool) {
	if static {
		return !s.AnonymousCanStart, s.DialInBypassLobby
	}
	return requireOrganizer, bypassLobby
}

// effective sets m's flags to what a call to it does (admissionOf).
func (d *Directory) effective(m *Meeting) {
	m.RequireOrganizer, m.BypassLobby = admissionOf(m.Static, m.RequireOrganizer, m.BypassLobby, d.settings.Load())
}

// PINResult is the outcome of a PIN attempt.
type PINResult int

const (
	PINWrong  PINResult = iota // wrong PIN (or no such conference)
	PINOK                      // right PIN: the caller is the organizer
	PINLocked                  // locked, now or before: the caller joins as an attendee
)

func (r PINResult) String() string {
	switch r {
	case PINOK:
		return "ok"
	case PINLocked:
		return "locked"
	}
	return "wrong"
}

// VerifyOrganizerPIN checks pin against the organizer of conference id.
// Failures count toward the lockout; a failure that locks the PIN is
// written to the database before PINLocked is returned (the error is set if
// that write failed; the PIN is locked in memory all the same). The right
// PIN on an unlocked PIN allocates nothing and waits on nothing.
func (d *Directory) VerifyOrganizerPIN(ctx context.Context, id, pin string) (PINResult, error) {
	e := d.find(id)
	if e == nil {
		return PINWrong, nil
	}
	u := e.user
	now := d.now()
	settings := d.settings.Load()

	u.mu.Lock()
	rules := lockRulesFor(settings, u.pinLength, u.policy)
	lock := u.lock.expand()
	outcome, changed := rules.record(&lock, d.hasher.Match(&u.digest, pin), now)
	queue := changed && !u.dirty // already queued otherwise: one write covers both
	if changed {
		u.lock = compact(lock)
		u.dirty = true
	}
	u.mu.Unlock()

	switch outcome {
	case attemptOK, attemptWrong:
		if queue {
			d.markDirty(u)
		}
		if outcome == attemptOK {
			return PINOK, nil
		}
		return PINWrong, nil
	case attemptLockedNow, attemptLockedAdmin:
		d.stats.lockouts.Add(1)
		// The caller hanging up must not cancel the write of its lock.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := d.persistNow(wctx, u)
		cancel()
		if err != nil {
			d.retry.Store(true) // still dirty: the write-behind loop retries it
			return PINLocked, fmt.Errorf("directory: persist PIN lock of user %d: %w", u.id, err)
		}
		d.log.Warn().Int64("user_id", u.id).Bool("until_unlocked", outcome == attemptLockedAdmin).Msg("PIN locked after failed attempts")
		return PINLocked, nil
	}
	return PINLocked, nil
}

// lockRulesFor is the effective lockout of a user: the organisation's,
// with the per-user policy's limits where it sets them.
func lockRulesFor(s *Settings, pinLength int, policy *PINPolicy) lockRules {
	lo := s.Lockout
	r := lockRules{window: lo.Window, lockFor: lo.LocalLockDuration,
		localLimit: lo.LocalLimitFor(pinLength), globalLimit: lo.GlobalLimitFor(pinLength)}
	if policy != nil {
		if policy.LocalLimit != nil {
			r.localLimit = *policy.LocalLimit
		}
		if policy.GlobalLimit != nil {
			r.globalLimit = *policy.GlobalLimit
		}
	}
	return r
}

// markDirty queues u's counters for the write-behind loop without ever
// blocking the caller: if the queue is full (the database is slow), the
// entry stays dirty and the loop's next sweep writes it.
func (d *Directory) markDirty(u *userEntry) {
	select {
	case d.dirty <- u:
	default:
		d.retry.Store(true)
	}
}

// sweepInterval is how often the write-behind loop looks for entries left
// dirty by a full queue or a failed write.
const sweepInterval = 5 * time.Second

func (d *Directory) persistLoop() {
	defer d.persisted.Done()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	for {
		select {
		case u := <-d.dirty:
			d.persist(u)
		case <-sweep.C:
			if d.retry.Swap(false) {
				d.sweep()
			}
		case <-d.quit:
			return
		}
	}
}

// sweep writes every entry still marked dirty.
func (d *Directory) sweep() {
	d.mu.Lock()
	var dirty []*userEntry
	for _, u := range d.users {
		u.mu.Lock()
		if u.dirty {
			dirty = append(dirty, u)
		}
		u.mu.Unlock()
	}
	d.mu.Unlock()
	for _, u := range dirty {
		d.persist(u)
	}
}

// persist writes u's current lock state if it changed since last written;
// a failed write leaves it dirty for the next sweep.
func (d *Directory) persist(u *userEntry) {
	if err := d.persistNow(context.Background(), u); err != nil && !errors.Is(err, ErrNotFound) {
		d.retry.Store(true)
		d.log.Error().Err(err).Int64("user_id", u.id).Msg("saving PIN failure counters; will retry")
	}
}

// persistNow writes u's lock state now. The lock order is d.mu, then u.mu,
// as for every write, and the state is read under both so a concurrent
// unlock is never overwritten by an older copy.
func (d *Directory) persistNow(ctx context.Context, u *userEntry) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.users[u.id] != u {
		return nil // disabled meanwhile
	}
	u.mu.Lock()
	if !u.dirty {
		u.mu.Unlock()
		return nil
	}
	state := u.lock.expand()
	u.dirty = false
	u.mu.Unlock()
	if kept, err := d.keepOthersLock(ctx, u, state); kept || err != nil {
		return err
	}
	if err := d.backend.SaveLockState(ctx, u.id, state); err != nil {
		u.mu.Lock()
		u.dirty = true
		u.mu.Unlock()
		return err
	}
	return nil
}

// ---- Administration ---------------------------------------------------

// EnableRequest enables a user for audio conferencing.
type EnableRequest struct {
	Email         string
	DisplayName   string
	EmailOverride string
	Policy        PINPolicy
	// Mail: the welcome email with the conference ID and PIN is queued
	// when send_emails is on, unless Mail.Skip.
	Mail MailOptions
}

// EnableUser enables a user: a conference ID (static mode) and a PIN.
func (d *Directory) EnableUser(ctx context.Context, req EnableRequest) (Change, error) {
	email := strings.TrimSpace(req.Email)
	if err := checkAddress("email", email); err != nil {
		return Change{}, err
	}
	if o := strings.TrimSpace(req.EmailOverride); o != "" {
		if err := checkAddress("email_override", o); err != nil {
			return Change{}, err
		}
	}
	if err := validatePolicy(req.Policy); err != nil {
		return Change{}, err
	}
	if err := checkMailOptions(req.Mail); err != nil {
		return Change{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.settings.Load()
	now := d.now().UTC()
	u := User{
		Email:         email,
		DisplayName:   strings.TrimSpace(req.DisplayName),
		EmailOverride: strings.TrimSpace(req.EmailOverride),
		Policy:        req.Policy,
		PINSetAt:      now,
		CreatedAt:     now,
	}
	var meeting *Meeting
	if s.ConferenceIDMode == ConferenceIDStatic {
		id, err := d.newConferenceID()
		if err != nil {
			return Change{}, err
		}
		u.ConferenceID = id
		meeting = &Meeting{ConferenceID: id, Static: true, CreatedAt: now}
	}
	rules := pinRules(s, &u.Policy, u.ConferenceID)
	pin, err := GeneratePIN(d.random, rules)
	if err != nil {
		return Change{}, fmt.Errorf("directory: generate PIN: %w", err)
	}
	digest := d.hasher.Digest(pin)
	u.PINDigest = digest[:]
	u.PINLength = len(pin)
	mail, err := d.mailFor(ctx, MailEnabled, &u, pin, req.Mail, false)
	if err != nil {
		return Change{}, err
	}
	d.note(ctx, email, "user "+email, "conference ID "+conferenceIDText(u.ConferenceID)+"; "+mailNote(mail))
	if err := d.backend.CreateUser(ctx, &u, meeting, mail); err != nil {
		return Change{}, fmt.Errorf("directory: enable %s: %w", email, err)
	}
	e := &userEntry{id: u.ID, digest: digest, pinLength: u.PINLength, conferenceID: u.ConferenceID}
	if u.Policy != (PINPolicy{}) {
		p := u.Policy
		e.policy = &p
	}
	d.users[u.ID] = e
	if meeting != nil {
		key, _ := ConferenceIDKey(meeting.ConferenceID)
		d.conf.put(&confEntry{key: key, organizerID: e.id, user: e, static: true})
	}
	return Change{User: u, PIN: pin, MailQueued: d.mailQueued(mail)}, nil
}

// newConferenceID draws IDs until one is free; with d.mu held. When the
// space (10^6 IDs) is nearly full, random draws rarely hit a free one, so
// after a few misses it scans from a random point instead.
func (d *Directory) newConferenceID() (string, error) {
	for range 32 {
		id, err := NewConferenceID(d.random)
		if err != nil {
			return "", fmt.Errorf("directory: conference ID: %w", err)
		}
		if key, _ := ConferenceIDKey(id); !d.conf.has(key) {
			return id, nil
		}
	}
	start, err := NewConferenceID(d.random)
	if err != nil {
		return "", fmt.Errorf("directory: conference ID: %w", err)
	}
	base := start[:ConferenceIDLength-1]
	for i := range 1000000 {
		n := (atoi6(base) + i) % 1000000
		id := withCheckDigit(n)
		if key, _ := ConferenceIDKey(id); !d.conf.has(key) {
			return id, nil
		}
	}
	return "", ErrNoConferenceID
}

func atoi6(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// withCheckDigit formats the 6-digit number n as a conference ID.
func withCheckDigit(n int) string {
	b := []byte(fmt.Sprintf("%06d", n))
	return string(append(b, dammCheckDigit(b)))
}

// pinRules is the effective PIN policy of a user.
func pinRules(s *Settings, p *PINPolicy, conferenceID string) PINRules {
	r := PINRules{Length: s.PINLength, BlockCommon: s.BlockCommonPINs, ConferenceID: conferenceID}
	if p != nil && p.Length != nil {
		r.Length = *p.Length
	}
	if p != nil && p.BlockCommon != nil {
		r.BlockCommon = *p.BlockCommon
	}
	return r
}

func validatePolicy(p PINPolicy) error {
	if p.Length != nil && (*p.Length < MinPINLength || *p.Length > MaxPINLength) {
		return fmt.Errorf("%w: policy length %d is not %d-%d", ErrInvalidInput, *p.Length, MinPINLength, MaxPINLength)
	}
	if p.LocalLimit != nil && *p.LocalLimit < 1 {
		return fmt.Errorf("%w: policy local_limit must be at least 1", ErrInvalidInput)
	}
	if p.GlobalLimit != nil && *p.GlobalLimit < 1 {
		return fmt.Errorf("%w: policy global_limit must be at least 1", ErrInvalidInput)
	}
	if p.LocalLimit != nil && p.GlobalLimit != nil && *p.LocalLimit > *p.GlobalLimit {
		return fmt.Errorf("%w: policy local_limit %d is above global_limit %d", ErrInvalidInput, *p.LocalLimit, *p.GlobalLimit)
	}
	return nil
}
