package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// TestAllUsersFollowsPages: the client asks for the next page until
// next_after is 0, and keeps each user's raw JSON.
func TestAllUsersFollowsPages(t *testing.T) {
	const total = 2500
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.RequestURI())
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		after, _ := strconv.Atoi(r.URL.Query().Get("after"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var users []string
		next := 0
		for id := after + 1; id <= total && len(users) < limit; id++ {
			users = append(users, fmt.Sprintf(`{"id":%d,"email":"u%d@example.com","pin":"***********"}`, id, id))
			next = id
		}
		if next == total {
			next = 0
		}
		fmt.Fprintf(w, `{"users":[%s],"next_after":%d}`, strings.Join(users, ","), next)
	}))
	defer srv.Close()

	users, err := New(srv.URL+"/", "tok", srv.Client()).AllUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != total || users[total-1].Email != "u2500@example.com" {
		t.Fatalf("%d users, last %+v", len(users), users[len(users)-1])
	}
	if string(users[0].Raw) != `{"id":1,"email":"u1@example.com","pin":"***********"}` {
		t.Errorf("raw = %s", users[0].Raw)
	}
	want := []string{"/api/v1/users?limit=1000", "/api/v1/users?after=1000&limit=1000", "/api/v1/users?after=2000&limit=1000"}
	if fmt.Sprint(requests) != fmt.Sprint(want) {
		t.Errorf("requests %q, want %q", requests, want)
	}
}

// TestAllMeetingsStopsOnStuckCursor: a cursor that does not move is an
// error, not an endless loop.
func TestAllMeetingsStopsOnStuckCursor(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("organizer") != "ada@example.com" {
			t.Errorf("query %q", r.URL.RawQuery)
		}
		io.WriteString(w, `{"meetings":[{"conference_id":"1234566"}],"next_after":"1234566"}`)
	}))
	defer srv.Close()
	c := New(srv.URL, "tok", nil)
	if _, err := c.AllMeetings(context.Background(), "ada@example.com"); err == nil {
		t.Fatal("no error for a cursor that does not move")
	}
}

// TestRequests: paths are escaped and bodies carry only what was asked.
func TestRequests(t *testing.T) {
	type seen struct{ method, path, body, contentType string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.EscapedPath(), string(b), r.Header.Get("Content-Type")})
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, `{"user":{"email":"a/b@example.com"},"pin":"12345","email_queued":true}`)
	}))
	defer srv.Close()
	c := New(srv.URL, "tok", nil)
	ctx := context.Background()
	ch, err := c.ResetPIN(ctx, "a/b@example.com", MailOptions{NoEmail: true})
	if err != nil || ch.PIN != "12345" || !ch.EmailQueued || ch.User.Email != "a/b@example.com" {
		t.Fatalf("ResetPIN: %+v, %v", ch, err)
	}
	c.ResetConferenceID(ctx, "ada@example.com", MailOptions{To: "x@example.com"})
	c.SetConferenceID(ctx, "ada@example.com", "1234566", MailOptions{})
	c.UnlockPIN(ctx, "ada@example.com")
	if err := c.DisableUser(ctx, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	nums := []string{}
	c.UpdateSettings(ctx, SettingsPatch{DialInNumbers: &nums})
	want := []seen{
		{"POST", "/api/v1/users/a%2Fb@example.com/pin/reset", `{"send_email":false}`, "application/json"},
		{"POST", "/api/v1/users/ada@example.com/conference-id/reset", `{"email_to":"x@example.com"}`, "application/json"},
		{"PUT", "/api/v1/users/ada@example.com/conference-id", `{"conference_id":"1234566"}`, "application/json"},
		{"POST", "/api/v1/users/ada@example.com/pin/unlock", "", ""},
		{"DELETE", "/api/v1/users/ada@example.com", "", ""},
		{"PATCH", "/api/v1/settings", `{"dial_in_numbers":[]}`, "application/json"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
}

// TestErrors: the API's error object, and a body that is not one.
func TestErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/settings" {
			http.Error(w, "upstream down\nmore", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
			"code": "pin_policy", "message": "PIN must not be a sequence", "field": "pin", "rule": "sequence"}})
	}))
	defer srv.Close()
	c := New(srv.URL, "tok", nil)
	_, err := c.SetPIN(context.Background(), "ada@example.com", "12345")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "pin_policy" || ae.Rule != "sequence" {
		t.Fatalf("SetPIN: %#v", err)
	}
	if want := "PIN must not be a sequence (field pin, rule sequence)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	_, err = c.Settings(context.Background())
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != "" || ae.Message != "HTTP 502 Bad Gateway: upstream down" {
		t.Errorf("Settings: %#v", err)
	}
}

