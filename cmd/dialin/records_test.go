package main

import (
	"testing"
	"time"

	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/ivr"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

func TestCallRecordOutcomes(t *testing.T) {
	now := time.Now()
	answered := func(reason string, note *flowNote) sipua.Ended {
		e := sipua.Ended{CallID: "x", Invited: now, Answered: now, Ended: now.Add(time.Minute), Status: 200, Reason: reason,
			Stats: media.Stats{RecvExpected: 100, RecvReceived: 100}}
		if note != nil {
			e.Note = note
		}
		return e
	}
	found := ivr.Entry{ConferenceID: "1234566", Outcome: ivr.OutcomeFound, Conference: store.Conference{OrganizerID: 3}}
	done, hungUp := sipua.ErrFlowDone.Error(), sipua.ErrRemoteHangup.Error()
	for _, tc := range []struct {
		name             string
		e                sipua.Ended
		outcome, reason  string
		conference, role string
	}{
		{"cancelled", sipua.Ended{Invited: now, Ended: now, Status: 487, Cancelled: true, Reason: "caller cancelled before answer"},
			store.OutcomeCancelled, "caller cancelled before answer", "", ""},
		{"refused", sipua.Ended{Invited: now, Ended: now, Status: 503, Reason: "too many calls"}, store.OutcomeRefused, "too many calls", "", ""},
		{"no ACK", sipua.Ended{Invited: now, Ended: now, Status: 200, Reason: "no ACK for our 200 OK"}, store.OutcomeFailed, "no ACK for our 200 OK", "", ""},
		{"panic", answered(sipua.ErrFlowPanic.Error(), &flowNote{entry: found}), store.OutcomeFailed, "call flow failed", "1234566", "attendee"},
		{"not found", answered(done, &flowNote{entry: ivr.Entry{Outcome: ivr.OutcomeNotFound}}), store.OutcomeNotFound, "conference ID not found", "", ""},
		{"hung up in the menu", answered(hungUp, &flowNote{entry: ivr.Entry{Outcome: ivr.OutcomeHungUp}}), store.OutcomeAbandoned, hungUp, "", ""},
		{"guard", answered(done, &flowNote{entry: ivr.Entry{Outcome: ivr.OutcomeRefused}}), store.OutcomeRefused,
			"refused: too many failed conference IDs or PINs", "", ""},
		{"joined", answered(hungUp, &flowNote{entry: found, joined: true, left: bridge.Left{Admitted: true, MeetingStart: now}}),
			store.OutcomeJoined, hungUp, "1234566", "attendee"},
		{"removed", answered(done, &flowNote{entry: found, joined: true, left: bridge.Left{Admitted: true, Reason: "removed"}}),
			store.OutcomeJoined, "removed", "1234566", "attendee"},
		{"lobby timeout", answered(done, &flowNote{entry: found, joined: true, left: bridge.Left{Reason: "lobby timed out"}}),
			store.OutcomeLobby, "lobby timed out", "1234566", "attendee"},
		{"full", answered(done, &flowNote{entry: found, joined: true, left: bridge.Left{Reason: "meeting full"}}),
			store.OutcomeRefused, "meeting full", "1234566", "attendee"},
		{"organizer", answered(sipua.ErrMaxDuration.Error(), &flowNote{entry: ivr.Entry{ConferenceID: "1234566", Outcome: ivr.OutcomeFound, Organizer: true},
			joined: true, left: bridge.Left{Admitted: true}}), store.OutcomeJoined, "maximum call duration reached", "1234566", "organizer"},
	} {
		r := callRecord(tc.e)
		if r.Outcome != tc.outcome || r.EndReason != tc.reason || r.ConferenceID != tc.conference || r.Role != tc.role {
			t.Errorf("%s: %q %q %q %q; want %q %q %q %q", tc.name, r.Outcome, r.EndReason, r.ConferenceID, r.Role,
				tc.outcome, tc.reason, tc.conference, tc.role)
		}
		if r.In.Measured != !tc.e.Answered.IsZero() {
			t.Errorf("%s: quality measured %v", tc.name, r.In.Measured)
		}
	}
}
