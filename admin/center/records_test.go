package center

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/store"
)

// newRecordsEnv is newEnv with the call records behind the API, signed in
// as alice; api is the same API in-process, for the tests' own setup.
func newRecordsEnv(t *testing.T) (*env, *client.Client) {
	t.Helper()
	e := newEnv(t)
	h, err := admin.NewHandler(admin.Options{Directory: e.dir, Token: "test-admin-token", Logger: zerolog.New(e.logs),
		CallRecords: e.dir.CallRecords()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Accounts: e.dir, API: h, Logger: zerolog.New(e.logs), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(c)
	t.Cleanup(e.srv.Close)
	e.center = c
	if p := e.signIn(e.client, "alice", e.password); p.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", p.status)
	}
	return e, client.InProcess(h)
}

// setupCtx acts as another account, so the tests' setup is not alice's.
func setupCtx() context.Context {
	return admin.AsAccount(context.Background(), "setup", "127.0.0.1:1")
}

// day is a time on December 2026's first days, UTC.
func day(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, time.UTC) }

// seedCalls writes three records of ada's meeting and around it, then
// fillers of November, and returns ada's conference ID.
func seedCalls(t *testing.T, e *env, api *client.Client, fillers int) string {
	t.Helper()
	ch, err := api.EnableUser(setupCtx(), client.EnableRequest{Email: "ada@example.com", SendEmail: new(false)})
	if err != nil {
		t.Fatal(err)
	}
	id := ch.User.ConferenceID
	joined := day(1, 10, 0)
	recs := []store.CallRecord{
		{CallID: "a84b4c76e66710@pc33/1", Calling: "+14255550101", Called: "conference", Source: "203.0.113.5", Transport: "udp",
			Started: joined, Answered: joined.Add(200 * time.Millisecond), Ended: joined.Add(200*time.Millisecond + 5*time.Minute),
			Status: 200, Outcome: store.OutcomeJoined, ConferenceID: id, OrganizerID: ch.User.ID, MeetingStart: joined.Add(-time.Minute),
			Role: store.RoleAttendee, Lobby: 12500 * time.Millisecond, EndReason: "caller hung up", Codec: "PCMU", DTMF: "rfc4733",
			In: store.StreamQuality{Measured: true, Packets: 15000, Lost: 15, Jitter: 2100 * time.Microsecond, MaxGap: 64 * time.Millisecond,
				HasMaxGap: true, MOS: 4.39},
			Out: store.StreamQuality{Measured: true, Packets: 15010, Lost: 1500, Jitter: 35 * time.Millisecond, MOS: 3.21},
			RTT: 38 * time.Millisecond},
		{CallID: "nf-1@host", Calling: "+14255550102", Called: "conference", Source: "203.0.113.6", Transport: "tcp",
			Started: day(2, 11, 0), Answered: day(2, 11, 0), Ended: day(2, 11, 1), Status: 200, Outcome: store.OutcomeNotFound,
			EndReason: "conference ID not found", Codec: "PCMA"},
		{CallID: "cancel-1@host", Calling: "+14255550103", Called: "conference", Source: "203.0.113.7", Transport: "udp",
			Started: day(3, 8, 0), Ended: day(3, 8, 0).Add(3 * time.Second), Status: 487, Outcome: store.OutcomeCancelled,
			EndReason: "caller cancelled"},
	}
	for i := range fillers {
		at := time.Date(2026, 11, 1, 9, i, 0, 0, time.UTC)
		recs = append(recs, store.CallRecord{CallID: fmt.Sprintf("filler-%d@host", i), Calling: "+14255550999", Called: "conference",
			Source: "203.0.113.9", Transport: "udp", Started: at, Answered: at, Ended: at.Add(10 * time.Second), Status: 200,
			Outcome: store.OutcomeAbandoned, EndReason: "caller hung up", Codec: "PCMU"})
	}
	if err := e.dir.CallRecords().InsertCallRecords(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return id
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q in\n%s", what, w, body)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("%s: %q should not be there", what, n)
		}
	}
}

