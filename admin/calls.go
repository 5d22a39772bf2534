package admin

import (
	"context"
	"encoding/csv"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// CallRecords is what the /calls and /reports routes read (the store's
// call records).
type CallRecords interface {
	ListCallRecords(ctx context.Context, f store.CallFilter) ([]store.CallRecord, error)
	GetCallRecord(ctx context.Context, callID string) (store.CallRecord, error)
	CallUsage(ctx context.Context, f store.UsageFilter) (store.UsageReport, error)
}

// defaultUsageRange is the usage report's range without from.
const defaultUsageRange = 30 * 24 * time.Hour

// csvPage is how many records a CSV export reads at a time.
const csvPage = 1000

// GET /api/v1/calls?from&to&conference_id&organizer&calling&outcome&after&limit
// JSON pages like /users; CSV (Accept: text/csv or format=csv) every
// record the filters select, or limit of them.
func (a *api) listCalls(w http.ResponseWriter, r *http.Request) error {
	if a.records == nil {
		return errNoRecords
	}
	q := r.URL.Query()
	f, err := callFilter(q)
	if err != nil {
		return err
	}
	if wantsCSV(r) {
		if !q.Has("limit") {
			f.Limit = 0
		}
		return a.callsCSV(w, r, f)
	}
	recs, err := a.records.ListCallRecords(r.Context(), f)
	if err != nil {
		return err
	}
	out := wire.CallPage{Calls: make([]wire.CallRecord, 0, len(recs))}
	for _, rec := range recs {
		out.Calls = append(out.Calls, a.viewCall(rec))
	}
	if len(recs) == f.Limit {
		// As /users: look one further, so next_after is 0 exactly at the end.
		last := recs[len(recs)-1].ID
		more := f
		more.After, more.Limit = last, 1
		next, err := a.records.ListCallRecords(r.Context(), more)
		if err != nil {
			return err
		}
		if len(next) > 0 {
			out.NextAfter = last
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /api/v1/calls/{call_id}: the latest record of that Call-ID.
func (a *api) getCall(w http.ResponseWriter, r *http.Request) error {
	if a.records == nil {
		return errNoRecords
	}
	id := r.PathValue("call_id")
	rec, err := a.records.GetCallRecord(r.Context(), id)
	if err != nil {
		return about(err, "call "+strconv.Quote(id))
	}
	if wantsCSV(r) {
		cw := startCSV(w, "call.csv")
		_ = cw.Write(callCSVHeader)
		_ = cw.Write(callCSVRow(a.viewCall(rec)))
		cw.Flush()
		return nil
	}
	writeJSON(w, http.StatusOK, a.viewCall(rec))
	return nil
}

// GET /api/v1/reports/usage?from&to&organizer
func (a *api) usageReport(w http.ResponseWriter, r *http.Request) error {
	if a.records == nil {
		return errNoRecords
	}
	q := r.URL.Query()
	from, err := queryTime(q, "from")
	if err != nil {
		return err
	}
	to, err := queryTime(q, "to")
	if err != nil {
		return err
	}
	if to.IsZero() {
		to = time.Now().UTC()
	}
	if from.IsZero() {
		from = to.Add(-defaultUsageRange)
	}
	if !to.After(from) {
		return invalidInput("to", "%s is not after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	rep, err := a.records.CallUsage(r.Context(), store.UsageFilter{From: from, To: to, Organizer: strings.TrimSpace(q.Get("organizer"))})
	if err != nil {
		return err
	}
	out := wire.UsageReport{From: from, To: to, Organizers: viewUsage(rep.Organizers), Meetings: viewUsage(rep.Meetings)}
	if wantsCSV(r) {
		cw := startCSV(w, "usage.csv")
		_ = cw.Write([]string{"kind", "organizer", "conference_id", "meetings", "calls", "participant_minutes", "average_mos", "measured_calls"})
		for _, kind := range []struct {
			name string
			rows []wire.UsageRow
		}{{"organizer", out.Organizers}, {"meeting", out.Meetings}} {
			for _, u := range kind.rows {
				_ = cw.Write([]string{kind.name, u.Organizer, u.ConferenceID, strconv.Itoa(u.Meetings), strconv.Itoa(u.Calls),
					num(u.ParticipantMinutes, 1), optNum(u.AverageMOS, 2), strconv.Itoa(u.MeasuredCalls)})
			}
		}
		cw.Flush()
		return nil
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

var errNoRecords = &apiError{Status: http.StatusServiceUnavailable, Code: wire.CodeBridgeUnavailable,
	Message: "this server keeps no call records"}

// callFilter reads the list's query parameters.
func callFilter(q url.Values) (store.CallFilter, error) {
	var f store.CallFilter
	var err error
	if f.From, err = queryTime(q, "from"); err != nil {
		return f, err
	}
	if f.To, err = queryTime(q, "to"); err != nil {
		return f, err
	}
	if f.After, err = queryInt(q, "after", 0, 0, math.MaxInt64); err != nil {
		return f, err
	}
	if f.Limit, err = queryLimit(q); err != nil {
		return f, err
	}
	f.ConferenceID = strings.TrimSpace(q.Get("conference_id"))
	f.Organizer = strings.TrimSpace(q.Get("organizer"))
	f.Calling = strings.TrimSpace(q.Get("calling"))
	f.Outcome = strings.TrimSpace(q.Get("outcome"))
	return f, f.Check()
}

// queryTime reads an optional time: RFC 3339, or a date (midnight UTC).
func queryTime(q url.Values, name string) (time.Time, error) {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badParam(name, "%q is not a time (2026-01-31T09:00:00Z) or a date (2026-01-31)", s)
}

// wantsCSV: ?format=csv, or an Accept that names text/csv.
func wantsCSV(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return strings.EqualFold(f, "csv")
	}
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "text/csv")
}

// viewCall is a record as the API shows it.
func (a *api) viewCall(r store.CallRecord) wire.CallRecord {
	c := wire.CallRecord{
		ID: r.ID, CallID: r.CallID, Calling: r.Calling, Called: r.Called, Source: r.Source, Transport: r.Transport,
		StartedAt: r.Started, EndedAt: r.Ended, Duration: r.Duration().Seconds(), SIPStatus: r.Status,
		Outcome: r.Outcome, ConferenceID: r.ConferenceID, Organizer: r.OrganizerEmail, Role: r.Role,
		Lobby: r.Lobby.Seconds(), EndReason: r.EndReason, Codec: r.Codec, DTMF: r.DTMF,
		ToUs: viewQuality(r.In), FromUs: viewQuality(r.Out),
	}
	if !a.showCallers {
		c.Calling = maskCaller(r.Calling)
	}
	if !r.Answered.IsZero() {
		t := r.Answered
		c.AnsweredAt = &t
	}
	if !r.MeetingStart.IsZero() {
		t := r.MeetingStart
		c.MeetingStart = &t
	}
	if r.RTT > 0 {
		ms := millis(r.RTT)
		c.RTT = &ms
	}
	return c
}

func viewQuality(q store.StreamQuality) *wire.Quality {
	if !q.Measured {
		return nil
	}
	v := &wire.Quality{Packets: q.Packets, Lost: q.Lost, LossPercent: round(q.LossPercent(), 2),
		Jitter: millis(q.Jitter), MOS: round(q.MOS, 2)}
	if q.HasMaxGap {
		g := millis(q.MaxGap)
		v.MaxGap = &g
	}
	return v
}

func viewUsage(rows []store.UsageRow) []wire.UsageRow {
	out := make([]wire.UsageRow, 0, len(rows))
	for _, u := range rows {
		w := wire.UsageRow{Organizer: u.Organizer, ConferenceID: u.ConferenceID, Meetings: u.Meetings, Calls: u.Calls,
			ParticipantMinutes: round(u.ParticipantMinutes, 2), MeasuredCalls: u.MeasuredCalls}
		if u.MeasuredCalls > 0 {
			m := round(u.AverageMOS, 2)
			w.AverageMOS = &m
		}
		out = append(out, w)
	}
	return out
}

func millis(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 1) }

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

// The CSV export: one row per record, the JSON's fields flattened.
var callCSVHeader = []string{"call_id", "calling", "called", "source", "transport", "started_at", "answered_at",
	"ended_at", "duration_seconds", "sip_status", "outcome", "conference_id", "organizer", "role", "lobby_seconds",
	"end_reason", "codec", "dtmf", "rtt_ms",
	"to_us_packets", "to_us_lost", "to_us_loss_percent", "to_us_jitter_ms", "to_us_max_gap_ms", "to_us_mos",
	"from_us_packets", "from_us_lost", "from_us_loss_percent", "from_us_jitter_ms", "from_us_max_gap_ms", "from_us_mos"}

func callCSVRow(c wire.CallRecord) []string {
	row := []string{csvText(c.CallID), csvText(c.Calling), csvText(c.Called), c.Source, c.Transport, csvTime(&c.StartedAt), csvTime(c.AnsweredAt),
		csvTime(&c.EndedAt), num(c.Duration, 3), strconv.Itoa(c.SIPStatus), c.Outcome, c.ConferenceID, c.Organizer,
		c.Role, num(c.Lobby, 3), csvText(c.EndReason), c.Codec, c.DTMF, optNum(c.RTT, 1)}
	for _, q := range []*wire.Quality{c.ToUs, c.FromUs} {
		if q == nil {
			row = append(row, "", "", "", "", "", "")
			continue
		}
		row = append(row, strconv.FormatInt(q.Packets, 10), strconv.FormatInt(q.Lost, 10), num(q.LossPercent, 2),
			num(q.Jitter, 1), optNum(q.MaxGap, 1), num(q.MOS, 2))
	}
	return row
}

// callsCSV writes every record f selects, reading csvPage at a time.
func (a *api) callsCSV(w http.ResponseWriter, r *http.Request, f store.CallFilter) error {
	limit := f.Limit // 0: all
	page := f
	page.Limit = csvPage
	if limit > 0 && limit < csvPage {
		page.Limit = limit
	}
	recs, err := a.records.ListCallRecords(r.Context(), page)
	if err != nil {
		return err // nothing written yet: the error body still goes out
	}
	cw := startCSV(w, "calls.csv")
	_ = cw.Write(callCSVHeader)
	written := 0
	for len(recs) > 0 {
		for _, rec := range recs {
			_ = cw.Write(callCSVRow(a.viewCall(rec)))
		}
		written += len(recs)
		if len(recs) < page.Limit || (limit > 0 && written >= limit) {
			break
		}
		page.After = recs[len(recs)-1].ID
		if limit > 0 {
			page.Limit = min(csvPage, limit-written)
		}
		if recs, err = a.records.ListCallRecords(r.Context(), page); err != nil {
			// Half a file has gone out: end it short and log why.
			a.log.Error().Err(err).Msg("CSV export of call records cut short")
			break
		}
	}
	cw.Flush()
	return nil
}

func startCSV(w http.ResponseWriter, name string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return csv.NewWriter(w)
}

// csvText keeps a value a caller chose (Call-ID, numbers) from being read
// as a formula by a spreadsheet: a leading =, @ or a sign not followed by a
// digit or a mask gets a quote before it.
func csvText(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		if len(s) == 1 || !(s[1] >= '0' && s[1] <= '9' || s[1] == '*') {
			return "'" + s
		}
	}
	return s
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func num(v float64, places int) string { return strconv.FormatFloat(v, 'f', places, 64) }

func optNum(v *float64, places int) string {
	if v == nil {
		return ""
	}
	return num(*v, places)
}
