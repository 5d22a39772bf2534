package center

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is the center on a real SQLite directory with one account, served
// over real HTTP on loopback, and a browser-like client with a cookie jar.
type env struct {
	t        *testing.T
	srv      *httptest.Server
	client   *http.Client
	clock    *testClock
	password string
	logs     *bytes.Buffer
	dir      *store.Directory
	center   *Center
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dialin.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32),
		PasswordParams: store.PasswordParams{Time: 1, Memory: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	_, password, err := dir.AddAdmin(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	logs := &bytes.Buffer{}
	api, err := admin.NewHandler(admin.Options{Directory: dir, Token: "test-admin-token", Logger: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Accounts: dir, API: api, Logger: zerolog.New(logs), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, client: newBrowser(t), clock: clock, password: password, logs: logs, dir: dir, center: c}
}

// newBrowser keeps cookies and does not follow redirects (the tests look
// at them).
func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(c *http.Client, path string) page {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	return read(e.t, resp)
}

func (e *env) post(c *http.Client, path string, form url.Values) page {
	e.t.Helper()
	resp, err := c.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	return read(e.t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return m[1]
}

// signIn fills the sign-in form as a browser does.
func (e *env) signIn(c *http.Client, name, password string) page {
	e.t.Helper()
	form := e.get(c, "/admin/signin")
	return e.post(c, "/admin/signin", url.Values{"csrf": {csrfOf(e.t, form)}, "name": {name}, "password": {password}})
}

// TestSignInAndOut: a page without a session sends to the sign-in form;
// the right password opens a session in a strict cookie; a wrong name and
// a wrong password read the same; sign-out ends the session; every page
// carries the security headers.
func TestSignInAndOut(t *testing.T) {
	e := newEnv(t)
	b := e.client
	if p := e.get(b, "/admin/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/signin" {
		t.Fatalf("without a session: %d %s", p.status, p.header.Get("Location"))
	}
	form := e.get(b, "/admin/signin")
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if !strings.Contains(form.header.Get(name), want) {
			t.Errorf("%s: %q, want %q", name, form.header.Get(name), want)
		}
	}
	if !strings.Contains(form.body, `<label for="password">Password</label>`) {
		t.Errorf("the form has no labelled password field:\n%s", form.body)
	}

	wrongName := e.signIn(b, "bob", e.password)
	wrongPassword := e.signIn(b, "alice", "not-the-password")
	if wrongName.status != http.StatusUnauthorized || wrongPassword.status != http.StatusUnauthorized ||
		!strings.Contains(wrongName.body, "Wrong name or password.") || !strings.Contains(wrongPassword.body, "Wrong name or password.") {
		t.Errorf("wrong name: %d, wrong password: %d", wrongName.status, wrongPassword.status)
	}

	in := e.signIn(b, "alice", e.password)
	if in.status != http.StatusSeeOther || in.header.Get("Location") != "/admin/" {
		t.Fatalf("sign-in: %d %s\n%s", in.status, in.header.Get("Location"), in.body)
	}
	var cookie string
	for _, c := range in.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, sessionCookie+"=") {
			cookie = c
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/admin/"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q has no %s", cookie, attr)
		}
	}
	home := e.get(b, "/admin/")
	if home.status != http.StatusOK || !strings.Contains(home.body, "<span>alice</span>") {
		t.Fatalf("home: %d\n%s", home.status, home.body)
	}

	// Sign-out needs the session's CSRF token.
	if p := e.post(b, "/admin/signout", url.Values{"csrf": {"forged"}}); p.status != http.StatusForbidden {
		t.Errorf("sign-out with a forged token: %d", p.status)
	}
	if p := e.post(b, "/admin/signout", url.Values{"csrf": {csrfOf(t, home)}}); p.status != http.StatusSeeOther {
		t.Errorf("sign-out: %d", p.status)
	}
	if p := e.get(b, "/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want the sign-in form", p.status)
	}
	if strings.Contains(e.logs.String(), e.password) {
		t.Error("a password reached the log")
	}
}

