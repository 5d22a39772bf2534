package center

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/store"
)

// The mail queue: the outbox's emails by status, with Retry and Drop, from
// the API's /outbox routes. The API never gives an email's content (it may
// hold a PIN), so neither does the page: only its kind, recipient and
// delivery.

// outboxPageSize is how many emails a page of the queue shows.
const outboxPageSize = 50

// outboxStatuses are the queue's tabs, "" for all.
var outboxStatuses = []struct{ value, label string }{
	{"", "All"},
	{string(store.OutboxPending), "Pending"},
	{string(store.OutboxFailed), "Failed"},
	{string(store.OutboxSent), "Sent"},
	{string(store.OutboxDropped), "Dropped"},
}

// knownStatus is status if the queue has such a tab, else "" (all).
func knownStatus(status string) string {
	for _, s := range outboxStatuses {
		if s.value == status {
			return status
		}
	}
	return ""
}

// outboxHref is the queue in status, from after.
func outboxHref(status string, after int64) string {
	v := url.Values{}
	if status != "" {
		v.Set("status", status)
	}
	if after > 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	if len(v) == 0 {
		return "/admin/outbox"
	}
	return "/admin/outbox?" + v.Encode()
}

// tab is one status of the queue.
type tab struct {
	Label, Href string
	Current     bool
}

// emailRow is one email of the queue.
type emailRow struct {
	ID          int64
	To          string
	User        string // the user it is about, when not the recipient
	Subject     string
	Status      string
	StatusClass string
	Attempts    int
	Reason      string // why it was dropped or failed for good
	LastError   string // the last failed attempt's answer
	Created     stamp
	Next        stamp // a pending email's next attempt
	Done        stamp
	CanRetry    bool
	CanDrop     bool
}

// outboxData fills outbox.html.
type outboxData struct {
	pageData
	Status string
	Tabs   []tab
	Emails []emailRow
	Next   string
	First  string
}

// GET /admin/outbox?status&after
func (c *Center) outboxPage(w http.ResponseWriter, r *http.Request, ses *session) {
	q := r.URL.Query()
	status := knownStatus(q.Get("status"))
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	p, err := c.api.ListOutbox(c.as(r, ses), status, max(after, 0), outboxPageSize)
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	d := outboxData{Status: status}
	for _, s := range outboxStatuses {
		d.Tabs = append(d.Tabs, tab{Label: s.label, Href: outboxHref(s.value, 0), Current: s.value == status})
	}
	for _, e := range p.Emails {
		d.Emails = append(d.Emails, emailRowOf(e))
	}
	if p.NextAfter > 0 {
		d.Next = outboxHref(status, p.NextAfter)
	}
	if after > 0 {
		d.First = outboxHref(status, 0)
	}
	d.pageData = c.page(ses, "outbox", "Mail queue")
	c.render(w, http.StatusOK, "outbox.html", d)
}

func emailRowOf(e client.OutboxEmail) emailRow {
	row := emailRow{ID: e.ID, To: e.To, Subject: mailer.Subject(e.Kind), Status: e.Status, Attempts: e.Attempts,
		Reason: e.Reason, LastError: e.LastError, Created: stampOf(e.CreatedAt), Next: stampOf(e.NextAttempt), Done: stampOf(e.DoneAt)}
	if row.Subject == "" {
		row.Subject = e.Kind
	}
	if row.LastError == row.Reason {
		row.LastError = "" // said once
	}
	if e.User != "" && e.User != e.To {
		row.User = e.User
	}
	switch store.MailStatus(e.Status) {
	case store.OutboxPending:
		row.StatusClass, row.CanDrop = "warn", true
	case store.OutboxFailed:
		row.StatusClass, row.CanRetry, row.CanDrop = "bad", true, true
	case store.OutboxSent:
		row.StatusClass = "good"
	default:
		row.StatusClass = "plain"
	}
	return row
}

// POST /admin/outbox/{id}/retry: send a failed email again now.
func (c *Center) retryEmail(w http.ResponseWriter, r *http.Request, ses *session) {
	c.changeEmail(w, r, ses, c.api.RetryEmail, "Email %d to %s is being sent again now.")
}

// POST /admin/outbox/{id}/drop: a pending or failed email is never sent.
func (c *Center) dropEmail(w http.ResponseWriter, r *http.Request, ses *session) {
	c.changeEmail(w, r, ses, c.api.DropEmail, "Email %d to %s was dropped: it will not be sent.")
}

// changeEmail asks the API for the change (audited as the account), leaves
// a notice, and goes back to the tab the form was on.
func (c *Center) changeEmail(w http.ResponseWriter, r *http.Request, ses *session,
	change func(ctx context.Context, id int64) (client.OutboxEmail, error), notice string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		c.notFound(w, r, ses)
		return
	}
	e, err := change(c.as(r, ses), id)
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	ses.notify(fmt.Sprintf(notice, e.ID, e.To))
	http.Redirect(w, r, outboxHref(knownStatus(r.PostFormValue("status")), 0), http.StatusSeeOther)
}
