package main

import (
	"context"
	"strings"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/callrecord"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/ivr"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

// flowNote is what answer leaves with a call (sipua.Call.Note) for its
// record: who the IVR found, and how the meeting ended for them.
type flowNote struct {
	entry  ivr.Entry
	joined bool // bridge.Join ran
	left   bridge.Left
}

// startRecords starts the writer of the call records; stop writes what is
// queued and returns once it is done (before the directory closes).
func startRecords(cfg config.CallRecords, dir *store.Directory, log zerolog.Logger) (rec *callrecord.Recorder, stop func()) {
	rec = callrecord.New(callrecord.Options{
		Writer:    dir.CallRecords(),
		Retention: cfg.Retention,
		Queue:     cfg.Queue,
		Logger:    log.With().Str("component", "callrecords").Logger(),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.Run(ctx)
	}()
	return rec, func() {
		cancel()
		<-done
		log.Info().Uint64("written", rec.Written()).Uint64("dropped", rec.Dropped()).Uint64("failed", rec.Failed()).
			Uint64("pruned", rec.Pruned()).Msg("call records stopped")
	}
}

// callRecord is a finished call's record: the user agent's side, the IVR's
// and the bridge's (the note), and the quality of both directions.
func callRecord(e sipua.Ended) store.CallRecord {
	r := store.CallRecord{
		CallID: e.CallID, Calling: e.Caller, Called: e.Called, Source: e.Source, Transport: e.Transport,
		Started: e.Invited, Answered: e.Answered, Ended: e.Ended, Status: e.Status,
		EndReason: e.Reason, Codec: e.Codec, DTMF: strings.Join(e.DTMF, ","), Lobby: e.Lobby, RTT: e.Stats.RTT,
	}
	if !e.Answered.IsZero() {
		r.In, r.Out = callrecord.InQuality(e.Stats), callrecord.OutQuality(e.Stats)
	}
	note, _ := e.Note.(*flowNote)
	switch {
	case e.Answered.IsZero() && e.Cancelled:
		r.Outcome = store.OutcomeCancelled
	case e.Answered.IsZero() && e.Status >= 300:
		r.Outcome = store.OutcomeRefused
	case e.Answered.IsZero():
		r.Outcome = store.OutcomeFailed // no ACK, no usable answer
	case note == nil:
		r.Outcome = store.OutcomeAbandoned // ended before the menu began
	default:
		r.Outcome = note.outcome(&r)
	}
	if e.Reason == sipua.ErrFlowPanic.Error() {
		r.Outcome = store.OutcomeFailed // a bug, wherever the caller was
	}
	return r
}

// outcome fills in what the IVR and the bridge knew and says how the call
// ended; a call that the flow ended gets the flow's reason.
func (n *flowNote) outcome(r *store.CallRecord) string {
	flowEnded := r.EndReason == sipua.ErrFlowDone.Error()
	reason := func(why string) {
		if flowEnded && why != "" {
			r.EndReason = why
		}
	}
	switch n.entry.Outcome {
	case ivr.OutcomeNotFound:
		reason("conference ID not found")
		return store.OutcomeNotFound
	case ivr.OutcomeGaveUp:
		reason("no conference ID entered")
		return store.OutcomeGaveUp
	case ivr.OutcomeRefused:
		reason("refused: too many failed conference IDs or PINs")
		return store.OutcomeRefused
	case ivr.OutcomeFound:
	default: // hung up in the menu
		return store.OutcomeAbandoned
	}
	r.ConferenceID = n.entry.ConferenceID
	r.OrganizerID = n.entry.Conference.OrganizerID
	r.Role = store.RoleAttendee
	if n.entry.Organizer {
		r.Role = store.RoleOrganizer
	}
	if !n.joined {
		return store.OutcomeAbandoned
	}
	r.MeetingStart = n.left.MeetingStart
	reason(n.left.Reason)
	switch {
	case n.left.Admitted:
		return store.OutcomeJoined
	case n.left.Reason == "meeting full" || n.left.Reason == "meeting locked":
		return store.OutcomeRefused
	}
	return store.OutcomeLobby
}
