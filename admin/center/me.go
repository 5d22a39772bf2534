package center

// The self-service page (/me/): a user signs in with a one-time link
// emailed to them (me_signin.go) or with the self-service token an
// administrator issued, then sees their conference ID and the dial-in
// numbers, resets or chooses their PIN and emails themselves their meeting
// details (me_page.go). Like the admin center's pages it changes nothing
// itself: it calls the API's /api/v1/me routes in-process as the user
// (admin.AsUser), so each change is checked and audited as user:EMAIL.
//
// It has its own sessions (a user, not an account, with the center's idle
// and maximum times) in its own cookies, for /me/ only, so a session of
// one page never opens the other.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/store"
)

// SelfService is what the self-service page needs of the directory to
// sign users in; everything else goes through the API.
type SelfService interface {
	IssueSignInLink(ctx context.Context, email, nonce string, now time.Time) (string, store.User, error)
	SignInWithLink(ctx context.Context, token, nonce string, now time.Time) (store.User, error)
	UserByToken(ctx context.Context, token string) (store.User, error)
}

// LinkMailer sends the sign-in link at once (*mailer.Mailer): the link
// must not wait in the outbox, which would keep it.
type LinkMailer interface {
	SendNow(ctx context.Context, to string, r mailer.Rendered) error
}

// The self-service page's cookies, all for /me/ only. The session and the
// sign-in form's CSRF token are SameSite=Strict like the admin center's.
// The link cookie holds the nonce that binds a sign-in link to the browser
// that asked for it: it is SameSite=Lax so that it comes along when the
// user follows the link from a webmail page (a cross-site navigation, on
// which a Strict cookie is withheld); a site that sends someone to a link
// gets nothing, since the link works only with the nonce of the browser
// that asked for it.
const (
	meSessionCookie = "dialin_me"
	meFormCookie    = "dialin_me_signin"
	meNonceCookie   = "dialin_me_link"
)

// linkSendTimeout bounds sending one sign-in link, which happens after the
// answer (so the answer takes as long whether or not the address exists).
const linkSendTimeout = time.Minute

// selfService is the /me/ side of the center.
type selfService struct {
	dir       SelfService
	mail      LinkMailer
	publicURL string
	numbers   func() []string
	sessions  *sessions
	links     *rateLimit // link requests per address and per source
	tokens    *throttle  // failed token sign-ins per source
}

// mountSelfService adds the /me/ routes when opts ask for them.
func (c *Center) mountSelfService(opts Options, idle, maxAge time.Duration, static fs.FS) error {
	if opts.SelfService == nil {
		return nil
	}
	if opts.LinkMailer == nil {
		return errors.New("self-service page: no mailer for the sign-in links")
	}
	base, err := url.Parse(opts.PublicURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("self-service page: public URL %q is not http(s)://host[:port]", opts.PublicURL)
	}
	numbers := opts.DialInNumbers
	if numbers == nil {
		numbers = func() []string { return nil }
	}
	c.me = &selfService{
		dir:       opts.SelfService,
		mail:      opts.LinkMailer,
		publicURL: strings.TrimSuffix(opts.PublicURL, "/"),
		numbers:   numbers,
		sessions:  newSessions(idle, maxAge),
		links:     newRateLimit(),
		tokens:    newThrottle(),
	}
	c.mux.Handle("GET /me/static/", http.StripPrefix("/me/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /me/signin", c.meSignInPage)
	c.mux.HandleFunc("POST /me/signin/link", c.meAskLink)
	c.mux.HandleFunc("POST /me/signin/token", c.meTokenSignIn)
	c.mux.HandleFunc("GET /me/link", c.meUseLink)
	for _, rt := range c.meRoutes() {
		c.mux.Handle(rt.pattern, c.withUser(rt.handle))
	}
	c.mux.Handle("/me/", c.withUser(c.meNotFound))
	return nil
}

// meRoutes are the self-service page's signed-in pages and forms.
func (c *Center) meRoutes() []route {
	return []route{
		{"GET /me/{$}", c.meHome},
		{"POST /me/pin/reset", c.meResetPIN},
		{"POST /me/pin", c.meChoosePIN},
		{"POST /me/send-info", c.meSendInfo},
		{"POST /me/signout", c.meSignOut},
	}
}

// asUser is the context of a request to the API made for the user signed
// in to ses, from the browser's address: it opens /api/v1/me... only.
func (c *Center) asUser(r *http.Request, ses *session) context.Context {
	return admin.AsUser(r.Context(), ses.user, r.RemoteAddr)
}

// setMeCookie sets a cookie of the self-service page: HttpOnly, for /me/
// only, Secure under TLS, SameSite=Strict unless lax; maxAge < 0 deletes
// it, 0 lasts the browser session.
func (c *Center) setMeCookie(w http.ResponseWriter, name, value string, maxAge int, lax bool) {
	same := http.SameSiteStrictMode
	if lax {
		same = http.SameSiteLaxMode
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/me/", MaxAge: maxAge,
		HttpOnly: true, SameSite: same, Secure: c.secure})
}

// startUserSession opens a session for the user and sets its cookie.
func (c *Center) startUserSession(w http.ResponseWriter, email string) {
	id, ses := c.me.sessions.start("", c.now())
	ses.mu.Lock()
	ses.user = email
	ses.mu.Unlock()
	c.setMeCookie(w, meSessionCookie, id, 0, false)
	c.setMeCookie(w, meFormCookie, "", -1, false)
}

// userOf is the session's user (set once, right after the session opens).
func userOf(ses *session) string {
	ses.mu.Lock()
	defer ses.mu.Unlock()
	return ses.user
}

// withUser serves h to a signed-in user and sends anyone else to the
// sign-in page; a form without its session's CSRF token is refused.
func (c *Center) withUser(h sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ses *session
		if ck, err := r.Cookie(meSessionCookie); err == nil {
			ses = c.me.sessions.get(ck.Value, c.now())
		}
		if ses == nil || userOf(ses) == "" {
			if r.Method != http.MethodGet {
				c.meMessage(w, http.StatusForbidden, "Signed out", "Your session has ended: sign in again.")
				return
			}
			http.Redirect(w, r, "/me/signin", http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && !sameToken(r.PostFormValue("csrf"), ses.csrf) {
			c.meMessage(w, http.StatusForbidden, "Form expired", "This form has expired: reload the page and try again.")
			return
		}
		h(w, r, ses)
	})
}

// meData is what every self-service page has; each page's data embeds it.
type meData struct {
	Title  string
	User   string // the signed-in user's address; "" before sign-in
	CSRF   string
	Notice string // what the last form did, shown once
	// Refresh moves on to /me/ by itself (the page after a sign-in link).
	Refresh bool
}

// mePage is the common part of a signed-in page; it takes the notice.
func (c *Center) mePage(ses *session, title string) meData {
	return meData{Title: title, User: userOf(ses), CSRF: ses.csrf, Notice: ses.takeNotice()}
}

// messageData fills the self-service page's message page.
type messageData struct {
	meData
	Message string
}

// meMessage answers with a short page outside any session (an ended
// session, an expired form) that leads back to the sign-in page.
func (c *Center) meMessage(w http.ResponseWriter, status int, title, msg string) {
	c.render(w, status, "me_message.html", messageData{meData: meData{Title: title}, Message: msg})
}

// meNotFound answers a page the self-service page does not have.
func (c *Center) meNotFound(w http.ResponseWriter, r *http.Request, ses *session) {
	c.render(w, http.StatusNotFound, "me_message.html", messageData{meData: c.mePage(ses, "Not found"),
		Message: "There is no such page."})
}
