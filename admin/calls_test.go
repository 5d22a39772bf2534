package admin

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// newCallsEnv is newEnv with the directory's call records served, and a
// few records of the enabled user's meeting.
func newCallsEnv(t *testing.T, showCallers bool) (*env, store.User) {
	t.Helper()
	e := newEnv(t)
	h, err := NewHandler(Options{Directory: e.dir, Token: testToken, Live: e.live, Logger: zerolog.New(e.logs),
		CallRecords: e.dir.CallRecords(), ShowCallingNumbers: showCallers})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Close()
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.enable("ada@example.com")
	u, err := e.dir.UserByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	rec := func(id string, at time.Duration, outcome string) store.CallRecord {
		r := store.CallRecord{CallID: id, Calling: "+14255550100", Called: "conference", Source: "192.0.2.1", Transport: "udp",
			Started: base.Add(at), Answered: base.Add(at + time.Second), Ended: base.Add(at + 121*time.Second), Status: 200,
			Outcome: outcome, Codec: "PCMU", DTMF: "rfc4733", EndReason: "caller hung up",
			In: store.StreamQuality{Measured: true, Packets: 900, Lost: 100, Jitter: 3 * time.Millisecond, MaxGap: 40 * time.Millisecond, HasMaxGap: true, MOS: 3.4}}
		if outcome == store.OutcomeJoined {
			r.ConferenceID, r.OrganizerID, r.Role, r.MeetingStart = u.ConferenceID, u.ID, store.RoleAttendee, base
		}
		return r
	}
	recs := []store.CallRecord{rec("one@h", 0, store.OutcomeJoined), rec("two@h", time.Minute, store.OutcomeJoined),
		rec("=cmd|x@h", 2*time.Minute, store.OutcomeNotFound)}
	if err := e.dir.CallRecords().InsertCallRecords(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return e, u
}

func TestCallsListFiltersPagesAndMasks(t *testing.T) {
	e, u := newCallsEnv(t, false)
	var page wire.CallPage
	e.must(200, "GET", "/api/v1/calls?limit=2", "").decode(t, &page)
	if len(page.Calls) != 2 || page.NextAfter != page.Calls[1].ID {
		t.Fatalf("first page: %+v", page)
	}
	c := page.Calls[0]
	if c.Calling != "+*******0100" || c.Organizer != "ada@example.com" || c.ConferenceID != u.ConferenceID ||
		c.Duration != 120 || c.ToUs == nil || c.ToUs.LossPercent != 10 || c.ToUs.MaxGap == nil || *c.ToUs.MaxGap != 40 ||
		c.FromUs != nil || c.AnsweredAt == nil || c.RTT != nil {
		t.Errorf("record: %+v", c)
	}
	e.must(200, "GET", "/api/v1/calls?limit=2&after="+strconv.FormatInt(page.NextAfter, 10), "").decode(t, &page)
	if len(page.Calls) != 1 || page.NextAfter != 0 {
		t.Errorf("last page: %+v", page)
	}
	for _, tc := range []struct {
		query string
		n     int
	}{
		{"outcome=not_found", 1}, {"conference_id=" + u.ConferenceID, 2}, {"organizer=ADA@example.com", 2},
		{"calling=%2B14255550100", 3}, {"from=2026-02-01T10:01:00Z&to=2026-02-01T10:02:00Z", 1}, {"from=2026-02-02", 0},
	} {
		e.must(200, "GET", "/api/v1/calls?"+tc.query, "").decode(t, &page)
		if len(page.Calls) != tc.n {
			t.Errorf("%s: %d records, want %d", tc.query, len(page.Calls), tc.n)
		}
	}
	if er := e.fail(400, wire.CodeBadRequest, "GET", "/api/v1/calls?from=yesterday", ""); er.Field != "from" {
		t.Errorf("bad time: %+v", er)
	}
	if er := e.fail(400, wire.CodeInvalidInput, "GET", "/api/v1/calls?outcome=won", ""); er.Field != "outcome" {
		t.Errorf("bad outcome: %+v", er)
	}
	e.fail(400, wire.CodeInvalidInput, "GET", "/api/v1/calls?from=2026-02-02&to=2026-02-01", "")

	var one wire.CallRecord
	e.must(200, "GET", "/api/v1/calls/two@h", "").decode(t, &one)
	if one.CallID != "two@h" {
		t.Errorf("show: %+v", one)
	}
	if er := e.fail(404, wire.CodeNotFound, "GET", "/api/v1/calls/nope", ""); !strings.Contains(er.Message, `"nope"`) {
		t.Errorf("not found: %+v", er)
	}
}

func TestCallsShownWholeWhenMaskingIsOff(t *testing.T) {
	e, _ := newCallsEnv(t, true)
	var one wire.CallRecord
	e.must(200, "GET", "/api/v1/calls/one@h", "").decode(t, &one)
	if one.Calling != "+14255550100" {
		t.Errorf("calling %q with masking off", one.Calling)
	}
}

func TestCallsCSV(t *testing.T) {
	e, _ := newCallsEnv(t, false)
	for _, r := range []response{
		e.must(200, "GET", "/api/v1/calls?format=csv", ""),
		e.raw("GET", "/api/v1/calls", "", http.Header{"Authorization": {"Bearer " + testToken}, "Accept": {"text/csv"}}),
	} {
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("Content-Type %q", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || rows[0][0] != "call_id" || len(rows[1]) != len(rows[0]) {
			t.Fatalf("CSV: %q", rows)
		}
		if rows[1][1] != "+*******0100" || rows[3][0] != "'=cmd|x@h" {
			t.Errorf("masking or formula guard: %q / %q", rows[1][1], rows[3][0])
		}
	}
	r := e.must(200, "GET", "/api/v1/calls/one@h?format=csv", "")
	if rows, _ := csv.NewReader(strings.NewReader(string(r.body))).ReadAll(); len(rows) != 2 {
		t.Errorf("one record's CSV: %q", rows)
	}
	r = e.must(200, "GET", "/api/v1/calls?format=csv&limit=1", "")
	if rows, _ := csv.NewReader(strings.NewReader(string(r.body))).ReadAll(); len(rows) != 2 {
		t.Errorf("limited CSV: %d rows", len(rows))
	}
}

func TestUsageReport(t *testing.T) {
	e, u := newCallsEnv(t, false)
	var rep wire.UsageReport
	e.must(200, "GET", "/api/v1/reports/usage?from=2026-02-01&to=2026-02-02", "").decode(t, &rep)
	if len(rep.Organizers) != 1 || len(rep.Meetings) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	o := rep.Organizers[0]
	if o.Organizer != "ada@example.com" || o.Meetings != 1 || o.Calls != 2 || o.ParticipantMinutes != 4 ||
		o.AverageMOS == nil || *o.AverageMOS != 3.4 || rep.Meetings[0].ConferenceID != u.ConferenceID {
		t.Errorf("organizer row: %+v", o)
	}
	e.must(200, "GET", "/api/v1/reports/usage", "").decode(t, &rep) // the last 30 days: none
	if len(rep.Organizers) != 0 || !rep.To.After(rep.From) {
		t.Errorf("default range: %+v", rep)
	}
	r := e.must(200, "GET", "/api/v1/reports/usage?from=2026-02-01&to=2026-02-02&format=csv", "")
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][0] != "organizer" || rows[2][0] != "meeting" {
		t.Errorf("CSV: %q %v", rows, err)
	}
	e.fail(400, wire.CodeInvalidInput, "GET", "/api/v1/reports/usage?from=2026-02-02&to=2026-02-01", "")
}

func TestCallsWithoutRecords(t *testing.T) {
	e := newEnv(t)
	e.fail(503, wire.CodeBridgeUnavailable, "GET", "/api/v1/calls", "")
}
