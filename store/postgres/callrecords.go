package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// The call records (store.CallRecordBackend). The pool lets the record
// writer and the API use them beside the Directory.

const callColumns = `id, call_id, calling, called, source, transport, started_at, answered_at, ended_at,
	status, outcome, conference_id, organizer_id, organizer_email, meeting_start, role, lobby_ns,
	end_reason, codec, dtmf, in_packets, in_lost, in_jitter_ns, in_max_gap_ns, in_mos,
	out_packets, out_lost, out_jitter_ns, out_max_gap_ns, out_mos, rtt_ns`

const insertCallRecord = `INSERT INTO call_records (call_id, calling, called, source,
	transport, started_at, answered_at, ended_at, status, outcome, conference_id, organizer_id,
	organizer_email, meeting_start, role, lobby_ns, end_reason, codec, dtmf,
	in_packets, in_lost, in_jitter_ns, in_max_gap_ns, in_mos,
	out_packets, out_lost, out_jitter_ns, out_max_gap_ns, out_mos, rtt_ns)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
	coalesce((SELECT email FROM users WHERE id = $12), $13), $14, $15, $16, $17, $18, $19,
	$20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)`

// InsertCallRecords writes recs in one transaction, sent as one batch (one
// round trip); each organizer's email is read from users at the insert.
func (s *DB) InsertCallRecords(ctx context.Context, recs []store.CallRecord) error {
	if len(recs) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for i := range recs {
		r := &recs[i]
		if r.CallID == "" || r.Outcome == "" || r.Started.IsZero() || r.Ended.IsZero() {
			return fmt.Errorf("postgres: insert %d call records: call record %q: Call-ID, outcome, start and end are required: %w",
				len(recs), r.CallID, store.ErrInvalidInput)
		}
		if err := checkTimes(r.Started, r.Answered, r.Ended, r.MeetingStart); err != nil {
			return fmt.Errorf("postgres: insert %d call records: call record %q: %w", len(recs), r.CallID, err)
		}
		args := []any{r.CallID, r.Calling, r.Called, r.Source, r.Transport,
			nanos(r.Started), nanos(r.Answered), nanos(r.Ended), r.Status, r.Outcome, r.ConferenceID,
			r.OrganizerID, r.OrganizerEmail, nanos(r.MeetingStart), r.Role, int64(r.Lobby),
			r.EndReason, r.Codec, r.DTMF}
		args = append(args, qualityArgs(r.In)...)
		args = append(args, qualityArgs(r.Out)...)
		args = append(args, int64(r.RTT))
		batch.Queue(insertCallRecord, args...)
	}
	return s.inTx(ctx, fmt.Sprintf("insert %d call records", len(recs)), func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close() // Close reads every result: the first error
	})
}

// qualityArgs are a direction's five columns, NULL when not measured.
func qualityArgs(q store.StreamQuality) []any {
	if !q.Measured {
		return []any{nil, nil, nil, nil, nil}
	}
	var gap *int64
	if q.HasMaxGap {
		g := int64(q.MaxGap)
		gap = &g
	}
	return []any{q.Packets, q.Lost, int64(q.Jitter), gap, q.MOS}
}

