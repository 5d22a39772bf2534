package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// fuzzRoutes are the requests with a body; the fuzzer picks one and
// writes the body. {id} is ada's conference ID, a started meeting.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/v1/users"},
	{"PATCH", "/api/v1/settings"},
	{"PUT", "/api/v1/users/ada@example.com/pin"},
	{"PUT", "/api/v1/users/ada@example.com/conference-id"},
	{"POST", "/api/v1/users/ada@example.com/pin/reset"},
	{"POST", "/api/v1/users/ada@example.com/conference-id/send-info"},
	{"POST", "/api/v1/meetings"},
	{"POST", "/api/v1/meetings/{id}/start"},
	{"POST", "/api/v1/meetings/{id}/end"},
	{"POST", "/api/v1/meetings/{id}/admit"},
	{"PUT", "/api/v1/meetings/{id}/participants/p1/mute"},
}

// FuzzRequestBodies sends arbitrary bodies to every route that reads one:
// the answer is never a 500, always a JSON object (or a 204 without a
// body), an error always has a code, and a refused request changes nothing
// stored (nor the bridge's state of the meetings).
func FuzzRequestBodies(f *testing.F) {
	ctx := context.Background()
	dir := openDirectory(f, filepath.Join(f.TempDir(), "dialin.db"))
	live := &fakeLive{}
	h, err := NewHandler(Options{Directory: dir, Token: testToken, Live: live, Logger: zerolog.Nop()})
	if err != nil {
		f.Fatal(err)
	}
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := do("POST", "/api/v1/users", `{"email":"ada@example.com"}`)
	if rec.Code != http.StatusCreated {
		f.Fatalf("enable: %d %s", rec.Code, rec.Body)
	}
	var ada struct {
		User struct {
			ConferenceID string `json:"conference_id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ada); err != nil || ada.User.ConferenceID == "" {
		f.Fatalf("enable: %v %s", err, rec.Body)
	}
	adaID := ada.User.ConferenceID
	live.set(adaID, liveMeeting())
	state := func() string {
		var b strings.Builder
		for _, p := range []string{"/api/v1/users?limit=1000", "/api/v1/settings", "/api/v1/meetings?limit=1000"} {
			b.Write(do("GET", p, "").Body.Bytes())
		}
		n, _ := dir.PendingMail(ctx)
		b.WriteString(strings.Repeat("+", n))
		return b.String()
	}

	for i, seed := range []string{
		`{"email":"bob@example.com","display_name":"Bob"}`,
		`{"pin_length":6,"lockout":{"window":"45m"}}`,
		`{"pin":"135792"}`,
		`{"conference_id":"1234567"}`,
		`{"send_email":false}`,
		`{"email_to":"x@example.com"}`,
		`{"organizer":"ada@example.com","require_organizer":true}`,
		`{}`,
		`{}`,
		`{"caller_id":"l1"}`,
		`{"muted":true}`,
	} {
		f.Add(uint8(i), seed)
	}
	f.Add(uint8(1), `{"pin_length":13}`)
	f.Add(uint8(1), `{"lockout":{"window":"1x"}}`)
	f.Add(uint8(0), `{"email":"a@b.c"} trailing`)
	f.Add(uint8(0), `[1,2]`)
	f.Add(uint8(2), `{"pin":null}`)
	f.Add(uint8(9), `{"caller_id":"l 1"}`)
	f.Add(uint8(10), `{"muted":"yes"}`)
	f.Add(uint8(10), `{"muted":null}`)

	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.ReplaceAll(r.path, "{id}", adaID)
		before := state()
		rec := do(r.method, path, body)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusNoContent {
			if rec.Body.Len() != 0 {
				t.Fatalf("%s %s %q: 204 with a body: %s", r.method, path, body, rec.Body)
			}
			return
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s %q: not a JSON object: %s", r.method, path, body, rec.Body)
		}
		if rec.Code >= 400 {
			e, _ := v["error"].(map[string]any)
			if e == nil || e["code"] == "" || e["message"] == "" {
				t.Fatalf("%s %s %q: error without code or message: %s", r.method, path, body, rec.Body)
			}
			if after := state(); after != before {
				t.Fatalf("%s %s %q refused with %d but changed stored data", r.method, path, body, rec.Code)
			}
		}
	})
}
