package wire

import (
	"encoding/json"
	"time"
)

// CallRecord is one call's record as the API shows it: the calling number
// masked unless call_records.mask_calling_number is off; a direction's
// quality null when it was not measured.
type CallRecord struct {
	ID           int64      `json:"id"`
	CallID       string     `json:"call_id"`
	Calling      string     `json:"calling"`
	Called       string     `json:"called"`
	Source       string     `json:"source"`
	Transport    string     `json:"transport"`
	StartedAt    time.Time  `json:"started_at"`
	AnsweredAt   *time.Time `json:"answered_at"` // null: never answered
	EndedAt      time.Time  `json:"ended_at"`
	Duration     float64    `json:"duration_seconds"` // answer to end
	SIPStatus    int        `json:"sip_status"`       // our final answer to the INVITE
	Outcome      string     `json:"outcome"`
	ConferenceID string     `json:"conference_id"` // "" when none was found
	Organizer    string     `json:"organizer"`     // the meeting's organizer's email
	Role         string     `json:"role"`          // organizer, attendee; "" without a meeting
	MeetingStart *time.Time `json:"meeting_started_at"`
	Lobby        float64    `json:"lobby_seconds"`
	EndReason    string     `json:"end_reason"`
	Codec        string     `json:"codec"`
	DTMF         string     `json:"dtmf"`    // the key transports used, comma-separated
	RTT          *float64   `json:"rtt_ms"`  // null: never measured
	ToUs         *Quality   `json:"to_us"`   // the caller's audio as we received it
	FromUs       *Quality   `json:"from_us"` // ours, from the caller's RTCP reports

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (c *CallRecord) UnmarshalJSON(data []byte) error {
	type plain CallRecord
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*c = CallRecord(p)
	return nil
}

// Quality is one direction of a call's media.
type Quality struct {
	Packets     int64    `json:"packets"`
	Lost        int64    `json:"lost"`
	LossPercent float64  `json:"loss_percent"`
	Jitter      float64  `json:"jitter_ms"`  // RFC 3550 interarrival jitter
	MaxGap      *float64 `json:"max_gap_ms"` // null: not known (RTCP does not say)
	MOS         float64  `json:"mos"`        // estimated, simplified G.107 E-model
}

// CallPage is a page of GET /calls; NextAfter is the after of the next
// page, 0 at the end.
type CallPage struct {
	Calls     []CallRecord `json:"calls"`
	NextAfter int64        `json:"next_after"`
}

// UsageReport is GET /reports/usage: per organizer and per meeting
// (conference ID), over calls started in [from, to).
type UsageReport struct {
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"`
	Organizers []UsageRow `json:"organizers"`
	Meetings   []UsageRow `json:"meetings"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (u *UsageReport) UnmarshalJSON(data []byte) error {
	type plain UsageReport
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*u = UsageReport(p)
	return nil
}

// UsageRow is one organizer's usage, or one of their meetings'.
type UsageRow struct {
	Organizer          string   `json:"organizer"`
	ConferenceID       string   `json:"conference_id,omitempty"` // the meeting rows only
	Meetings           int      `json:"meetings"`                // times it was held with a caller in it
	Calls              int      `json:"calls"`                   // calls that reached it or its lobby
	ParticipantMinutes float64  `json:"participant_minutes"`     // those calls' minutes, answer to end
	AverageMOS         *float64 `json:"average_mos"`             // null: no call measured
	MeasuredCalls      int      `json:"measured_calls"`
}
