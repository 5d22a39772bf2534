package center

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dialin/dialin/admin/client"
)

// userData fills a user's page: the facts and one form per task. A form
// the API refused is shown again with its error next to its field: Errors
// is keyed "form.field" (e.g. "pin-set.pin"), Values holds what was typed
// (never a PIN).
type userData struct {
	pageData
	User   client.User
	Path   string
	Errors map[string]string
	Values map[string]string
	// Problem, atop the page, says which form was refused and links to
	// its field (ProblemID), which may be far down the page.
	Problem, ProblemID string
}

// formTitles and fieldIDs name the forms and fields of user.html, for the
// summary of a refusal.
var (
	formTitles = map[string]string{"pin-reset": "The PIN was not reset", "pin-set": "The PIN was not set",
		"pin-unlock": "The PIN was not unlocked", "cid-reset": "The conference ID was not reset",
		"cid-set": "The conference ID was not set", "send-info": "The conference details were not sent",
		"override": "The email override was not saved"}
	fieldIDs = map[string]string{"pin-set.pin": "pin-set-pin", "cid-set.conference_id": "cid-set-id",
		"override.email_override": "override-addr", "pin-reset.email_to": "pin-reset-to",
		"cid-reset.email_to": "cid-reset-to", "cid-set.email_to": "cid-set-to", "send-info.email_to": "send-info-to"}
)

// emailToField is the "email_to" field of one form of the page.
type emailToField struct {
	Form           string
	Errors, Values map[string]string
}

// EmailTo is the "email_to" field of form, for the template.
func (d userData) EmailTo(form string) emailToField {
	return emailToField{Form: form, Errors: d.Errors, Values: d.Values}
}

// loadUser loads the user the path names; false when it answered.
func (c *Center) loadUser(w http.ResponseWriter, r *http.Request, ses *session) (client.User, bool) {
	u, err := c.api.User(c.as(r, ses), r.PathValue("email"))
	if err != nil {
		c.failed(w, ses, err)
		return client.User{}, false
	}
	return u, true
}

// GET /admin/users/{email}
func (c *Center) userPage(w http.ResponseWriter, r *http.Request, ses *session) {
	u, ok := c.loadUser(w, r, ses)
	if !ok {
		return
	}
	c.renderUser(w, ses, http.StatusOK, userData{User: u})
}

func (c *Center) renderUser(w http.ResponseWriter, ses *session, status int, d userData) {
	title := d.User.DisplayName
	if title == "" {
		title = d.User.Email
	}
	d.pageData = c.page(ses, "users", title)
	d.Path = userPagePath(d.User.Email)
	c.render(w, status, "user.html", d)
}

// refused shows the user's page again with the API's refusal of form
// next to its field (def when the API names none), and what was typed;
// anything that is not the request's fault goes to the error page.
func (c *Center) refused(w http.ResponseWriter, r *http.Request, ses *session, form, def string, err error, values map[string]string) {
	field, msg, ok := formError(err, def)
	if !ok {
		c.failed(w, ses, err)
		return
	}
	u, ok := c.loadUser(w, r, ses)
	if !ok {
		return
	}
	key := form + "." + field
	c.renderUser(w, ses, http.StatusBadRequest, userData{User: u,
		Errors: map[string]string{key: msg}, Values: values,
		Problem: formTitles[form] + ": " + msg, ProblemID: fieldIDs[key]})
}

// done leaves the notice of a change and goes back to the user's page
// (Post/Redirect/Get: a reload does not post again).
func (c *Center) done(w http.ResponseWriter, r *http.Request, ses *session, email, notice string) {
	ses.notify(notice)
	http.Redirect(w, r, userPagePath(email), http.StatusSeeOther)
}

// mailForm reads a form's email choice: the "send_email" checkbox (off:
// no email, whatever the send_emails setting says) and "email_to", an
// address for this one email instead of the user's; an address typed in
// is an email wanted, checkbox or not.
func mailForm(r *http.Request) client.MailOptions {
	to := strings.TrimSpace(r.PostFormValue("email_to"))
	return client.MailOptions{NoEmail: r.PostFormValue("send_email") == "" && to == "", To: to}
}

// POST /admin/users/{email}/pin/reset: a new generated PIN, shown once.
func (c *Center) resetPIN(w http.ResponseWriter, r *http.Request, ses *session) {
	mail := mailForm(r)
	ch, err := c.api.ResetPIN(c.as(r, ses), r.PathValue("email"), mail)
	if err != nil {
		c.refused(w, r, ses, "pin-reset", "email_to", err, map[string]string{"pin-reset.email_to": mail.To})
		return
	}
	ses.notify("The PIN of " + ch.User.Email + " is reset; the old one no longer works." + mailNote(ch, mail.To))
	c.showPINOnce(w, r, ses, ch)
}

// POST /admin/users/{email}/pin/set: a PIN the administrator chose (no
// email: they pass it on). A PIN the policy refuses is not shown again.
func (c *Center) setPIN(w http.ResponseWriter, r *http.Request, ses *session) {
	ch, err := c.api.SetPIN(c.as(r, ses), r.PathValue("email"), strings.TrimSpace(r.PostFormValue("pin")))
	if err != nil {
		c.refused(w, r, ses, "pin-set", "pin", err, nil)
		return
	}
	c.done(w, r, ses, ch.User.Email, "The PIN of "+ch.User.Email+" is set to the one you chose; no email was sent.")
}

