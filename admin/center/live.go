package center

// Live meetings: the meetings the bridge holds now and, for one of them,
// its lobby and participants with the controls an administrator has
// (admit, remove, mute, lock, start, end). Every control is a plain form
// that posts, calls the API in-process as the signed-in account and
// redirects back with a notice, so the pages work without script; with
// script (static/live.js) the live region follows the event stream of
// live_events.go without a reload.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/dialin/dialin/admin/client"
)

// liveRoutes are the pages and forms of this section.
func (c *Center) liveRoutes() []route {
	return []route{
		{"GET /admin/live", c.liveList},
		{"GET /admin/live/events", c.liveListEvents},
		{"GET /admin/live/{conference_id}", c.liveMeeting},
		{"GET /admin/live/{conference_id}/events", c.liveMeetingEvents},
		{"POST /admin/live/{conference_id}/start", c.liveStart},
		{"POST /admin/live/{conference_id}/admit", c.liveAdmit},
		{"POST /admin/live/{conference_id}/remove", c.liveRemove},
		{"POST /admin/live/{conference_id}/mute", c.liveMute},
		{"POST /admin/live/{conference_id}/lock", c.liveLock},
		{"GET /admin/live/{conference_id}/end", c.liveEndConfirm},
		{"POST /admin/live/{conference_id}/end", c.liveEnd},
	}
}

// liveListData fills live.html.
type liveListData struct {
	pageData
	Meetings []liveMeetingView
	Version  string
}

// liveMeetingData fills live_meeting.html and its live region.
type liveMeetingData struct {
	pageData
	Meeting liveMeetingView
	Version string
}

// livePath is the page of a meeting.
func livePath(id string) string { return "/admin/live/" + url.PathEscape(id) }

// GET /admin/live
func (c *Center) liveList(w http.ResponseWriter, r *http.Request, ses *session) {
	views, err := c.liveViews(r, ses)
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	c.render(w, http.StatusOK, "live.html", liveListData{pageData: c.page(ses, "live", "Live meetings"),
		Meetings: views, Version: versionOf(views)})
}

// liveViews are the live meetings as the list shows them.
func (c *Center) liveViews(r *http.Request, ses *session) ([]liveMeetingView, error) {
	meetings, err := c.api.LiveMeetings(c.as(r, ses))
	if err != nil {
		return nil, err
	}
	now := c.now()
	views := make([]liveMeetingView, 0, len(meetings))
	for _, m := range meetings {
		views = append(views, viewOf(m, now))
	}
	return views, nil
}

// GET /admin/live/{conference_id}
func (c *Center) liveMeeting(w http.ResponseWriter, r *http.Request, ses *session) {
	v, err := c.meetingView(r, ses)
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	c.render(w, http.StatusOK, "live_meeting.html", liveMeetingData{
		pageData: c.page(ses, "live", "Meeting "+v.ConferenceID), Meeting: v, Version: versionOf(v)})
}

// meetingView is the meeting of the path as the page shows it.
func (c *Center) meetingView(r *http.Request, ses *session) (liveMeetingView, error) {
	m, err := c.api.Meeting(c.as(r, ses), r.PathValue("conference_id"))
	if err != nil {
		return liveMeetingView{}, err
	}
	return viewOf(m, c.now()), nil
}

// liveDone ends a control: back to the meeting's page with a notice. A
// refusal the API explains (the caller has gone, the meeting is not on)
// is the notice; anything else is the error page.
func (c *Center) liveDone(w http.ResponseWriter, r *http.Request, ses *session, err error, notice string) {
	var apiErr *client.APIError
	if err != nil && !(errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500) {
		c.failed(w, ses, err)
		return
	}
	if err != nil {
		notice = "Not done: " + apiErr.Message + "."
	}
	ses.notify(notice)
	http.Redirect(w, r, livePath(r.PathValue("conference_id")), http.StatusSeeOther)
}

