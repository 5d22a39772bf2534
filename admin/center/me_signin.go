package center

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/store"
)

// linkSent is the one answer to a request for a sign-in link, whether or
// not the address has audio conferencing, and whether or not the request
// was over a limit: the page tells nobody who is a user.
const linkSent = "If that address can use audio conferencing, we've sent it a sign-in link. It works for 15 minutes, once, in this browser."

// meSignInData fills the sign-in page: a form asking for the email
// address, and one for a self-service token.
type meSignInData struct {
	meData
	Email      string
	Sent       string // linkSent after a request
	LinkError  string // why the link opened was refused
	EmailError string // the email field's error
	TokenError string // the token field's error
}

// GET /me/signin
func (c *Center) meSignInPage(w http.ResponseWriter, r *http.Request) {
	d := meSignInData{}
	if r.URL.Query().Has("signedout") {
		d.Notice = "You're signed out."
	}
	c.renderMeSignIn(w, http.StatusOK, d)
}

// renderMeSignIn shows the sign-in page with a fresh CSRF token for its
// forms, in a cookie of its own (there is no session yet).
func (c *Center) renderMeSignIn(w http.ResponseWriter, status int, d meSignInData) {
	d.Title, d.CSRF = "Sign in", newToken()
	c.setMeCookie(w, meFormCookie, d.CSRF, 0, false)
	c.render(w, status, "me_signin.html", d)
}

// signInForm checks the sign-in forms' CSRF token against its cookie.
func (c *Center) signInForm(w http.ResponseWriter, r *http.Request) bool {
	ck, err := r.Cookie(meFormCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		c.meMessage(w, http.StatusForbidden, "Form expired", "This form has expired: reload the page and try again.")
		return false
	}
	return true
}

// POST /me/signin/link: email. The answer is the same for every address;
// a user's link is emailed after it, so it takes no longer either.
func (c *Center) meAskLink(w http.ResponseWriter, r *http.Request) {
	if !c.signInForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		c.renderMeSignIn(w, http.StatusBadRequest, meSignInData{Email: email,
			EmailError: "Enter your email address, like name@example.com."})
		return
	}
	now, source := c.now(), sourceOf(r)
	nonce := c.browserNonce(w, r)
	if c.me.links.allow(strings.ToLower(email), source, now) {
		// After the answer: looking the address up and storing a link
		// take time only for a user, which the answer must not show.
		go c.sendLink(r.Context(), email, nonce, source, now)
	} else {
		c.log.Warn().Str("email", email).Str("source", source).
			Msg("self-service: sign-in link not sent: too many requests for this address or from this source")
	}
	c.renderMeSignIn(w, http.StatusOK, meSignInData{Email: email, Sent: linkSent})
}

// tokenLength is the length of newToken's tokens (32 bytes, base64).
const tokenLength = 43

// browserNonce is this browser's nonce, which its sign-in links need: the
// one its cookie holds (so an earlier link keeps working), or a new one.
// The cookie lasts as long as a link does.
func (c *Center) browserNonce(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if ck, err := r.Cookie(meNonceCookie); err == nil && len(ck.Value) == tokenLength {
		nonce = ck.Value
	}
	if nonce == "" {
		nonce = newToken()
	}
	c.setMeCookie(w, meNonceCookie, nonce, int(store.SignInLinkTTL.Seconds()), true)
	return nonce
}

// sendLink makes a link for the user whose address is email, if there is
// one, for the browser holding nonce, and emails it straight to the SMTP
// server (never the outbox, which would store it). The token is in no log
// line.
func (c *Center) sendLink(ctx context.Context, email, nonce, source string, now time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), linkSendTimeout)
	defer cancel()
	token, u, err := c.me.dir.IssueSignInLink(ctx, email, nonce, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.log.Info().Str("email", email).Str("source", source).Msg("self-service: sign-in link asked for an address that is no user's")
		return
	case err != nil:
		c.log.Error().Err(err).Str("email", email).Msg("self-service: cannot make a sign-in link")
		return
	}
	link := c.me.publicURL + "/me/link?t=" + url.QueryEscape(token)
	msg, err := mailer.RenderSignInLink(u.DisplayName, link)
	if err == nil {
		err = c.me.mail.SendNow(ctx, u.Email, msg)
	}
	if err != nil {
		c.log.Error().Err(err).Str("email", u.Email).Msg("self-service: the sign-in link was not sent")
		return
	}
	c.log.Info().Str("email", u.Email).Str("source", source).Msg("self-service: sign-in link sent")
}

