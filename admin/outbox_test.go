package admin

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dialin/dialin/admin/wire"
)

// The outbox routes: list by status and page, retry, drop; never a PIN.
func TestOutboxRoutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ada := e.enable("ada@example.com")
	bob := e.enable("bob@example.com")
	e.enable("cy@example.com")

	var page wire.OutboxPage
	e.must(200, "GET", "/api/v1/outbox", "").decode(t, &page)
	if len(page.Emails) != 3 || page.NextAfter != 0 {
		t.Fatalf("list: %+v", page)
	}
	first := page.Emails[0]
	if first.Kind != "enabled" || first.To != "ada@example.com" || first.User != "ada@example.com" ||
		first.Status != wire.EmailPending || first.CreatedAt.IsZero() || first.NextAttempt.IsZero() {
		t.Fatalf("first: %+v", first)
	}
	body := string(e.must(200, "GET", "/api/v1/outbox", "").body)
	for _, pin := range []*string{ada.PIN, bob.PIN} {
		if pin == nil || strings.Contains(body, *pin) {
			t.Fatalf("the listing shows a PIN: %s", body)
		}
	}
	// Pages.
	e.must(200, "GET", "/api/v1/outbox?limit=2", "").decode(t, &page)
	if len(page.Emails) != 2 || page.NextAfter != page.Emails[1].ID {
		t.Fatalf("page 1: %+v", page)
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/outbox?limit=2&after=%d", page.NextAfter), "").decode(t, &page)
	if len(page.Emails) != 1 || page.NextAfter != 0 {
		t.Fatalf("page 2: %+v", page)
	}

	// A PIN reset supersedes ada's welcome: dropped, with the reason.
	e.must(200, "POST", "/api/v1/users/ada@example.com/pin/reset", "")
	e.must(200, "GET", "/api/v1/outbox?status=dropped", "").decode(t, &page)
	if len(page.Emails) != 1 || page.Emails[0].ID != first.ID || !strings.HasPrefix(page.Emails[0].Reason, "superseded by email ") ||
		page.Emails[0].DoneAt.IsZero() || !page.Emails[0].NextAttempt.IsZero() {
		t.Fatalf("dropped: %+v", page)
	}

	// Drop bob's, then it cannot be dropped or retried again.
	bobID := page.Emails[0].ID + 1
	var m wire.OutboxEmail
	e.must(200, "DELETE", fmt.Sprintf("/api/v1/outbox/%d", bobID), "").decode(t, &m)
	if m.Status != wire.EmailDropped || m.Reason != "dropped by an administrator" || m.To != "bob@example.com" {
		t.Fatalf("drop: %+v", m)
	}
	if err := e.fail(409, "conflict", "DELETE", fmt.Sprintf("/api/v1/outbox/%d", bobID), ""); !strings.Contains(err.Message, "was dropped already") {
		t.Fatalf("drop twice: %+v", err)
	}
	e.fail(409, "conflict", "POST", fmt.Sprintf("/api/v1/outbox/%d/retry", bobID), "")
	e.fail(404, "not_found", "POST", "/api/v1/outbox/999/retry", "")
	e.fail(404, "not_found", "DELETE", "/api/v1/outbox/abc", "")
	if err := e.fail(400, "bad_request", "GET", "/api/v1/outbox?status=lost", ""); err.Field != "status" {
		t.Fatalf("bad status: %+v", err)
	}

	// A failed email is listed as failed, not pending; retry makes it
	// pending again with no attempts.
	due, err := e.dir.DueMail(ctx, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due: %+v, %v", due, err)
	}
	if err := e.dir.MailGaveUp(ctx, due[0].ID, "550 5.1.1 no such user"); err != nil {
		t.Fatal(err)
	}
	var st wire.Status
	e.must(200, "GET", "/api/v1/status", "").decode(t, &st)
	if st.EmailsPending != 1 {
		t.Fatalf("emails_pending %d with one failed, want 1", st.EmailsPending)
	}
	e.must(200, "GET", "/api/v1/outbox?status=failed", "").decode(t, &page)
	if len(page.Emails) != 1 || page.Emails[0].LastError != "550 5.1.1 no such user" || page.Emails[0].Attempts != 1 {
		t.Fatalf("failed: %+v", page)
	}
	e.must(200, "POST", fmt.Sprintf("/api/v1/outbox/%d/retry", due[0].ID), "").decode(t, &m)
	if m.Status != wire.EmailPending || m.Attempts != 0 || m.LastError != "550 5.1.1 no such user" {
		t.Fatalf("retry: %+v", m)
	}
}

// PATCH /users/{email} changes the override address; send-info for a
// user without a static conference ID is refused with nothing queued.
func TestPatchUserAndRefusedSendInfo(t *testing.T) {
	e := newEnv(t)
	e.enable("ada@example.com")
	var u wire.User
	e.must(200, "PATCH", "/api/v1/users/ada@example.com", `{"email_override":"ada.home@example.org"}`).decode(t, &u)
	if u.EmailOverride != "ada.home@example.org" {
		t.Fatalf("patch: %+v", u)
	}
	if err := e.fail(400, "invalid_input", "PATCH", "/api/v1/users/ada@example.com", `{"email_override":"nope"}`); err.Field != "email_override" {
		t.Fatalf("bad override: %+v", err)
	}
	e.fail(400, "bad_request", "PATCH", "/api/v1/users/ada@example.com", `{"pin":"1234"}`)
	e.fail(404, "not_found", "PATCH", "/api/v1/users/nobody@example.com", `{"email_override":""}`)
	e.must(200, "PATCH", "/api/v1/users/ada@example.com", `{"email_override":""}`).decode(t, &u)
	if u.EmailOverride != "" {
		t.Fatalf("clear: %+v", u)
	}

	e.must(200, "PATCH", "/api/v1/settings", `{"conference_id_mode":"dynamic"}`)
	e.enable("bob@example.com")
	before := e.state()
	err := e.fail(400, "invalid_input", "POST", "/api/v1/users/bob@example.com/conference-id/send-info", "")
	if err.Field != "conference_id" || !strings.Contains(err.Message, "no static conference ID") {
		t.Fatalf("send-info in dynamic mode: %+v", err)
	}
	if e.state() != before {
		t.Fatal("the refused send-info changed something")
	}
}
