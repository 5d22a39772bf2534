package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/store"
)

func TestAuth(t *testing.T) {
	e := newEnv(t)
	for _, h := range []http.Header{
		{},
		{"Authorization": {"Bearer wrong-token-0123456789abcdef"}},
		{"Authorization": {"Bearer " + testToken + "x"}},
		{"Authorization": {"Bearer " + testToken[:len(testToken)-1]}},
		{"Authorization": {"Basic " + testToken}},
		{"Authorization": {testToken}},
		{"Authorization": {"Bearer"}},
	} {
		for _, rt := range []struct{ method, path string }{
			{"GET", "/api/v1/users"},
			{"GET", "/api/v1/settings"},
			{"POST", "/api/v1/users"},
			{"GET", "/api/v1/no-such-route"}, // no probing without a token
		} {
			r := e.raw(rt.method, rt.path, "", h)
			e.checkErr(r, 401, "unauthorized", rt.method+" "+rt.path+" with "+h.Get("Authorization"))
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="dialin"` {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		}
	}
	// The scheme is case-insensitive (RFC 9110).
	if r := e.raw("GET", "/api/v1/settings", "", http.Header{"Authorization": {"bearer " + testToken}}); r.status != 200 {
		t.Fatalf("lower-case scheme: %d", r.status)
	}
	// Public routes.
	r := e.raw("GET", "/api/v1/health", "", http.Header{})
	if r.status != 200 || !strings.Contains(string(r.body), `"status":"ok"`) {
		t.Fatalf("health: %d %s", r.status, r.body)
	}
	if r := e.raw("GET", "/api/v1/openapi.json", "", http.Header{}); r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	if strings.Contains(e.logs.String(), testToken) {
		t.Fatal("the token was logged")
	}
}

func TestNewHandlerNeedsDirectoryAndToken(t *testing.T) {
	e := newEnv(t)
	if _, err := NewHandler(Options{Directory: e.dir}); err == nil {
		t.Fatal("no token accepted")
	}
	if _, err := NewHandler(Options{Token: testToken}); err == nil {
		t.Fatal("no directory accepted")
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newEnv(t)
	e.fail(404, "not_found", "GET", "/api/v1/nothing", "")
	e.fail(404, "not_found", "GET", "/", "")
	r := e.send("DELETE", "/api/v1/settings", "")
	e.checkErr(r, 405, "method_not_allowed", "DELETE /api/v1/settings")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PATCH") {
		t.Fatalf("Allow %q", allow)
	}
	r = e.send("PUT", "/api/v1/users/ada@example.com/pin/reset", "")
	e.checkErr(r, 405, "method_not_allowed", "PUT .../pin/reset")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "POST") {
		t.Fatalf("Allow %q", allow)
	}
}

// Every kind of bad request is refused before anything changes.
func TestBadRequestsChangeNothing(t *testing.T) {
	e := newEnv(t)
	e.enable("ada@example.com")
	before := e.state()

	big := `{"email":"b@example.com","display_name":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, tc := range []struct {
		name, method, path, body, code, field string
	}{
		{"malformed", "POST", "/api/v1/users", `{"email":`, "bad_request", ""},
		{"malformed mid-way", "POST", "/api/v1/users", `{"email" "b@example.com"}`, "bad_request", ""},
		{"unknown field", "POST", "/api/v1/users", `{"email":"b@example.com","pin":"12345"}`, "bad_request", "pin"},
		{"wrong type", "POST", "/api/v1/users", `{"email":42}`, "bad_request", "email"},
		{"wrong type bool", "POST", "/api/v1/users", `{"email":"b@example.com","send_email":"no"}`, "bad_request", "send_email"},
		{"trailing data", "POST", "/api/v1/users", `{"email":"b@example.com"} {"email":"c@example.com"}`, "bad_request", ""},
		{"trailing garbage", "POST", "/api/v1/users", `{"email":"b@example.com"}x`, "bad_request", ""},
		{"array", "POST", "/api/v1/users", `[{"email":"b@example.com"}]`, "bad_request", ""},
		{"string", "POST", "/api/v1/users", `"b@example.com"`, "bad_request", ""},
		{"null", "POST", "/api/v1/users", `null`, "bad_request", ""},
		{"oversized", "POST", "/api/v1/users", big, "bad_request", ""},
		{"empty", "POST", "/api/v1/users", ``, "bad_request", ""},
		{"bad email", "POST", "/api/v1/users", `{"email":"not an address"}`, "invalid_input", "email"},
		{"named email", "POST", "/api/v1/users", `{"email":"Bob <b@example.com>"}`, "invalid_input", "email"},
		{"no email", "POST", "/api/v1/users", `{"display_name":"Bob"}`, "invalid_input", "email"},
		{"bad override", "POST", "/api/v1/users", `{"email":"b@example.com","email_override":"nope"}`, "invalid_input", "email_override"},
		{"bad email_to", "POST", "/api/v1/users", `{"email":"b@example.com","email_to":"nope"}`, "invalid_input", "email_to"},
		{"email_to without email", "POST", "/api/v1/users", `{"email":"b@example.com","send_email":false,"email_to":"x@example.com"}`, "invalid_input", "email_to"},
		{"reset bad email_to", "POST", "/api/v1/users/ada@example.com/pin/reset", `{"email_to":"x@"}`, "invalid_input", "email_to"},
		{"reset unknown field", "POST", "/api/v1/users/ada@example.com/pin/reset", `{"sendemail":false}`, "bad_request", "sendemail"},
		{"reset trailing", "POST", "/api/v1/users/ada@example.com/pin/reset", `{}[]`, "bad_request", ""},
		{"reset conference ID bad email_to", "POST", "/api/v1/users/ada@example.com/conference-id/reset", `{"email_to":"nope"}`, "invalid_input", "email_to"},
		{"send-info bad email_to", "POST", "/api/v1/users/ada@example.com/conference-id/send-info", `{"email_to":"nope"}`, "invalid_input", "email_to"},
		{"path email", "GET", "/api/v1/users/not-an-address", ``, "invalid_input", "email"},
		{"limit 0", "GET", "/api/v1/users?limit=0", ``, "bad_request", "limit"},
		{"limit 1001", "GET", "/api/v1/users?limit=1001", ``, "bad_request", "limit"},
		{"limit text", "GET", "/api/v1/users?limit=ten", ``, "bad_request", "limit"},
		{"after negative", "GET", "/api/v1/users?after=-1", ``, "bad_request", "after"},
		{"after text", "GET", "/api/v1/users?after=x", ``, "bad_request", "after"},
		{"after empty", "GET", "/api/v1/users?after=", ``, "bad_request", "after"},
		{"unknown user", "POST", "/api/v1/users/nobody@example.com/pin/reset", ``, "not_found", ""},
		{"duplicate", "POST", "/api/v1/users", `{"email":"ADA@example.com"}`, "conflict", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status := map[string]int{"bad_request": 400, "invalid_input": 400, "not_found": 404, "conflict": 409}[tc.code]
			err := e.fail(status, tc.code, tc.method, tc.path, tc.body)
			if err.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", err.Field, tc.field, err.Message)
			}
			if strings.Contains(err.Message, strings.Repeat("x", 100)) {
				t.Error("the message echoes the body")
			}
		})
	}
	if err := e.fail(404, "not_found", "POST", "/api/v1/users/nobody@example.com/pin/unlock", ""); err.Message != "user nobody@example.com not found" {
		t.Fatalf("404 message %q", err.Message)
	}
	if err := e.fail(409, "conflict", "POST", "/api/v1/users", `{"email":"Ada@Example.com"}`); err.Message != "user Ada@Example.com is already enabled" {
		t.Fatalf("409 message %q", err.Message)
	}

	// Media types: JSON only (a UTF-8 charset is fine).
	auth := "Bearer " + testToken
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx", ""} {
		r := e.raw("POST", "/api/v1/users", `{"email":"b@example.com"}`, http.Header{"Authorization": {auth}, "Content-Type": {ct}})
		e.checkErr(r, 415, "unsupported_media_type", "Content-Type "+ct)
	}
	r := e.raw("PUT", "/api/v1/users/ada@example.com/pin", `{"pin":"48213"}`, http.Header{"Authorization": {auth}, "Content-Type": {"text/plain"}})
	e.checkErr(r, 415, "unsupported_media_type", "PUT pin as text/plain")

	if after := e.state(); after != before {
		t.Fatalf("refused requests changed data:\n%s\n%s", before, after)
	}

	r = e.raw("POST", "/api/v1/users", `{"email":"b@example.com"}`, http.Header{"Authorization": {auth}, "Content-Type": {"application/json; charset=UTF-8"}})
	if r.status != 201 {
		t.Fatalf("JSON with charset: %d %s", r.status, r.body)
	}
}

