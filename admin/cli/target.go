package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/dialin/dialin/admin/token"
	"github.com/dialin/dialin/config"
)

// Environment variables of the API commands.
const (
	envServer = "DIALIN_SERVER"
	envConfig = "DIALIN_CONFIG"
	// envUserToken is a user's own self-service token, for dialin me.
	envUserToken = "DIALIN_USER_TOKEN"
)

// apiTarget is the API's address and the token, with where they came from
// (error messages point there).
type apiTarget struct {
	url         string
	token       string
	tokenSource string // "--token", "DIALIN_ADMIN_TOKEN", "config admin.token", a file path
	caFile      string // a PEM certificate to trust for https, if any
	self        bool   // a user's own token (dialin me), not the admin token
}

// resolveTarget finds the server and the token: --server, else
// DIALIN_SERVER, else admin.listen of the configuration; --token, else
// DIALIN_ADMIN_TOKEN, else admin.token of the configuration, else the file
// admin-token in its data_dir. The configuration is --config, else
// DIALIN_CONFIG, else the built-in defaults (what `dialin serve` with no
// file uses), so on the server's machine no option is needed.
//
// With self (dialin me) the token is the user's own: --token, else
// DIALIN_USER_TOKEN; the admin token is never used for it.
func resolveTarget(l line, getenv func(string) string, self bool) (apiTarget, error) {
	t := apiTarget{caFile: l.flags["ca"], self: self}
	server := l.flags["server"]
	if server == "" {
		server = getenv(envServer)
	}
	if self {
		t.token, t.tokenSource = l.flags["token"], "--token"
		if t.token == "" {
			t.token, t.tokenSource = strings.TrimSpace(getenv(envUserToken)), envUserToken
		}
		if t.token == "" {
			return t, &usageError{msg: "dialin me needs your own token: --token TOKEN or " + envUserToken +
				" (an administrator issues it with: dialin user token EMAIL)"}
		}
	}
	if tok, ok := l.flags["token"]; ok && !self {
		if tok == "" {
			return t, &usageError{msg: "--token is empty"}
		}
		t.token, t.tokenSource = tok, "--token"
	} else if tok := strings.TrimSpace(getenv(token.Env)); tok != "" {
		t.token, t.tokenSource = tok, token.Env
	}
	if server == "" || (t.token == "" && !self) {
		path := l.flags["config"]
		if path == "" {
			path = getenv(envConfig)
		}
		cfg, err := config.Load(path)
		if err != nil {
			return t, err
		}
		if server == "" {
			u, err := listenURL(cfg.Admin, path)
			if err != nil {
				return t, err
			}
			server = u
			// A self-signed certificate is the common case: trust the
			// server's own certificate when we have its file.
			if t.caFile == "" && cfg.Admin.TLSCert != "" {
				t.caFile = cfg.Admin.TLSCert
			}
		}
		if t.token == "" && !self {
			// The environment was looked at above; ReadToken does the rest
			// in the server's order (config, then the token file).
			tok, source, err := token.Read(cfg.Admin, "", cfg.DataDir)
			if err != nil {
				return t, fmt.Errorf("%w (or give --token)", err)
			}
			t.token, t.tokenSource = tok, source
			if source == "config admin.token" && path != "" {
				t.tokenSource = "admin.token in " + path
			}
		}
	}
	u, err := normalizeServer(server)
	if err != nil {
		return t, err
	}
	t.url = u
	return t, nil
}

// listenURL is the URL of the API that cfg makes the server listen on.
func listenURL(cfg config.Admin, path string) (string, error) {
	where := "the built-in configuration"
	if path != "" {
		where = path
	}
	if cfg.Listen == "" {
		return "", fmt.Errorf("the admin API is off in %s (admin.listen is empty): give --server", where)
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return "", fmt.Errorf("%s: admin.listen %q is not host:port", where, cfg.Listen)
	}
	if port == "0" {
		return "", fmt.Errorf("%s: admin.listen %q has port 0, picked at start: give --server (the log line \"admin API ready\" has the URL)", where, cfg.Listen)
	}
	// A server listening on every address is reached on loopback here.
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// normalizeServer checks --server and adds http:// to a bare host:port.
func normalizeServer(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &usageError{msg: fmt.Sprintf("server %q is not a URL like http://127.0.0.1:8080", s)}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// httpClient is an HTTP client that trusts t.caFile too, when set.
func (t apiTarget) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if t.caFile != "" {
		pem, err := os.ReadFile(t.caFile)
		if err != nil {
			return nil, fmt.Errorf("read the certificate to trust: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	// A command makes one request or a few: "Connection: close" has the
	// server close first, so the TIME_WAIT stays on its port rather than
	// taking one of this machine's ephemeral ports for a minute per run.
	tr.DisableKeepAlives = true
	// No client timeout: the command's context bounds every request.
	return &http.Client{Transport: tr}, nil
}
