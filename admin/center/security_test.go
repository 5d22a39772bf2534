package center

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// wildcard is a path wildcard of a route pattern ({email}, {$}...).
var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// concrete turns a route pattern into a method and a path a browser could
// ask for.
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	return method, wildcard.ReplaceAllString(path, "x")
}

// TestEveryPageNeedsASession walks the center's route table: without a
// session every page sends to the sign-in form and every form is refused
// (403) before it does anything; with a session, every form without its
// CSRF token, or with another session's, is refused too. A route added
// later is covered without a change here.
func TestEveryPageNeedsASession(t *testing.T) {
	e := newEnv(t)
	stranger := newBrowser(t)
	signedIn := newBrowser(t)
	e.signIn(signedIn, "alice", e.password)
	other := newBrowser(t)
	e.signIn(other, "alice", e.password)
	otherCSRF := csrfOf(t, e.get(other, "/admin/"))

	routes := e.center.routes()
	if len(routes) < 2 {
		t.Fatalf("the route table has %d routes", len(routes))
	}
	for _, rt := range routes {
		method, path := concrete(rt.pattern)
		req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(url.Values{"csrf": {otherCSRF}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p := e.do(stranger, req)
		switch {
		case method == http.MethodGet && (p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/signin"):
			t.Errorf("%s without a session: %d %s, want the sign-in form", rt.pattern, p.status, p.header.Get("Location"))
		case method != http.MethodGet && p.status != http.StatusForbidden:
			t.Errorf("%s without a session: %d, want 403", rt.pattern, p.status)
		}
		if method == http.MethodGet {
			continue
		}
		for name, form := range map[string]url.Values{"no token": {}, "another session's token": {"csrf": {otherCSRF}}} {
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if p := e.do(signedIn, req); p.status != http.StatusForbidden || !strings.Contains(p.body, "This form has expired") {
				t.Errorf("%s with %s: %d, want 403 and the expired-form page", rt.pattern, name, p.status)
			}
		}
	}
	// Still signed in: the refusals changed nothing.
	if p := e.get(signedIn, "/admin/"); p.status != http.StatusOK {
		t.Errorf("after the refusals: %d", p.status)
	}
}

// do sends req with c.
func (e *env) do(c *http.Client, req *http.Request) page {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return read(e.t, resp)
}
