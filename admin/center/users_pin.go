package center

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/dialin/dialin/admin/client"
)

// A new PIN (enable, reset) is shown once: the form that made it keeps it
// in the session (keepSecret) and redirects to the one page that takes it
// (takeSecret), by a key in the URL, never the PIN. A reload or the back
// button finds it taken, and the page says so.

// pinData fills the one-time page.
type pinData struct {
	pageData
	User  client.User
	Path  string
	PIN   string // "" once shown
	Shown bool   // the PIN was shown before: it is gone
}

// showPINOnce keeps the change's PIN for one showing and redirects to it.
func (c *Center) showPINOnce(w http.ResponseWriter, r *http.Request, ses *session, ch client.Change) {
	if ch.PIN == "" { // not one of ours: nothing to show
		http.Redirect(w, r, userPagePath(ch.User.Email), http.StatusSeeOther)
		return
	}
	// The secret names its user, so the key cannot show it on another
	// user's page.
	key := ses.keepSecret(strings.ToLower(ch.User.Email) + "\n" + ch.PIN)
	http.Redirect(w, r, userPagePath(ch.User.Email)+"/pin?key="+url.QueryEscape(key), http.StatusSeeOther)
}

// GET /admin/users/{email}/pin?key=K: the new PIN, this once.
func (c *Center) newPINPage(w http.ResponseWriter, r *http.Request, ses *session) {
	u, ok := c.loadUser(w, r, ses)
	if !ok {
		return
	}
	d := pinData{User: u, Path: userPagePath(u.Email)}
	secret, found := ses.takeSecret(r.URL.Query().Get("key"))
	email, pin, _ := strings.Cut(secret, "\n")
	if !found || email != strings.ToLower(u.Email) || pin == "" {
		d.Shown = true
	} else {
		d.PIN = pin
	}
	d.pageData = c.page(ses, "users", "New PIN")
	c.render(w, http.StatusOK, "user_pin.html", d)
}