// POST /admin/live/{conference_id}/start: as if the organizer joined
// from an app; with automatic admission the lobby comes in.
func (c *Center) liveStart(w http.ResponseWriter, r *http.Request, ses *session) {
	_, err := c.api.StartMeeting(c.as(r, ses), r.PathValue("conference_id"))
	c.liveDone(w, r, ses, err, "Meeting started.")
}

// POST /admin/live/{conference_id}/admit: caller=ID, or all=1 for everyone waiting.
func (c *Center) liveAdmit(w http.ResponseWriter, r *http.Request, ses *session) {
	caller := strings.TrimSpace(r.PostFormValue("caller"))
	if caller == "" && r.PostFormValue("all") == "" {
		c.showError(w, ses, http.StatusBadRequest, "Say whom to admit.")
		return
	}
	n, err := c.api.Admit(c.as(r, ses), r.PathValue("conference_id"), caller)
	notice := "Caller admitted to the meeting."
	if caller == "" {
		notice = fmt.Sprintf("%d caller(s) admitted to the meeting.", n)
	}
	c.liveDone(w, r, ses, err, notice)
}

// POST /admin/live/{conference_id}/remove: caller=ID, in the lobby or the meeting.
func (c *Center) liveRemove(w http.ResponseWriter, r *http.Request, ses *session) {
	caller := strings.TrimSpace(r.PostFormValue("caller"))
	if caller == "" {
		c.showError(w, ses, http.StatusBadRequest, "Say whom to remove.")
		return
	}
	err := c.api.RemoveCaller(c.as(r, ses), r.PathValue("conference_id"), caller)
	c.liveDone(w, r, ses, err, "Caller removed and hung up.")
}

// POST /admin/live/{conference_id}/mute: participant=ID, muted=true|false.
func (c *Center) liveMute(w http.ResponseWriter, r *http.Request, ses *session) {
	who := strings.TrimSpace(r.PostFormValue("participant"))
	muted, ok := formBool(r, "muted")
	if who == "" || !ok {
		c.showError(w, ses, http.StatusBadRequest, "Say whom to mute or unmute.")
		return
	}
	err := c.api.SetMuted(c.as(r, ses), r.PathValue("conference_id"), who, muted)
	notice := "Participant muted."
	if !muted {
		notice = "Participant unmuted."
	}
	c.liveDone(w, r, ses, err, notice)
}

// POST /admin/live/{conference_id}/lock: locked=true|false.
func (c *Center) liveLock(w http.ResponseWriter, r *http.Request, ses *session) {
	locked, ok := formBool(r, "locked")
	if !ok {
		c.showError(w, ses, http.StatusBadRequest, "Say whether to lock or unlock the meeting.")
		return
	}
	err := c.api.SetLocked(c.as(r, ses), r.PathValue("conference_id"), locked)
	notice := "Meeting locked: new callers are turned away, except the organizer."
	if !locked {
		notice = "Meeting unlocked: callers can join again."
	}
	c.liveDone(w, r, ses, err, notice)
}

// formBool reads a form field that must be "true" or "false".
func formBool(r *http.Request, name string) (value, ok bool) {
	switch r.PostFormValue(name) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// GET /admin/live/{conference_id}/end: the confirmation.
func (c *Center) liveEndConfirm(w http.ResponseWriter, r *http.Request, ses *session) {
	v, err := c.meetingView(r, ses)
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	c.render(w, http.StatusOK, "live_end.html", liveMeetingData{
		pageData: c.page(ses, "live", "End meeting "+v.ConferenceID), Meeting: v})
}

// POST /admin/live/{conference_id}/end: everyone in it and in its lobby
// hears that it ended and is hung up.
func (c *Center) liveEnd(w http.ResponseWriter, r *http.Request, ses *session) {
	err := c.api.EndMeeting(c.as(r, ses), r.PathValue("conference_id"))
	c.liveDone(w, r, ses, err, "Meeting ended: everyone in it and in its lobby was hung up.")
}
