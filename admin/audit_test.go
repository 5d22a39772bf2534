package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// Named tokens of the audit tests, beside testToken ("local").
const (
	aliceToken = "alice-token-0123456789abcdef"
	bobToken   = "bob-token-0123456789abcdef"
)

// auditEnv is an env whose API accepts three named tokens, with the path
// of its database file.
func auditEnv(t *testing.T) (*env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dialin.db")
	dir := openDirectory(t, path)
	e := &env{t: t, dir: dir, live: &fakeLive{}, logs: &syncBuffer{}, client: &http.Client{Timeout: 10 * time.Second}}
	h, err := NewHandler(Options{Directory: dir, Token: testToken, Live: e.live, Logger: zerolog.New(e.logs),
		Tokens: []Credential{{Name: "alice", Token: aliceToken}, {Name: "bob", Token: bobToken}}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e, path
}

// as makes a request with token (Bearer) and a JSON body (empty: none).
func (e *env) as(token, method, path, body string) response {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	return e.raw(method, path, body, h)
}

// auditAll reads the whole audit trail, newest first.
func (e *env) auditAll() []store.AuditEntry {
	e.t.Helper()
	all, err := e.dir.Audit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return all
}

// auditStep is one request of TestAuditEveryRoute and the entry it must leave.
type auditStep struct {
	pattern string // the route it drives
	token   string
	method  string
	path    string
	body    string
	status  int
	// The entry: outcome ("": no entry at all), credential, the user and a
	// piece of the target, detail and error.
	outcome, credential, user, target, detail, errText string
	// after runs once the step passed (collects PINs and tokens).
	after func(r response)
}

// Every route that changes something leaves one audit entry per request,
// done, refused or failed, naming the credential, the address, the action,
// its target and the outcome; a new route the steps below do not drive
// fails the test. Then no PIN or token sent or shown during the test is
// anywhere in the database file or its WAL.
func TestAuditEveryRoute(t *testing.T) {
	e, dbPath := auditEnv(t)
	tokens := map[string]string{testToken: "local", aliceToken: "alice", bobToken: "bob"}
	var secrets []string // every PIN and token of the test
	for tok := range tokens {
		secrets = append(secrets, tok)
	}
	keepPIN := func(r response) {
		var c changeResp
		r.decode(t, &c)
		if c.PIN == nil || *c.PIN == "" {
			t.Fatalf("no PIN in %s", r.body)
		}
		secrets = append(secrets, *c.PIN)
	}
	keepPassword := func(r response) {
		var p wire.AdminPassword
		r.decode(t, &p)
		if len(p.Password) < 20 {
			t.Fatalf("no password in %s", r.body)
		}
		secrets = append(secrets, p.Password)
	}
	const chosenPIN, commonPIN, pinAsAddress, ownPIN = "730519846203", "111111111111", "481516234200", "582049173605"
	secrets = append(secrets, chosenPIN, commonPIN, pinAsAddress, ownPIN)

	var adaID, newID, meetingID, userToken, pendingMail, droppedMail string
	ada := "/api/v1/users/ada@example.com"
	nobody := "/api/v1/users/nobody@example.com"
	unknownMeeting := validID(t, "900001")

	steps := []auditStep{
		{pattern: "PATCH /api/v1/settings", token: aliceToken, method: "PATCH", path: "/api/v1/settings",
			body: `{"pin_length":12,"send_emails":true}`, status: 200, outcome: "ok", credential: "alice",
			target: "settings", detail: "pin_length 5 -> 12"},
		{pattern: "PATCH /api/v1/settings", token: bobToken, method: "PATCH", path: "/api/v1/settings",
			body: `{"pin_length":2}`, status: 400, outcome: "refused", credential: "bob", target: "settings",
			errText: "invalid_input (field pin_length)"},

		{pattern: "POST /api/v1/users", token: testToken, method: "POST", path: "/api/v1/users",
			body: `{"email":"ada@example.com"}`, status: 201, outcome: "ok", credential: "local",
			user: "ada@example.com", detail: "email queued to ada@example.com",
			after: func(r response) {
				keepPIN(r)
				var c changeResp
				r.decode(t, &c)
				adaID = c.User.ConferenceID
			}},
		{pattern: "POST /api/v1/users", token: aliceToken, method: "POST", path: "/api/v1/users",
			body: `{"email":"ada@example.com"}`, status: 409, outcome: "refused", credential: "alice",
			user: "ada@example.com", errText: "conflict", detail: "attempted: conference ID "},
		{pattern: "POST /api/v1/users", token: aliceToken, method: "POST", path: "/api/v1/users",
			body: `{"email":"not an address"}`, status: 400, outcome: "refused", credential: "alice",
			errText: "invalid_input (field email)"},

		{pattern: "POST /api/v1/users/{email}/pin/reset", token: aliceToken, method: "POST", path: ada + "/pin/reset",
			status: 200, outcome: "ok", credential: "alice", user: "ada@example.com", target: "user ada@example.com",
			detail: "new PIN generated; email queued to ada@example.com", after: keepPIN},
		{pattern: "POST /api/v1/users/{email}/pin/reset", token: aliceToken, method: "POST", path: nobody + "/pin/reset",
			status: 404, outcome: "refused", credential: "alice", user: "nobody@example.com", errText: "not_found"},

		{pattern: "PUT /api/v1/users/{email}/pin", token: bobToken, method: "PUT", path: ada + "/pin",
			body: `{"pin":"` + chosenPIN + `"}`, status: 200, outcome: "ok", credential: "bob", user: "ada@example.com",
			detail: "PIN chosen by hand"},
		{pattern: "PUT /api/v1/users/{email}/pin", token: bobToken, method: "PUT", path: ada + "/pin",
			body: `{"pin":"` + commonPIN + `"}`, status: 400, outcome: "refused", credential: "bob", user: "ada@example.com",
			errText: "pin_policy (field pin) (rule"},
		// The arguments swapped: a PIN where the address goes is refused
		// and not recorded.
		{pattern: "PUT /api/v1/users/{email}/pin", token: bobToken, method: "PUT", path: "/api/v1/users/" + pinAsAddress + "/pin",
			body: `{"pin":"ada@example.com"}`, status: 400, outcome: "refused", credential: "bob",
			target: "user (not a valid address)", errText: "invalid_input (field email)"},

		{pattern: "POST /api/v1/users/{email}/pin/unlock", token: testToken, method: "POST", path: ada + "/pin/unlock",
			status: 200, outcome: "ok", credential: "local", user: "ada@example.com", detail: "was not locked"},
		{pattern: "POST /api/v1/users/{email}/pin/unlock", token: testToken, method: "POST", path: nobody + "/pin/unlock",
			status: 404, outcome: "refused", credential: "local", user: "nobody@example.com", errText: "not_found"},

		{pattern: "POST /api/v1/users/{email}/conference-id/reset", token: aliceToken, method: "POST", path: ada + "/conference-id/reset",
			body: `{"send_email":false}`, status: 200, outcome: "ok", credential: "alice", user: "ada@example.com", detail: "no email",
			after: func(r response) {
				var c changeResp
				r.decode(t, &c)
				if !strings.Contains(e.auditAll()[0].Detail, adaID+" -> "+c.User.ConferenceID) {
					t.Errorf("conference ID reset detail %q, want %s -> %s", e.auditAll()[0].Detail, adaID, c.User.ConferenceID)
				}
				adaID = c.User.ConferenceID
			}},
		{pattern: "POST /api/v1/users/{email}/conference-id/reset", token: aliceToken, method: "POST", path: ada + "/conference-id/reset",
			body: `{"bogus":1}`, status: 400, outcome: "refused", credential: "alice", user: "ada@example.com", errText: "bad_request"},

		{pattern: "PUT /api/v1/users/{email}/conference-id", token: aliceToken, method: "PUT", path: ada + "/conference-id",
			body: `{"conference_id":"` + validID(t, "123450") + `","send_email":false}`, status: 200, outcome: "ok",
			credential: "alice", user: "ada@example.com", detail: "-> " + validID(t, "123450"),
			after: func(response) { newID = validID(t, "123450") }},
		{pattern: "PUT /api/v1/users/{email}/conference-id", token: aliceToken, method: "PUT", path: ada + "/conference-id",
			body: `{"conference_id":"1234567"}`, status: 400, outcome: "refused", credential: "alice", user: "ada@example.com",
			errText: "invalid_input (field conference_id)"},

		{pattern: "POST /api/v1/users/{email}/conference-id/send-info", token: bobToken, method: "POST", path: ada + "/conference-id/send-info",
			status: 200, outcome: "ok", credential: "bob", user: "ada@example.com", detail: "email queued to ada@example.com",
			after: func(response) {
				mails, err := e.dir.ListMail(context.Background(), store.MailFilter{})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range mails {
					switch m.Status {
					case store.OutboxPending:
						pendingMail = strconv.FormatInt(m.ID, 10)
					case store.OutboxDropped:
						droppedMail = strconv.FormatInt(m.ID, 10)
					}
				}
				if pendingMail == "" || droppedMail == "" {
					t.Fatalf("outbox %+v: want a pending and a dropped email", mails)
				}
			}},
		{pattern: "POST /api/v1/users/{email}/conference-id/send-info", token: bobToken, method: "POST", path: nobody + "/conference-id/send-info",
			status: 404, outcome: "refused", credential: "bob", user: "nobody@example.com", errText: "not_found"},

		{pattern: "PATCH /api/v1/users/{email}", token: aliceToken, method: "PATCH", path: ada,
			body: `{"email_override":"ada.home@example.com"}`, status: 200, outcome: "ok", credential: "alice",
			user: "ada@example.com", detail: "email override set to ada.home@example.com"},
		{pattern: "PATCH /api/v1/users/{email}", token: aliceToken, method: "PATCH", path: ada,
			body: `{"pin_length":8}`, status: 200, outcome: "ok", credential: "alice",
			user: "ada@example.com", detail: "PIN length: 8 digits"},
		{pattern: "PATCH /api/v1/users/{email}", token: aliceToken, method: "PATCH", path: ada,
			body: `{"email_override":"not an address"}`, status: 400, outcome: "refused", credential: "alice",
			user: "ada@example.com", errText: "invalid_input (field email_override)"},

		// PENDINGMAIL is the send-info's email, DROPPEDMAIL one superseded.
		{pattern: "POST /api/v1/outbox/{id}/retry", token: bobToken, method: "POST", path: "/api/v1/outbox/PENDINGMAIL/retry",
			status: 200, outcome: "ok", credential: "bob", target: "email ", detail: "retried"},
		{pattern: "POST /api/v1/outbox/{id}/retry", token: bobToken, method: "POST", path: "/api/v1/outbox/DROPPEDMAIL/retry",
			status: 409, outcome: "refused", credential: "bob", target: "email ", errText: "conflict"},
		{pattern: "DELETE /api/v1/outbox/{id}", token: bobToken, method: "DELETE", path: "/api/v1/outbox/PENDINGMAIL",
			status: 200, outcome: "ok", credential: "bob", target: "email ", detail: "dropped"},
		{pattern: "DELETE /api/v1/outbox/{id}", token: bobToken, method: "DELETE", path: "/api/v1/outbox/x",
			status: 404, outcome: "refused", credential: "bob", target: "email (not a valid ID)", errText: "not_found"},

		{pattern: "POST /api/v1/users/{email}/token", token: testToken, method: "POST", path: ada + "/token",
			status: 201, outcome: "ok", credential: "local", user: "ada@example.com", detail: "new self-service token issued",
			after: func(r response) {
				var tok struct{ Token string }
				r.decode(t, &tok)
				userToken = tok.Token
				secrets = append(secrets, userToken)
			}},
		{pattern: "POST /api/v1/users/{email}/token", token: testToken, method: "POST", path: nobody + "/token",
			status: 404, outcome: "refused", credential: "local", user: "nobody@example.com", errText: "not_found"},

		{pattern: "DELETE /api/v1/users/{email}/token", token: testToken, method: "DELETE", path: nobody + "/token",
			status: 404, outcome: "refused", credential: "local", user: "nobody@example.com", errText: "not_found"},

		{pattern: "POST /api/v1/me/pin/reset", method: "POST", path: "/api/v1/me/pin/reset",
			status: 200, outcome: "ok", credential: "user:ada@example.com", user: "ada@example.com",
			detail: "new PIN generated; no email", after: keepPIN},
		// A user token that is nobody's names nobody: not audited.
		{pattern: "POST /api/v1/me/pin/reset", token: store.UserTokenPrefix + "not-a-token", method: "POST",
			path: "/api/v1/me/pin/reset", status: 401},
		{pattern: "POST /api/v1/me/pin/reset", method: "POST", path: "/api/v1/me/pin/reset", body: `{"x":1}`,
			status: 400, outcome: "refused", credential: "user:ada@example.com", user: "ada@example.com", errText: "bad_request"},
		{pattern: "PUT /api/v1/me/pin", method: "PUT", path: "/api/v1/me/pin", body: `{"pin":"` + ownPIN + `"}`,
			status: 200, outcome: "ok", credential: "user:ada@example.com", user: "ada@example.com", detail: "PIN chosen by hand"},
		{pattern: "PUT /api/v1/me/pin", method: "PUT", path: "/api/v1/me/pin", body: `{"pin":"` + commonPIN + `"}`,
			status: 400, outcome: "refused", credential: "user:ada@example.com", user: "ada@example.com",
			errText: "pin_policy (field pin) (rule"},
		{pattern: "POST /api/v1/me/send-info", method: "POST", path: "/api/v1/me/send-info",
			status: 200, outcome: "ok", credential: "user:ada@example.com", user: "ada@example.com",
			detail: "email queued to ada.home@example.com"},
		{pattern: "POST /api/v1/me/send-info", method: "POST", path: "/api/v1/me/send-info", body: `{"email_to":"x@example.com"}`,
			status: 400, outcome: "refused", credential: "user:ada@example.com", user: "ada@example.com", errText: "bad_request"},
		{pattern: "DELETE /api/v1/users/{email}/token", token: aliceToken, method: "DELETE", path: ada + "/token",
			status: 204, outcome: "ok", credential: "alice", user: "ada@example.com", detail: "self-service token revoked"},
		// The revoked token names nobody any more: not audited.
		{pattern: "POST /api/v1/me/pin/reset", method: "POST", path: "/api/v1/me/pin/reset", status: 401},

		{pattern: "POST /api/v1/meetings", token: aliceToken, method: "POST", path: "/api/v1/meetings",
			body: `{"organizer":"ada@example.com"}`, status: 201, outcome: "ok", credential: "alice", user: "ada@example.com",
			target: "meeting ", detail: "require organizer yes, bypass lobby no",
			after: func(r response) {
				var mt struct {
					ConferenceID string `json:"conference_id"`
				}
				r.decode(t, &mt)
				meetingID = mt.ConferenceID
			}},
		{pattern: "POST /api/v1/meetings", token: aliceToken, method: "POST", path: "/api/v1/meetings",
			body: `{"organizer":"nobody@example.com"}`, status: 404, outcome: "refused", credential: "alice",
			user: "nobody@example.com", errText: "not_found"},

		{pattern: "POST /api/v1/meetings/{conference_id}/start", token: bobToken, method: "POST", path: "MEETING/start",
			status: 200, outcome: "ok", credential: "bob", target: "meeting MID", detail: "started"},
		{pattern: "POST /api/v1/meetings/{conference_id}/start", token: bobToken, method: "POST",
			path: "/api/v1/meetings/" + unknownMeeting + "/start", status: 404, outcome: "refused", credential: "bob",
			target: "meeting " + unknownMeeting, errText: "not_found",
			// The fake bridge now has a caller waiting and one in the meeting.
			after: func(response) {
				e.live.set(meetingID, wire.Live{Started: true,
					Participants: []wire.Participant{{ID: "p1", Caller: "+14255550100"}},
					Lobby:        []wire.LobbyCaller{{ID: "l1", Caller: "+14255550101"}}})
			}},

		{pattern: "POST /api/v1/meetings/{conference_id}/admit", token: bobToken, method: "POST", path: "MEETING/admit",
			body: `{"caller_id":"l1"}`, status: 200, outcome: "ok", credential: "bob", target: "lobby caller l1 of meeting MID",
			detail: "1 caller(s) admitted"},
		{pattern: "POST /api/v1/meetings/{conference_id}/admit", token: bobToken, method: "POST", path: "MEETING/admit",
			body: `{"caller_id":"zz"}`, status: 404, outcome: "refused", credential: "bob", target: "lobby caller zz",
			errText: "caller_not_found"},

		{pattern: "PUT /api/v1/meetings/{conference_id}/participants/{participant_id}/mute", token: aliceToken, method: "PUT",
			path: "MEETING/participants/p1/mute", body: `{"muted":true}`, status: 204, outcome: "ok", credential: "alice",
			target: "participant p1 of meeting MID", detail: "mute"},
		{pattern: "PUT /api/v1/meetings/{conference_id}/participants/{participant_id}/mute", token: aliceToken, method: "PUT",
			path: "MEETING/participants/p1/mute", body: `{}`, status: 400, outcome: "refused", credential: "alice",
			target: "participant p1 of meeting MID", errText: "invalid_input (field muted)"},

		{pattern: "PUT /api/v1/meetings/{conference_id}/lock", token: aliceToken, method: "PUT",
			path: "MEETING/lock", body: `{"locked":true}`, status: 204, outcome: "ok", credential: "alice",
			target: "meeting MID", detail: "lock: no new callers but the organizer"},
		{pattern: "PUT /api/v1/meetings/{conference_id}/lock", token: aliceToken, method: "PUT",
			path: "MEETING/lock", body: `{}`, status: 400, outcome: "refused", credential: "alice",
			target: "meeting MID", errText: "invalid_input (field locked)"},

		{pattern: "DELETE /api/v1/meetings/{conference_id}/participants/{participant_id}", token: aliceToken, method: "DELETE",
			path: "MEETING/participants/p1", status: 204, outcome: "ok", credential: "alice",
			target: "participant p1 of meeting MID", detail: "hung up"},
		{pattern: "DELETE /api/v1/meetings/{conference_id}/participants/{participant_id}", token: aliceToken, method: "DELETE",
			path: "MEETING/participants/p9", status: 404, outcome: "refused", credential: "alice",
			target: "participant p9 of meeting MID", errText: "caller_not_found",
			// The bridge fails the next control.
			after: func(response) { e.live.failWith(errors.New("fake bridge: broken")) }},

		{pattern: "POST /api/v1/meetings/{conference_id}/end", token: testToken, method: "POST", path: "MEETING/end",
			status: 500, outcome: "failed", credential: "local", target: "meeting MID", errText: "internal",
			after: func(response) { e.live.failWith(nil) }},
		{pattern: "POST /api/v1/meetings/{conference_id}/end", token: testToken, method: "POST", path: "MEETING/end",
			status: 204, outcome: "ok", credential: "local", target: "meeting MID", detail: "ended"},
		{pattern: "POST /api/v1/meetings/{conference_id}/end", token: testToken, method: "POST", path: "MEETING/end",
			status: 409, outcome: "refused", credential: "local", target: "meeting MID", errText: "meeting_not_started"},

		{pattern: "DELETE /api/v1/meetings/{conference_id}", token: bobToken, method: "DELETE", path: "MEETING",
			status: 204, outcome: "ok", credential: "bob", target: "meeting MID"},
		{pattern: "DELETE /api/v1/meetings/{conference_id}", token: bobToken, method: "DELETE", path: "MEETING",
			status: 404, outcome: "refused", credential: "bob", target: "meeting MID", errText: "not_found"},

		{pattern: "POST /api/v1/admins", token: aliceToken, method: "POST", path: "/api/v1/admins",
			body: `{"name":"carol"}`, status: 201, outcome: "ok", credential: "alice", target: "administrator carol",
			detail: "account created with a generated password", after: keepPassword},
		{pattern: "POST /api/v1/admins", token: aliceToken, method: "POST", path: "/api/v1/admins",
			body: `{"name":"Carol"}`, status: 409, outcome: "refused", credential: "alice", errText: "conflict"},
		{pattern: "POST /api/v1/admins", token: aliceToken, method: "POST", path: "/api/v1/admins",
			body: `{"name":"-x"}`, status: 400, outcome: "refused", credential: "alice", errText: "invalid_input (field name)"},
		{pattern: "POST /api/v1/admins/{name}/password", token: bobToken, method: "POST", path: "/api/v1/admins/carol/password",
			status: 200, outcome: "ok", credential: "bob", target: "administrator carol",
			detail: "new generated password", after: keepPassword},
		{pattern: "POST /api/v1/admins/{name}/password", token: bobToken, method: "POST", path: "/api/v1/admins/dave/password",
			status: 404, outcome: "refused", credential: "bob", target: "administrator dave", errText: "not_found"},
		{pattern: "DELETE /api/v1/admins/{name}", token: bobToken, method: "DELETE", path: "/api/v1/admins/carol",
			status: 204, outcome: "ok", credential: "bob", target: "administrator carol", detail: "account removed"},
		{pattern: "DELETE /api/v1/admins/{name}", token: bobToken, method: "DELETE", path: "/api/v1/admins/carol",
			status: 404, outcome: "refused", credential: "bob", target: "administrator carol", errText: "not_found"},

		// A wrong administrator's token names nobody: not audited.
		{pattern: "DELETE /api/v1/users/{email}", token: "wrong-token-0123456789abcdef", method: "DELETE", path: ada, status: 401},
		{pattern: "DELETE /api/v1/users/{email}", token: aliceToken, method: "DELETE", path: ada,
			status: 204, outcome: "ok", credential: "alice", user: "ada@example.com", detail: "disabled with 1 meeting(s)"},
		{pattern: "DELETE /api/v1/users/{email}", token: aliceToken, method: "DELETE", path: ada,
			status: 404, outcome: "refused", credential: "alice", user: "ada@example.com", errText: "not_found"},
	}

	// Every route that changes something is driven to a done and to a
	// refused (or failed) outcome, and has an action of its own.
	done, refused := map[string]bool{}, map[string]bool{}
	for _, s := range steps {
		switch s.outcome {
		case "ok":
			done[s.pattern] = true
		case "refused", "failed":
			refused[s.pattern] = true
		}
	}
	a := &api{}
	var patterns []string
	for _, rt := range a.routes() {
		patterns = append(patterns, rt.method+" "+rt.path)
	}
	for _, rt := range a.selfRoutes() {
		patterns = append(patterns, rt.method+" "+rt.path)
	}
	for _, p := range patterns {
		method, _, _ := strings.Cut(p, " ")
		if !changes(method) {
			continue
		}
		if auditActions[p] == "" {
			t.Errorf("%s changes something but has no action in auditActions", p)
		}
		if !done[p] || !refused[p] {
			t.Errorf("%s is not driven by TestAuditEveryRoute to both a done and a refused outcome (done %v, refused %v)", p, done[p], refused[p])
		}
	}

	for i, s := range steps {
		path := strings.NewReplacer("MEETING", "/api/v1/meetings/"+meetingID,
			"PENDINGMAIL", pendingMail, "DROPPEDMAIL", droppedMail).Replace(s.path)
		token := s.token
		if token == "" {
			token = userToken
		}
		before := len(e.auditAll())
		r := e.as(token, s.method, path, s.body)
		what := fmt.Sprintf("step %d: %s %s", i, s.method, path)
		if r.status != s.status {
			t.Fatalf("%s: status %d, want %d\n%s", what, r.status, s.status, r.body)
		}
		all := e.auditAll()
		if s.outcome == "" {
			if len(all) != before {
				t.Fatalf("%s: %d entries written, want none: %+v", what, len(all)-before, all[0])
			}
			continue
		}
		if len(all) != before+1 {
			t.Fatalf("%s: %d entries written, want 1", what, len(all)-before)
		}
		got := all[0]
		want := func(field, have, piece string) {
			if !strings.Contains(have, strings.ReplaceAll(piece, "MID", meetingID)) {
				t.Errorf("%s: %s %q, want it to hold %q (entry %+v)", what, field, have, piece, got)
			}
		}
		if got.Action != auditActions[s.pattern] || got.Outcome != s.outcome || got.Credential != s.credential {
			t.Errorf("%s: action %q outcome %q credential %q; want %q %q %q", what, got.Action, got.Outcome, got.Credential,
				auditActions[s.pattern], s.outcome, s.credential)
		}
		if !strings.HasPrefix(got.Address, "127.0.0.1:") || time.Since(got.Time) > time.Minute {
			t.Errorf("%s: address %q, time %v", what, got.Address, got.Time)
		}
		if got.User != s.user {
			t.Errorf("%s: user %q, want %q", what, got.User, s.user)
		}
		want("target", got.Target, s.target)
		want("detail", got.Detail, s.detail)
		want("error", got.Error, s.errText)
		if s.outcome == "ok" && got.Error != "" {
			t.Errorf("%s: done with error %q", what, got.Error)
		}
		if s.after != nil {
			s.after(r)
		}
	}
	_ = newID

	// Reading changes nothing and writes no entry.
	n := len(e.auditAll())
	for _, p := range []string{"/api/v1/users", "/api/v1/settings", "/api/v1/meetings", "/api/v1/status", "/api/v1/audit", nobody} {
		e.as(aliceToken, "GET", p, "")
	}
	if len(e.auditAll()) != n {
		t.Fatalf("GET requests wrote audit entries")
	}

	checkAuditAPI(t, e, n)
	checkNoSecrets(t, e, dbPath, secrets, userToken)
}

// checkAuditAPI reads the trail through GET /api/v1/audit: filters and
// pages.
func checkAuditAPI(t *testing.T, e *env, total int) {
	t.Helper()
	page := func(query string) wire.AuditPage {
		t.Helper()
		var p wire.AuditPage
		e.must(200, "GET", "/api/v1/audit?"+query, "").decode(t, &p)
		return p
	}
	var ids []int64
	q := "limit=7"
	for range total {
		p := page(q)
		for _, en := range p.Entries {
			ids = append(ids, en.ID)
		}
		if p.NextBefore == 0 {
			break
		}
		q = fmt.Sprintf("limit=7&before=%d", p.NextBefore)
	}
	if len(ids) != total {
		t.Fatalf("paged through %d entries, want %d", len(ids), total)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not newest first: %v", ids)
		}
	}
	for query, check := range map[string]func(wire.AuditEntry) bool{
		"credential=bob":                  func(en wire.AuditEntry) bool { return en.Credential == "bob" },
		"user=ADA@example.com":            func(en wire.AuditEntry) bool { return en.User == "ada@example.com" },
		"action=pin.reset":                func(en wire.AuditEntry) bool { return en.Action == "pin.reset" },
		"credential=user:ada@example.com": func(en wire.AuditEntry) bool { return en.Credential == "user:ada@example.com" },
	} {
		p := page(query)
		if len(p.Entries) == 0 {
			t.Errorf("%s: no entries", query)
		}
		for _, en := range p.Entries {
			if !check(en) {
				t.Errorf("%s: %+v", query, en)
			}
		}
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	if p := page("from=" + future); len(p.Entries) != 0 {
		t.Errorf("from the future: %d entries", len(p.Entries))
	}
	past := url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339))
	if p := page("from=" + past + "&to=" + future + "&limit=1000"); len(p.Entries) != total {
		t.Errorf("the last hour: %d entries, want %d", len(p.Entries), total)
	}
	e.fail(400, "bad_request", "GET", "/api/v1/audit?from=yesterday", "")
	e.fail(400, "invalid_input", "GET", "/api/v1/audit?from="+future+"&to="+past, "")
	e.fail(400, "bad_request", "GET", "/api/v1/audit?before=0", "")
	e.checkErr(e.raw("GET", "/api/v1/audit", "", http.Header{}), 401, "unauthorized", "GET /api/v1/audit without a token")
}

