package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/admin/token"
)

// connect finds the API and the token (resolveTarget) and gives j its
// client, with a context that ends after timeout; cancel releases it.
func (j *job) connect(self bool, timeout time.Duration) (cancel func(), err error) {
	target, err := resolveTarget(j.line, j.getenv, self)
	if err != nil {
		return nil, err
	}
	httpClient, err := target.httpClient()
	if err != nil {
		return nil, err
	}
	j.ctx, cancel = context.WithTimeout(context.Background(), timeout)
	j.client = client.New(target.url, target.token, httpClient)
	j.target, j.timeout = target, timeout
	return cancel, nil
}

// explain turns the errors of a request into what an administrator can
// act on.
func (j *job) explain(err error) error {
	if err == nil {
		return nil
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		if ae.Status == http.StatusUnauthorized && j.target.self {
			return fmt.Errorf("the API refused your token (401 unauthorized; it came from %s): ask an administrator for a new one (dialin user token EMAIL)", j.target.tokenSource)
		}
		if ae.Status == http.StatusUnauthorized {
			src := j.target.tokenSource
			if src == "--token" || src == token.Env {
				// Name the other places too: the server may use one of them.
				src = "the server's admin.token or " + token.File + " file (this token came from " + src + ")"
			}
			return fmt.Errorf("the API refused the token (401 unauthorized): check --token, %s or %s", token.Env, src)
		}
		if ae.Status == http.StatusServiceUnavailable && ae.Code != "" {
			// Not the request's fault: say so, with the code scripts can match.
			return fmt.Errorf("%s (%d %s)", ae.Error(), ae.Status, ae.Code)
		}
		return ae
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from the API at %s within %v (--timeout)", j.target.url, j.timeout)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var verifyErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach the API at %s: connection refused (is dialin serve running?)", j.target.url)
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &verifyErr):
		return fmt.Errorf("cannot reach the API at %s: %v (give --ca FILE to trust the server's certificate)", j.target.url, ue.Err)
	}
	return fmt.Errorf("cannot reach the API at %s: %v (is dialin serve running?)", j.target.url, ue.Err)
}
