package center

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// The usage report: minutes, calls and meetings per organizer and per
// meeting over a range of days, from the API's GET /reports/usage.

// usageDays is the report's range when the form names none: the last 30
// days, today included (the API's default, in whole days).
const usageDays = 30

// usageRow is one organizer's or one meeting's line.
type usageRow struct {
	Organizer    string
	ConferenceID string
	Meetings     int
	Calls        int
	Minutes      string
	MOS          mos
	CallsHref    string // their calls in the same range
}

// usageData fills usage.html.
type usageData struct {
	pageData
	Filter     recordFilter
	Errors     map[string]string
	Range      string
	Totals     usageRow
	Organizers []usageRow
	Meetings   []usageRow
	CSV        string
}

// usageFilter is the form's range and organizer, the last 30 days when
// it names no dates.
func (c *Center) usageFilter(r *http.Request) recordFilter {
	f := readRecordFilter(r)
	if f.From == "" && f.To == "" {
		today := c.now().UTC()
		f.From = today.AddDate(0, 0, 1-usageDays).Format(time.DateOnly)
		f.To = today.Format(time.DateOnly)
	}
	return recordFilter{From: f.From, To: f.To, Organizer: f.Organizer}
}

// GET /admin/usage?from&to&organizer
func (c *Center) usagePage(w http.ResponseWriter, r *http.Request, ses *session) {
	f := c.usageFilter(r)
	d := usageData{Filter: f, Errors: f.check(), CSV: f.href("/admin/usage.csv")}
	if d.Errors == nil {
		rep, err := c.api.Usage(c.as(r, ses), f.From, apiTo(f.To), f.Organizer)
		if d.Errors = formErrors(err); err != nil && d.Errors == nil {
			c.failed(w, ses, err)
			return
		}
		if err == nil {
			d.fill(rep, f)
		}
	}
	d.pageData = c.page(ses, "usage", "Usage")
	status := http.StatusOK
	if d.Errors != nil {
		status = http.StatusBadRequest
	}
	c.render(w, status, "usage.html", d)
}

// fill sets the report's rows and their totals: the organizers' rows add
// up to everything (each call has one organizer); the average MOS is
// weighted by the measured calls.
func (d *usageData) fill(rep client.UsageReport, f recordFilter) {
	d.Range = rep.From.UTC().Format("2 Jan 2006") + " to " + rep.To.UTC().Add(-time.Nanosecond).Format("2 Jan 2006")
	var minutes, mosSum float64
	var measured int
	for _, u := range rep.Organizers {
		d.Organizers = append(d.Organizers, usageRowOf(u, recordFilter{From: f.From, To: f.To, Organizer: u.Organizer}))
		d.Totals.Meetings += u.Meetings
		d.Totals.Calls += u.Calls
		minutes += u.ParticipantMinutes
		if u.AverageMOS != nil {
			mosSum += *u.AverageMOS * float64(u.MeasuredCalls)
			measured += u.MeasuredCalls
		}
	}
	for _, u := range rep.Meetings {
		d.Meetings = append(d.Meetings, usageRowOf(u, recordFilter{From: f.From, To: f.To, ConferenceID: u.ConferenceID}))
	}
	d.Totals.Minutes = fmt.Sprintf("%.1f", minutes)
	var avg *float64
	if measured > 0 {
		a := mosSum / float64(measured)
		avg = &a
	}
	d.Totals.MOS = mosOf(avg)
}

func usageRowOf(u client.UsageRow, calls recordFilter) usageRow {
	return usageRow{Organizer: orDash(u.Organizer), ConferenceID: u.ConferenceID, Meetings: u.Meetings, Calls: u.Calls,
		Minutes: fmt.Sprintf("%.1f", u.ParticipantMinutes), MOS: mosOf(u.AverageMOS), CallsHref: calls.href("/admin/calls")}
}

// GET /admin/usage.csv?from&to&organizer: the API's CSV of the report.
func (c *Center) usageCSV(w http.ResponseWriter, r *http.Request, ses *session) {
	f := c.usageFilter(r)
	if errs := f.check(); errs != nil {
		c.showError(w, ses, http.StatusBadRequest, errs["to"])
		return
	}
	data, err := c.api.UsageCSV(c.as(r, ses), f.From, apiTo(f.To), f.Organizer)
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	sendCSV(w, "usage"+rangeSuffix(f), data)
}
