package center

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// sessionCookie carries a signed-in administrator's session token;
// preCookie the CSRF token of the sign-in form, before any session.
const (
	sessionCookie = "dialin_session"
	preCookie     = "dialin_signin"
)

// session is one signed-in administrator (or, on the self-service page,
// one signed-in user: then user is set and account is empty).
type session struct {
	account  string
	user     string
	csrf     string
	signedIn time.Time
	lastUsed time.Time

	// mu guards what a page leaves for the next one: a notice ("PIN
	// unlocked") shown once after a redirect, and secrets (a new PIN)
	// kept for the one page that shows them.
	mu      sync.Mutex
	notice  string
	secrets map[string]string
}

// maxSecrets bounds the secrets a session holds unshown.
const maxSecrets = 8

// notify leaves a notice for the next page the session shows.
func (s *session) notify(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notice = msg
}

// takeNotice is the notice left for this page, once.
func (s *session) takeNotice() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.notice
	s.notice = ""
	return n
}

// keepSecret holds value (a new PIN, a password) for one showing and
// returns the key to show it with: the form that made it redirects to a
// page that takes it (takeSecret), so a reload or the back button finds it
// gone and the secret never travels in a URL.
func (s *session) keepSecret(value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	if len(s.secrets) >= maxSecrets {
		for k := range s.secrets {
			delete(s.secrets, k)
			break
		}
	}
	key := newToken()
	s.secrets[key] = value
	return key
}

// takeSecret returns the secret kept under key and forgets it; false
// when it was shown already (or never kept).
func (s *session) takeSecret(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.secrets[key]
	delete(s.secrets, key)
	return v, ok
}

// sessions are held in memory: a restart signs everyone out.
type sessions struct {
	idle, maxAge time.Duration

	mu   sync.Mutex
	byID map[string]*session
}

func newSessions(idle, maxAge time.Duration) *sessions {
	return &sessions{idle: idle, maxAge: maxAge, byID: map[string]*session{}}
}

// newToken is 256 random bits, URL-safe.
func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// start opens a session for account and returns its token.
func (s *sessions) start(account string, now time.Time) (string, *session) {
	id := newToken()
	ses := &session{account: account, csrf: newToken(), signedIn: now, lastUsed: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.byID[id] = ses
	return id, ses
}

// get finds a live session and marks it used; nil when there is none or
// it has ended.
func (s *sessions) get(id string, now time.Time) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.byID[id]
	if ses == nil {
		return nil
	}
	if s.ended(ses, now) {
		delete(s.byID, id)
		return nil
	}
	ses.lastUsed = now
	return ses
}

// end closes a session (sign-out).
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (s *sessions) ended(ses *session, now time.Time) bool {
	return now.Sub(ses.lastUsed) > s.idle || now.Sub(ses.signedIn) > s.maxAge
}

// sweepLocked drops ended sessions, so abandoned ones do not pile up.
func (s *sessions) sweepLocked(now time.Time) {
	for id, ses := range s.byID {
		if s.ended(ses, now) {
			delete(s.byID, id)
		}
	}
}

// sameToken compares two tokens in constant time; an empty one matches
// nothing.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// setCookie sets a cookie of the center's: HttpOnly, SameSite=Strict,
// Secure under TLS, for /admin/ only; maxAge < 0 deletes it.
func (c *Center) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/admin/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secure})
}

// withSession serves h to a signed-in administrator and sends anyone else
// to the sign-in page; a form without its session's CSRF token is refused.
func (c *Center) withSession(h sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		var ses *session
		if err == nil {
			ses = c.sessions.get(ck.Value, c.now())
		}
		if ses == nil {
			if r.Method != http.MethodGet {
				c.refuse(w, "Your session has ended", "Nothing was changed. Sign in again, then repeat what you were doing.")
				return
			}
			http.Redirect(w, r, "/admin/signin", http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && !sameToken(r.PostFormValue("csrf"), ses.csrf) {
			c.log.Warn().Str("account", ses.account).Str("path", r.URL.Path).Str("source", sourceOf(r)).
				Msg("admin center: form refused: wrong or missing CSRF token")
			c.refuse(w, "This form has expired", "Nothing was changed. Go back, reload the page and try again.")
			return
		}
		h(w, r, ses)
	})
}