// callWhere is the WHERE clause of f (without the limit).
func callWhere(f store.CallFilter, p *params) string {
	var conds []string
	if !f.From.IsZero() {
		conds = append(conds, "started_at >= "+p.add(nanos(f.From)))
	}
	if !f.To.IsZero() {
		conds = append(conds, "started_at < "+p.add(nanos(f.To)))
	}
	if f.ConferenceID != "" {
		conds = append(conds, "conference_id = "+p.add(f.ConferenceID))
	}
	if f.Organizer != "" {
		conds = append(conds, "lower(organizer_email) = lower("+p.add(f.Organizer)+")")
	}
	if f.Calling != "" {
		conds = append(conds, "calling = "+p.add(f.Calling))
	}
	if f.Outcome != "" {
		conds = append(conds, "outcome = "+p.add(f.Outcome))
	}
	if f.After > 0 {
		conds = append(conds, "id > "+p.add(f.After))
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// ListCallRecords reads the records f selects, by ID.
func (s *DB) ListCallRecords(ctx context.Context, f store.CallFilter) ([]store.CallRecord, error) {
	var p params
	q := `SELECT ` + callColumns + ` FROM call_records` + callWhere(f, &p) + ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ` + p.add(f.Limit)
	}
	rows, err := s.pool.Query(ctx, q, p.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list call records: %w", err)
	}
	defer rows.Close()
	var out []store.CallRecord
	for rows.Next() {
		r, err := scanCallRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list call records: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list call records: %w", err)
	}
	return out, nil
}

// GetCallRecord reads the latest record of a Call-ID.
func (s *DB) GetCallRecord(ctx context.Context, callID string) (store.CallRecord, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+callColumns+` FROM call_records WHERE call_id = $1 ORDER BY id DESC LIMIT 1`, callID)
	r, err := scanCallRecord(row)
	if noRows(err) {
		return r, fmt.Errorf("call record %q: %w", callID, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("postgres: call record %q: %w", callID, err)
	}
	return r, nil
}

func scanCallRecord(row pgx.Row) (store.CallRecord, error) {
	var r store.CallRecord
	var started, answered, ended, meeting, lobby, rtt int64
	var in, out qualityColumns
	err := row.Scan(&r.ID, &r.CallID, &r.Calling, &r.Called, &r.Source, &r.Transport, &started, &answered, &ended,
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
	packets, lost, jitter, gap *int64
	mos                        *float64
}

func (c qualityColumns) quality() store.StreamQuality {
	if c.packets == nil {
		return store.StreamQuality{}
	}
	q := store.StreamQuality{Measured: true, Packets: *c.packets}
	if c.lost != nil {
		q.Lost = *c.lost
	}
	if c.jitter != nil {
		q.Jitter = time.Duration(*c.jitter)
	}
	if c.gap != nil {
		q.MaxGap, q.HasMaxGap = time.Duration(*c.gap), true
	}
	if c.mos != nil {
		q.MOS = *c.mos
	}
	return q
}

// PruneCallRecords deletes up to limit records started before before.
func (s *DB) PruneCallRecords(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("postgres: prune call records: limit %d: %w", limit, store.ErrInvalidInput)
	}
	var n int64
	err := s.inTx(ctx, "prune call records", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM call_records WHERE id IN
			(SELECT id FROM call_records WHERE started_at < $1 ORDER BY started_at LIMIT $2)`, nanos(before), limit)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// usageSelect sums the calls that reached a meeting or its lobby in
// [from, to) (refused by a full or locked one do not count): a meeting is
// one opening of a conference ID that someone joined; a call's MOS is its
// worse measured direction. Organizers are grouped case-insensitively, as
// SQLite's NOCASE column groups them, and named by the smallest spelling.
const usageSelect = `SELECT min(organizer_email), %s,
	count(DISTINCT CASE WHEN outcome = 'joined' THEN conference_id || '@' || meeting_start END),
	count(*),
	coalesce(sum(CASE WHEN answered_at > 0 AND ended_at > answered_at THEN ended_at - answered_at ELSE 0 END), 0)::bigint,
	avg(CASE WHEN in_mos IS NULL THEN out_mos WHEN out_mos IS NULL THEN in_mos ELSE least(in_mos, out_mos) END),
	count(coalesce(in_mos, out_mos))
	FROM call_records WHERE outcome IN ('joined', 'lobby') AND started_at >= $1 AND started_at < $2%s
	GROUP BY lower(organizer_email)%s ORDER BY lower(organizer_email)%s`

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
		extra = " AND lower(organizer_email) = lower($3)"
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
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: usage report: %w", err)
	}
	defer rows.Close()
	var out []store.UsageRow
	for rows.Next() {
		var u store.UsageRow
		var talk int64
		var mos *float64
		if err := rows.Scan(&u.Organizer, &u.ConferenceID, &u.Meetings, &u.Calls, &talk, &mos, &u.MeasuredCalls); err != nil {
			return nil, fmt.Errorf("postgres: usage report: %w", err)
		}
		u.ParticipantMinutes = time.Duration(talk).Minutes()
		if mos != nil {
			u.AverageMOS = *mos
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: usage report: %w", err)
	}
	return out, nil
}
