package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/store"
)

// meetingDirectory is what the /meetings routes need of the directory.
type meetingDirectory interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
	GetUser(ctx context.Context, id int64) (store.User, error)
	CreateMeeting(ctx context.Context, organizerID int64, requireOrganizer, bypassLobby bool) (store.Meeting, error)
	GetMeeting(ctx context.Context, conferenceID string) (store.Meeting, error)
	ListMeetings(ctx context.Context, f store.MeetingFilter) ([]store.Meeting, error)
	DeleteMeeting(ctx context.Context, conferenceID string) error
	// LookupConference is what a call would find for the ID (the meeting's
	// admission rule), for starting it from the API.
	LookupConference(conferenceID string) (store.Conference, bool)
}

// LiveMeetings is what the live routes need of the bridge (*bridge.Bridge):
// its meetings' state and the administrator's control over them, with the
// bridge's own errors: bridge.ErrNotStarted when the meeting is not on,
// bridge.ErrNoSuchCaller when an id names nobody in it (wrapped or not);
// any other error is the bridge's failure (500, logged). The ids of
// participants and lobby callers are the bridge's, opaque to the API, and
// must be 1-64 visible ASCII characters (no spaces) for the control routes
// to reach them.
type LiveMeetings interface {
	// Status is a meeting's live state; false: not known to the bridge
	// (not started, nobody waiting).
	Status(conferenceID string) (bridge.Status, bool)
	// Start starts the meeting as if its organizer joined from an app.
	// Starting a started meeting changes nothing.
	Start(conferenceID string, conf store.Conference)
	// End ends the meeting: everyone in it and in its lobby is told and hung up.
	End(conferenceID string) error
	// Admit moves a lobby caller (callerID) or, with callerID "", everyone
	// waiting in the lobby, into the meeting; it returns how many.
	Admit(conferenceID, callerID string) (int, error)
	// SetMuted mutes or unmutes one participant.
	SetMuted(conferenceID, participantID string, muted bool) error
	// Remove hangs up one participant or lobby caller (they hear that they were removed).
	Remove(conferenceID, callerID string) error
	// SetLocked locks or unlocks a started meeting, as the organizer's
	// lock key does (new callers but the organizer are refused).
	SetLocked(conferenceID string, locked bool) error
	// LiveIDs lists the conference IDs the bridge holds now (on, or with
	// someone in its lobby), in order; Status tells which.
	LiveIDs() []string
}

// maxCallerIDLength bounds the id of a participant or lobby caller.
const maxCallerIDLength = 64

