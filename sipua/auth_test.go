package sipua

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/testphone"
)

const (
	testAuthUser     = "carrier-a"
	testAuthPassword = "correct horse battery"
)

func testAuth(t *testing.T) *digestAuth {
	t.Helper()
	a, err := newDigestAuth(config.SIPAuth{Username: testAuthUser, Password: testAuthPassword, Realm: "dialin"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// answer builds an INVITE answering chal as a trunk would.
func answer(t *testing.T, chal sip.Header, user, password string) *sip.Request {
	t.Helper()
	c, err := digest.ParseChallenge(chal.Value())
	if err != nil {
		t.Fatal(err)
	}
	uri := sip.Uri{Scheme: "sip", User: "conference", Host: "127.0.0.1", Port: 5060}
	cred, err := digest.Digest(c, digest.Options{Method: "INVITE", URI: uri.String(), Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, uri)
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	return req
}

func TestDigestAuthCheck(t *testing.T) {
	a := testAuth(t)
	trunk := netip.MustParseAddr("192.0.2.10")
	now := time.Now()
	chal := a.challenge(trunk, now, false)

	for _, tc := range []struct {
		name     string
		req      *sip.Request
		source   netip.Addr
		at       time.Time
		want     authResult
		wantUser string
	}{
		{"no header", sip.NewRequest(sip.INVITE, sip.Uri{Host: "127.0.0.1"}), trunk, now, authMissing, ""},
		{"right", answer(t, chal, testAuthUser, testAuthPassword), trunk, now.Add(time.Second), authOK, testAuthUser},
		{"wrong password", answer(t, chal, testAuthUser, "guess"), trunk, now, authWrong, testAuthUser},
		{"wrong user", answer(t, chal, "someone", testAuthPassword), trunk, now, authWrong, "someone"},
		{"another source", answer(t, chal, testAuthUser, testAuthPassword), netip.MustParseAddr("192.0.2.11"), now, authWrong, testAuthUser},
		{"mapped source is the same", answer(t, chal, testAuthUser, testAuthPassword), netip.MustParseAddr("::ffff:192.0.2.10"), now, authOK, testAuthUser},
		{"stale", answer(t, chal, testAuthUser, testAuthPassword), trunk, now.Add(nonceLifetime + time.Second), authStale, testAuthUser},
		{"forged nonce", answer(t, sip.NewHeader("WWW-Authenticate", `Digest realm="dialin", nonce="00000000000000000000000000000000000000000000000000", algorithm=MD5, qop="auth"`), testAuthUser, testAuthPassword), trunk, now, authWrong, testAuthUser},
		{"other realm", answer(t, sip.NewHeader("WWW-Authenticate", `Digest realm="elsewhere", nonce="abc", algorithm=MD5`), testAuthUser, testAuthPassword), trunk, now, authMissing, ""},
		{"garbage header", func() *sip.Request {
			r := sip.NewRequest(sip.INVITE, sip.Uri{Host: "127.0.0.1"})
			r.AppendHeader(sip.NewHeader("Authorization", "Basic Zm9vOmJhcg=="))
			return r
		}(), trunk, now, authMissing, ""},
	} {
		got, user := a.check(tc.req, tc.source, tc.at)
		if got != tc.want || user != tc.wantUser {
			t.Errorf("%s: %v (%q), want %v (%q)", tc.name, got, user, tc.want, tc.wantUser)
		}
	}

	// Without qop (RFC 2069 style), as some trunks still answer.
	c, err := digest.ParseChallenge(chal.Value())
	if err != nil {
		t.Fatal(err)
	}
	c.QOP = nil
	uri := "sip:conference@127.0.0.1"
	cred, err := digest.Digest(c, digest.Options{Method: "INVITE", URI: uri, Username: testAuthUser, Password: testAuthPassword})
	if err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	if got, _ := a.check(req, trunk, now); got != authOK {
		t.Errorf("answer without qop: %v", got)
	}

	// A stale challenge says so.
	if c, err := digest.ParseChallenge(a.challenge(trunk, now, true).Value()); err != nil || !c.Stale {
		t.Errorf("stale challenge: %+v, %v", c, err)
	}
}

// TestServerDigestAuth: with sip.auth set, a phone with the right
// credentials gets its call (after a 401), one with none gets 401, and one
// with a wrong password gets 403.
func TestServerDigestAuth(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.SIP.Auth = config.SIPAuth{Username: testAuthUser, Password: testAuthPassword, Realm: "dialin"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name, user, password string
		want                 int
	}{
		{"none", "", "", 401},
		{"wrong password", testAuthUser, "not the password", 403},
		{"wrong user", "carrier-b", testAuthPassword, 403},
	} {
		_, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("udp"), Username: tc.user, Password: tc.password})
		var status *testphone.StatusError
		if !errors.As(err, &status) || status.Code != tc.want {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.want)
		}
	}
	if ts.ports.InUse() != 0 {
		t.Errorf("%d RTP ports taken by refused calls", ts.ports.InUse())
	}
	if n := ts.RefusedAuth(); n != 2 { // the two wrong ones; a challenge is no refusal
		t.Errorf("RefusedAuth = %d, want 2", n)
	}

	for _, transport := range []string{"udp", "tcp"} {
		call, err := testphone.Dial(ctx, testphone.Options{Target: ts.target(transport), Transport: transport, Username: testAuthUser, Password: testAuthPassword})
		if err != nil {
			t.Fatalf("%s call with the right credentials: %v", transport, err)
		}
		if err := call.SendDigitsINFO(ctx, "42#", testphone.INFODTMFRelay, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		select {
		case keys := <-ts.keys:
			if keys != "42" {
				t.Errorf("%s: keys %q, want 42", transport, keys)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no keys: the authenticated call's in-dialog INFO did not get through", transport)
		}
		if err := call.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDigestAuthCheck: whatever a caller puts in Authorization, the check
// answers without panicking, and only the real credentials pass.
func FuzzDigestAuthCheck(f *testing.F) {
	a, err := newDigestAuth(config.SIPAuth{Username: testAuthUser, Password: testAuthPassword, Realm: "dialin"})
	if err != nil {
		f.Fatal(err)
	}
	source := netip.MustParseAddr("192.0.2.10")
	now := time.Now()
	chal, err := digest.ParseChallenge(a.challenge(source, now, false).Value())
	if err != nil {
		f.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: "sip:conference@127.0.0.1", Username: testAuthUser, Password: "guess"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cred.String())
	f.Add(`Digest username="x", realm="dialin", nonce="` + chal.Nonce + `", uri="sip:a@b", response="00", qop=auth-int, nc=zz, cnonce="c"`)
	f.Add(`Digest realm="dialin", nonce=`)
	f.Add(`Digest realm="dialin", nonce="zz", algorithm=SHA-512, response="x"`)
	f.Add("Basic Zm9vOmJhcg==")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "conference", Host: "127.0.0.1"})
		req.AppendHeader(sip.NewHeader("Authorization", header))
		if got, _ := a.check(req, source, now); got == authOK {
			t.Fatalf("passed without the password: %q", header)
		}
	})
}
