package admin

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
)

func TestEnableShowsPINOnceAndMasksItElsewhere(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, "POST", "/api/v1/users", `{"email":"ada@example.com","display_name":"Ada Lovelace"}`)
	var c changeResp
	r.decode(t, &c)
	if c.PIN == nil || len(*c.PIN) != store.DefaultPINLength {
		t.Fatalf("enable: pin %v, want a %d-digit PIN\n%s", c.PIN, store.DefaultPINLength, r.body)
	}
	pin := *c.PIN
	if c.User.PIN != store.MaskedPIN || c.User.Email != "ada@example.com" || c.User.DisplayName != "Ada Lovelace" ||
		!store.ValidConferenceID(c.User.ConferenceID) || c.User.Locked || !c.EmailQueued {
		t.Fatalf("enable: %+v", c)
	}
	if res, err := e.dir.VerifyOrganizerPIN(context.Background(), c.User.ConferenceID, pin); res != store.PINOK || err != nil {
		t.Fatalf("the PIN shown does not start the meeting: %v, %v", res, err)
	}
	// Every field API.md lists is there.
	user := r.json(t)["user"].(map[string]any)
	for _, f := range []string{"id", "email", "display_name", "email_override", "conference_id", "pin", "pin_length",
		"pin_set_at", "policy", "lock", "locked", "created_at"} {
		if _, ok := user[f]; !ok {
			t.Errorf("user has no %q: %v", f, user)
		}
	}

	quoted := `"` + pin + `"`
	for _, path := range []string{"/api/v1/users/ada@example.com", "/api/v1/users/ADA@Example.COM", "/api/v1/users"} {
		r := e.must(200, "GET", path, "")
		if strings.Contains(string(r.body), quoted) || !strings.Contains(string(r.body), `"pin":"***********"`) {
			t.Fatalf("GET %s shows the PIN or no mask:\n%s", path, r.body)
		}
	}
	var u userResp
	e.must(200, "GET", "/api/v1/users/"+url.PathEscape("ADA@example.com"), "").decode(t, &u)
	if u.ID != c.User.ID || u.ConferenceID != c.User.ConferenceID {
		t.Fatalf("get by email: %+v, want %+v", u, c.User)
	}
	// Neither the PIN nor the token is ever logged.
	logs := e.logs.String()
	if strings.Contains(logs, pin) || strings.Contains(logs, testToken) {
		t.Fatalf("logs hold the PIN or the token:\n%s", logs)
	}
	if !strings.Contains(logs, `"status":201`) || !strings.Contains(logs, `"path":"/api/v1/users"`) {
		t.Fatalf("request not logged:\n%s", logs)
	}
}

func TestEnableEmailOptions(t *testing.T) {
	e := newEnv(t)
	var c changeResp
	e.must(201, "POST", "/api/v1/users", `{"email":"a@example.com","send_email":false}`).decode(t, &c)
	if c.EmailQueued {
		t.Fatal("send_email false queued an email")
	}
	e.must(201, "POST", "/api/v1/users", `{"email":"b@example.com","email_to":"helpdesk@example.com"}`).decode(t, &c)
	if !c.EmailQueued {
		t.Fatal("no email queued")
	}
	mails, err := e.dir.DueMail(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 || mails[0].To != "helpdesk@example.com" || mails[0].UserEmail != "b@example.com" {
		t.Fatalf("outbox: %+v", mails)
	}
	e.must(201, "POST", "/api/v1/users", `{"email":"c@example.com","email_override":"c.private@example.com"}`).decode(t, &c)
	var u map[string]any = e.must(200, "GET", "/api/v1/users/c@example.com", "").json(t)
	if u["email_override"] != "c.private@example.com" {
		t.Fatalf("email_override: %v", u)
	}
}

func TestListUsersPages(t *testing.T) {
	e := newEnv(t)
	var ids []int64
	for i := range 5 {
		ids = append(ids, e.enable(fmt.Sprintf("u%d@example.com", i)).User.ID)
	}
	type page struct {
		Users     []userResp `json:"users"`
		NextAfter int64      `json:"next_after"`
	}
	var got []int64
	after := int64(0)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var p page
		e.must(200, "GET", fmt.Sprintf("/api/v1/users?limit=2&after=%d", after), "").decode(t, &p)
		for _, u := range p.Users {
			got = append(got, u.ID)
			if u.PIN != store.MaskedPIN {
				t.Fatalf("pin %q in the list", u.PIN)
			}
		}
		if p.NextAfter == 0 {
			break
		}
		after = p.NextAfter
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("pages gave %v, want %v", got, ids)
	}
	// A page that ends exactly at the end says so.
	var p page
	e.must(200, "GET", "/api/v1/users?limit=5", "").decode(t, &p)
	if len(p.Users) != 5 || p.NextAfter != 0 {
		t.Fatalf("exact page: %d users, next_after %d", len(p.Users), p.NextAfter)
	}
	// An empty directory lists [] (not null).
	e2 := newEnv(t)
	if body := string(e2.must(200, "GET", "/api/v1/users", "").body); !strings.Contains(body, `"users":[]`) || !strings.Contains(body, `"next_after":0`) {
		t.Fatalf("empty list: %s", body)
	}
}

