package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dialin/dialin/store"
)

// The call records (store.CallRecordBackend).

const callColumns = `id, call_id, calling, called, source, transport, started_at, answered_at, ended_at,
	status, outcome, conference_id, organizer_id, organizer_email, meeting_start, role, lobby_ns,
	end_reason, codec, dtmf, in_packets, in_lost, in_jitter_ns, in_max_gap_ns, in_mos,
	out_packets, out_lost, out_jitter_ns, out_max_gap_ns, out_mos, rtt_ns`

// InsertCallRecords writes recs in one transaction; each organizer's email
// is read from users at the insert.
func (s *DB) InsertCallRecords(ctx context.Context, recs []store.CallRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return s.inTx(ctx, fmt.Sprintf("insert %d call records", len(recs)), func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO call_records (call_id, calling, called, source,
			transport, started_at, answered_at, ended_at, status, outcome, conference_id, organizer_id,
			organizer_email, meeting_start, role, lobby_ns, end_reason, codec, dtmf,
			in_packets, in_lost, in_jitter_ns, in_max_gap_ns, in_mos,
			out_packets, out_lost, out_jitter_ns, out_max_gap_ns, out_mos, rtt_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			coalesce((SELECT email FROM users WHERE id = ?), ?), ?, ?, ?, ?, ?, ?,
			?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range recs {
			r := &recs[i]
			if r.CallID == "" || r.Outcome == "" || r.Started.IsZero() || r.Ended.IsZero() {
				return fmt.Errorf("call record %q: Call-ID, outcome, start and end are required: %w", r.CallID, store.ErrInvalidInput)
			}
			if err := checkTimes(r.Started, r.Answered, r.Ended, r.MeetingStart); err != nil {
				return fmt.Errorf("call record %q: %w", r.CallID, err)
			}
			args := []any{r.CallID, r.Calling, r.Called, r.Source, r.Transport,
				nanos(r.Started), nanos(r.Answered), nanos(r.Ended), r.Status, r.Outcome, r.ConferenceID,
				r.OrganizerID, r.OrganizerID, r.OrganizerEmail, nanos(r.MeetingStart), r.Role, int64(r.Lobby),
				r.EndReason, r.Codec, r.DTMF}
			args = append(args, qualityArgs(r.In)...)
			args = append(args, qualityArgs(r.Out)...)
			args = append(args, int64(r.RTT))
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("call record %q: %w", r.CallID, err)
			}
		}
		return nil
	})
}

// qualityArgs are a direction's five columns, NULL when not measured.
func qualityArgs(q store.StreamQuality) []any {
	if !q.Measured {
		return []any{nil, nil, nil, nil, nil}
	}
	var gap any
	if q.HasMaxGap {
		gap = int64(q.MaxGap)
	}
	return []any{q.Packets, q.Lost, int64(q.Jitter), gap, q.MOS}
}