// checkNoSecrets greps the database file and its WAL, while the directory
// is open and after it closed, for every PIN and token: none may be there.
// The trail itself must not hold the user token's hash either.
func checkNoSecrets(t *testing.T, e *env, dbPath string, secrets []string, userToken string) {
	t.Helper()
	hash := sha256.Sum256([]byte(userToken))
	for _, en := range e.auditAll() {
		row := fmt.Sprintf("%+v", en)
		for _, h := range []string{hex.EncodeToString(hash[:]), base64.StdEncoding.EncodeToString(hash[:]),
			base64.RawURLEncoding.EncodeToString(hash[:]), string(hash[:])} {
			if strings.Contains(row, h) {
				t.Errorf("audit entry %d holds the user token's hash", en.ID)
			}
		}
	}
	grep := func(when string) {
		t.Helper()
		var data []byte
		for _, p := range []string{dbPath, dbPath + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			data = append(data, b...)
		}
		// The grep sees the trail: the names of the tokens are there.
		for _, present := range []string{"ada@example.com", "alice", "user:ada@example.com", "pin.reset"} {
			if !bytes.Contains(data, []byte(present)) {
				t.Fatalf("%s: %q is not in the database files: the grep reads the wrong bytes", when, present)
			}
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s: the database holds the secret %q", when, s)
			}
		}
	}
	if _, err := os.Stat(dbPath + "-wal"); err != nil {
		t.Fatalf("no WAL while the directory is open: %v", err)
	}
	grep("open (file and WAL)")
	if err := e.dir.Close(); err != nil {
		t.Fatal(err)
	}
	grep("closed (checkpointed)")
}