// TestLiveControlRequests: the live-control methods send what the API
// expects, ids escaped as one path segment, and read its answers.
func TestLiveControlRequests(t *testing.T) {
	type seen struct{ method, path, body, contentType string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.EscapedPath(), string(b), r.Header.Get("Content-Type")})
		switch {
		case strings.HasSuffix(r.URL.Path, "/start"):
			io.WriteString(w, `{"conference_id":"1234566","live":{"started":true,"organizer_present":true,`+
				`"participants":[{"id":"p1","caller":"+*******0123","role":"organizer","muted":true}],`+
				`"lobby":[{"id":"l1","caller":"**01","waiting_since":"2026-11-23T10:00:00Z"}]}}`)
		case strings.HasSuffix(r.URL.Path, "/admit"):
			io.WriteString(w, `{"admitted":3}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "tok", nil)
	ctx := context.Background()

	m, err := c.StartMeeting(ctx, "1234566")
	if err != nil {
		t.Fatal(err)
	}
	if l := m.Live; l == nil || !l.Started || !l.OrganizerPresent || len(l.Participants) != 1 || l.Participants[0].ID != "p1" ||
		!l.Participants[0].Muted || len(l.Lobby) != 1 || l.Lobby[0].ID != "l1" || l.Lobby[0].Caller != "**01" || l.Lobby[0].WaitingSince.IsZero() {
		t.Fatalf("StartMeeting: %+v", m.Live)
	}
	if !strings.Contains(string(m.Raw), `"id":"p1"`) {
		t.Errorf("raw: %s", m.Raw)
	}
	if n, err := c.Admit(ctx, "1234566", ""); err != nil || n != 3 {
		t.Fatalf("Admit everyone: %d, %v", n, err)
	}
	if n, err := c.Admit(ctx, "1234566", "l/1"); err != nil || n != 3 {
		t.Fatalf("Admit l/1: %d, %v", n, err)
	}
	for _, err := range []error{
		c.SetMuted(ctx, "1234566", "p 1", true),
		c.SetMuted(ctx, "1234566", "p1", false),
		c.RemoveCaller(ctx, "1234566", "l?1"),
		c.EndMeeting(ctx, "1234566"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []seen{
		{"POST", "/api/v1/meetings/1234566/start", "", ""},
		{"POST", "/api/v1/meetings/1234566/admit", "", ""},
		{"POST", "/api/v1/meetings/1234566/admit", `{"caller_id":"l/1"}`, "application/json"},
		{"PUT", "/api/v1/meetings/1234566/participants/p%201/mute", `{"muted":true}`, "application/json"},
		{"PUT", "/api/v1/meetings/1234566/participants/p1/mute", `{"muted":false}`, "application/json"},
		{"DELETE", "/api/v1/meetings/1234566/participants/l%3F1", "", ""},
		{"POST", "/api/v1/meetings/1234566/end", "", ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
}

// TestLiveControlErrors: the API's codes reach the caller.
func TestLiveControlErrors(t *testing.T) {
	answers := map[string]struct {
		status      int
		code, field string
	}{
		"/start": {503, CodeBridgeUnavailable, ""},
		"/end":   {409, CodeMeetingNotStarted, ""},
		"/admit": {404, CodeCallerNotFound, ""},
		"/mute":  {400, "invalid_input", "muted"},
		"/p1":    {404, "not_found", ""},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path[strings.LastIndex(r.URL.Path, "/"):]]
		w.WriteHeader(a.status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": a.code, "message": "says " + a.code, "field": a.field}})
	}))
	defer srv.Close()
	c := New(srv.URL, "tok", nil)
	ctx := context.Background()
	_, startErr := c.StartMeeting(ctx, "1234566")
	_, admitErr := c.Admit(ctx, "1234566", "l1")
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{startErr, 503, CodeBridgeUnavailable},
		{c.EndMeeting(ctx, "1234566"), 409, CodeMeetingNotStarted},
		{admitErr, 404, CodeCallerNotFound},
		{c.SetMuted(ctx, "1234566", "p1", true), 400, "invalid_input"},
		{c.RemoveCaller(ctx, "1234566", "p1"), 404, "not_found"},
	} {
		var ae *APIError
		if !errors.As(tc.err, &ae) || ae.Status != tc.status || ae.Code != tc.code || ae.Message != "says "+tc.code {
			t.Errorf("%v: want %d %s", tc.err, tc.status, tc.code)
		}
		if !hasCode(tc.err, tc.code) || hasCode(tc.err, "other") {
			t.Errorf("hasCode(%v, %s)", tc.err, tc.code)
		}
	}
	if hasCode(errors.New(CodeMeetingNotStarted), CodeMeetingNotStarted) || hasCode(nil, "") {
		t.Error("HasCode of an error that is not the API's")
	}
}

// oneMeetingLive is an admin.LiveMeetings with one started meeting: an
// organizer p1 and a lobby caller l1.
type oneMeetingLive struct {
	mu    sync.Mutex
	id    string
	live  bridge.Status
	calls []string
}

func (f *oneMeetingLive) Status(id string) (bridge.Status, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live, id == f.id
}

func (f *oneMeetingLive) record(call string, id string) error {
	f.calls = append(f.calls, call)
	if id != f.id || !f.live.Started {
		return bridge.ErrNotStarted
	}
	return nil
}

func (f *oneMeetingLive) Start(id string, _ store.Conference) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "start")
	f.id = id
	f.live = bridge.Status{Started: true, OrganizerPresent: true,
		Participants: []bridge.ParticipantStatus{{ID: "p1", Caller: "+14255550123", Organizer: true}},
		Lobby:        []bridge.LobbyStatus{{ID: "l1", Caller: "+442079460000", WaitingSince: time.Now()}}}
}

func (f *oneMeetingLive) End(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("end", id); err != nil {
		return err
	}
	f.live = bridge.Status{}
	return nil
}

func (f *oneMeetingLive) Admit(id, callerID string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("admit "+callerID, id); err != nil {
		return 0, err
	}
	if callerID != "" && callerID != "l1" {
		return 0, fmt.Errorf("lobby: %w", bridge.ErrNoSuchCaller)
	}
	return 1, nil
}

func (f *oneMeetingLive) SetMuted(id, participantID string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(fmt.Sprintf("mute %s %v", participantID, muted), id); err != nil {
		return err
	}
	if participantID != "p1" {
		return bridge.ErrNoSuchCaller
	}
	return nil
}

func (f *oneMeetingLive) Remove(id, callerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.record("remove "+callerID, id)
}

func (f *oneMeetingLive) SetLocked(id string, locked bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(fmt.Sprintf("lock %v", locked), id); err != nil {
		return err
	}
	f.live.Locked = locked
	return nil
}

func (f *oneMeetingLive) LiveIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.id == "" {
		return nil
	}
	return []string{f.id}
}

// TestLiveControlAgainstAPI: the client and the real API handler agree on
// the paths, the bodies, the live view and the error codes.
func TestLiveControlAgainstAPI(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dialin.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	serve := func(live admin.LiveMeetings) *Client {
		h, err := admin.NewHandler(admin.Options{Directory: dir, Token: "client-test-token-0123456789", Live: live, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return New(srv.URL, "client-test-token-0123456789", srv.Client())
	}
	live := &oneMeetingLive{}
	c := serve(live)
	ch, err := c.EnableUser(ctx, EnableRequest{Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	id := ch.User.ConferenceID

	if err := c.EndMeeting(ctx, id); !hasCode(err, CodeMeetingNotStarted) {
		t.Fatalf("end before start: %v", err)
	}
	m, err := c.StartMeeting(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if l := m.Live; m.ConferenceID != id || m.Organizer != "ada@example.com" || l == nil || !l.Started ||
		len(l.Participants) != 1 || l.Participants[0].ID != "p1" || l.Participants[0].Caller != "+*******0123" ||
		len(l.Lobby) != 1 || l.Lobby[0].ID != "l1" || l.Lobby[0].Caller != "+********0000" {
		t.Fatalf("StartMeeting: %+v %+v", m, m.Live)
	}
	if n, err := c.Admit(ctx, id, "l1"); err != nil || n != 1 {
		t.Fatalf("Admit l1: %d, %v", n, err)
	}
	if n, err := c.Admit(ctx, id, ""); err != nil || n != 1 {
		t.Fatalf("Admit everyone: %d, %v", n, err)
	}
	if _, err := c.Admit(ctx, id, "l2"); !hasCode(err, CodeCallerNotFound) || !isNotFound(err) {
		t.Fatalf("Admit l2: %v", err)
	}
	if err := c.SetMuted(ctx, id, "p1", true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMuted(ctx, id, "p1", false); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMuted(ctx, id, "p2", true); !hasCode(err, CodeCallerNotFound) {
		t.Fatalf("SetMuted p2: %v", err)
	}
	if err := c.SetLocked(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if all, err := c.LiveMeetings(ctx); err != nil || len(all) != 1 || all[0].ConferenceID != id ||
		all[0].Organizer != "ada@example.com" || all[0].Live == nil || !all[0].Live.Locked {
		t.Fatalf("LiveMeetings: %+v, %v", all, err)
	}
	if err := c.RemoveCaller(ctx, id, "l1"); err != nil {
		t.Fatal(err)
	}
	if err := c.EndMeeting(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveCaller(ctx, id, "p1"); !hasCode(err, CodeMeetingNotStarted) {
		t.Fatalf("remove after end: %v", err)
	}
	if err := c.SetLocked(ctx, id, false); !hasCode(err, CodeMeetingNotStarted) {
		t.Fatalf("unlock after end: %v", err)
	}
	want := []string{"end", "start", "admit l1", "admit ", "admit l2", "mute p1 true", "mute p1 false", "mute p2 true", "lock true", "remove l1", "end", "remove p1", "lock false"}
	if fmt.Sprint(live.calls) != fmt.Sprint(want) {
		t.Errorf("bridge calls:\n got %q\nwant %q", live.calls, want)
	}
	if _, err := c.StartMeeting(ctx, "1234566"); !hasCode(err, "not_found") {
		t.Errorf("start an unknown meeting: %v", err)
	}

	// A server without the bridge.
	noBridge := serve(nil)
	if _, err := noBridge.StartMeeting(ctx, id); !hasCode(err, CodeBridgeUnavailable) {
		t.Errorf("start without the bridge: %v", err)
	}
	if _, err := noBridge.LiveMeetings(ctx); !hasCode(err, CodeBridgeUnavailable) {
		t.Errorf("live meetings without the bridge: %v", err)
	}
	if m, err := noBridge.Meeting(ctx, id); err != nil || m.Live == nil || m.Live.Started {
		t.Errorf("meeting without the bridge: %+v, %v", m, err)
	}
}

// hasCode reports whether err is an error response of the API with that code.
func hasCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// isNotFound reports whether err is the API's 404.
func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}
