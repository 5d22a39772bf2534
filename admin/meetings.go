package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dialin/dialin/store"
)

// LiveStatus reports a meeting's live state; the lobby/bridge implements
// it. A meeting it does not know (false) has never started.
type LiveStatus interface {
	Meeting(conferenceID string) (Live, bool)
}

// Live is a meeting's state on the bridge.
type Live struct {
	Started          bool          `json:"started"`
	OrganizerPresent bool          `json:"organizer_present"`
	Participants     []Participant `json:"participants"`
	Lobby            []LobbyCaller `json:"lobby"`
}

// Participant is a caller in a started meeting.
type Participant struct {
	// Caller is the caller's number; the API masks all but its last
	// digits, whatever LiveStatus gives.
	Caller     string    `json:"caller"`
	Role       string    `json:"role"` // "organizer" or "attendee"
	Muted      bool      `json:"muted"`
	HandRaised bool      `json:"hand_raised"`
	Talking    bool      `json:"talking"`
	JoinedAt   time.Time `json:"joined_at"`
}

// LobbyCaller is a caller waiting in the lobby to be admitted.
type LobbyCaller struct {
	Caller       string    `json:"caller"` // masked like Participant.Caller
	WaitingSince time.Time `json:"waiting_since"`
}

// meetingView is a meeting as the API shows it.
type meetingView struct {
	ConferenceID     string    `json:"conference_id"`
	Organizer        string    `json:"organizer"` // the organizer's email
	OrganizerID      int64     `json:"organizer_id"`
	Static           bool      `json:"static"`
	RequireOrganizer bool      `json:"require_organizer"`
	BypassLobby      bool      `json:"bypass_lobby"`
	CreatedAt        time.Time `json:"created_at"`
	Live             Live      `json:"live"`
}

type meetingList struct {
	Meetings  []meetingView `json:"meetings"`
	NextAfter string        `json:"next_after"`
}

// viewMeetings adds each meeting's organizer address (looked up once per
// organizer) and live state.
func (a *api) viewMeetings(ctx context.Context, meetings []store.Meeting) ([]meetingView, error) {
	emails := map[int64]string{}
	out := make([]meetingView, 0, len(meetings))
	for _, m := range meetings {
		email, ok := emails[m.OrganizerID]
		if !ok {
			u, err := a.dir.GetUser(ctx, m.OrganizerID)
			switch {
			case err == nil:
				email = u.Email
			case errors.Is(err, store.ErrNotFound):
				// Disabled since the meeting was read; show the meeting anyway.
			default:
				return nil, err
			}
			emails[m.OrganizerID] = email
		}
		out = append(out, meetingView{
			ConferenceID:     m.ConferenceID,
			Organizer:        email,
			OrganizerID:      m.OrganizerID,
			Static:           m.Static,
			RequireOrganizer: m.RequireOrganizer,
			BypassLobby:      m.BypassLobby,
			CreatedAt:        m.CreatedAt,
			Live:             a.liveOf(m.ConferenceID),
		})
	}
	return out, nil
}

// liveOf is the live state of a meeting, with [] rather than null and the
// callers' numbers masked.
func (a *api) liveOf(conferenceID string) Live {
	var l Live
	if a.live != nil {
		if got, ok := a.live.Meeting(conferenceID); ok {
			l = got
		}
	}
	participants := make([]Participant, 0, len(l.Participants))
	for _, p := range l.Participants {
		p.Caller = maskCaller(p.Caller)
		participants = append(participants, p)
	}
	lobby := make([]LobbyCaller, 0, len(l.Lobby))
	for _, c := range l.Lobby {
		c.Caller = maskCaller(c.Caller)
		lobby = append(lobby, c)
	}
	l.Participants, l.Lobby = participants, lobby
	return l
}