// TestSignInNeedsItsForm: a sign-in posted without the form's token (from
// another site, or a replayed request) is refused.
func TestSignInNeedsItsForm(t *testing.T) {
	e := newEnv(t)
	p := e.post(e.client, "/admin/signin", url.Values{"name": {"alice"}, "password": {e.password}})
	if p.status != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", p.status)
	}
	other := newBrowser(t)
	form := e.get(e.client, "/admin/signin") // the token is bound to this browser's cookie
	p = e.post(other, "/admin/signin", url.Values{"csrf": {csrfOf(t, form)}, "name": {"alice"}, "password": {e.password}})
	if p.status != http.StatusForbidden {
		t.Errorf("another browser's token: %d", p.status)
	}
}

// TestSignInThrottled: five failures for a name from one address refuse
// that name there for a quarter of an hour, the right password included,
// while the same account still signs in from another address; twenty
// failures refuse the address whatever the name; a hundred for one name
// from many addresses refuse the name everywhere. Each ends with its
// window.
func TestSignInThrottled(t *testing.T) {
	e := newEnv(t)
	for range pairLimit {
		if p := e.signIn(e.client, "alice", "guess"); p.status != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", p.status)
		}
	}
	if p := e.signIn(newBrowser(t), "ALICE", e.password); p.status != http.StatusTooManyRequests ||
		!strings.Contains(p.body, "Too many failed sign-ins") {
		t.Fatalf("after %d failures: %d", pairLimit, p.status)
	}
	if p := e.signIn(browserFrom(t, "127.0.0.2"), "alice", e.password); p.status != http.StatusSeeOther {
		t.Errorf("alice from another address: %d, want signed in", p.status)
	}
	e.clock.Add(throttleWindow + time.Second)
	if p := e.signIn(newBrowser(t), "alice", e.password); p.status != http.StatusSeeOther {
		t.Errorf("after the window: %d", p.status)
	}

	// One address trying many names.
	from3 := browserFrom(t, "127.0.0.3")
	for i := range addrLimit {
		e.signIn(from3, fmt.Sprintf("nobody%d", i), "guess")
	}
	if p := e.signIn(browserFrom(t, "127.0.0.3"), "alice", e.password); p.status != http.StatusTooManyRequests {
		t.Errorf("an address after %d failures: %d", addrLimit, p.status)
	}
	e.clock.Add(throttleWindow + time.Second)

	// One name from many addresses (four failures each: no pair limit).
	for i := range nameLimit / 4 {
		b := browserFrom(t, fmt.Sprintf("127.0.%d.%d", 1+i/200, 10+i%200))
		for range 4 {
			e.signIn(b, "alice", "guess")
		}
	}
	if p := e.signIn(browserFrom(t, "127.0.9.9"), "alice", e.password); p.status != http.StatusTooManyRequests {
		t.Errorf("a name after %d failures from many addresses: %d", nameLimit, p.status)
	}
	e.clock.Add(throttleWindow + time.Second)
	if p := e.signIn(browserFrom(t, "127.0.9.9"), "alice", e.password); p.status != http.StatusSeeOther {
		t.Errorf("after the window: %d", p.status)
	}
}

// browserFrom is a browser whose connections come from addr (a loopback
// address), for the throttle's per-address counts.
func browserFrom(t *testing.T, addr string) *http.Client {
	c := newBrowser(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 5 * time.Second}
	c.Transport = &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	return c
}

// TestSessionExpires: a session ends after its idle time, and after its
// maximum age however busy.
func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	e.signIn(e.client, "alice", e.password)
	e.clock.Add(29 * time.Minute)
	if p := e.get(e.client, "/admin/"); p.status != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", p.status)
	}
	e.clock.Add(31 * time.Minute)
	if p := e.get(e.client, "/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %d, want the sign-in form", p.status)
	}
	b := newBrowser(t)
	e.signIn(b, "alice", e.password)
	for range 25 { // used every 29 minutes: still ends after 12 hours
		e.clock.Add(29 * time.Minute)
		e.get(b, "/admin/")
	}
	if p := e.get(b, "/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("after 12 hours: %d, want the sign-in form", p.status)
	}
	if p := e.post(b, "/admin/signout", url.Values{"csrf": {"x"}}); p.status != http.StatusForbidden {
		t.Errorf("a form after the session ended: %d", p.status)
	}
}
