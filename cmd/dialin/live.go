package main

import (
	"errors"
	"fmt"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/store"
)

// liveStatus shows the bridge's meetings to the REST API (admin.LiveStatus),
// translating between the two packages' types and errors so that neither
// imports the other.
type liveStatus struct {
	meetings *bridge.Bridge
	dir      *store.Directory
}

var _ admin.LiveStatus = liveStatus{}

func (l liveStatus) Meeting(conferenceID string) (admin.Live, bool) {
	s, ok := l.meetings.Status(conferenceID)
	if !ok {
		return admin.Live{}, false
	}
	live := admin.Live{Started: s.Started, OrganizerPresent: s.OrganizerPresent}
	for _, p := range s.Participants {
		role := "attendee"
		if p.Organizer {
			role = "organizer"
		}
		live.Participants = append(live.Participants, admin.Participant{
			ID: p.ID, Caller: p.Caller, Role: role, Muted: p.Muted,
			HandRaised: p.HandRaised, Talking: p.Talking, JoinedAt: p.JoinedAt,
		})
	}
	for _, c := range s.Lobby {
		live.Lobby = append(live.Lobby, admin.LobbyCaller{ID: c.ID, Caller: c.Caller, WaitingSince: c.WaitingSince})
	}
	return live, true
}

func (l liveStatus) Start(conferenceID string) error {
	conf, ok := l.dir.LookupConference(conferenceID)
	if !ok {
		// The API checked the directory first; it changed since.
		return fmt.Errorf("conference ID %s is no longer in the directory", conferenceID)
	}
	l.meetings.Start(conferenceID, conf)
	return nil
}

func (l liveStatus) End(conferenceID string) error {
	return liveError(l.meetings.End(conferenceID))
}

func (l liveStatus) Admit(conferenceID, callerID string) (int, error) {
	n, err := l.meetings.Admit(conferenceID, callerID)
	return n, liveError(err)
}

func (l liveStatus) SetMuted(conferenceID, participantID string, muted bool) error {
	return liveError(l.meetings.SetMuted(conferenceID, participantID, muted))
}

func (l liveStatus) Remove(conferenceID, callerID string) error {
	return liveError(l.meetings.Remove(conferenceID, callerID))
}

// liveError maps the bridge's errors to the API's.
func liveError(err error) error {
	switch {
	case errors.Is(err, bridge.ErrNotStarted):
		return fmt.Errorf("%w: %w", admin.ErrNotStarted, err)
	case errors.Is(err, bridge.ErrNoSuchCaller):
		return fmt.Errorf("%w: %w", admin.ErrCallerNotFound, err)
	}
	return err
}
