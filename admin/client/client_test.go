package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
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
