package center

import (
	"net/http"
	"strings"
)

// signInData fills the sign-in form.
type signInData struct {
	Title string
	CSRF  string
	Name  string
	Error string
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
		http.Error(w, "this form has expired: reload the page and try again", http.StatusForbidden)
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

// pageData is what every signed-in page has.
type pageData struct {
	Title   string
	Account string
	CSRF    string
}

// GET /admin/
func (c *Center) home(w http.ResponseWriter, r *http.Request, ses *session) {
	c.render(w, http.StatusOK, "home.html", pageData{Title: "Audio Conferencing", Account: ses.account, CSRF: ses.csrf})
}

// render writes a page; a template that fails is our bug, logged.
func (c *Center) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.pages.ExecuteTemplate(w, page, data); err != nil {
		c.log.Error().Err(err).Str("page", page).Msg("admin center: page failed")
	}
}
