package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Call records (CDRs): one per call that passed the trunk ACL, written
// behind the call path (package callrecord queues them) and read by the
// API's /calls and /reports/usage.

// Outcomes of a call (CallRecord.Outcome): how far it got.
const (
	OutcomeJoined    = "joined"    // reached the meeting, through the lobby or not
	OutcomeLobby     = "lobby"     // waited in the lobby and was never admitted
	OutcomeNotFound  = "not_found" // no conference ID found within the attempts
	OutcomeGaveUp    = "gave_up"   // entered no conference ID
	OutcomeRefused   = "refused"   // refused: by SIP (auth, limits, codec), the guard, a full or locked meeting
	OutcomeAbandoned = "abandoned" // hung up in the menu before it knew where they were going
	OutcomeCancelled = "cancelled" // hung up before the answer
	OutcomeFailed    = "failed"    // did not get going (no ACK, no port) or the call flow failed
)

// Outcomes lists every outcome, for validation and documentation.
var Outcomes = []string{OutcomeJoined, OutcomeLobby, OutcomeNotFound, OutcomeGaveUp,
	OutcomeRefused, OutcomeAbandoned, OutcomeCancelled, OutcomeFailed}

// Roles of a caller in a meeting (CallRecord.Role).
const (
	RoleOrganizer = "organizer"
	RoleAttendee  = "attendee"
)

// CallRecord is one call's record.
type CallRecord struct {
	ID     int64  // the store's, in insertion order (the list's cursor)
	CallID string // SIP Call-ID
	// Calling is the calling number (From's user part), stored in clear;
	// the API masks it unless call_records.mask_calling_number is off.
	Calling, Called string
	Source          string // the INVITE's source IP
	Transport       string // udp, tcp

	Started  time.Time // the INVITE arrived
	Answered time.Time // zero: never answered
	Ended    time.Time
	Status   int // our final answer to the INVITE: 200, or 403, 486, 503, 487...

	Outcome      string
	ConferenceID string // "" when none was found
	// OrganizerID is the meeting's organizer; the backend stores their
	// email beside it (OrganizerEmail), which stays when the user goes.
	OrganizerID    int64
	OrganizerEmail string
	// MeetingStart tells one meeting of a conference ID from the next:
	// when the bridge opened it. Zero without a conference ID.
	MeetingStart time.Time
	Role         string        // RoleOrganizer or RoleAttendee; "" without a conference ID
	Lobby        time.Duration // time waiting in the lobby
	EndReason    string
	Codec        string // PCMU, PCMA; "" if never answered
	DTMF         string // the key transports used, comma-separated: rfc4733, info, inband

	// In is the caller's audio as we received it; Out ours as the caller's
	// RTCP reports said it arrived.
	In, Out StreamQuality
	RTT     time.Duration // from RTCP; 0 if never measured
}

// Duration is the time from the answer to the end (0 if never answered).
func (r CallRecord) Duration() time.Duration {
	if r.Answered.IsZero() || r.Ended.Before(r.Answered) {
		return 0
	}
	return r.Ended.Sub(r.Answered)
}

// StreamQuality is one direction of a call's media.
type StreamQuality struct {
	// Measured is false when nothing was measured: no RTP, or no RTCP
	// report from the caller about our stream.
	Measured bool
	Packets  int64 // received (In) or sent (Out)
	Lost     int64
	Jitter   time.Duration // RFC 3550 interarrival jitter
	// MaxGap is the longest time between two packets; HasMaxGap is false
	// when it cannot be known (RTCP receiver reports do not say it).
	MaxGap    time.Duration
	HasMaxGap bool
	MOS       float64 // estimated (callrecord.EstimateMOS), 1-4.5
}

// LossPercent is the share of the packets that were lost.
func (q StreamQuality) LossPercent() float64 {
	total := q.Packets + q.Lost
	if q.Lost <= 0 || total <= 0 {
		return 0
	}
	return float64(q.Lost) * 100 / float64(total)
}

// CallFilter selects call records; zero fields select everything.
type CallFilter struct {
	From, To     time.Time // started at or after From, before To
	ConferenceID string
	Organizer    string // the organizer's email, any case
	Calling      string // the calling number, exactly
	Outcome      string
	After        int64 // the cursor: records with IDs above it
	Limit        int   // at most this many, by ID; <= 0: all
}

// Check refuses a filter that selects nothing by mistake.
func (f CallFilter) Check() error {
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return &InputError{Field: "to", Msg: fmt.Sprintf("%s is not after from (%s)", f.To.Format(time.RFC3339), f.From.Format(time.RFC3339))}
	}
	if f.Outcome != "" && !slices.Contains(Outcomes, f.Outcome) {
		return &InputError{Field: "outcome", Msg: fmt.Sprintf("%q is not one of %v", f.Outcome, Outcomes)}
	}
	return nil
}

// UsageFilter is the range of a usage report: calls started in [From, To).
type UsageFilter struct {
	From, To  time.Time
	Organizer string // one organizer's email; "" for all
}

// UsageRow is the usage of one organizer (ConferenceID "") or of one of
// their conference IDs, like Teams' Audio Conferencing report: the
// meetings callers joined, the calls that reached a meeting or its lobby,
// the participant-minutes (those calls' time from answer to end), and the
// average of each call's estimated MOS (its worse direction) over the
// calls with one.
type UsageRow struct {
	Organizer          string
	ConferenceID       string
	Meetings           int
	Calls              int
	ParticipantMinutes float64
	AverageMOS         float64 // 0 when no call was measured
	MeasuredCalls      int
}

// UsageReport is the usage over a range, per organizer and per meeting
// (conference ID), each sorted by organizer then conference ID.
type UsageReport struct {
	From, To   time.Time
	Organizers []UsageRow
	Meetings   []UsageRow
}

// CallRecordBackend stores call records. Unlike the rest of Backend it is
// used from the record writer's goroutine and the API's at once, besides
// the Directory's: an engine must allow that (SQLite's pool serialises;
// PostgreSQL's runs them on connections of their own).
type CallRecordBackend interface {
	// InsertCallRecords writes records in one transaction, resolving each
	// OrganizerID to the user's email.
	InsertCallRecords(ctx context.Context, recs []CallRecord) error
	// ListCallRecords reads the records f selects, by ID.
	ListCallRecords(ctx context.Context, f CallFilter) ([]CallRecord, error)
	// GetCallRecord reads the latest record with this Call-ID. ErrNotFound
	// if there is none.
	GetCallRecord(ctx context.Context, callID string) (CallRecord, error)
	// PruneCallRecords deletes up to limit records of calls started before
	// before, oldest first, and says how many it deleted.
	PruneCallRecords(ctx context.Context, before time.Time, limit int) (int, error)
	// CallUsage sums the records of f's range.
	CallUsage(ctx context.Context, f UsageFilter) (UsageReport, error)
}

// CallRecords is the call records' part of the backend.
func (d *Directory) CallRecords() CallRecordBackend { return d.backend }