// callWhere is the WHERE clause of f (without the cursor and limit).
func callWhere(f store.CallFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if !f.From.IsZero() {
		add("started_at >= ?", nanos(f.From))
	}
	if !f.To.IsZero() {
		add("started_at < ?", nanos(f.To))
	}
	if f.ConferenceID != "" {
		add("conference_id = ?", f.ConferenceID)
	}
	if f.Organizer != "" {
		add("organizer_email = ?", f.Organizer) // the column is NOCASE
	}
	if f.Calling != "" {
		add("calling = ?", f.Calling)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if f.After > 0 {
		add("id > ?", f.After)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListCallRecords reads the records f selects, by ID.
func (s *DB) ListCallRecords(ctx context.Context, f store.CallFilter) ([]store.CallRecord, error) {
	where, args := callWhere(f)
	q := `SELECT ` + callColumns + ` FROM call_records` + where + ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list call records: %w", err)
	}
	defer rows.Close()
	var out []store.CallRecord
	for rows.Next() {
		r, err := scanCallRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list call records: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list call records: %w", err)
	}
	return out, nil
}

// GetCallRecord reads the latest record of a Call-ID.
func (s *DB) GetCallRecord(ctx context.Context, callID string) (store.CallRecord, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+callColumns+` FROM call_records WHERE call_id = ? ORDER BY id DESC LIMIT 1`, callID)
	r, err := scanCallRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("call record %q: %w", callID, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: call record %q: %w", callID, err)
	}
	return r, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanCallRecord(sc scanner) (store.CallRecord, error) {
	var r store.CallRecord
	var started, answered, ended, meeting, lobby, rtt int64
	var in, out qualityColumns
	err := sc.Scan(&r.ID, &r.CallID, &r.Calling, &r.Called, &r.Source, &r.Transport, &started, &answered, &ended,
		&r.Status, &r.Outcome, &r.ConferenceID, &r.OrganizerID, &r.OrganizerEmail, &meeting, &r.Role, &lobby,
		&r.EndReason, &r.Codec, &r.DTMF,
		&in.packets, &in.lost, &in.jitter, &in.gap, &in.mos,
		&out.packets, &out.lost, &out.jitter, &out.gap, &out.mos, &rtt)
	if err != nil {
		return r, err
	}
	r.Started, r.Answered, r.Ended = timeFromNanos(started), timeFromNanos(answered), timeFromNanos(ended)
	r.MeetingStart = timeFromNanos(meeting)
	r.Lobby, r.RTT = time.Duration(lobby), time.Duration(rtt)
	r.In, r.Out = in.quality(), out.quality()
	return r, nil
}

// qualityColumns are a direction's nullable columns as read.
type qualityColumns struct {
	packets, lost, jitter, gap sql.NullInt64
	mos                        sql.NullFloat64
}

func (c qualityColumns) quality() store.StreamQuality {
	if !c.packets.Valid {
		return store.StreamQuality{}
	}
	return store.StreamQuality{
		Measured: true, Packets: c.packets.Int64, Lost: c.lost.Int64, Jitter: time.Duration(c.jitter.Int64),
		MaxGap: time.Duration(c.gap.Int64), HasMaxGap: c.gap.Valid, MOS: c.mos.Float64,
	}
}

// PruneCallRecords deletes up to limit records started before before.
func (s *DB) PruneCallRecords(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("sqlite: prune call records: limit %d: %w", limit, store.ErrInvalidInput)
	}
	var n int64
	err := s.inTx(ctx, "prune call records", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM call_records WHERE id IN
			(SELECT id FROM call_records WHERE started_at < ? ORDER BY started_at LIMIT ?)`, nanos(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// usageSelect sums the calls that reached a meeting or its lobby in
// [from, to) (refused by a full or locked one do not count): a meeting is one opening of a conference ID that
// someone joined; a call's MOS is its worse measured direction.
const usageSelect = `SELECT organizer_email, %s,
	count(DISTINCT CASE WHEN outcome = 'joined' THEN conference_id || '@' || meeting_start END),
	count(*),
	coalesce(sum(CASE WHEN answered_at > 0 AND ended_at > answered_at THEN ended_at - answered_at ELSE 0 END), 0),
	avg(CASE WHEN in_mos IS NULL THEN out_mos WHEN out_mos IS NULL THEN in_mos ELSE min(in_mos, out_mos) END),
	count(coalesce(in_mos, out_mos))
	FROM call_records WHERE outcome IN ('joined', 'lobby') AND started_at >= ? AND started_at < ?%s
	GROUP BY organizer_email%s ORDER BY organizer_email%s`

// CallUsage sums the records of f's range per organizer and per meeting.
func (s *DB) CallUsage(ctx context.Context, f store.UsageFilter) (store.UsageReport, error) {
	rep := store.UsageReport{From: f.From, To: f.To}
	to := f.To
	if to.IsZero() {
		to = maxStoredTime
	}
	args := []any{nanos(f.From), nanos(to)}
	extra := ""
	if f.Organizer != "" {
		extra = " AND organizer_email = ?"
		args = append(args, f.Organizer)
	}
	var err error
	if rep.Organizers, err = s.usageRows(ctx, fmt.Sprintf(usageSelect, "''", extra, "", ""), args); err != nil {
		return rep, err
	}
	if rep.Meetings, err = s.usageRows(ctx, fmt.Sprintf(usageSelect, "conference_id", extra, ", conference_id", ", conference_id"), args); err != nil {
		return rep, err
	}
	return rep, nil
}

func (s *DB) usageRows(ctx context.Context, q string, args []any) ([]store.UsageRow, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: usage report: %w", err)
	}
	defer rows.Close()
	var out []store.UsageRow
	for rows.Next() {
		var u store.UsageRow
		var talk int64
		var mos sql.NullFloat64
		if err := rows.Scan(&u.Organizer, &u.ConferenceID, &u.Meetings, &u.Calls, &talk, &mos, &u.MeasuredCalls); err != nil {
			return nil, fmt.Errorf("sqlite: usage report: %w", err)
		}
		u.ParticipantMinutes = time.Duration(talk).Minutes()
		u.AverageMOS = mos.Float64
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: usage report: %w", err)
	}
	return out, nil
}
