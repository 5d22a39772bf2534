package cli

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialin/dialin/config"
)

func TestCLIListenURL(t *testing.T) {
	for _, tc := range []struct{ listen, cert, want string }{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"0.0.0.0:9000", "", "http://127.0.0.1:9000"},
		{"[::]:9000", "", "http://127.0.0.1:9000"},
		{":9000", "", "http://127.0.0.1:9000"},
		{"admin.example.com:443", "cert.pem", "https://admin.example.com:443"},
		{"[::1]:8080", "", "http://[::1]:8080"},
	} {
		cfg := config.Default().Admin
		cfg.Listen, cfg.TLSCert = tc.listen, tc.cert
		got, err := listenURL(cfg, "x.yaml")
		if err != nil || got != tc.want {
			t.Errorf("listenURL(%q) = %q, %v; want %q", tc.listen, got, err, tc.want)
		}
	}
	for _, listen := range []string{"", "127.0.0.1:0"} {
		cfg := config.Default().Admin
		cfg.Listen = listen
		if u, err := listenURL(cfg, "x.yaml"); err == nil {
			t.Errorf("listenURL(%q) = %q, want an error", listen, u)
		}
	}
}

// TestCLITrustCA: --ca trusts a server's own certificate; without it the
// error says so. Against an httptest TLS server.
func TestCLITrustCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/settings" || r.Header.Get("Authorization") != "Bearer "+testAdminToken {
			http.Error(w, `{"error": {"code": "not_found", "message": "no"}}`, http.StatusNotFound)
			return
		}
		io.WriteString(w, `{"pin_length": 8, "lockout": {"window": "1h0m0s"}, "dial_in_numbers": []}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := New(noServe).Run([]string{"settings", "show", "--ca", ca, "--server", srv.URL, "--token", testAdminToken}, &stdout, &stderr, noEnv)
	if code != 0 || !outLine(stdout.String(), "pin-length", "8") || !outLine(stdout.String(), "lockout-window", "1h0m0s") {
		t.Errorf("with --ca: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	code = New(noServe).Run([]string{"settings", "show", "--server", srv.URL, "--token", testAdminToken}, &stdout, &stderr, noEnv)
	if code != 1 || !strings.Contains(stderr.String(), "give --ca FILE") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("without --ca: exit %d, stderr %q", code, stderr.String())
	}
}
