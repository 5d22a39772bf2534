// Package center is the admin center: the web pages administrators sign
// in to with their account (store's administrators' accounts). It is
// server-rendered (html/template, embed) and served under /admin/ on the
// admin API's listener; the API and its token stay as they are.
//
// Every page but the sign-in form needs a session: a random token in an
// HttpOnly, SameSite=Strict cookie (Secure under TLS), held in memory, that
// ends after an idle while or a working day, or at sign-out. Every form
// carries its session's CSRF token. Failed sign-ins are throttled per
// name and per source address.
package center

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Accounts is what the center needs of the directory.
type Accounts interface {
	VerifyAdmin(ctx context.Context, name, password string) (store.AdminAccount, bool, error)
}

// Options configure the center.
type Options struct {
	Accounts Accounts
	// API is the admin REST API's handler. The pages do everything through
	// it, in-process, as the signed-in account (admin.AsAccount): the same
	// checks, emails and audit entries as the API and the CLI, with the
	// account's name in the audit.
	API    http.Handler
	Logger zerolog.Logger
	// Secure marks the cookies Secure: the listener serves TLS.
	Secure bool
	// IdleTimeout ends a session not used for this long (default 30
	// minutes); MaxAge ends any session this long after sign-in (default
	// 12 hours).
	IdleTimeout, MaxAge time.Duration
	// Now is the clock (tests move it); default time.Now.
	Now func() time.Time

	// The self-service page (/me/, me.go) is served when SelfService is
	// set: users sign in with a link sent by LinkMailer to PublicURL's
	// /me/link, or with their self-service token, and see DialInNumbers.
	SelfService   SelfService
	LinkMailer    LinkMailer
	PublicURL     string
	DialInNumbers func() []string
}

// Center serves the admin center's pages.
type Center struct {
	accounts Accounts
	api      *client.Client
	log      zerolog.Logger
	secure   bool
	now      func() time.Time
	pages    *template.Template
	sessions *sessions
	throttle *throttle
	mux      *http.ServeMux
	me       *selfService // nil: no /me/ (me.go)
	live     *liveStreams // the live pages' event streams (live_events.go)
}

// New prepares the center; mount it at /admin/.
func New(opts Options) (*Center, error) {
	pages, err := template.ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	idle, maxAge := opts.IdleTimeout, opts.MaxAge
	if idle <= 0 {
		idle = 30 * time.Minute
	}
	if maxAge <= 0 {
		maxAge = 12 * time.Hour
	}
	c := &Center{
		accounts: opts.Accounts,
		api:      client.InProcess(opts.API),
		log:      opts.Logger,
		secure:   opts.Secure,
		now:      now,
		pages:    pages,
		sessions: newSessions(idle, maxAge),
		throttle: newThrottle(),
		mux:      http.NewServeMux(),
		live:     newLiveStreams(),
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	c.mux.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /admin/signin", c.signInPage)
	c.mux.HandleFunc("POST /admin/signin", c.signIn)
	for _, rt := range c.routes() {
		c.mux.Handle(rt.pattern, c.withSession(rt.handle))
	}
	c.mux.Handle("/admin/", c.withSession(c.notFound))
	if err := c.mountSelfService(opts, idle, maxAge, static); err != nil {
		return nil, err
	}
	return c, nil
}

// route is one signed-in page or form of the route table.
type route struct {
	pattern string // "METHOD /admin/..."
	handle  sessionHandler
}

// sessionHandler serves a signed-in administrator.
type sessionHandler func(http.ResponseWriter, *http.Request, *session)

// routes is every page and form behind the sign-in, declared once: each
// section of the center lists its own in its file.
func (c *Center) routes() []route {
	all := []route{
		{"POST /admin/signout", c.signOut},
		{"GET /admin/{$}", c.home},
	}
	all = append(all, c.userRoutes()...)
	all = append(all, c.settingsRoutes()...)
	all = append(all, c.liveRoutes()...)
	all = append(all, c.recordRoutes()...)
	return all
}

// as is the context of a request to the API made for the signed-in
// administrator of ses, from the browser's address.
func (c *Center) as(r *http.Request, ses *session) context.Context {
	return admin.AsAccount(r.Context(), ses.account, r.RemoteAddr)
}

// ServeHTTP sets the headers every page carries, then serves it.
func (c *Center) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing but this server's own files; never in a frame; no referrer
	// leaves with a URL; no page is kept in a cache (one may show a
	// password once).
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// sourceOf is the client's address without its port, for the throttle.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