// TestCallsPage: the list shows each call as the API gives it (the
// calling number masked), its outcome and its worse direction's MOS; the
// form's filters reach the API (the end date included); an end before the
// start, or an outcome the API does not know, is shown on its field.
func TestCallsPage(t *testing.T) {
	e, api := newRecordsEnv(t)
	id := seedCalls(t, e, api, 0)

	p := e.get(e.client, "/admin/calls")
	if p.status != http.StatusOK {
		t.Fatalf("calls: %d\n%s", p.status, p.body)
	}
	mustContain(t, "calls", p.body, "&#43;*******0101", "&#43;*******0102", id, "ada@example.com", "5:00", "Joined", "caller hung up",
		"3.21 Poor", "Conference ID not found", "Not measured", "Cancelled before the answer", `aria-current="page">Call records`,
		`href="/admin/calls/a84b4c76e66710@pc33%2F1"`, `<label for="organizer">Organizer</label>`)
	mustNotContain(t, "calls", p.body, "14255550101", "Next page", "First page")
	// The quick ranges end on the clock's day, 3 December 2026.
	mustContain(t, "calls", p.body, `<a href="/admin/calls?from=2026-12-03&amp;to=2026-12-03">Today</a>`,
		`<a href="/admin/calls?from=2026-11-27&amp;to=2026-12-03">Last 7 days</a>`, `aria-current="true">Any date</a>`)
	p = e.get(e.client, "/admin/calls?outcome=joined&from=2026-12-03&to=2026-12-03")
	mustContain(t, "calls of today", p.body, `<a href="/admin/calls?from=2026-12-03&amp;outcome=joined&amp;to=2026-12-03" aria-current="true">Today</a>`,
		`<a href="/admin/calls?outcome=joined">Any date</a>`)

	for query, want := range map[string][]string{
		"outcome=joined":                      {"a84b4c76e66710"},
		"from=2026-12-02&to=2026-12-02":       {"nf-1@host"},
		"from=2026-12-02":                     {"nf-1@host", "cancel-1@host"},
		"organizer=ada%40example.com":         {"a84b4c76e66710"},
		"conference_id=" + id:                 {"a84b4c76e66710"},
		"calling=%2B14255550103":              {"cancel-1@host"},
		"to=2026-12-01&outcome=not_found":     nil,
		"from=2026-12-01&to=2026-12-03&x=one": {"a84b4c76e66710", "nf-1@host", "cancel-1@host"},
	} {
		p := e.get(e.client, "/admin/calls?"+query)
		if p.status != http.StatusOK {
			t.Errorf("%s: %d", query, p.status)
			continue
		}
		for _, callID := range []string{"a84b4c76e66710", "nf-1@host", "cancel-1@host"} {
			in := strings.Contains(p.body, "/admin/calls/"+url.PathEscape(callID))
			if in != containsString(want, callID) {
				t.Errorf("%s: %s listed %v", query, callID, in)
			}
		}
		if want == nil && !strings.Contains(p.body, "No call matches these filters.") {
			t.Errorf("%s: no empty-list message", query)
		}
		// The filters are kept in the form and in the CSV link.
		if strings.Contains(query, "outcome=not_found") && !strings.Contains(p.body, `<option value="not_found" selected>`) {
			t.Errorf("%s: the outcome is not kept in the form", query)
		}
		if strings.HasPrefix(query, "from=2026-12-02&to") && !strings.Contains(p.body, `href="/admin/calls.csv?from=2026-12-02&amp;to=2026-12-02"`) {
			t.Errorf("%s: the CSV link does not carry the filters", query)
		}
	}

	bad := e.get(e.client, "/admin/calls?from=2026-12-03&to=2026-12-01")
	if bad.status != http.StatusBadRequest {
		t.Errorf("end before start: %d", bad.status)
	}
	mustContain(t, "end before start", bad.body, `id="to" name="to" value="2026-12-01" aria-invalid="true" aria-describedby="to-error"`,
		`<p class="field-error" id="to-error">The end date is before the start date.</p>`)
	bad = e.get(e.client, "/admin/calls?outcome=bogus")
	if bad.status != http.StatusBadRequest {
		t.Errorf("unknown outcome: %d", bad.status)
	}
	mustContain(t, "unknown outcome", bad.body, `aria-describedby="outcome-error"`, `id="outcome-error">`, "bogus")
	bad = e.get(e.client, "/admin/calls?from=yesterday")
	mustContain(t, "bad date", bad.body, `id="from-error"`)
}

