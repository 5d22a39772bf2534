package center

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/admin/wire"
)

// lockedPIN is what the page says of a locked PIN, and who unlocks it.
const lockedPIN = "Your PIN is locked after too many wrong tries. You cannot reset or choose it yourself: " +
	"ask your administrator to unlock it (the admin center or dialin pin unlock)."

// meHomeData fills the signed-in page.
type meHomeData struct {
	meData
	Me      wire.User
	Numbers []dialInNumber
	NewPIN  string // the PIN just reset, this one showing
	Alert   string // what a form could not do
	Errors  map[string]string
}

// dialInNumber is a number and its one-tap tel: link ("" for a name).
type dialInNumber struct {
	Number string
	Tel    template.URL
}

// dialInNumbers pairs each number with its one-tap tel: link that dials
// it, waits and types the conference ID and #, as the emails do.
func dialInNumbers(numbers []string, conferenceID string) []dialInNumber {
	out := make([]dialInNumber, 0, len(numbers))
	for _, n := range numbers {
		d := dialInNumber{Number: n}
		if tel, ok := mailer.DialString(n, conferenceID); ok {
			// Digits, '+', ',' and '#' only: safe in an href once '#' is escaped.
			d.Tel = template.URL(strings.ReplaceAll(tel, "#", "%23"))
		}
		out = append(out, d)
	}
	return out
}

// GET /me/ (and /me/?shown=KEY once after a PIN reset)
func (c *Center) meHome(w http.ResponseWriter, r *http.Request, ses *session) {
	d := meHomeData{}
	if key := r.URL.Query().Get("shown"); key != "" {
		pin, ok := ses.takeSecret(key)
		if ok {
			d.NewPIN = pin
		} else {
			ses.notify("Your new PIN was shown once and cannot be shown again. If you did not note it, reset it again.")
		}
	}
	c.renderMeHome(w, r, ses, http.StatusOK, d)
}

// renderMeHome reads the user through the API and shows the page.
func (c *Center) renderMeHome(w http.ResponseWriter, r *http.Request, ses *session, status int, d meHomeData) {
	me, err := c.api.Me(c.asUser(r, ses))
	if err != nil {
		c.meFailed(w, r, ses, err)
		return
	}
	d.meData = c.mePage(ses, "Your audio conferencing")
	d.Me = me
	d.Numbers = dialInNumbers(c.me.numbers(), me.ConferenceID)
	c.render(w, status, "me_home.html", d)
}

// POST /me/pin/reset: a new PIN, shown once on the page the browser is
// sent to (never emailed, never in a URL: the URL holds only the key of
// the session's one showing).
func (c *Center) meResetPIN(w http.ResponseWriter, r *http.Request, ses *session) {
	ch, err := c.api.ResetOwnPIN(c.asUser(r, ses))
	if err != nil {
		c.meRefused(w, r, ses, err, nil)
		return
	}
	c.log.Info().Str("email", userOf(ses)).Msg("self-service: PIN reset")
	http.Redirect(w, r, "/me/?shown="+ses.keepSecret(ch.PIN), http.StatusSeeOther)
}

// POST /me/pin: pin and confirm, the PIN the user chose, checked against
// their PIN policy by the API. Neither is ever written back to the page.
func (c *Center) meChoosePIN(w http.ResponseWriter, r *http.Request, ses *session) {
	pin, confirm := strings.TrimSpace(r.PostFormValue("pin")), strings.TrimSpace(r.PostFormValue("confirm"))
	switch {
	case pin == "":
		c.meRefused(w, r, ses, nil, map[string]string{"pin": "Enter the PIN you want."})
		return
	case pin != confirm:
		c.meRefused(w, r, ses, nil, map[string]string{"confirm": "The two PINs differ: type the same PIN twice."})
		return
	}
	if _, err := c.api.SetOwnPIN(c.asUser(r, ses), pin); err != nil {
		c.meRefused(w, r, ses, err, fieldErrors(err))
		return
	}
	c.log.Info().Str("email", userOf(ses)).Msg("self-service: PIN chosen")
	ses.notify("Your new PIN is set. Use it the next time you start a meeting from a phone.")
	http.Redirect(w, r, "/me/", http.StatusSeeOther)
}

// POST /me/send-info: the meeting details to the user's own address.
func (c *Center) meSendInfo(w http.ResponseWriter, r *http.Request, ses *session) {
	ch, err := c.api.SendOwnInfo(c.asUser(r, ses))
	if err != nil {
		c.meRefused(w, r, ses, err, nil)
		return
	}
	to := ch.User.Email
	if ch.User.EmailOverride != "" {
		to = ch.User.EmailOverride
	}
	ses.notify("We've sent your meeting details to " + to + ".")
	http.Redirect(w, r, "/me/", http.StatusSeeOther)
}

// meRefused shows the page again with what a form could not do: the
// fields' errors, or the API's refusal (a locked PIN says who unlocks it).
func (c *Center) meRefused(w http.ResponseWriter, r *http.Request, ses *session, err error, fields map[string]string) {
	d := meHomeData{Errors: fields}
	status := http.StatusBadRequest
	var apiErr *client.APIError
	switch {
	case err == nil, fields != nil:
	case errors.As(err, &apiErr) && apiErr.Code == wire.CodePINLocked:
		status, d.Alert = http.StatusConflict, lockedPIN
	case errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != http.StatusUnauthorized:
		status, d.Alert = apiErr.Status, apiErr.Message
	default:
		c.meFailed(w, r, ses, err)
		return
	}
	c.renderMeHome(w, r, ses, status, d)
}

// meFailed answers an error of the API: a user who is no longer one (an
// administrator disabled them) is signed out; anything else is logged.
func (c *Center) meFailed(w http.ResponseWriter, r *http.Request, ses *session, err error) {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		if ck, cerr := r.Cookie(meSessionCookie); cerr == nil {
			c.me.sessions.end(ck.Value)
		}
		c.setMeCookie(w, meSessionCookie, "", -1, false)
		c.meMessage(w, http.StatusForbidden, "Signed out", "Your address can no longer use audio conferencing here. Ask your administrator.")
		return
	}
	c.log.Error().Err(err).Str("email", userOf(ses)).Msg("self-service: request failed")
	c.meMessage(w, http.StatusInternalServerError, "Error", "Something went wrong on the server; it is in the log. Try again later.")
}
