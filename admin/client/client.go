// Package client is a small typed client for the administration REST API
// (admin/API.md), used by the dialin user|pin|conference-id|meeting|settings
// subcommands.
//
// Every result keeps the exact JSON the API sent in its Raw field, so a
// caller can show the response as it came (dialin --json) without a second
// request or a lossy re-encoding.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dialin/dialin/admin/wire"
)

// maxResponse bounds a response body; a page of 1000 users is well under it.
const maxResponse = 32 << 20

// pageLimit is the page size used to follow pagination (the API's maximum).
const pageLimit = 1000

// Client talks to one API server with one token. It is safe for concurrent use.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
}

// New returns a client for the API at baseURL (e.g. "http://127.0.0.1:8080",
// without /api/v1) that authenticates with token. A nil httpClient means
// http.DefaultClient; bound requests with the context.
func New(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), token: token, http: httpClient}
}

// APIError is an error response of the API:
// {"error": {"code", "message", "field", "rule"}}.
type APIError struct {
	Status  int    // HTTP status
	Code    string // e.g. "not_found", "pin_policy"; "" if the body was not an API error
	Message string
	Field   string // the input field at fault, when known
	Rule    string // the PIN policy rule broken, when known
}

func (e *APIError) Error() string {
	var extra []string
	if e.Field != "" {
		extra = append(extra, "field "+e.Field)
	}
	if e.Rule != "" {
		extra = append(extra, "rule "+e.Rule)
	}
	if len(extra) == 0 {
		return e.Message
	}
	return e.Message + " (" + strings.Join(extra, ", ") + ")"
}

// do sends one request and decodes a 2xx JSON answer into out (unless out
// is nil or the answer has no body). body, when not nil, is sent as JSON.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := c.baseURL + "/api/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dialin-cli")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if len(data) > maxResponse {
		return fmt.Errorf("%s %s: response over %d bytes", method, path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// decodeError turns an error response into an *APIError. A body that is
// not the API's error object (a proxy, a plain-text server) still gives a
// useful message: the status and the start of the body.
func decodeError(resp *http.Response, data []byte) *APIError {
	var body wire.ErrorBody
	if json.Unmarshal(data, &body) == nil && body.Error != nil && body.Error.Message != "" {
		return &APIError{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message,
			Field: body.Error.Field, Rule: body.Error.Rule}
	}
	text := strings.TrimSpace(string(data))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	msg := "HTTP " + resp.Status
	if text != "" {
		msg += ": " + text
	}
	return &APIError{Status: resp.StatusCode, Message: msg}
}

// userPath is the path of a user; the email is escaped as one path segment.
func userPath(email string) string { return "/users/" + url.PathEscape(email) }

// ---- Users --------------------------------------------------------------

// ListUsers returns one page of users with IDs above after; limit 0 means
// the API's default (100).
func (c *Client) ListUsers(ctx context.Context, after int64, limit int) (UserPage, error) {
	return c.SearchUsers(ctx, "", after, limit)
}

// SearchUsers returns one page of the users whose email or display name
// starts with search (ASCII case ignored) or whose conference ID does,
// with IDs above after; "" is every user (ListUsers).
func (c *Client) SearchUsers(ctx context.Context, search string, after int64, limit int) (UserPage, error) {
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p UserPage
	err := c.do(ctx, http.MethodGet, "/users", q, nil, &p)
	return p, err
}

// AllUsers follows the pagination of GET /users to the end.
func (c *Client) AllUsers(ctx context.Context) ([]User, error) {
	return c.AllFound(ctx, "")
}

// AllFound follows the pagination of a search (SearchUsers) to the end.
func (c *Client) AllFound(ctx context.Context, search string) ([]User, error) {
	var all []User
	var after int64
	for {
		p, err := c.SearchUsers(ctx, search, after, pageLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Users...)
		if p.NextAfter == 0 {
			return all, nil
		}
		// A cursor that does not move would loop for ever.
		if p.NextAfter <= after {
			return nil, fmt.Errorf("list users: the API returned next_after %d after %d", p.NextAfter, after)
		}
		after = p.NextAfter
	}
}

// EnableUser enables a user; the Change holds the PIN, this once.
func (c *Client) EnableUser(ctx context.Context, req EnableRequest) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPost, "/users", nil, req, &ch)
	return ch, err
}

// User returns one user by primary email address.
func (c *Client) User(ctx context.Context, email string) (User, error) {
	var u User
	err := c.do(ctx, http.MethodGet, userPath(email), nil, nil, &u)
	return u, err
}

// DisableUser removes a user and its meetings.
func (c *Client) DisableUser(ctx context.Context, email string) error {
	return c.do(ctx, http.MethodDelete, userPath(email), nil, nil, nil)
}

// UpdateUser changes the fields patch sets (PATCH /users/{email}).
func (c *Client) UpdateUser(ctx context.Context, email string, patch UserPatch) (User, error) {
	var u User
	err := c.do(ctx, http.MethodPatch, userPath(email), nil, patch, &u)
	return u, err
}

