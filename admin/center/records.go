package center

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/store"
)

// The call records pages: the list with its filters and cursor, one
// call's details, and the list as CSV. Everything comes from the API's
// GET /calls and /calls/{call_id}, so the calling number is masked here
// exactly when the API masks it.

// recordRoutes are the pages and forms of this section: call records,
// the usage report (usage.go) and the mail queue (outbox.go).
func (c *Center) recordRoutes() []route {
	return []route{
		{"GET /admin/calls", c.callsPage},
		{"GET /admin/calls.csv", c.callsCSV},
		{"GET /admin/calls/{call_id}", c.callPage},
		{"GET /admin/calls/{call_id}/csv", c.callCSV},
		{"GET /admin/usage", c.usagePage},
		{"GET /admin/usage.csv", c.usageCSV},
		{"GET /admin/outbox", c.outboxPage},
		{"POST /admin/outbox/{id}/retry", c.retryEmail},
		{"POST /admin/outbox/{id}/drop", c.dropEmail},
	}
}

// callsPageSize is how many records a page of the list shows.
const callsPageSize = 50

// recordFilter is the filter form of the calls and usage pages as the
// browser sent it. The dates are whole days in UTC, "to" included: the
// API's to is the next midnight.
type recordFilter struct {
	From, To     string
	Organizer    string
	ConferenceID string
	Calling      string
	Outcome      string
}

func readRecordFilter(r *http.Request) recordFilter {
	q := r.URL.Query()
	get := func(name string) string { return strings.TrimSpace(q.Get(name)) }
	return recordFilter{From: get("from"), To: get("to"), Organizer: get("organizer"),
		ConferenceID: get("conference_id"), Calling: get("calling"), Outcome: get("outcome")}
}

// check finds what the API would refuse in words that name the form's
// fields: an end date before the start date. The API checks the rest.
func (f recordFilter) check() map[string]string {
	from, errFrom := time.Parse(time.DateOnly, f.From)
	to, errTo := time.Parse(time.DateOnly, f.To)
	if errFrom == nil && errTo == nil && to.Before(from) {
		return map[string]string{"to": "The end date is before the start date."}
	}
	return nil
}

// formErrors is fieldErrors for an error that names a field of the
// filter form; nil for any other (the page shows those whole).
func formErrors(err error) map[string]string {
	for name := range fieldErrors(err) {
		switch name {
		case "from", "to", "organizer", "conference_id", "calling", "outcome":
			return fieldErrors(err)
		}
	}
	return nil
}

