package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ChangeFeed is what the Directory needs of a backend that several nodes
// share (store/postgres): to hear of every change any node commits, so
// that each node's in-memory index stays current. A backend without it
// (store/sqlite: one node) is never changed behind the Directory's back.
// The Directory uses it when its Backend has it.
type ChangeFeed interface {
	// WatchChanges starts listening and returns once it listens (or could
	// not start); from then until ctx ends (or the backend closes) notify
	// is called, from one goroutine, with each change committed by any
	// node, this one included, in commit order. When the listening
	// connection was lost and is back, notify gets ChangeResync: what
	// changed meanwhile is unknown.
	WatchChanges(ctx context.Context, notify func(ChangeEvent)) error
	// LoadSettings reads the settings alone.
	LoadSettings(ctx context.Context) (Settings, error)
}

// ChangeKind says what a ChangeEvent is about.
type ChangeKind int

const (
	ChangeUser     ChangeKind = iota + 1 // a user (UserID): added, changed, removed, its meetings
	ChangeMeeting                        // a meeting (ConferenceID): created or deleted
	ChangeSettings                       // the settings
	ChangeResync                         // anything: changes may have been missed
)

// ChangeEvent is one change a ChangeFeed reports.
type ChangeEvent struct {
	Kind         ChangeKind
	UserID       int64
	ConferenceID string
}

// changeQueue is how many events wait for the applier before the
// Directory gives up on them and resynchronises.
const changeQueue = 4096

// watch starts d's ChangeFeed, if the backend has one, before the index is
// loaded, so no change committed after the load is missed: events wait in
// d.changes until applyChanges runs.
func (d *Directory) watch(ctx context.Context) error {
	feed, ok := d.backend.(ChangeFeed)
	if !ok {
		return nil
	}
	d.changes = make(chan ChangeEvent, changeQueue)
	wctx, cancel := context.WithCancel(context.Background())
	d.stopWatch = cancel
	if err := feed.WatchChanges(wctx, d.enqueueChange); err != nil {
		cancel()
		return fmt.Errorf("directory: listen for changes: %w", err)
	}
	return nil
}

// enqueueChange never blocks the listener: a full queue becomes one resync.
func (d *Directory) enqueueChange(ev ChangeEvent) {
	select {
	case d.changes <- ev:
	default:
		d.resync.Store(true)
	}
}

// applyChanges applies the feed's events to the index until Close.
func (d *Directory) applyChanges() {
	defer d.persisted.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case ev := <-d.changes:
			d.applyChange(ev)
		case <-tick.C:
			if d.resync.Swap(false) {
				d.applyChange(ChangeEvent{Kind: ChangeResync})
			}
		case <-d.quit:
			return
		}
	}
}

// applyChange re-reads what ev names and updates the index the way the
// directory's own writes do; a failed read is retried as a resync.
func (d *Directory) applyChange(ev ChangeEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	switch ev.Kind {
	case ChangeUser:
		err = d.refreshUser(ctx, ev.UserID)
	case ChangeMeeting:
		err = d.refreshMeeting(ctx, ev.ConferenceID)
	case ChangeSettings:
		err = d.refreshSettings(ctx)
	case ChangeResync:
		err = d.reload(ctx)
	}
	if err != nil {
		d.resync.Store(true)
		d.log.Error().Err(err).Int("kind", int(ev.Kind)).Msg("applying another node's change; will reload")
	}
}