// viewMeetings adds each meeting's organizer address (looked up once per
// organizer) and live state.
func (a *api) viewMeetings(ctx context.Context, meetings []store.Meeting) ([]wire.Meeting, error) {
	emails := map[int64]string{}
	out := make([]wire.Meeting, 0, len(meetings))
	for _, m := range meetings {
		email, ok := emails[m.OrganizerID]
		if !ok {
			u, err := a.meetingDir.GetUser(ctx, m.OrganizerID)
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
		live := a.liveOf(m.ConferenceID)
		out = append(out, wire.Meeting{
			ConferenceID:     m.ConferenceID,
			Organizer:        email,
			OrganizerID:      m.OrganizerID,
			Static:           m.Static,
			RequireOrganizer: m.RequireOrganizer,
			BypassLobby:      m.BypassLobby,
			NoCheckDigit:     m.NoCheckDigit,
			CreatedAt:        m.CreatedAt,
			Live:             &live, // always sent
		})
	}
	return out, nil
}

// liveOf is the live state of a meeting as the API shows it: [] rather
// than null, roles by name and the callers' numbers masked.
func (a *api) liveOf(conferenceID string) wire.Live {
	var st bridge.Status
	if a.live != nil {
		st, _ = a.live.Status(conferenceID)
	}
	l := wire.Live{
		Started:          st.Started,
		Locked:           st.Locked,
		OrganizerPresent: st.OrganizerPresent,
		Participants:     make([]wire.Participant, 0, len(st.Participants)),
		Lobby:            make([]wire.LobbyCaller, 0, len(st.Lobby)),
	}
	for _, p := range st.Participants {
		role := "attendee"
		if p.Organizer {
			role = "organizer"
		}
		l.Participants = append(l.Participants, wire.Participant{
			ID: p.ID, Caller: maskCaller(p.Caller), Role: role, Muted: p.Muted,
			HandRaised: p.HandRaised, Talking: p.Talking, OnHold: p.OnHold, JoinedAt: p.JoinedAt,
		})
	}
	for _, c := range st.Lobby {
		l.Lobby = append(l.Lobby, wire.LobbyCaller{ID: c.ID, Caller: maskCaller(c.Caller), WaitingSince: c.WaitingSince})
	}
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
		u, err := a.meetingDir.UserByEmail(r.Context(), email)
		if err != nil {
			return about(err, "user "+email)
		}
		f.OrganizerID = u.ID
	}
	meetings, err := a.meetingDir.ListMeetings(r.Context(), f)
	if err != nil {
		return err
	}
	var out wire.MeetingPage
	if out.Meetings, err = a.viewMeetings(r.Context(), meetings); err != nil {
		return err
	}
	if len(meetings) == limit {
		// A full page: look one further, so next_after is "" exactly at the end.
		probe := f
		probe.After, probe.Limit = meetings[len(meetings)-1].ConferenceID, 1
		more, err := a.meetingDir.ListMeetings(r.Context(), probe)
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
	var req wire.MeetingRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	// The seed documents' default: callers wait for the organizer.
	requireOrganizer := req.RequireOrganizer == nil || *req.RequireOrganizer
	bypassLobby := req.BypassLobby != nil && *req.BypassLobby
	email := strings.TrimSpace(req.Organizer)
	if err := checkEmail("organizer", email); err != nil {
		return err
	}
	auditUser(r, email)
	u, err := a.meetingDir.UserByEmail(r.Context(), email)
	if err != nil {
		return about(err, "user "+email)
	}
	m, err := a.meetingDir.CreateMeeting(r.Context(), u.ID, requireOrganizer, bypassLobby)
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
	if !isDigits(id, store.ConferenceIDLength) {
		return "", notFound("meeting %s not found (a conference ID is %d digits)", id, store.ConferenceIDLength)
	}
	return id, nil
}

// meetingOf reads the meeting the path names: a dynamic meeting or a
// user's static conference ID, as the directory has it.
func (a *api) meetingOf(r *http.Request) (store.Meeting, error) {
	id, err := meetingID(r)
	if err != nil {
		return store.Meeting{}, err
	}
	m, err := a.meetingDir.GetMeeting(r.Context(), id)
	if err != nil {
		return store.Meeting{}, about(err, "meeting "+id)
	}
	return m, nil
}

// writeMeeting answers with the meeting as GET /api/v1/meetings/{conference_id} shows it.
func (a *api) writeMeeting(w http.ResponseWriter, r *http.Request, status int, m store.Meeting) error {
	views, err := a.viewMeetings(r.Context(), []store.Meeting{m})
	if err != nil {
		return err
	}
	writeJSON(w, status, views[0])
	return nil
}

// GET /api/v1/meetings/{conference_id}
func (a *api) getMeeting(w http.ResponseWriter, r *http.Request) error {
	m, err := a.meetingOf(r)
	if err != nil {
		return err
	}
	return a.writeMeeting(w, r, http.StatusOK, m)
}

// DELETE /api/v1/meetings/{conference_id}
func (a *api) deleteMeeting(w http.ResponseWriter, r *http.Request) error {
	id, err := meetingID(r)
	if err != nil {
		return err
	}
	if err := a.meetingDir.DeleteMeeting(r.Context(), id); err != nil {
		return about(err, "meeting "+id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Live meeting control ---------------------------------------------

// liveMeeting is the meeting a live-control route acts on: it must be in
// the directory (404), and the bridge must be there to act (503).
func (a *api) liveMeeting(r *http.Request) (store.Meeting, error) {
	m, err := a.meetingOf(r)
	if err != nil {
		return m, err
	}
	if a.live == nil {
		return m, &apiError{Status: http.StatusServiceUnavailable, Code: wire.CodeBridgeUnavailable,
			Message: "live meeting control is unavailable: this API server is not connected to the bridge"}
	}
	return m, nil
}

// liveError maps the bridge's errors: a meeting that is not on and an
// id that names nobody are the request's; anything else is the bridge's
// (500, logged, never shown).
func liveError(err error, conferenceID, callerID string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bridge.ErrNotStarted):
		return &apiError{Status: http.StatusConflict, Code: wire.CodeMeetingNotStarted,
			Message: "meeting " + conferenceID + " has not started"}
	case errors.Is(err, bridge.ErrNoSuchCaller):
		msg := "no participant or lobby caller " + callerID + " in meeting " + conferenceID
		if callerID == "" {
			msg = "a caller of meeting " + conferenceID + " is no longer there"
		}
		return &apiError{Status: http.StatusNotFound, Code: wire.CodeCallerNotFound, Message: msg}
	}
	return err
}

// checkCallerID refuses an id of a participant or lobby caller that the
// bridge cannot have given: empty, over 64 characters, or with anything
// but visible ASCII. The message does not echo it.
func checkCallerID(field, id string) error {
	if id == "" {
		return invalidInput(field, "%s is required", field)
	}
	if len(id) > maxCallerIDLength {
		return invalidInput(field, "%s is longer than %d characters", field, maxCallerIDLength)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return invalidInput(field, "%s has a character that is not visible ASCII (at byte %d)", field, i)
		}
	}
	return nil
}

// participantID reads and checks the participant or lobby caller id of the path.
func participantID(r *http.Request) (string, error) {
	id := r.PathValue("participant_id")
	if err := checkCallerID("participant_id", id); err != nil {
		return "", err
	}
	return id, nil
}

// POST /api/v1/meetings/{conference_id}/start
func (a *api) startMeeting(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	m, err := a.liveMeeting(r)
	if err != nil {
		return err
	}
	conf, ok := a.meetingDir.LookupConference(m.ConferenceID)
	if !ok {
		// The route read the directory a moment ago; it changed since.
		return fmt.Errorf("start meeting: conference ID %s is no longer in the directory", m.ConferenceID)
	}
	a.live.Start(m.ConferenceID, conf)
	auditNote(r, "", "started from the API")
	return a.writeMeeting(w, r, http.StatusOK, m)
}

// POST /api/v1/meetings/{conference_id}/end
func (a *api) endMeeting(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	m, err := a.liveMeeting(r)
	if err != nil {
		return err
	}
	if err := a.live.End(m.ConferenceID); err != nil {
		return liveError(err, m.ConferenceID, "")
	}
	auditNote(r, "", "ended: everyone hung up")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /api/v1/meetings/{conference_id}/admit
func (a *api) admit(w http.ResponseWriter, r *http.Request) error {
	var req wire.AdmitRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	if req.CallerID != "" {
		if err := checkCallerID("caller_id", req.CallerID); err != nil {
			return err
		}
	}
	if req.CallerID != "" && store.ValidConferenceID(r.PathValue("conference_id")) {
		auditNote(r, "lobby caller "+req.CallerID+" of meeting "+r.PathValue("conference_id"), "")
	}
	m, err := a.liveMeeting(r)
	if err != nil {
		return err
	}
	n, err := a.live.Admit(m.ConferenceID, req.CallerID)
	if err != nil {
		return liveError(err, m.ConferenceID, req.CallerID)
	}
	auditNote(r, "", fmt.Sprintf("%d caller(s) admitted", n))
	writeJSON(w, http.StatusOK, wire.AdmitResult{Admitted: n})
	return nil
}

// PUT /api/v1/meetings/{conference_id}/lock
func (a *api) setLocked(w http.ResponseWriter, r *http.Request) error {
	var req wire.LockRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.Locked == nil {
		return invalidInput("locked", "locked is required (true or false)")
	}
	m, err := a.liveMeeting(r)
	if err != nil {
		return err
	}
	detail := "unlock"
	if *req.Locked {
		detail = "lock: no new callers but the organizer"
	}
	auditNote(r, "", detail)
	if err := a.live.SetLocked(m.ConferenceID, *req.Locked); err != nil {
		return liveError(err, m.ConferenceID, "")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// GET /api/v1/live: the meetings the bridge holds now, started or with
// callers in the lobby (a meeting only turning a caller away is not
// listed), each with its live state. A meeting deleted while on is listed
// with its conference ID and live state only. On a cluster node, those of
// every live node (cluster.go).
func (a *api) listLive(w http.ResponseWriter, r *http.Request) error {
	if a.live == nil {
		return &apiError{Status: http.StatusServiceUnavailable, Code: wire.CodeBridgeUnavailable,
			Message: "live meetings are unavailable: this API server is not connected to the bridge"}
	}
	out := wire.LiveList{Meetings: []wire.Meeting{}}
	for _, id := range a.live.LiveIDs() {
		st, ok := a.live.Status(id)
		if !ok || !st.Started && len(st.Lobby) == 0 {
			continue
		}
		m, err := a.meetingDir.GetMeeting(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			live := a.liveOf(id)
			out.Meetings = append(out.Meetings, wire.Meeting{ConferenceID: id, Live: &live})
			continue
		}
		if err != nil {
			return err
		}
		views, err := a.viewMeetings(r.Context(), []store.Meeting{m})
		if err != nil {
			return err
		}
		out.Meetings = append(out.Meetings, views...)
	}
	if a.node != nil && !isForwarded(r.Context()) {
		if err := a.peersLive(r, &out); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// PUT /api/v1/meetings/{conference_id}/participants/{participant_id}/mute
func (a *api) setMuted(w http.ResponseWriter, r *http.Request) error {
	pid, err := participantID(r)
	if err != nil {
		return err
	}
	var req wire.MuteRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.Muted == nil {
		return invalidInput("muted", "muted is required (true or false)")
	}
	m, err := a.liveMeeting(r)
	if err != nil {
		return err
	}
	detail := "unmute"
	if *req.Muted {
		detail = "mute"
	}
	auditNote(r, "", detail)
	if err := a.live.SetMuted(m.ConferenceID, pid, *req.Muted); err != nil {
		return liveError(err, m.ConferenceID, pid)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DELETE /api/v1/meetings/{conference_id}/participants/{participant_id}
func (a *api) removeCaller(w http.ResponseWriter, r *http.Request) error {
	pid, err := participantID(r)
	if err != nil {
		return err
	}
	m, err := a.liveMeeting(r)
	if err != nil {
		return err
	}
	if err := a.live.Remove(m.ConferenceID, pid); err != nil {
		return liveError(err, m.ConferenceID, pid)
	}
	auditNote(r, "", "hung up")
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
