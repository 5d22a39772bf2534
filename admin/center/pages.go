package center

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// signInData fills the sign-in form.
type signInData struct {
	pageData // no account: the frame shows no navigation
	Name     string
	Error    string
}

// GET /admin/signin: the form, with a fresh CSRF token in a cookie of its
// own (no session yet).
func (c *Center) signInPage(w http.ResponseWriter, r *http.Request) {
	c.renderSignIn(w, http.StatusOK, signInData{})
}

func (c *Center) renderSignIn(w http.ResponseWriter, status int, d signInData) {
	d.Title, d.CSRF = "Sign in", newToken()
	c.setCookie(w, preCookie, d.CSRF, 0)
	c.render(w, status, "signin.html", d)
}

// POST /admin/signin: name and password. A wrong name and a wrong password
// get the same answer; too many failures refuse the name or the address
// for a while.
func (c *Center) signIn(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(preCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		c.refuse(w, "This form has expired", "Reload the sign-in page and try again.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	now, source := c.now(), sourceOf(r)
	key := strings.ToLower(name)
	if c.throttle.refused(key, source, now) {
		c.log.Warn().Str("name", name).Str("source", source).Msg("admin center: sign-in refused: too many failures")
		c.renderSignIn(w, http.StatusTooManyRequests, signInData{Name: name,
			Error: "Too many failed sign-ins: wait a quarter of an hour, or ask another administrator to reset your password."})
		return
	}
	acc, ok, err := c.accounts.VerifyAdmin(r.Context(), name, password)
	if err != nil {
		c.log.Error().Err(err).Msg("admin center: sign-in failed")
		http.Error(w, "the directory cannot be read: try again later", http.StatusInternalServerError)
		return
	}
	if !ok {
		c.throttle.failed(key, source, now)
		c.log.Info().Str("name", name).Str("source", source).Msg("admin center: wrong name or password")
		c.renderSignIn(w, http.StatusUnauthorized, signInData{Name: name, Error: "Wrong name or password."})
		return
	}
	id, _ := c.sessions.start(acc.Name, now)
	c.setCookie(w, sessionCookie, id, 0)
	c.setCookie(w, preCookie, "", -1)
	c.log.Info().Str("name", acc.Name).Str("source", source).Msg("admin center: signed in")
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// POST /admin/signout
func (c *Center) signOut(w http.ResponseWriter, r *http.Request, ses *session) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		c.sessions.end(ck.Value)
	}
	c.setCookie(w, sessionCookie, "", -1)
	c.log.Info().Str("name", ses.account).Msg("admin center: signed out")
	http.Redirect(w, r, "/admin/signin", http.StatusSeeOther)
}

// pageData is what every signed-in page has; each page's data embeds it.
type pageData struct {
	Title   string
	Section string // the navigation's current entry: "home", "users", "live", "settings", "calls", "usage", "outbox"
	Account string
	CSRF    string
	Notice  string // what the last form did, shown once
}

// page is the common part of a signed-in page: it takes the session's
// notice, so a reload does not show it again.
func (c *Center) page(ses *session, section, title string) pageData {
	return pageData{Title: title, Section: section, Account: ses.account, CSRF: ses.csrf, Notice: ses.takeNotice()}
}

// homeData fills the start page: the figures of GET /status.
type homeData struct {
	pageData
	Status client.Status
	Uptime string
}

// GET /admin/: the bridge now, and the sections.
func (c *Center) home(w http.ResponseWriter, r *http.Request, ses *session) {
	st, err := c.api.Status(c.as(r, ses))
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	up := (time.Duration(st.UptimeSeconds) * time.Second).String()
	c.render(w, http.StatusOK, "home.html", homeData{pageData: c.page(ses, "home", "Audio Conferencing"), Status: st, Uptime: up})
}

// notFound answers a page the center does not have.
func (c *Center) notFound(w http.ResponseWriter, r *http.Request, ses *session) {
	c.showError(w, ses, http.StatusNotFound, "There is no such page.")
}

// refuse answers 403 to a form that cannot be taken (no session, a wrong
// CSRF token), on a page outside any session.
func (c *Center) refuse(w http.ResponseWriter, title, msg string) {
	c.render(w, http.StatusForbidden, "error.html", errorData{pageData: pageData{Title: title}, Message: msg})
}

// errorData fills the error page.
type errorData struct {
	pageData
	Message string
}

// showError answers a page that cannot be shown, in the center's frame.
func (c *Center) showError(w http.ResponseWriter, ses *session, status int, msg string) {
	c.render(w, status, "error.html", errorData{pageData: c.page(ses, "", "Error"), Message: msg})
}

// failed answers an API error that no field explains: the API's message
// (which never holds a PIN or a token) and its status; anything else is
// logged and answered as the server's fault.
func (c *Center) failed(w http.ResponseWriter, ses *session, err error) {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 {
		c.showError(w, ses, apiErr.Status, apiErr.Message)
		return
	}
	c.log.Error().Err(err).Str("account", ses.account).Msg("admin center: request failed")
	c.showError(w, ses, http.StatusInternalServerError, "Something went wrong on the server; it is in the log. Try again later.")
}

// fieldErrors maps an API error that names a field to that field's
// message, for the form to show next to it; nil otherwise.
func fieldErrors(err error) map[string]string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Field != "" {
		return map[string]string{apiErr.Field: apiErr.Message}
	}
	return nil
}

// render writes a page; a template that fails is our bug, logged.
func (c *Center) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.pages.ExecuteTemplate(w, page, data); err != nil {
		c.log.Error().Err(err).Str("page", page).Msg("admin center: page failed")
	}
}