func (d *Directory) refreshSettings(ctx context.Context) error {
	s, err := d.backend.(ChangeFeed).LoadSettings(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.settings.Store(&s)
	d.mu.Unlock()
	return nil
}

// refreshUser re-reads user id and its meetings into the index.
func (d *Directory) refreshUser(ctx context.Context, id int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.backend.GetUser(ctx, id)
	if errors.Is(err, ErrNotFound) {
		d.dropUserLocked(id)
		return nil
	}
	if err != nil {
		return err
	}
	meetings, err := d.backend.ListMeetings(ctx, MeetingFilter{OrganizerID: id})
	if err != nil {
		return err
	}
	e := d.upsertUserLocked(&u)
	for _, m := range meetings {
		d.putMeetingLocked(m, e)
	}
	return nil
}

// refreshMeeting re-reads one meeting into the index.
func (d *Directory) refreshMeeting(ctx context.Context, conferenceID string) error {
	key, ok := ConferenceIDKey(conferenceID)
	if !ok {
		return nil
	}
	m, err := d.backend.GetMeeting(ctx, conferenceID)
	if errors.Is(err, ErrNotFound) {
		d.mu.Lock()
		d.conf.remove(key)
		d.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	if d.userEntry(m.OrganizerID) == nil {
		return d.refreshUser(ctx, m.OrganizerID) // reads its meetings too
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.users[m.OrganizerID]; e != nil {
		d.putMeetingLocked(m, e)
	}
	return nil
}

func (d *Directory) userEntry(id int64) *userEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.users[id]
}

// upsertUserLocked makes the index's entry of u what the database holds.
// A lock state changed here but not yet written (dirty) is kept: it is
// newer than what this node wrote, and the write-behind writes it next
// (over another node's counts of the same moment, but never over its lock:
// keepOthersLock). The user's old static ID leaves the index if it
// changed. With d.mu held.
func (d *Directory) upsertUserLocked(u *User) *userEntry {
	e := d.users[u.ID]
	if e == nil {
		e = &userEntry{id: u.ID}
		d.users[u.ID] = e
	}
	e.mu.Lock()
	oldID := e.conferenceID
	copy(e.digest[:], u.PINDigest)
	e.pinLength = u.PINLength
	e.conferenceID = u.ConferenceID
	e.policy = nil
	if u.Policy != (PINPolicy{}) {
		p := u.Policy
		e.policy = &p
	}
	if !e.dirty {
		e.lock = compact(u.Lock)
	}
	e.mu.Unlock()
	if oldID != "" && oldID != u.ConferenceID {
		if key, ok := ConferenceIDKey(oldID); ok {
			if c := d.conf.get(key); c != nil && c.organizerID == u.ID {
				d.conf.remove(key)
			}
		}
	}
	return e
}

func (d *Directory) putMeetingLocked(m Meeting, e *userEntry) {
	key, ok := ConferenceIDKey(m.ConferenceID)
	if !ok {
		return
	}
	d.conf.put(&confEntry{key: key, organizerID: e.id, user: e, static: m.Static, requireOrganizer: m.RequireOrganizer,
		bypassLobby: m.BypassLobby, noCheckDigit: m.NoCheckDigit})
}

// dropUserLocked removes a user and every conference ID it organizes
// (a disabled user). With d.mu held.
func (d *Directory) dropUserLocked(id int64) {
	if _, ok := d.users[id]; !ok {
		return
	}
	delete(d.users, id)
	d.conf.removeWhere(func(c *confEntry) bool { return c.organizerID == id })
}

// reload re-reads the whole directory into the index: after a lost
// listening connection, since what changed meanwhile is unknown.
func (d *Directory) reload(ctx context.Context) error {
	snap, err := d.backend.Load(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	settings := snap.Settings
	d.settings.Store(&settings)
	seen := make(map[int64]bool, len(snap.Users))
	for i := range snap.Users {
		d.upsertUserLocked(&snap.Users[i])
		seen[snap.Users[i].ID] = true
	}
	for id := range d.users {
		if !seen[id] {
			delete(d.users, id)
		}
	}
	keys := make(map[uint32]bool, len(snap.Meetings))
	for _, m := range snap.Meetings {
		if e := d.users[m.OrganizerID]; e != nil {
			d.putMeetingLocked(m, e)
			key, _ := ConferenceIDKey(m.ConferenceID)
			keys[key] = true
		}
	}
	d.conf.removeWhere(func(c *confEntry) bool { return !keys[c.key] })
	d.log.Info().Int("users", len(snap.Users)).Msg("directory reloaded after the change feed was interrupted")
	return nil
}

func (d *Directory) stopWatching() {
	if d.stopWatch != nil {
		d.stopWatch()
	}
}

// keepOthersLock keeps a lock another node stored that this node has not
// heard of yet: with a shared backend, counters that are not a lock (a
// right PIN's reset, failures below the limit) are written only over an
// unlocked row. It reports whether the stored lock was kept (and taken
// into u). Unlocking is UnlockPIN's, which does not come here. With d.mu
// held.
func (d *Directory) keepOthersLock(ctx context.Context, u *userEntry, state LockState) (bool, error) {
	if _, shared := d.backend.(ChangeFeed); !shared {
		return false, nil
	}
	now := d.now()
	if state.Locked(now) {
		return false, nil
	}
	stored, err := d.backend.GetUser(ctx, u.id)
	if err != nil {
		u.mu.Lock()
		u.dirty = true
		u.mu.Unlock()
		return false, err
	}
	if !stored.Lock.Locked(now) {
		return false, nil
	}
	u.mu.Lock()
	u.lock = compact(stored.Lock)
	u.mu.Unlock()
	return true, nil
}