func containsString(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestCallsPaging: Next follows the API's cursor with the same filters;
// First goes back.
func TestCallsPaging(t *testing.T) {
	e, api := newRecordsEnv(t)
	seedCalls(t, e, api, callsPageSize+5)
	p := e.get(e.client, "/admin/calls?outcome=abandoned")
	if n := strings.Count(p.body, `href="/admin/calls/filler-`); n != callsPageSize {
		t.Fatalf("first page: %d rows, want %d", n, callsPageSize)
	}
	next := linkOf(t, p.body, "Next page")
	if !strings.Contains(next, "outcome=abandoned") || !strings.Contains(next, "after=") {
		t.Fatalf("next link %q", next)
	}
	p = e.get(e.client, next)
	if n := strings.Count(p.body, `href="/admin/calls/filler-`); n != 5 {
		t.Errorf("second page: %d rows, want 5", n)
	}
	mustNotContain(t, "second page", p.body, "Next page")
	if first := linkOf(t, p.body, "First page"); first != "/admin/calls?outcome=abandoned" {
		t.Errorf("first link %q", first)
	}
}

// linkOf is the href of the link whose text is text.
func linkOf(t *testing.T, body, text string) string {
	t.Helper()
	end := strings.Index(body, `">`+text+`</a>`)
	if end < 0 {
		t.Fatalf("no link %q in\n%s", text, body)
	}
	start := strings.LastIndex(body[:end], `href="`) + len(`href="`)
	href, _, _ := strings.Cut(body[start:end], `"`)
	return strings.ReplaceAll(href, "&amp;", "&")
}

// TestCallDetail: one call's page has both directions' figures, the steps
// through the IVR and the lobby, how it ended, and a way back to the same
// list; an unknown Call-ID is the API's 404.
func TestCallDetail(t *testing.T) {
	e, api := newRecordsEnv(t)
	id := seedCalls(t, e, api, 0)
	p := e.get(e.client, "/admin/calls/"+url.PathEscape("a84b4c76e66710@pc33/1")+"?outcome=joined")
	if p.status != http.StatusOK {
		t.Fatalf("detail: %d\n%s", p.status, p.body)
	}
	mustContain(t, "detail", p.body, "Call from &#43;*******0101", "a84b4c76e66710@pc33/1",
		"2.1 ms", "35.0 ms", "15 (0.10 %)", "1500 (9.09 %)", "64 ms", "not known", "4.39 Good", "3.21 Poor",
		"Entered conference ID "+id+" (ada@example.com&#39;s meeting) as an attendee",
		"Waited in the lobby for 12.5 s, then admitted", "Joined the meeting (started 2026-12-01 09:59:00 UTC)",
		"Ended: caller hung up", "38.0 ms", "rfc4733", `href="/admin/calls?outcome=joined"`, "2026-12-01 10:00:00",
		`href="/admin/calls/a84b4c76e66710@pc33%2F1/csv" download`)
	mustNotContain(t, "detail", p.body, "14255550101")

	p = e.get(e.client, "/admin/calls/cancel-1@host")
	mustContain(t, "not answered", p.body, "Not answered: the bridge answered SIP 487", "not answered",
		"Not measured: no audio came from the caller.", "Not measured: the caller&#39;s phone sent no RTCP reports.")

	if p := e.get(e.client, "/admin/calls/nobody@nowhere"); p.status != http.StatusNotFound || !strings.Contains(p.body, "not found") {
		t.Errorf("unknown call: %d\n%s", p.status, p.body)
	}
}

// TestRecordsCSV: the Download CSV links serve the API's CSV of the same
// filters as an attachment.
func TestRecordsCSV(t *testing.T) {
	e, api := newRecordsEnv(t)
	seedCalls(t, e, api, 0)
	p := e.get(e.client, "/admin/calls.csv?outcome=joined")
	if p.status != http.StatusOK || p.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		p.header.Get("Content-Disposition") != `attachment; filename="calls.csv"` {
		t.Fatalf("calls.csv: %d %q %q\n%s", p.status, p.header.Get("Content-Type"), p.header.Get("Content-Disposition"), p.body)
	}
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "call_id" || rows[1][0] != "a84b4c76e66710@pc33/1" || rows[1][1] != "+*******0101" {
		t.Errorf("calls.csv: %v %q", err, rows)
	}
	p = e.get(e.client, "/admin/calls/"+url.PathEscape("a84b4c76e66710@pc33/1")+"/csv")
	if p.header.Get("Content-Disposition") != `attachment; filename="call.csv"` || strings.Count(p.body, "\n") != 2 ||
		!strings.Contains(p.body, "a84b4c76e66710@pc33/1,+*******0101,") {
		t.Errorf("one call's CSV: %q\n%s", p.header.Get("Content-Disposition"), p.body)
	}
	p = e.get(e.client, "/admin/calls.csv?from=2026-12-02&to=2026-12-03")
	if p.header.Get("Content-Disposition") != `attachment; filename="calls-2026-12-02-2026-12-03.csv"` || strings.Count(p.body, "\n") != 3 {
		t.Errorf("calls.csv of two days: %q\n%s", p.header.Get("Content-Disposition"), p.body)
	}

	p = e.get(e.client, "/admin/usage.csv?from=2026-12-01&to=2026-12-03&organizer=ada%40example.com")
	if p.status != http.StatusOK || p.header.Get("Content-Disposition") != `attachment; filename="usage-2026-12-01-2026-12-03.csv"` {
		t.Fatalf("usage.csv: %d %q\n%s", p.status, p.header.Get("Content-Disposition"), p.body)
	}
	mustContain(t, "usage.csv", p.body, "kind,organizer,conference_id", "organizer,ada@example.com,,1,1,5.0,3.21,1")
	if p := e.get(e.client, "/admin/calls.csv?outcome=bogus"); p.status != http.StatusBadRequest {
		t.Errorf("calls.csv with a bad outcome: %d", p.status)
	}
}

// TestUsagePage: the totals and the rows by organizer and by meeting of
// the range; the last 30 days without dates; links to the calls counted.
func TestUsagePage(t *testing.T) {
	e, api := newRecordsEnv(t)
	id := seedCalls(t, e, api, 0)
	p := e.get(e.client, "/admin/usage")
	if p.status != http.StatusOK {
		t.Fatalf("usage: %d\n%s", p.status, p.body)
	}
	// The clock says 3 December 2026: the 30 days end that day.
	mustContain(t, "usage", p.body, `value="2026-11-04"`, `value="2026-12-03"`, "4 Nov 2026 to 3 Dec 2026",
		"ada@example.com", id, "5.0", "3.21 Poor", `aria-current="page">Usage`,
		`href="/admin/calls?from=2026-11-04&amp;organizer=ada%40example.com&amp;to=2026-12-03"`,
		`href="/admin/usage.csv?from=2026-11-04&amp;to=2026-12-03"`)
	p = e.get(e.client, "/admin/usage?from=2026-12-02&to=2026-12-03")
	mustContain(t, "usage without ada's call", p.body, "No call reached a meeting in this range.", "2 Dec 2026 to 3 Dec 2026")
	p = e.get(e.client, "/admin/usage?from=2026-12-03&to=2026-12-02")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="to-error">The end date is before the start date.`) {
		t.Errorf("usage end before start: %d\n%s", p.status, p.body)
	}
}

// TestOutboxPage: the queue shows each email's recipient, subject, status,
// attempts and last error, never its PIN; Retry (failed) and Drop (pending
// or failed) are forms with the session's CSRF token that go through the
// API as alice, audited, with a notice; a form without the token changes
// nothing.
func TestOutboxPage(t *testing.T) {
	e, api := newRecordsEnv(t)
	ctx := context.Background()
	ch, err := api.EnableUser(setupCtx(), client.EnableRequest{Email: "ada@example.com"})
	if err != nil || !ch.EmailQueued {
		t.Fatalf("enable: %+v %v", ch, err)
	}
	p := e.get(e.client, "/admin/outbox")
	mustContain(t, "outbox", p.body, "ada@example.com", "Your audio conferencing details", ">pending<",
		`action="/admin/outbox/1/drop"`, `aria-current="page">Mail queue`, `aria-current="page">All`)
	mustNotContain(t, "outbox", p.body, ch.PIN, `/retry"`)

	if err := e.dir.MailGaveUp(ctx, 1, "550 5.1.1 No such mailbox"); err != nil {
		t.Fatal(err)
	}
	p = e.get(e.client, "/admin/outbox?status=failed")
	mustContain(t, "failed", p.body, ">failed<", "550 5.1.1 No such mailbox", `action="/admin/outbox/1/retry"`,
		`action="/admin/outbox/1/drop"`, `<input type="hidden" name="status" value="failed">`, `aria-current="page">Failed`)
	mustNotContain(t, "failed", p.body, ch.PIN)
	if p := e.get(e.client, "/admin/outbox?status=sent"); !strings.Contains(p.body, "No sent email.") {
		t.Errorf("sent: %s", p.body)
	}
	csrf := csrfOf(t, p)

	// Without the session's token: refused, nothing changed.
	if p := e.post(e.client, "/admin/outbox/1/retry", url.Values{"status": {"failed"}}); p.status != http.StatusForbidden {
		t.Errorf("retry without CSRF: %d", p.status)
	}
	if m, _ := e.dir.GetMail(ctx, 1); m.Status != store.OutboxFailed {
		t.Errorf("after a refused retry: %s", m.Status)
	}

	p = e.post(e.client, "/admin/outbox/1/retry", url.Values{"csrf": {csrf}, "status": {"failed"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/outbox?status=failed" {
		t.Fatalf("retry: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if m, _ := e.dir.GetMail(ctx, 1); m.Status != store.OutboxPending {
		t.Errorf("after retry: %s", m.Status)
	}
	p = e.get(e.client, "/admin/outbox?status=failed")
	mustContain(t, "after retry", p.body, "Email 1 to ada@example.com is being sent again now", "No failed email.")
	if p := e.get(e.client, "/admin/outbox?status=failed"); strings.Contains(p.body, "sent again now") {
		t.Error("the notice shows twice")
	}

	p = e.post(e.client, "/admin/outbox/1/drop", url.Values{"csrf": {csrf}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/outbox" {
		t.Fatalf("drop: %d %s", p.status, p.header.Get("Location"))
	}
	p = e.get(e.client, "/admin/outbox")
	mustContain(t, "after drop", p.body, "Email 1 to ada@example.com was dropped: it will not be sent.", ">dropped<")
	mustNotContain(t, "after drop", p.body, `action="/admin/outbox/1/`)
	if p := e.post(e.client, "/admin/outbox/1/drop", url.Values{"csrf": {csrf}}); p.status != http.StatusConflict ||
		!strings.Contains(p.body, "dropped already") {
		t.Errorf("drop twice: %d\n%s", p.status, p.body)
	}
	if p := e.post(e.client, "/admin/outbox/x/drop", url.Values{"csrf": {csrf}}); p.status != http.StatusNotFound {
		t.Errorf("drop x: %d", p.status)
	}

	for _, action := range []string{"outbox.retry", "outbox.drop"} {
		entries, err := e.dir.Audit(ctx, store.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		var ok int
		for _, a := range entries {
			if a.Credential != "account:alice" {
				t.Errorf("%s audited as %q", action, a.Credential)
			}
			if a.Outcome == store.AuditOK {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("%s: %d entries done, want 1: %+v", action, ok, entries)
		}
	}
	if strings.Contains(e.logs.String(), ch.PIN) {
		t.Error("the PIN reached the log")
	}
}