// The store's errors map to the API's codes; unexpected ones say nothing.
func TestStoreErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err                 error
		status              int
		code, field, rule   string
		internal            bool
		messageMustNotMatch string
	}{
		{&store.PolicyError{Rule: "sequence", Msg: "ascending"}, 400, "pin_policy", "pin", "sequence", false, ""},
		{&store.InputError{Field: "conference_id", Msg: "bad"}, 400, "invalid_input", "conference_id", "", false, ""},
		{store.ErrInvalidInput, 400, "invalid_input", "", "", false, ""},
		{about(store.ErrNotFound, "user x@example.com"), 404, "not_found", "", "", false, ""},
		{store.ErrExists, 409, "conflict", "", "", false, ""},
		{store.ErrPINLocked, 409, "pin_locked", "", "", false, ""},
		{store.ErrNoConferenceID, 500, "internal", "", "", true, "conference"},
	} {
		e, internal := toAPIError(tc.err)
		if e.Status != tc.status || e.Code != tc.code || e.Field != tc.field || e.Rule != tc.rule || internal != tc.internal {
			t.Errorf("%v: %+v internal=%v", tc.err, e, internal)
		}
		if tc.messageMustNotMatch != "" && strings.Contains(e.Message, tc.messageMustNotMatch) {
			t.Errorf("%v: internal message %q tells too much", tc.err, e.Message)
		}
	}
}

// failingDir breaks some methods of a real directory.
type failingDir struct {
	*store.Directory
}

func (failingDir) SearchUsers(ctx context.Context, q string, afterID int64, limit int) ([]store.User, error) {
	return nil, errors.New("disk on fire")
}

func (failingDir) Settings() store.Settings { panic("settings exploded") }

// An unexpected error is a 500 that says nothing; the log has the cause.
func TestInternalErrors(t *testing.T) {
	e := newEnv(t)
	logs := &syncBuffer{}
	h, err := NewHandler(Options{Directory: failingDir{e.dir}, Token: testToken, Logger: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e.srv = srv
	for _, path := range []string{"/api/v1/users", "/api/v1/settings"} {
		err := e.fail(500, "internal", "GET", path, "")
		if strings.Contains(err.Message, "fire") || strings.Contains(err.Message, "exploded") {
			t.Fatalf("%s: message %q tells the cause", path, err.Message)
		}
	}
	if l := logs.String(); !strings.Contains(l, "disk on fire") || !strings.Contains(l, "settings exploded") || !strings.Contains(l, `"status":500`) {
		t.Fatalf("causes not logged:\n%s", l)
	}
}
