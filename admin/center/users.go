package center

// The users section: the list with its search, the enable form, and each
// user's page with every task of the seeds (reset or set the PIN, unlock
// it, reset or set the conference ID, send the conference details, the
// email override, disable, revoke the self-service token) as a small form
// each, in users_detail.go; the one-time page of a new PIN in users_pin.go.

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dialin/dialin/admin/client"
)

// userRoutes are the pages and forms of this section.
func (c *Center) userRoutes() []route {
	return []route{
		{"GET /admin/users", c.usersPage},
		{"GET /admin/users/new", c.enablePage},
		{"POST /admin/users/new", c.enable},
		{"GET /admin/users/{email}", c.userPage},
		{"GET /admin/users/{email}/pin", c.newPINPage},
		{"POST /admin/users/{email}/pin/reset", c.resetPIN},
		{"POST /admin/users/{email}/pin/set", c.setPIN},
		{"POST /admin/users/{email}/pin/unlock", c.unlockPIN},
		{"POST /admin/users/{email}/conference-id/reset", c.resetConferenceID},
		{"POST /admin/users/{email}/conference-id/set", c.setConferenceID},
		{"POST /admin/users/{email}/conference-id/send", c.sendConferenceInfo},
		{"POST /admin/users/{email}/email-override", c.setEmailOverride},
		{"POST /admin/users/{email}/token/revoke", c.revokeToken},
		{"GET /admin/users/{email}/disable", c.disablePage},
		{"POST /admin/users/{email}/disable", c.disable},
	}
}

// usersPageSize is a page of the list; ?limit= may ask for another size
// (1-200), which only the tests do.
const usersPageSize = 50

// userRow is one user of the list, with the path of its page.
type userRow struct {
	client.User
	Path string
}

// usersData fills the list.
type usersData struct {
	pageData
	Query    string
	Users    []userRow
	Next     string // the next page's link, "" on the last page
	First    string // the first page's link, "" on the first page
	QueryErr string
}

// GET /admin/users?q=TEXT&after=ID: a page of the users, or of those the
// search finds, by ID; the API pages with a cursor (the last ID shown),
// so a page costs the same at a million users.
func (c *Center) usersPage(w http.ResponseWriter, r *http.Request, ses *session) {
	q := r.URL.Query()
	d := usersData{pageData: c.page(ses, "users", "Users"), Query: strings.TrimSpace(q.Get("q"))}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 200 {
		limit = usersPageSize
	}
	p, err := c.api.SearchUsers(c.as(r, ses), d.Query, max(after, 0), limit)
	if fe := fieldErrors(err); fe != nil {
		d.QueryErr = fe["q"]
		c.render(w, http.StatusBadRequest, "users.html", d)
		return
	}
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	for _, u := range p.Users {
		d.Users = append(d.Users, userRow{User: u, Path: userPagePath(u.Email)})
	}
	link := func(after int64) string {
		v := url.Values{}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if after > 0 {
			v.Set("after", strconv.FormatInt(after, 10))
		}
		if limit != usersPageSize {
			v.Set("limit", strconv.Itoa(limit))
		}
		if len(v) == 0 {
			return "/admin/users"
		}
		return "/admin/users?" + v.Encode()
	}
	if p.NextAfter > 0 {
		d.Next = link(p.NextAfter)
	}
	if after > 0 {
		d.First = link(0)
	}
	c.render(w, http.StatusOK, "users.html", d)
}

// userPagePath is the path of a user's page; the email is one escaped
// path segment.
func userPagePath(email string) string { return "/admin/users/" + url.PathEscape(email) }

// enableData fills the enable form.
type enableData struct {
	pageData
	Email, DisplayName, EmailOverride string
	SendEmail                         bool
	Errors                            map[string]string // by field: email, display_name, email_override
}

// GET /admin/users/new
func (c *Center) enablePage(w http.ResponseWriter, r *http.Request, ses *session) {
	c.render(w, http.StatusOK, "user_new.html", enableData{pageData: c.page(ses, "users", "Enable a user"), SendEmail: true})
}

// POST /admin/users/new: enable the user, then show the new PIN once.
func (c *Center) enable(w http.ResponseWriter, r *http.Request, ses *session) {
	d := enableData{
		Email:         strings.TrimSpace(r.PostFormValue("email")),
		DisplayName:   strings.TrimSpace(r.PostFormValue("display_name")),
		EmailOverride: strings.TrimSpace(r.PostFormValue("email_override")),
		SendEmail:     r.PostFormValue("send_email") != "",
	}
	req := client.EnableRequest{Email: d.Email, DisplayName: d.DisplayName, EmailOverride: d.EmailOverride}
	if !d.SendEmail {
		no := false
		req.SendEmail = &no
	}
	ch, err := c.api.EnableUser(c.as(r, ses), req)
	if err != nil {
		field, msg, ok := formError(err, "email")
		if !ok {
			c.failed(w, ses, err)
			return
		}
		d.pageData = c.page(ses, "users", "Enable a user")
		d.Errors = map[string]string{field: msg}
		c.render(w, http.StatusBadRequest, "user_new.html", d)
		return
	}
	c.log.Info().Str("account", ses.account).Str("user", ch.User.Email).Msg("admin center: user enabled")
	ses.notify(ch.User.Email + " is enabled for audio conferencing" + conferenceIDNote(ch.User) + "." + mailNote(ch, ""))
	c.showPINOnce(w, r, ses, ch)
}

// formError is what a form shows of a refused request: the field the API
// names (or def, for a refusal that names none, such as a conflict) and
// its message; false for anything that is not the request's fault (the
// error page, or a 404 of the user).
func formError(err error, def string) (field, msg string, ok bool) {
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status < 400 || apiErr.Status >= 500 || apiErr.Status == http.StatusNotFound {
		return "", "", false
	}
	if apiErr.Field != "" {
		return apiErr.Field, apiErr.Message, true
	}
	return def, apiErr.Message, true
}

// conferenceIDNote tells the user's conference ID, for a notice.
func conferenceIDNote(u client.User) string {
	if u.ConferenceID == "" {
		return " (dynamic conference IDs: none of its own)"
	}
	return "; conference ID " + u.ConferenceID
}

// mailNote says where the change's email went, for a notice; to is the
// address the form sent it to instead, if any.
func mailNote(ch client.Change, to string) string {
	if !ch.EmailQueued {
		return " No email was sent."
	}
	addr := ch.User.Email
	switch {
	case to != "":
		addr = to
	case ch.User.EmailOverride != "":
		addr = ch.User.EmailOverride + " (the user's email override)"
	}
	return " An email is on its way to " + addr + "."
}
