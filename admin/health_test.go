package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// /healthz and /readyz need no token and answer with the health checks'
// handler; without one, "ok".
func TestHealthRoutesWithoutToken(t *testing.T) {
	e := newEnv(t)
	if r := e.raw("GET", "/readyz", "", http.Header{}); r.status != 200 || strings.TrimSpace(string(r.body)) != "ok" {
		t.Fatalf("readyz without checks: %d %q", r.status, r.body)
	}
	checks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			http.Error(w, "not ready\ndatabase: read-only", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	h, err := NewHandler(Options{Directory: e.dir, Token: testToken, Health: checks, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