func TestDisableUser(t *testing.T) {
	e := newEnv(t)
	c := e.enable("ada@example.com")
	r := e.must(204, "DELETE", "/api/v1/users/ada@example.com", "")
	if len(r.body) != 0 {
		t.Fatalf("204 with a body: %s", r.body)
	}
	if _, ok := e.dir.LookupConference(c.User.ConferenceID); ok {
		t.Fatal("the conference ID still works")
	}
	err := e.fail(404, "not_found", "GET", "/api/v1/users/ada@example.com", "")
	if err.Message != "user ada@example.com not found" {
		t.Fatalf("message %q", err.Message)
	}
	e.fail(404, "not_found", "DELETE", "/api/v1/users/ada@example.com", "")
}

func TestResetPIN(t *testing.T) {
	e := newEnv(t)
	e.enable("ada@example.com")
	var c changeResp
	r := e.must(200, "POST", "/api/v1/users/ada@example.com/pin/reset", "")
	r.decode(t, &c)
	if c.PIN == nil || len(*c.PIN) != 5 || !c.EmailQueued || c.User.PIN != store.MaskedPIN {
		t.Fatalf("reset: %s", r.body)
	}
	ctx := context.Background()
	if res, _ := e.dir.VerifyOrganizerPIN(ctx, c.User.ConferenceID, *c.PIN); res != store.PINOK {
		t.Fatalf("new PIN: %v", res)
	}
	// With an options body, and without email.
	e.must(200, "POST", "/api/v1/users/ada@example.com/pin/reset", `{"send_email":false}`).decode(t, &c)
	if c.PIN == nil || c.EmailQueued {
		t.Fatalf("reset without email: %+v", c)
	}
	// A PIN length change applies to the next generated PIN.
	e.must(200, "PATCH", "/api/v1/settings", `{"pin_length":8}`)
	e.must(200, "POST", "/api/v1/users/ada@example.com/pin/reset", `{}`).decode(t, &c)
	if len(*c.PIN) != 8 || c.User.PINLength != 8 {
		t.Fatalf("after pin_length 8: PIN %q", *c.PIN)
	}
}

func TestSetPINAndPolicy(t *testing.T) {
	e := newEnv(t)
	e.enable("ada@example.com")
	r := e.must(200, "PUT", "/api/v1/users/ada@example.com/pin", `{"pin":"48213"}`)
	var c changeResp
	r.decode(t, &c)
	if c.PIN != nil || c.EmailQueued || c.User.PIN != store.MaskedPIN || strings.Contains(string(r.body), "48213") {
		t.Fatalf("set PIN response: %s", r.body)
	}
	if res, _ := e.dir.VerifyOrganizerPIN(context.Background(), c.User.ConferenceID, "48213"); res != store.PINOK {
		t.Fatalf("set PIN does not work: %v", res)
	}
	before := e.state()
	for _, tc := range []struct{ pin, rule string }{
		{"482", "length"},
		{"4821345678901", "length"},
		{"48a13", "digits"},
		{"77777", "repeated"},
		{"12345", "sequence"},
		{"", "length"},
	} {
		err := e.fail(400, "pin_policy", "PUT", "/api/v1/users/ada@example.com/pin", `{"pin":"`+tc.pin+`"}`)
		if err.Field != "pin" || err.Rule != tc.rule {
			t.Errorf("PIN %q: field %q rule %q, want pin %s (%s)", tc.pin, err.Field, err.Rule, tc.rule, err.Message)
		}
	}
	if err := e.fail(400, "invalid_input", "PUT", "/api/v1/users/ada@example.com/pin", `{}`); err.Field != "pin" {
		t.Errorf("no pin: field %q", err.Field)
	}
	e.fail(400, "bad_request", "PUT", "/api/v1/users/ada@example.com/pin", `{"pin":48213}`)
	e.fail(400, "bad_request", "PUT", "/api/v1/users/ada@example.com/pin", ``)
	if after := e.state(); after != before {
		t.Fatalf("refused PINs changed data:\n%s\n%s", before, after)
	}
	if res, _ := e.dir.VerifyOrganizerPIN(context.Background(), c.User.ConferenceID, "48213"); res != store.PINOK {
		t.Fatalf("a refused PIN replaced the PIN: %v", res)
	}
}