// maskCaller hides all but the last digits of a phone number ("+1 425
// 555 0100" -> "+* *** *** 0100"), enough for an administrator to tell
// callers apart. Masking a masked number changes nothing.
func maskCaller(number string) string {
	n := 0
	for _, c := range number {
		if c == '*' || c >= '0' && c <= '9' {
			n++
		}
	}
	keep := 4
	if n < 8 {
		keep = 2
	}
	var b strings.Builder
	i := 0
	for _, c := range number {
		if c == '*' || c >= '0' && c <= '9' {
			if i < n-keep {
				c = '*'
			}
			i++
		}
		b.WriteRune(c)
	}
	return b.String()
}

// GET /api/v1/meetings?organizer=EMAIL&after=ID&limit=N
func (a *api) listMeetings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := queryLimit(q)
	if err != nil {
		return err
	}
	f := store.MeetingFilter{After: q.Get("after"), Limit: limit}
	if f.After != "" && !isDigits(f.After, store.ConferenceIDLength) {
		return badParam("after", "%q is not a %d-digit conference ID", f.After, store.ConferenceIDLength)
	}
	if q.Has("organizer") {
		email := strings.TrimSpace(q.Get("organizer"))
		if err := checkEmail("organizer", email); err != nil {
			return err
		}
		u, err := a.dir.UserByEmail(r.Context(), email)
		if err != nil {
			return about(err, "user "+email)
		}
		f.OrganizerID = u.ID
	}
	meetings, err := a.dir.ListMeetings(r.Context(), f)
	if err != nil {
		return err
	}
	var out meetingList
	if out.Meetings, err = a.viewMeetings(r.Context(), meetings); err != nil {
		return err
	}
	if len(meetings) == limit {
		// A full page: look one further, so next_after is "" exactly at the end.
		probe := f
		probe.After, probe.Limit = meetings[len(meetings)-1].ConferenceID, 1
		more, err := a.dir.ListMeetings(r.Context(), probe)
		if err != nil {
			return err
		}
		if len(more) > 0 {
			out.NextAfter = probe.After
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/v1/meetings
func (a *api) createMeeting(w http.ResponseWriter, r *http.Request) error {
	req := struct {
		Organizer        string `json:"organizer"`
		RequireOrganizer bool   `json:"require_organizer"`
		BypassLobby      bool   `json:"bypass_lobby"`
	}{RequireOrganizer: true} // the seed documents' default: callers wait for the organizer
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	email := strings.TrimSpace(req.Organizer)
	if err := checkEmail("organizer", email); err != nil {
		return err
	}
	u, err := a.dir.UserByEmail(r.Context(), email)
	if err != nil {
		return about(err, "user "+email)
	}
	m, err := a.dir.CreateMeeting(r.Context(), u.ID, req.RequireOrganizer, req.BypassLobby)
	if err != nil {
		return about(err, "user "+email)
	}
	views, err := a.viewMeetings(r.Context(), []store.Meeting{m})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, views[0])
	return nil
}

// meetingID reads the conference ID of the path. A malformed one cannot
// name a meeting, so it is not found rather than a bad request.
func meetingID(r *http.Request) (string, error) {
	id := r.PathValue("conference_id")
	if !store.ValidConferenceID(id) {
		return "", notFound("meeting %s not found (a conference ID is %d digits with a valid check digit)", id, store.ConferenceIDLength)
	}
	return id, nil
}

// GET /api/v1/meetings/{conference_id}
func (a *api) getMeeting(w http.ResponseWriter, r *http.Request) error {
	id, err := meetingID(r)
	if err != nil {
		return err
	}
	m, err := a.dir.GetMeeting(r.Context(), id)
	if err != nil {
		return about(err, "meeting "+id)
	}
	views, err := a.viewMeetings(r.Context(), []store.Meeting{m})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views[0])
	return nil
}

// DELETE /api/v1/meetings/{conference_id}
func (a *api) deleteMeeting(w http.ResponseWriter, r *http.Request) error {
	id, err := meetingID(r)
	if err != nil {
		return err
	}
	if err := a.dir.DeleteMeeting(r.Context(), id); err != nil {
		return about(err, "meeting "+id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
