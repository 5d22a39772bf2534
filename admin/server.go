package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
)

// Server is the API's HTTP(S) server, bound by Listen.
type Server struct {
	srv *http.Server
	ln  net.Listener
	url string
	tls bool
}

// Listen binds cfg.Listen (port 0 picks a free port) and prepares to serve
// h over HTTPS when cfg.TLSCert and cfg.TLSKey are set, else over HTTP. A
// certificate that cannot be loaded is an error here, not at the first
// request.
func Listen(cfg config.Admin, h http.Handler, logger zerolog.Logger) (*Server, error) {
	if cfg.Listen == "" {
		return nil, errors.New("no listen address (admin.listen)")
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("admin.tls_cert and admin.tls_key go together: give both or neither")
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	s := &Server{
		ln:  ln,
		tls: tlsConfig != nil,
		srv: &http.Server{
			Handler:   h,
			TLSConfig: tlsConfig,
			// Bounds that keep slow or idle clients from holding
			// connections; every request is small and quick.
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          log.New(errorLogWriter{logger}, "", 0),
		},
	}
	s.url = baseURL(ln.Addr(), s.tls)
	return s, nil
}

// baseURL is the address clients use; an unspecified IP (0.0.0.0, ::)
// is reached on loopback.
func baseURL(addr net.Addr, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return scheme + "://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// URL is the server's base URL with the bound port, e.g.
// "http://127.0.0.1:8080".
func (s *Server) URL() string { return s.url }

// Serve serves until Shutdown, then returns nil.
func (s *Server) Serve() error {
	var err error
	if s.tls {
		err = s.srv.ServeTLS(s.ln, "", "") // the certificate is in TLSConfig
	} else {
		err = s.srv.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits, within ctx, for those in
// flight. It also closes the listener if Serve was never called.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = cerr
	}
	return err
}

// errorLogWriter sends net/http's own messages (TLS handshake errors,
// malformed requests) to the logger.
type errorLogWriter struct{ log zerolog.Logger }

func (w errorLogWriter) Write(p []byte) (int, error) {
	w.log.Warn().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
