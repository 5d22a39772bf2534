package storetest

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

func cdr(callID string, started time.Time, outcome string) store.CallRecord {
	return store.CallRecord{CallID: callID, Calling: "+14255550100", Called: "conference", Source: "192.0.2.1",
		Transport: "udp", Started: started, Answered: started.Add(time.Second), Ended: started.Add(61 * time.Second),
		Status: 200, Outcome: outcome, Codec: "PCMU", DTMF: "rfc4733", EndReason: "caller hung up",
		In:  store.StreamQuality{Measured: true, Packets: 3000, Lost: 30, Jitter: 2 * time.Millisecond, MaxGap: 60 * time.Millisecond, HasMaxGap: true, MOS: 4.2},
		Out: store.StreamQuality{Measured: true, Packets: 3000, Jitter: time.Millisecond, MOS: 4.4},
	}
}

func testCallRecordsRoundTripFilterUsagePrune(t *testing.T, e Engine) {
	ctx := context.Background()
	db := e.fresh(t)
	u := FullUser(1)
	if err := db.CreateUser(ctx, &u, StaticMeeting(&u), nil); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 10, 9, 0, 0, 123, time.UTC)
	meeting := base.Add(-time.Minute)
	org := cdr("a@x", base, store.OutcomeJoined)
	org.ConferenceID, org.OrganizerID, org.Role, org.MeetingStart = u.ConferenceID, u.ID, store.RoleOrganizer, meeting
	att := cdr("b@x", base.Add(time.Minute), store.OutcomeJoined)
	att.ConferenceID, att.OrganizerID, att.Role, att.MeetingStart = u.ConferenceID, u.ID, store.RoleAttendee, meeting
	att.Lobby = 20 * time.Second
	att.Out = store.StreamQuality{} // no RTCP from this caller
	lost := cdr("c@x", base.Add(2*time.Minute), store.OutcomeNotFound)
	lost.In.MOS = 3.0
	old := cdr("d@x", base.Add(-100*24*time.Hour), store.OutcomeGaveUp)
	if err := db.InsertCallRecords(ctx, []store.CallRecord{org, att, lost, old}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCallRecords(ctx, []store.CallRecord{{CallID: "x"}}); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("a record without times: %v", err)
	}

	got, err := db.GetCallRecord(ctx, "b@x")
	if err != nil {
		t.Fatal(err)
	}
	if got.OrganizerEmail != u.Email || got.Lobby != 20*time.Second || got.Out.Measured || !got.In.HasMaxGap ||
		got.In.MaxGap != 60*time.Millisecond || got.In.Lost != 30 || !got.Started.Equal(att.Started) ||
		!got.MeetingStart.Equal(meeting) || got.Duration() != time.Minute {
		t.Errorf("round trip: %+v", got)
	}
	if _, err := db.GetCallRecord(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing Call-ID: %v", err)
	}

	for _, tc := range []struct {
		name string
		f    store.CallFilter
		want []string
	}{
		{"all", store.CallFilter{}, []string{"a@x", "b@x", "c@x", "d@x"}},
		{"range", store.CallFilter{From: base, To: base.Add(2 * time.Minute)}, []string{"a@x", "b@x"}},
		{"conference", store.CallFilter{ConferenceID: u.ConferenceID}, []string{"a@x", "b@x"}},
		{"organizer any case", store.CallFilter{Organizer: "USER1@example.com"}, []string{"a@x", "b@x"}},
		{"calling", store.CallFilter{Calling: "+14255550100", Limit: 1}, []string{"a@x"}},
		{"outcome", store.CallFilter{Outcome: store.OutcomeNotFound}, []string{"c@x"}},
		{"cursor", store.CallFilter{After: org.ID + 2, Limit: 1}, []string{"c@x"}},
	} {
		recs, err := db.ListCallRecords(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.CallID)
		}
		if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) || (len(ids) > 1 && ids[len(ids)-1] != tc.want[len(tc.want)-1]) {
			t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
		}
	}

	rep, err := db.CallUsage(ctx, store.UsageFilter{From: base.Add(-time.Hour), To: base.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Organizers) != 1 || len(rep.Meetings) != 1 {
		t.Fatalf("usage: %+v", rep)
	}
	o := rep.Organizers[0]
	// Two calls of one meeting, a minute each; MOS: min(4.2, 4.4) and 4.2.
	if o.Organizer != u.Email || o.Meetings != 1 || o.Calls != 2 || math.Abs(o.ParticipantMinutes-2) > 1e-9 ||
		math.Abs(o.AverageMOS-4.2) > 1e-9 || o.MeasuredCalls != 2 {
		t.Errorf("organizer row: %+v", o)
	}
	if m := rep.Meetings[0]; m.ConferenceID != u.ConferenceID || m.Calls != 2 {
		t.Errorf("meeting row: %+v", m)
	}

	n, err := db.PruneCallRecords(ctx, base.Add(-90*24*time.Hour), 10)
	if err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if recs, _ := db.ListCallRecords(ctx, store.CallFilter{}); len(recs) != 3 {
		t.Errorf("after pruning: %d records", len(recs))
	}
}
