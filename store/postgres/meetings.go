package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// ListMeetings reads meetings by conference ID: an organizer's (static one
// included) or everyone's, after f.After, at most f.Limit (<= 0: all).
func (s *DB) ListMeetings(ctx context.Context, f store.MeetingFilter) ([]store.Meeting, error) {
	var p params
	query := meetingSelect + ` WHERE conference_id > ` + p.add(f.After)
	if f.OrganizerID != 0 {
		query += ` AND organizer_id = ` + p.add(f.OrganizerID)
	}
	query += ` ORDER BY conference_id`
	if f.Limit > 0 {
		query += ` LIMIT ` + p.add(f.Limit)
	}
	meetings, err := queryMeetings(ctx, s.pool, nil, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list meetings: %w", err)
	}
	return meetings, nil
}

// GetMeeting reads one meeting. ErrNotFound if there is none.
func (s *DB) GetMeeting(ctx context.Context, conferenceID string) (store.Meeting, error) {
	meetings, err := queryMeetings(ctx, s.pool, nil, meetingSelect+` WHERE conference_id = $1`, conferenceID)
	if err != nil {
		return store.Meeting{}, fmt.Errorf("postgres: get meeting %q: %w", conferenceID, err)
	}
	if len(meetings) == 0 {
		return store.Meeting{}, fmt.Errorf("meeting %s: %w", conferenceID, store.ErrNotFound)
	}
	return meetings[0], nil
}

// meetingSelect packs the four flags into one integer, as store/sqlite
// does: each column costs the client a decode per row, which counts at
// Load.
const meetingSelect = `SELECT conference_id, organizer_id,
	static::int | (require_organizer::int << 1) | (bypass_lobby::int << 2) | (no_check_digit::int << 3),
	created_at FROM meetings`

func queryMeetings(ctx context.Context, q querier, meetings []store.Meeting, query string, args ...any) ([]store.Meeting, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var flags int32
	var createdAt int64
	for rows.Next() {
		meetings = append(meetings, store.Meeting{})
		m := &meetings[len(meetings)-1]
		if err := rows.Scan(&m.ConferenceID, &m.OrganizerID, &flags, &createdAt); err != nil {
			return nil, err
		}
		m.Static = flags&1 != 0
		m.RequireOrganizer = flags&2 != 0
		m.BypassLobby = flags&4 != 0
		m.NoCheckDigit = flags&8 != 0
		m.CreatedAt = timeFromNanos(createdAt)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return meetings, nil
}

// CreateMeeting inserts m. ErrExists if its conference ID is a meeting's or
// another user's; ErrNotFound if its organizer does not exist.
func (s *DB) CreateMeeting(ctx context.Context, m *store.Meeting) error {
	if err := checkTimes(m.CreatedAt); err != nil {
		return fmt.Errorf("postgres: create meeting %q: %w", m.ConferenceID, err)
	}
	if m.ConferenceID == "" {
		return fmt.Errorf("postgres: create meeting: empty conference ID: %w", store.ErrInvalidInput)
	}
	return s.inTx(ctx, fmt.Sprintf("create meeting %q", m.ConferenceID), func(tx pgx.Tx) error {
		// The organizer's own static ID may get its meeting back; anyone
		// else's may not.
		if err := conferenceIDFree(ctx, tx, m.ConferenceID, m.OrganizerID); err != nil {
			return err
		}
		if err := insertMeeting(ctx, tx, m, m.OrganizerID); err != nil {
			return err
		}
		return notifyMeeting(ctx, tx, m.ConferenceID)
	})
}

// DeleteMeeting removes a meeting. ErrNotFound if there is none.
func (s *DB) DeleteMeeting(ctx context.Context, conferenceID string) error {
	return s.inTx(ctx, fmt.Sprintf("delete meeting %q", conferenceID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM meetings WHERE conference_id = $1`, conferenceID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("meeting %q: %w", conferenceID, store.ErrNotFound)
		}
		return notifyMeeting(ctx, tx, conferenceID)
	})
}

func insertMeeting(ctx context.Context, tx pgx.Tx, m *store.Meeting, organizerID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO meetings (conference_id, organizer_id, static,
		require_organizer, bypass_lobby, no_check_digit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		m.ConferenceID, organizerID, m.Static, m.RequireOrganizer, m.BypassLobby, m.NoCheckDigit, nanos(m.CreatedAt))
	if err != nil {
		return meetingConstraintErr(err, m.ConferenceID, organizerID)
	}
	return nil
}

// conferenceIDLock is the advisory lock ("CONF") the check below holds to
// the end of its transaction: each table's key keeps IDs unique within it,
// but the check that spans both tables is a read, which two nodes could
// pass at once for the same ID under read committed.
const conferenceIDLock = 0x434F4E46

// conferenceIDFree returns ErrExists if id is a meeting's, or a user's other
// than owner (0: any user).
func conferenceIDFree(ctx context.Context, tx pgx.Tx, id string, owner int64) error {
	if id == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, conferenceIDLock); err != nil {
		return err
	}
	var taken bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM meetings WHERE conference_id = $1)
		OR EXISTS (SELECT 1 FROM users WHERE conference_id = $1 AND id != $2)`, id, owner).Scan(&taken)
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("conference ID %q: %w", id, store.ErrExists)
	}
	return nil
}

func meetingConstraintErr(err error, conferenceID string, organizerID int64) error {
	switch kind, _ := constraint(err); kind {
	case "unique":
		return fmt.Errorf("conference ID %q: %w", conferenceID, store.ErrExists)
	case "foreign key":
		return fmt.Errorf("organizer: user %d: %w", organizerID, store.ErrNotFound)
	}
	return err
}