func TestLockedPINMustBeUnlocked(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PATCH", "/api/v1/settings", `{"lockout":{"local_limit":1}}`)
	c := e.enable("ada@example.com")
	if res, _ := e.dir.VerifyOrganizerPIN(context.Background(), c.User.ConferenceID, "00000"); res != store.PINLocked {
		t.Fatalf("wrong PIN at local limit 1: %v", res)
	}
	var u userResp
	e.must(200, "GET", "/api/v1/users/ada@example.com", "").decode(t, &u)
	if !u.Locked {
		t.Fatalf("user not shown locked: %+v", u)
	}
	before := e.state()
	e.fail(409, "pin_locked", "POST", "/api/v1/users/ada@example.com/pin/reset", "")
	e.fail(409, "pin_locked", "PUT", "/api/v1/users/ada@example.com/pin", `{"pin":"48213"}`)
	if after := e.state(); after != before {
		t.Fatalf("refused changes of a locked PIN changed data")
	}
	var ch changeResp
	e.must(200, "POST", "/api/v1/users/ada@example.com/pin/unlock", "").decode(t, &ch)
	if ch.User.Locked || ch.PIN != nil || ch.EmailQueued {
		t.Fatalf("unlock: %+v", ch)
	}
	if res, _ := e.dir.VerifyOrganizerPIN(context.Background(), c.User.ConferenceID, *c.PIN); res != store.PINOK {
		t.Fatalf("after unlock the PIN does not work: %v", res)
	}
	e.must(200, "POST", "/api/v1/users/ada@example.com/pin/unlock", `{}`)
	e.fail(400, "bad_request", "POST", "/api/v1/users/ada@example.com/pin/unlock", `{"force":true}`)
	e.must(200, "PUT", "/api/v1/users/ada@example.com/pin", `{"pin":"48213"}`)
}