// POST /admin/users/{email}/pin/unlock
func (c *Center) unlockPIN(w http.ResponseWriter, r *http.Request, ses *session) {
	ch, err := c.api.UnlockPIN(c.as(r, ses), r.PathValue("email"))
	if err != nil {
		c.refused(w, r, ses, "pin-unlock", "pin", err, nil)
		return
	}
	c.done(w, r, ses, ch.User.Email, "The PIN of "+ch.User.Email+" is unlocked; its failure count starts again from zero.")
}

// POST /admin/users/{email}/conference-id/reset
func (c *Center) resetConferenceID(w http.ResponseWriter, r *http.Request, ses *session) {
	mail := mailForm(r)
	ch, err := c.api.ResetConferenceID(c.as(r, ses), r.PathValue("email"), mail)
	if err != nil {
		c.refused(w, r, ses, "cid-reset", "email_to", err, map[string]string{"cid-reset.email_to": mail.To})
		return
	}
	c.done(w, r, ses, ch.User.Email, ch.User.Email+" has a new conference ID, "+ch.User.ConferenceID+"; the old one no longer works."+mailNote(ch, mail.To))
}

// POST /admin/users/{email}/conference-id/set: an ID of the
// administrator's; "import" takes one without the check digit.
func (c *Center) setConferenceID(w http.ResponseWriter, r *http.Request, ses *session) {
	mail := mailForm(r)
	id := strings.TrimSpace(r.PostFormValue("conference_id"))
	set := c.api.SetConferenceID
	if r.PostFormValue("import") != "" {
		set = c.api.ImportConferenceID
	}
	ch, err := set(c.as(r, ses), r.PathValue("email"), id, mail)
	if err != nil {
		c.refused(w, r, ses, "cid-set", "conference_id", err,
			map[string]string{"cid-set.conference_id": id, "cid-set.email_to": mail.To})
		return
	}
	c.done(w, r, ses, ch.User.Email, ch.User.Email+"'s conference ID is now "+ch.User.ConferenceID+"; the old one no longer works."+mailNote(ch, mail.To))
}

// POST /admin/users/{email}/conference-id/send: the conference details
// (never the PIN), to the user or to another address.
func (c *Center) sendConferenceInfo(w http.ResponseWriter, r *http.Request, ses *session) {
	to := strings.TrimSpace(r.PostFormValue("email_to"))
	ch, err := c.api.SendConferenceInfo(c.as(r, ses), r.PathValue("email"), to)
	if err != nil {
		c.refused(w, r, ses, "send-info", "email_to", err, map[string]string{"send-info.email_to": to})
		return
	}
	c.done(w, r, ses, ch.User.Email, "The conference details of "+ch.User.Email+" are sent (without the PIN)."+mailNote(ch, to))
}

// POST /admin/users/{email}/email-override: the address the user's emails
// go to instead; empty (the Clear button) sends them to the user again.
func (c *Center) setEmailOverride(w http.ResponseWriter, r *http.Request, ses *session) {
	addr := strings.TrimSpace(r.PostFormValue("email_override"))
	if r.PostFormValue("clear") != "" {
		addr = ""
	}
	u, err := c.api.UpdateUser(c.as(r, ses), r.PathValue("email"), client.UserPatch{EmailOverride: &addr})
	if err != nil {
		c.refused(w, r, ses, "override", "email_override", err, map[string]string{"override.email_override": addr})
		return
	}
	notice := "The emails of " + u.Email + " go to " + u.EmailOverride + " from now on (emails already queued keep their address)."
	if u.EmailOverride == "" {
		notice = "The emails of " + u.Email + " go to that address again; no override."
	}
	c.done(w, r, ses, u.Email, notice)
}

// POST /admin/users/{email}/token/revoke: the user's self-service token
// stops working at once.
func (c *Center) revokeToken(w http.ResponseWriter, r *http.Request, ses *session) {
	email := r.PathValue("email")
	err := c.api.RevokeUserToken(c.as(r, ses), email)
	var apiErr *client.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		// The user exists (its page was shown) but has no token: nothing
		// to end, which is what was wanted.
		if _, ok := c.loadUser(w, r, ses); !ok {
			return
		}
		c.done(w, r, ses, email, email+" has no self-service token: nothing to revoke.")
	case err != nil:
		c.failed(w, ses, err)
	default:
		c.done(w, r, ses, email, "The self-service token of "+email+" is revoked: it no longer works.")
	}
}

// GET /admin/users/{email}/disable: the confirmation step.
func (c *Center) disablePage(w http.ResponseWriter, r *http.Request, ses *session) {
	u, ok := c.loadUser(w, r, ses)
	if !ok {
		return
	}
	d := userData{User: u, Path: userPagePath(u.Email)}
	d.pageData = c.page(ses, "users", "Disable "+u.Email)
	c.render(w, http.StatusOK, "user_disable.html", d)
}

// POST /admin/users/{email}/disable: after the confirmation.
func (c *Center) disable(w http.ResponseWriter, r *http.Request, ses *session) {
	email := r.PathValue("email")
	if err := c.api.DisableUser(c.as(r, ses), email); err != nil {
		c.failed(w, ses, err)
		return
	}
	c.log.Info().Str("account", ses.account).Str("user", email).Msg("admin center: user disabled")
	ses.notify(email + " is disabled: its conference ID and meetings no longer work.")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}