// apiTo is the API's exclusive end for the form's inclusive end date;
// anything else (an RFC 3339 time in a hand-written URL) goes as it is.
func apiTo(to string) string {
	if d, err := time.Parse(time.DateOnly, to); err == nil {
		return d.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	return to
}

// query is the filter for the API.
func (f recordFilter) query() client.CallQuery {
	return client.CallQuery{From: f.From, To: apiTo(f.To), Organizer: f.Organizer,
		ConferenceID: f.ConferenceID, Calling: f.Calling, Outcome: f.Outcome}
}

// values is the filter as a URL query, for links that keep it.
func (f recordFilter) values() url.Values {
	v := url.Values{}
	for name, val := range map[string]string{"from": f.From, "to": f.To, "organizer": f.Organizer,
		"conference_id": f.ConferenceID, "calling": f.Calling, "outcome": f.Outcome} {
		if val != "" {
			v.Set(name, val)
		}
	}
	return v
}

// href is path with the filter (and extra) in its query.
func (f recordFilter) href(path string, extra ...string) string {
	v := f.values()
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// outcomeLabels say each outcome (store.Outcomes) in words.
var outcomeLabels = map[string]string{
	store.OutcomeJoined:    "Joined",
	store.OutcomeLobby:     "Left in the lobby",
	store.OutcomeNotFound:  "Conference ID not found",
	store.OutcomeGaveUp:    "No conference ID entered",
	store.OutcomeRefused:   "Refused",
	store.OutcomeAbandoned: "Hung up in the menu",
	store.OutcomeCancelled: "Cancelled before the answer",
	store.OutcomeFailed:    "Failed",
}

// outcomeBadge is the badge class of an outcome: good reached the
// meeting, bad is the bridge's (or the caller's) failure to get there.
func outcomeBadge(outcome string) string {
	switch outcome {
	case store.OutcomeJoined:
		return "good"
	case store.OutcomeLobby:
		return "warn"
	case store.OutcomeNotFound, store.OutcomeRefused, store.OutcomeFailed:
		return "bad"
	}
	return "plain"
}

func outcomeLabel(outcome string) string {
	if l, ok := outcomeLabels[outcome]; ok {
		return l
	}
	return outcome
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

func outcomeOptions(selected string) []option {
	opts := []option{{Value: "", Label: "Any outcome", Selected: selected == ""}}
	for _, o := range store.Outcomes {
		opts = append(opts, option{Value: o, Label: outcomeLabel(o), Selected: o == selected})
	}
	return opts
}

// mos is an estimated MOS as a badge: good from 4.0 (a clean call is
// about 4.4), fair from 3.6, poor below (docs/CALL_RECORDS.md).
type mos struct {
	Value string // "4.39", or "" when not measured
	Label string // Good, Fair, Poor, Not measured
	Class string
}

func mosOf(v *float64) mos {
	switch {
	case v == nil:
		return mos{Label: "Not measured", Class: "plain"}
	case *v >= 4.0:
		return mos{Value: fmt.Sprintf("%.2f", *v), Label: "Good", Class: "good"}
	case *v >= 3.6:
		return mos{Value: fmt.Sprintf("%.2f", *v), Label: "Fair", Class: "warn"}
	}
	return mos{Value: fmt.Sprintf("%.2f", *v), Label: "Poor", Class: "bad"}
}

// callMOS is a call's MOS: its worse measured direction, nil if neither
// was measured (the usage report averages the same figure).
func callMOS(r client.CallRecord) *float64 {
	var worst *float64
	for _, q := range []*client.CallQuality{r.ToUs, r.FromUs} {
		if q != nil && (worst == nil || q.MOS < *worst) {
			m := q.MOS
			worst = &m
		}
	}
	return worst
}

// stamp is a time as the pages show it: UTC, to the second, with its
// machine-readable form for <time datetime>.
type stamp struct {
	Text, ISO string
}

func stampOf(t time.Time) stamp {
	if t.IsZero() {
		return stamp{}
	}
	t = t.UTC()
	return stamp{Text: t.Format("2006-01-02 15:04:05"), ISO: t.Format(time.RFC3339)}
}

// duration is seconds as h:mm:ss or m:ss.
func duration(seconds float64) string {
	s := int64(seconds + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// callRow is one row of the list.
type callRow struct {
	Href         string
	Started      stamp
	Calling      string
	ConferenceID string
	Organizer    string
	Duration     string
	Outcome      string
	OutcomeClass string
	EndReason    string
	MOS          mos
}

// callsData fills calls.html.
type callsData struct {
	pageData
	Filter   recordFilter
	Presets  []tab
	Outcomes []option
	Errors   map[string]string
	Calls    []callRow
	Next     string // the next page's link, "" on the last
	First    string // the first page's link, "" on the first
	CSV      string
}

// GET /admin/calls?from&to&organizer&conference_id&calling&outcome&after
func (c *Center) callsPage(w http.ResponseWriter, r *http.Request, ses *session) {
	f := readRecordFilter(r)
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	d := callsData{Filter: f, Presets: c.datePresets(f, "/admin/calls"), Outcomes: outcomeOptions(f.Outcome),
		Errors: f.check(), CSV: f.href("/admin/calls.csv")}
	if d.Errors == nil {
		p, err := c.api.ListCalls(c.as(r, ses), f.query(), max(after, 0), callsPageSize)
		if d.Errors = formErrors(err); err != nil && d.Errors == nil {
			c.failed(w, ses, err)
			return
		}
		back := f.values().Encode()
		for _, rec := range p.Calls {
			d.Calls = append(d.Calls, callRowOf(rec, back))
		}
		if p.NextAfter > 0 {
			d.Next = f.href("/admin/calls", "after", strconv.FormatInt(p.NextAfter, 10))
		}
		if after > 0 {
			d.First = f.href("/admin/calls")
		}
	}
	d.pageData = c.page(ses, "calls", "Call records")
	status := http.StatusOK
	if d.Errors != nil {
		status = http.StatusBadRequest
	}
	c.render(w, status, "calls.html", d)
}

// datePresets are quick ranges of days ending today for the page at
// path, the filter's other fields kept; the one the filter has is current.
func (c *Center) datePresets(f recordFilter, path string) []tab {
	today := c.now().UTC()
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	preset := func(label, from, to string) tab {
		g := f
		g.From, g.To = from, to
		return tab{Label: label, Href: g.href(path), Current: f.From == from && f.To == to}
	}
	return []tab{
		preset("Today", day(today), day(today)),
		preset("Last 7 days", day(today.AddDate(0, 0, -6)), day(today)),
		preset("Last 30 days", day(today.AddDate(0, 0, 1-usageDays)), day(today)),
		preset("Any date", "", ""),
	}
}

// callHref is a call's details page; back is the list's filter, so its
// "back" link returns to the same list.
func callHref(callID, back string) string {
	h := "/admin/calls/" + url.PathEscape(callID)
	if back != "" {
		h += "?" + back
	}
	return h
}

func callRowOf(rec client.CallRecord, back string) callRow {
	row := callRow{Href: callHref(rec.CallID, back), Started: stampOf(rec.StartedAt), Calling: rec.Calling,
		ConferenceID: rec.ConferenceID, Organizer: rec.Organizer, Outcome: outcomeLabel(rec.Outcome),
		OutcomeClass: outcomeBadge(rec.Outcome), EndReason: rec.EndReason, MOS: mosOf(callMOS(rec))}
	if rec.AnsweredAt != nil {
		row.Duration = duration(rec.Duration)
	}
	return row
}

// GET /admin/calls.csv?filters: the API's CSV of every record the
// filters select, as a download.
func (c *Center) callsCSV(w http.ResponseWriter, r *http.Request, ses *session) {
	f := readRecordFilter(r)
	if errs := f.check(); errs != nil {
		c.showError(w, ses, http.StatusBadRequest, errs["to"])
		return
	}
	data, err := c.api.CallsCSV(c.as(r, ses), f.query())
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	sendCSV(w, "calls"+rangeSuffix(f), data)
}

// GET /admin/calls/{call_id}/csv: one call's record as the API's CSV.
func (c *Center) callCSV(w http.ResponseWriter, r *http.Request, ses *session) {
	data, err := c.api.CallCSV(c.as(r, ses), r.PathValue("call_id"))
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	sendCSV(w, "call.csv", data)
}

// rangeSuffix names a download after its dates: calls-2026-12-01-2026-12-31.csv.
func rangeSuffix(f recordFilter) string {
	name := ""
	for _, d := range []string{f.From, f.To} {
		if _, err := time.Parse(time.DateOnly, d); err == nil {
			name += "-" + d
		}
	}
	return name + ".csv"
}

// sendCSV answers a CSV the API made, as a file to save.
func sendCSV(w http.ResponseWriter, filename string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// fact is one line of a dl.facts.
type fact struct {
	Label, Value string
	Mono         bool
}

// step is one step of the call's way through the bridge.
type step struct {
	When  stamp // zero when the record does not say
	What  string
	Class string // badge class of the step's mark
}

// qualityRow is one figure of both directions.
type qualityRow struct {
	Figure, ToUs, FromUs string
}

// callData fills calls_detail.html.
type callData struct {
	pageData
	Back                 string
	CSV                  string
	Calling              string
	Outcome              string
	OutcomeClass         string
	Facts                []fact
	Steps                []step
	Quality              []qualityRow
	ToUsMOS, FromUsMOS   mos
	ToUsNote, FromUsNote string // why a direction was not measured
}

// GET /admin/calls/{call_id}
func (c *Center) callPage(w http.ResponseWriter, r *http.Request, ses *session) {
	rec, err := c.api.Call(c.as(r, ses), r.PathValue("call_id"))
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	d := callData{
		Back:    readRecordFilter(r).href("/admin/calls"),
		CSV:     callHref(rec.CallID, "") + "/csv",
		Calling: rec.Calling, Outcome: outcomeLabel(rec.Outcome), OutcomeClass: outcomeBadge(rec.Outcome),
		Facts: callFacts(rec), Steps: callSteps(rec), Quality: qualityRows(rec.ToUs, rec.FromUs),
		ToUsMOS: mosOf(mosPtr(rec.ToUs)), FromUsMOS: mosOf(mosPtr(rec.FromUs)),
	}
	if rec.ToUs == nil {
		d.ToUsNote = "Not measured: no audio came from the caller."
	}
	if rec.FromUs == nil {
		d.FromUsNote = "Not measured: the caller's phone sent no RTCP reports."
	}
	d.pageData = c.page(ses, "calls", "Call from "+orDash(rec.Calling))
	c.render(w, http.StatusOK, "calls_detail.html", d)
}

func mosPtr(q *client.CallQuality) *float64 {
	if q == nil {
		return nil
	}
	return &q.MOS
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func callFacts(rec client.CallRecord) []fact {
	dur, lobby, rtt := "not answered", "none", "not measured"
	if rec.AnsweredAt != nil {
		dur = duration(rec.Duration)
	}
	if rec.Lobby > 0 {
		lobby = fmt.Sprintf("%.1f s", rec.Lobby)
	}
	if rec.RTT != nil {
		rtt = fmt.Sprintf("%.1f ms", *rec.RTT)
	}
	return []fact{
		{Label: "Calling number", Value: orDash(rec.Calling), Mono: true},
		{Label: "Dialled", Value: orDash(rec.Called), Mono: true},
		{Label: "Conference ID", Value: orDash(rec.ConferenceID), Mono: true},
		{Label: "Organizer", Value: orDash(rec.Organizer)},
		{Label: "Role", Value: orDash(rec.Role)},
		{Label: "Started", Value: stampOf(rec.StartedAt).Text + " UTC"},
		{Label: "Duration", Value: dur},
		{Label: "Time in the lobby", Value: lobby},
		{Label: "Ended because", Value: orDash(rec.EndReason)},
		{Label: "SIP answer", Value: strconv.Itoa(rec.SIPStatus)},
		{Label: "Codec", Value: orDash(rec.Codec)},
		{Label: "Keys sent by", Value: orDash(rec.DTMF)},
		{Label: "Round trip (RTCP)", Value: rtt},
		{Label: "Source", Value: rec.Source + " (" + rec.Transport + ")", Mono: true},
		{Label: "SIP Call-ID", Value: rec.CallID, Mono: true},
	}
}

// callSteps is the call's way through the bridge and its IVR, as far as
// the record tells it: arrival, answer, the conference ID, the lobby, the
// meeting, the end.
func callSteps(rec client.CallRecord) []step {
	steps := []step{{When: stampOf(rec.StartedAt), Class: "plain",
		What: "Call arrived from " + orDash(rec.Calling) + " for " + orDash(rec.Called)}}
	if rec.AnsweredAt == nil {
		return append(steps, step{When: stampOf(rec.EndedAt), Class: outcomeBadge(rec.Outcome),
			What: fmt.Sprintf("Not answered: the bridge answered SIP %d (%s)", rec.SIPStatus, outcomeLabel(rec.Outcome))})
	}
	steps = append(steps, step{When: stampOf(*rec.AnsweredAt), Class: "plain", What: "Answered (" + orDash(rec.Codec) + "): the welcome prompt played"})
	switch {
	case rec.ConferenceID != "" && rec.Role == store.RoleOrganizer:
		steps = append(steps, step{Class: "good", What: "Entered conference ID " + rec.ConferenceID + " and the organizer's PIN (" + rec.Organizer + ")"})
	case rec.ConferenceID != "" && rec.Role != "":
		steps = append(steps, step{Class: "good", What: "Entered conference ID " + rec.ConferenceID + " (" + rec.Organizer + "'s meeting) as an attendee"})
	case rec.ConferenceID != "":
		steps = append(steps, step{Class: "plain", What: "Entered conference ID " + rec.ConferenceID + " (" + rec.Organizer + "'s meeting)"})
	case rec.Outcome == store.OutcomeNotFound:
		steps = append(steps, step{Class: "bad", What: "No conference ID found: every attempt was wrong"})
	case rec.Outcome == store.OutcomeGaveUp:
		steps = append(steps, step{Class: "plain", What: "Entered no conference ID"})
	case rec.Outcome == store.OutcomeAbandoned:
		steps = append(steps, step{Class: "plain", What: "Hung up in the menu, before a conference ID was found"})
	}
	if rec.Lobby > 0 {
		what := fmt.Sprintf("Waited in the lobby for %.1f s", rec.Lobby)
		if rec.Outcome == store.OutcomeJoined {
			what += ", then admitted"
		} else {
			what += ", never admitted"
		}
		steps = append(steps, step{Class: "warn", What: what})
	}
	if rec.Outcome == store.OutcomeJoined {
		what := "Joined the meeting"
		if rec.MeetingStart != nil {
			what += " (started " + stampOf(*rec.MeetingStart).Text + " UTC)"
		}
		steps = append(steps, step{Class: "good", What: what})
	}
	return append(steps, step{When: stampOf(rec.EndedAt), Class: outcomeBadge(rec.Outcome),
		What: "Ended: " + orDash(rec.EndReason)})
}

// qualityRows are the figures of both directions; "—" where a direction
// was not measured, "not known" where RTCP does not say.
func qualityRows(toUs, fromUs *client.CallQuality) []qualityRow {
	cell := func(q *client.CallQuality, f func(*client.CallQuality) string) string {
		if q == nil {
			return "—"
		}
		return f(q)
	}
	row := func(figure string, f func(*client.CallQuality) string) qualityRow {
		return qualityRow{Figure: figure, ToUs: cell(toUs, f), FromUs: cell(fromUs, f)}
	}
	return []qualityRow{
		row("Packets", func(q *client.CallQuality) string { return strconv.FormatInt(q.Packets, 10) }),
		row("Lost", func(q *client.CallQuality) string { return fmt.Sprintf("%d (%.2f %%)", q.Lost, q.LossPercent) }),
		row("Jitter", func(q *client.CallQuality) string { return fmt.Sprintf("%.1f ms", q.Jitter) }),
		row("Longest gap", func(q *client.CallQuality) string {
			if q.MaxGap == nil {
				return "not known"
			}
			return fmt.Sprintf("%.0f ms", *q.MaxGap)
		}),
	}
}
