package admin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "dialin test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// serve runs s and returns a function that shuts it down and checks Serve
// returned nil.
func serve(t *testing.T, s *Server) func() {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	return func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve after Shutdown: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after Shutdown")
		}
	}
}

func TestListenHTTPS(t *testing.T) {
	e := newEnv(t)
	h := e.srv.Config.Handler
	certFile, keyFile, cert := selfSigned(t, t.TempDir(), "api")
	s, err := Listen(config.Admin{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile}, h, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, s)
	defer stop()
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || strings.HasSuffix(s.URL(), ":0") {
		t.Fatalf("URL %q", s.URL())
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("GET", s.URL()+"/api/v1/settings", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || !strings.Contains(string(body), "pin_length") {
		t.Fatalf("GET over HTTPS: %d %s", resp.StatusCode, body)
	}
	// TLS 1.1 and older are refused.
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(s.URL() + "/api/v1/health"); err == nil {
		resp.Body.Close()
		t.Fatal("TLS 1.1 accepted")
	}
}

func TestListenHTTP(t *testing.T) {
	e := newEnv(t)
	s, err := Listen(config.Admin{Listen: "127.0.0.1:0"}, e.srv.Config.Handler, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, s)
	defer stop()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || strings.HasSuffix(s.URL(), ":0") {
		t.Fatalf("URL %q", s.URL())
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(s.URL() + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

func TestListenErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "a")
	_, otherKey, _ := selfSigned(t, dir, "b")
	missing := filepath.Join(dir, "missing.crt")
	h := http.NotFoundHandler()
	for _, tc := range []struct {
		name string
		cfg  config.Admin
		want string
	}{
		{"missing cert", config.Admin{Listen: "127.0.0.1:0", TLSCert: missing, TLSKey: keyFile}, missing},
		{"key of another cert", config.Admin{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: otherKey}, certFile},
		{"cert without key", config.Admin{Listen: "127.0.0.1:0", TLSCert: certFile}, "tls_key"},
		{"no address", config.Admin{}, "admin.listen"},
		{"bad address", config.Admin{Listen: "127.0.0.1:99999"}, "127.0.0.1:99999"},
	} {
		s, err := Listen(tc.cfg, h, zerolog.Nop())
		if err == nil {
			s.Shutdown(context.Background())
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
}

// Shutdown without Serve releases the port.
func TestShutdownBeforeServe(t *testing.T) {
	s, err := Listen(config.Admin{Listen: "127.0.0.1:0"}, http.NotFoundHandler(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.URL(), "http://")
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port still bound after Shutdown: %v", err)
	}
	ln.Close()
	if err := s.Serve(); err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}