// MailOptions choose the email one change sends.
type MailOptions struct {
	NoEmail bool   // send none, whatever the send_emails setting says
	To      string // send it to this address instead of the user's
}

// body is the optional body of the endpoints that may send an email.
func (m MailOptions) body() wire.MailRequest {
	b := wire.MailRequest{EmailTo: m.To}
	if m.NoEmail {
		no := false
		b.SendEmail = &no
	}
	return b
}

// ResetPIN gives the user a new generated PIN, returned this once.
func (c *Client) ResetPIN(ctx context.Context, email string, mail MailOptions) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPost, userPath(email)+"/pin/reset", nil, mail.body(), &ch)
	return ch, err
}

// IssueUserToken gives the user a self-service token (shown once; the
// user's earlier one stops working).
func (c *Client) IssueUserToken(ctx context.Context, email string) (UserToken, error) {
	var t UserToken
	err := c.do(ctx, http.MethodPost, userPath(email)+"/token", nil, nil, &t)
	return t, err
}

// RevokeUserToken ends the user's self-service token at once.
func (c *Client) RevokeUserToken(ctx context.Context, email string) error {
	return c.do(ctx, http.MethodDelete, userPath(email)+"/token", nil, nil, nil)
}

// Me reads the user whose self-service token this client holds.
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	err := c.do(ctx, http.MethodGet, "/me", nil, nil, &u)
	return u, err
}

// ResetOwnPIN resets the PIN of the user whose self-service token this
// client holds: the new PIN is shown once and never emailed.
func (c *Client) ResetOwnPIN(ctx context.Context) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPost, "/me/pin/reset", nil, nil, &ch)
	return ch, err
}

// SetOwnPIN sets the PIN the user whose token (or self-service page)
// this client acts for chose, checked against their PIN policy; it is not
// echoed back nor emailed.
func (c *Client) SetOwnPIN(ctx context.Context, pin string) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPut, "/me/pin", nil, wire.PINRequest{PIN: &pin}, &ch)
	return ch, err
}

// SendOwnInfo emails the user this client acts for their meeting details
// (conference ID and dial-in numbers, never the PIN).
func (c *Client) SendOwnInfo(ctx context.Context) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPost, "/me/send-info", nil, nil, &ch)
	return ch, err
}

// SetPIN sets a PIN chosen by the administrator (no email is sent).
func (c *Client) SetPIN(ctx context.Context, email, pin string) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPut, userPath(email)+"/pin", nil, wire.PINRequest{PIN: &pin}, &ch)
	return ch, err
}

// UnlockPIN clears the user's PIN lock and failure counters.
func (c *Client) UnlockPIN(ctx context.Context, email string) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPost, userPath(email)+"/pin/unlock", nil, nil, &ch)
	return ch, err
}

// ResetConferenceID gives the user a new static conference ID.
func (c *Client) ResetConferenceID(ctx context.Context, email string, mail MailOptions) (Change, error) {
	var ch Change
	err := c.do(ctx, http.MethodPost, userPath(email)+"/conference-id/reset", nil, mail.body(), &ch)
	return ch, err
}

// SetConferenceID gives the user the static conference ID id.
func (c *Client) SetConferenceID(ctx context.Context, email, id string, mail MailOptions) (Change, error) {
	var ch Change
	m := mail.body()
	body := wire.ConferenceIDRequest{ConferenceID: id, SendEmail: m.SendEmail, EmailTo: m.EmailTo}
	err := c.do(ctx, http.MethodPut, userPath(email)+"/conference-id", nil, body, &ch)
	return ch, err
}

// ImportConferenceID gives the user the static conference ID id brought
// from another system: any seven digits, without a Damm check digit.
func (c *Client) ImportConferenceID(ctx context.Context, email, id string, mail MailOptions) (Change, error) {
	var ch Change
	m := mail.body()
	body := wire.ConferenceIDRequest{ConferenceID: id, NoCheckDigit: true, SendEmail: m.SendEmail, EmailTo: m.EmailTo}
	err := c.do(ctx, http.MethodPut, userPath(email)+"/conference-id", nil, body, &ch)
	return ch, err
}

// SendConferenceInfo emails the user (or to, when not empty) the conference
// ID and dial-in numbers; never the PIN.
func (c *Client) SendConferenceInfo(ctx context.Context, email, to string) (Change, error) {
	var ch Change
	body := wire.SendInfoRequest{EmailTo: to}
	err := c.do(ctx, http.MethodPost, userPath(email)+"/conference-id/send-info", nil, body, &ch)
	return ch, err
}

// ---- Settings -----------------------------------------------------------

// Settings returns the organisation-wide settings.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	err := c.do(ctx, http.MethodGet, "/settings", nil, nil, &s)
	return s, err
}

// UpdateSettings changes the fields set in patch and returns the settings
// as they now are. The API validates all of them before storing any.
func (c *Client) UpdateSettings(ctx context.Context, patch SettingsPatch) (Settings, error) {
	var s Settings
	err := c.do(ctx, http.MethodPatch, "/settings", nil, patch, &s)
	return s, err
}