func TestConferenceIDRoutes(t *testing.T) {
	e := newEnv(t)
	ada := e.enable("ada@example.com")
	bob := e.enable("bob@example.com")

	var c changeResp
	e.must(200, "POST", "/api/v1/users/ada@example.com/conference-id/reset", "").decode(t, &c)
	if c.User.ConferenceID == ada.User.ConferenceID || !store.ValidConferenceID(c.User.ConferenceID) || c.PIN != nil || !c.EmailQueued {
		t.Fatalf("reset conference ID: %+v", c)
	}
	if _, ok := e.dir.LookupConference(ada.User.ConferenceID); ok {
		t.Fatal("the old conference ID still works")
	}
	e.must(200, "POST", "/api/v1/users/ada@example.com/conference-id/reset", `{"send_email":false}`).decode(t, &c)
	if c.EmailQueued {
		t.Fatal("send_email false queued an email")
	}

	// Set by hand: a free ID with a valid check digit.
	free := validID(t, "314159")
	e.must(200, "PUT", "/api/v1/users/ada@example.com/conference-id", `{"conference_id":"`+free+`","send_email":false}`).decode(t, &c)
	if c.User.ConferenceID != free || c.EmailQueued {
		t.Fatalf("set conference ID: %+v", c)
	}
	if got, ok := e.dir.LookupConference(free); !ok || got.OrganizerID != ada.User.ID {
		t.Fatalf("the set ID does not reach ada: %+v %v", got, ok)
	}

	before := e.state()
	wrong, right := wrongCheckDigit(t, "271828")
	err := e.fail(400, "invalid_input", "PUT", "/api/v1/users/ada@example.com/conference-id", `{"conference_id":"`+wrong+`"}`)
	if err.Field != "conference_id" || !strings.Contains(err.Message, "must be "+string(right)) {
		t.Fatalf("wrong check digit: %+v (right digit %c)", err, right)
	}
	for _, body := range []string{`{"conference_id":"12345"}`, `{"conference_id":"abcdefg"}`, `{}`, `{"conference_id":""}`} {
		if err := e.fail(400, "invalid_input", "PUT", "/api/v1/users/ada@example.com/conference-id", body); err.Field != "conference_id" {
			t.Errorf("%s: field %q", body, err.Field)
		}
	}
	e.fail(409, "conflict", "PUT", "/api/v1/users/ada@example.com/conference-id", `{"conference_id":"`+bob.User.ConferenceID+`"}`)
	e.fail(400, "invalid_input", "PUT", "/api/v1/users/ada@example.com/conference-id", `{"conference_id":"`+free+`","email_to":"nope"}`)
	e.fail(404, "not_found", "PUT", "/api/v1/users/nobody@example.com/conference-id", `{"conference_id":"`+free+`"}`)
	if after := e.state(); after != before {
		t.Fatalf("refused conference IDs changed data")
	}

	// Send the details: always queued, never with the PIN.
	e.must(200, "PATCH", "/api/v1/settings", `{"send_emails":false}`)
	e.must(200, "POST", "/api/v1/users/bob@example.com/conference-id/send-info", "").decode(t, &c)
	if !c.EmailQueued || c.PIN != nil {
		t.Fatalf("send-info: %+v", c)
	}
	e.must(200, "POST", "/api/v1/users/bob@example.com/conference-id/send-info", `{"email_to":"desk@example.com"}`).decode(t, &c)
	if !c.EmailQueued {
		t.Fatal("send-info to another address queued nothing")
	}
	if err := e.fail(400, "bad_request", "POST", "/api/v1/users/bob@example.com/conference-id/send-info", `{"send_email":false}`); err.Field != "send_email" {
		t.Fatalf("send-info with send_email: %+v", err)
	}
	mails, errM := e.dir.DueMail(context.Background(), 100)
	if errM != nil {
		t.Fatal(errM)
	}
	// One to desk@; one to bob, which may have superseded (and so still
	// say) the conference ID change bob was not yet told of.
	var desk, bobs int
	for _, m := range mails {
		if m.Kind != store.MailConferenceInfo && m.Kind != store.MailConferenceIDReset {
			continue
		}
		if m.PIN != "" {
			t.Fatal("conference info email holds the PIN")
		}
		switch m.To {
		case "desk@example.com":
			desk++
		case "bob@example.com":
			bobs++
		}
	}
	if desk != 1 || bobs != 1 {
		t.Fatalf("conference info emails: %d to desk@, %d to bob@; want 1 and 1", desk, bobs)
	}
}

// TestListUsersSearch: q finds users by a prefix of email, display name
// (any case) or conference ID, and pages with next_after as the list does.
func TestListUsersSearch(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.enable(fmt.Sprintf("sam%d@example.com", i))
	}
	ada := e.enable("ada@example.com")
	type page struct {
		Users     []userResp `json:"users"`
		NextAfter int64      `json:"next_after"`
	}
	var p page
	e.must(200, "GET", "/api/v1/users?q=SAM&limit=2", "").decode(t, &p)
	if len(p.Users) != 2 || p.NextAfter == 0 {
		t.Fatalf("first page of q=SAM: %d users, next_after %d", len(p.Users), p.NextAfter)
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/users?q=SAM&limit=2&after=%d", p.NextAfter), "").decode(t, &p)
	if len(p.Users) != 1 || p.Users[0].Email != "sam2@example.com" || p.NextAfter != 0 {
		t.Fatalf("second page of q=SAM: %+v, next_after %d", p.Users, p.NextAfter)
	}
	e.must(200, "GET", "/api/v1/users?q="+ada.User.ConferenceID, "").decode(t, &p)
	if len(p.Users) != 1 || p.Users[0].Email != "ada@example.com" {
		t.Fatalf("q=conference ID: %+v", p.Users)
	}
	e.fail(400, "invalid_input", "GET", "/api/v1/users?q="+strings.Repeat("a", 255), "")
}