// Each token is known by its name; a token under two names, or two tokens
// under one, is refused at start, without showing the token.
func TestNamedTokens(t *testing.T) {
	e, _ := auditEnv(t)
	for tok, name := range map[string]string{testToken: "local", aliceToken: "alice", bobToken: "bob"} {
		e.as(tok, "PATCH", "/api/v1/settings", `{"pin_length":6}`)
		if got := e.auditAll()[0].Credential; got != name {
			t.Errorf("token of %s: the audit names %q", name, got)
		}
	}
	if !strings.Contains(e.logs.String(), `"credential":"alice"`) {
		t.Error("the request log does not name the credential")
	}
	dir := e.dir
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Directory: dir, Token: aliceToken, Tokens: []Credential{{Name: "alice", Token: aliceToken}}}, "local and alice are the same token"},
		{Options{Directory: dir, Tokens: []Credential{{Name: "a", Token: aliceToken}, {Name: "a", Token: bobToken}}}, "two tokens named a"},
		{Options{Directory: dir, Tokens: []Credential{{Name: "a"}}}, "a name without a token"},
		{Options{Directory: dir}, "no token"},
	} {
		_, err := NewHandler(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), aliceToken) {
			t.Errorf("NewHandler: %v, want %q", err, tc.want)
		}
	}
}