// ---- Meetings -----------------------------------------------------------

// CreateMeeting creates a meeting with its own conference ID.
func (c *Client) CreateMeeting(ctx context.Context, req MeetingRequest) (Meeting, error) {
	var m Meeting
	err := c.do(ctx, http.MethodPost, "/meetings", nil, req, &m)
	return m, err
}

// ListMeetings returns one page of meetings with conference IDs above
// after, of one organizer when organizer is not empty.
func (c *Client) ListMeetings(ctx context.Context, organizer, after string, limit int) (MeetingPage, error) {
	q := url.Values{}
	if organizer != "" {
		q.Set("organizer", organizer)
	}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p MeetingPage
	err := c.do(ctx, http.MethodGet, "/meetings", q, nil, &p)
	return p, err
}

// AllMeetings follows the pagination of GET /meetings to the end.
func (c *Client) AllMeetings(ctx context.Context, organizer string) ([]Meeting, error) {
	var all []Meeting
	after := ""
	for {
		p, err := c.ListMeetings(ctx, organizer, after, pageLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Meetings...)
		if p.NextAfter == "" {
			return all, nil
		}
		// Conference IDs have a fixed length, so they order as strings.
		if p.NextAfter <= after {
			return nil, fmt.Errorf("list meetings: the API returned next_after %q after %q", p.NextAfter, after)
		}
		after = p.NextAfter
	}
}

// Meeting returns one meeting, with its live state.
func (c *Client) Meeting(ctx context.Context, conferenceID string) (Meeting, error) {
	var m Meeting
	err := c.do(ctx, http.MethodGet, meetingPath(conferenceID), nil, nil, &m)
	return m, err
}

// DeleteMeeting deletes a meeting; its conference ID stops working.
func (c *Client) DeleteMeeting(ctx context.Context, conferenceID string) error {
	return c.do(ctx, http.MethodDelete, meetingPath(conferenceID), nil, nil, nil)
}

// meetingPath is the path of a meeting; the ID is escaped as one path segment.
func meetingPath(conferenceID string) string { return "/meetings/" + url.PathEscape(conferenceID) }

// StartMeeting starts a meeting as if its organizer joined from an app
// (starting a started meeting changes nothing) and returns it as it now is.
func (c *Client) StartMeeting(ctx context.Context, conferenceID string) (Meeting, error) {
	var m Meeting
	err := c.do(ctx, http.MethodPost, meetingPath(conferenceID)+"/start", nil, nil, &m)
	return m, err
}

// EndMeeting ends a meeting: everyone in it and in its lobby is told and
// hung up. A meeting that is not on is an error with CodeMeetingNotStarted.
func (c *Client) EndMeeting(ctx context.Context, conferenceID string) error {
	return c.do(ctx, http.MethodPost, meetingPath(conferenceID)+"/end", nil, nil, nil)
}

// Admit moves the lobby caller callerID (LobbyCaller.ID) or, with callerID
// "", everyone waiting in the lobby into the meeting; it returns how many.
func (c *Client) Admit(ctx context.Context, conferenceID, callerID string) (int, error) {
	var body any // no body: everyone
	if callerID != "" {
		body = wire.AdmitRequest{CallerID: callerID}
	}
	var out wire.AdmitResult
	err := c.do(ctx, http.MethodPost, meetingPath(conferenceID)+"/admit", nil, body, &out)
	return out.Admitted, err
}

// SetLocked locks or unlocks a started meeting: while locked, new callers
// other than the organizer are refused. A meeting that is not on is an
// error with CodeMeetingNotStarted.
func (c *Client) SetLocked(ctx context.Context, conferenceID string, locked bool) error {
	body := wire.LockRequest{Locked: &locked}
	return c.do(ctx, http.MethodPut, meetingPath(conferenceID)+"/lock", nil, body, nil)
}

// LiveMeetings lists the meetings the bridge holds now (started, or with
// callers waiting in the lobby), each with its live state.
func (c *Client) LiveMeetings(ctx context.Context) ([]Meeting, error) {
	var out wire.LiveList
	if err := c.do(ctx, http.MethodGet, "/live", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Meetings, nil
}

// SetMuted mutes or unmutes the participant participantID (Participant.ID).
func (c *Client) SetMuted(ctx context.Context, conferenceID, participantID string, muted bool) error {
	body := wire.MuteRequest{Muted: &muted}
	return c.do(ctx, http.MethodPut, meetingPath(conferenceID)+"/participants/"+url.PathEscape(participantID)+"/mute", nil, body, nil)
}

// RemoveCaller hangs up a participant or a lobby caller by its id; they
// hear that they were removed.
func (c *Client) RemoveCaller(ctx context.Context, conferenceID, callerID string) error {
	return c.do(ctx, http.MethodDelete, meetingPath(conferenceID)+"/participants/"+url.PathEscape(callerID), nil, nil, nil)
}