// GET /me/link?t=TOKEN: the link from the email. It works once, within 15
// minutes, in the browser that asked for it (its nonce cookie); then it
// opens a session and leaves for /me/, so the token leaves the address
// bar. Otherwise the sign-in page says why, with the form to ask again.
func (c *Center) meUseLink(w http.ResponseWriter, r *http.Request) {
	nonce := ""
	if ck, err := r.Cookie(meNonceCookie); err == nil {
		nonce = ck.Value
	}
	u, err := c.me.dir.SignInWithLink(r.Context(), r.URL.Query().Get("t"), nonce, c.now())
	if err != nil {
		status, why := linkRefusal(err)
		if status == http.StatusInternalServerError {
			c.log.Error().Err(err).Msg("self-service: cannot check a sign-in link")
		} else {
			c.log.Info().Str("source", sourceOf(r)).Str("reason", err.Error()).Msg("self-service: sign-in link refused")
		}
		c.renderMeSignIn(w, status, meSignInData{LinkError: why})
		return
	}
	c.startUserSession(w, u.Email)
	c.setMeCookie(w, meNonceCookie, "", -1, true)
	c.log.Info().Str("email", u.Email).Str("source", sourceOf(r)).Msg("self-service: signed in with a link")
	// A page that moves on by itself rather than a redirect: after a
	// navigation from another site (a webmail's link) the browser would
	// withhold the new SameSite=Strict session cookie on the redirect; on
	// a navigation this page starts, it sends it.
	c.render(w, http.StatusOK, "me_signedin.html", meData{Title: "Signed in", Refresh: true})
}

// linkRefusal is the status and the sentence for a refused link.
func linkRefusal(err error) (int, string) {
	switch {
	case errors.Is(err, store.ErrLinkExpired):
		return http.StatusGone, "This sign-in link has expired: links work for 15 minutes. Ask for a new one below."
	case errors.Is(err, store.ErrLinkUsed):
		return http.StatusGone, "This sign-in link was used already: each link works once. Ask for a new one below."
	case errors.Is(err, store.ErrLinkOtherBrowser):
		return http.StatusForbidden, "This sign-in link works only in the browser where you asked for it. Open it there, or ask for a new one here."
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "This sign-in link is not valid: copy the whole link from the email, or ask for a new one below."
	}
	return http.StatusInternalServerError, "The sign-in link cannot be checked now; try again in a moment."
}

// POST /me/signin/token: a self-service token (dialin-user-...), as an
// administrator issued it. Failures are throttled per source.
func (c *Center) meTokenSignIn(w http.ResponseWriter, r *http.Request) {
	if !c.signInForm(w, r) {
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	now, source := c.now(), sourceOf(r)
	if c.me.tokens.refused(source, source, now) {
		c.log.Warn().Str("source", source).Msg("self-service: token sign-in refused: too many failures")
		c.renderMeSignIn(w, http.StatusTooManyRequests, meSignInData{
			TokenError: "Too many wrong tokens from your address: wait a quarter of an hour, or sign in with an email link."})
		return
	}
	u, err := c.me.dir.UserByToken(r.Context(), token)
	if errors.Is(err, store.ErrNotFound) {
		c.me.tokens.failed(source, source, now)
		c.log.Info().Str("source", source).Msg("self-service: wrong, expired or revoked token")
		c.renderMeSignIn(w, http.StatusUnauthorized, meSignInData{
			TokenError: "This token does not work: it may be mistyped, expired or revoked. Ask your administrator for a new one, or sign in with an email link."})
		return
	}
	if err != nil {
		c.log.Error().Err(err).Msg("self-service: cannot check a token")
		c.meMessage(w, http.StatusInternalServerError, "Error", "The directory cannot be read: try again later.")
		return
	}
	c.startUserSession(w, u.Email)
	c.log.Info().Str("email", u.Email).Str("source", source).Msg("self-service: signed in with a token")
	http.Redirect(w, r, "/me/", http.StatusSeeOther)
}

// POST /me/signout
func (c *Center) meSignOut(w http.ResponseWriter, r *http.Request, ses *session) {
	if ck, err := r.Cookie(meSessionCookie); err == nil {
		c.me.sessions.end(ck.Value)
	}
	c.setMeCookie(w, meSessionCookie, "", -1, false)
	c.log.Info().Str("email", userOf(ses)).Msg("self-service: signed out")
	http.Redirect(w, r, "/me/signin?signedout", http.StatusSeeOther)
}
