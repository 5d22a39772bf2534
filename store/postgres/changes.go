package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// The change feed (store.ChangeFeed): every write that changes what a
// node's in-memory index holds sends a NOTIFY on changeChannel in its own
// transaction, so it is delivered at commit and never for a rolled-back
// change, naming what changed:
//
//	u:<user id>        a user, its PIN, lock, conference ID or meetings
//	m:<conference ID>  a meeting created or deleted
//	s                  the settings
//
// Each node holds one connection of its own (not the pool's) that LISTENs
// and re-reads just what each notification names. A lost connection is
// reconnected with a doubling backoff, then reported as ChangeResync: the
// notifications sent meanwhile are gone, and the Directory reloads.
const changeChannel = "dialin_directory"

const payloadSettings = "s"

func notify(ctx context.Context, tx pgx.Tx, payload string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changeChannel, payload)
	return err
}

func notifyUser(ctx context.Context, tx pgx.Tx, id int64) error {
	return notify(ctx, tx, "u:"+strconv.FormatInt(id, 10))
}

func notifyMeeting(ctx context.Context, tx pgx.Tx, conferenceID string) error {
	return notify(ctx, tx, "m:"+conferenceID)
}

// parseChange reads a payload; false for one this program does not know
// (a newer node's).
func parseChange(payload string) (store.ChangeEvent, bool) {
	switch {
	case payload == payloadSettings:
		return store.ChangeEvent{Kind: store.ChangeSettings}, true
	case strings.HasPrefix(payload, "u:"):
		id, err := strconv.ParseInt(payload[2:], 10, 64)
		return store.ChangeEvent{Kind: store.ChangeUser, UserID: id}, err == nil
	case strings.HasPrefix(payload, "m:"):
		return store.ChangeEvent{Kind: store.ChangeMeeting, ConferenceID: payload[2:]}, true
	}
	return store.ChangeEvent{}, false
}

var _ store.ChangeFeed = (*DB)(nil)

// LoadSettings reads the settings alone.
func (s *DB) LoadSettings(ctx context.Context) (store.Settings, error) {
	return loadSettings(ctx, s.pool)
}

// Reconnection backoff of the listening connection.
const (
	listenBackoffMin = 50 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// WatchChanges listens on a connection of its own and returns once it
// does; notify is then called from one goroutine until ctx ends or the
// DB closes.
func (s *DB) WatchChanges(ctx context.Context, notify func(store.ChangeEvent)) error {
	ctx, cancel := context.WithCancel(ctx)
	conn, err := s.listen(ctx)
	if err != nil {
		cancel()
		return fmt.Errorf("postgres: listen %s: %w", s.name, err)
	}
	s.watchMu.Lock()
	s.watchStop = append(s.watchStop, cancel)
	s.watchers.Add(1)
	s.watchMu.Unlock()
	go s.watchLoop(ctx, conn, notify)
	return nil
}

func (s *DB) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+changeChannel); err != nil {
		_ = conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

func (s *DB) watchLoop(ctx context.Context, conn *pgx.Conn, notify func(store.ChangeEvent)) {
	defer s.watchers.Done()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			if ev, ok := parseChange(n.Payload); ok {
				notify(ev)
			}
			continue
		}
		_ = conn.Close(context.Background())
		if conn = s.relisten(ctx); conn == nil {
			return // ctx ended
		}
		notify(store.ChangeEvent{Kind: store.ChangeResync})
	}
}

// relisten reconnects with a doubling backoff until it listens again or
// ctx ends (nil).
func (s *DB) relisten(ctx context.Context) *pgx.Conn {
	wait := listenBackoffMin
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if conn, err := s.listen(ctx); err == nil {
			return conn
		}
		wait = min(2*wait, listenBackoffMax)
	}
}

// stopWatching ends every listening connection and waits for them.
func (s *DB) stopWatching() {
	s.watchMu.Lock()
	for _, stop := range s.watchStop {
		stop()
	}
	s.watchStop = nil
	s.watchMu.Unlock()
	s.watchers.Wait()
}
