package sipua

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/loglimit"
)

// nonceLifetime is how long a challenge's nonce is taken. Older ones get a
// fresh challenge marked stale, which a trunk answers without asking anyone.
const nonceLifetime = 5 * time.Minute

// digestAuth checks new calls' INVITEs for digest credentials (sip.auth).
// Its nonces carry their own issue time and an HMAC over it and the
// caller's address, so it keeps no state per challenge and a nonce issued
// to one source is worthless from another.
type digestAuth struct {
	username, password, realm string
	key                       [32]byte // per process: a restart re-challenges
}

// newDigestAuth returns nil when authentication is off (no username).
func newDigestAuth(cfg config.SIPAuth) (*digestAuth, error) {
	if cfg.Username == "" {
		return nil, nil
	}
	a := &digestAuth{username: cfg.Username, password: cfg.Password, realm: cfg.Realm}
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, fmt.Errorf("sip: digest nonce key: %w", err)
	}
	return a, nil
}

type authResult int

const (
	authOK      authResult = iota
	authMissing            // no credentials for this realm: challenge
	authStale              // right credentials, expired nonce: challenge again, stale
	authWrong              // wrong username or password, or a forged nonce: 403
)

func (r authResult) String() string {
	switch r {
	case authOK:
		return "ok"
	case authMissing:
		return "no credentials"
	case authStale:
		return "stale nonce"
	}
	return "wrong credentials"
}

// check reads the request's Authorization header.
func (a *digestAuth) check(req *sip.Request, source netip.Addr, now time.Time) (authResult, string) {
	h := req.GetHeader("Authorization")
	if h == nil {
		return authMissing, ""
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Realm != a.realm {
		return authMissing, ""
	}
	if !strings.EqualFold(cred.Algorithm, "MD5") && cred.Algorithm != "" {
		return authWrong, cred.Username
	}
	if cred.QOP != "" && cred.QOP != "auth" { // we offer qop=auth only
		return authWrong, cred.Username
	}
	issued, ok := a.checkNonce(cred.Nonce, source)
	if !ok {
		return authWrong, cred.Username
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: cred.Nonce, Algorithm: "MD5"}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method:   req.Method.String(),
		URI:      cred.URI,
		Username: a.username,
		Password: a.password,
		Cnonce:   cred.Cnonce,
		Count:    cred.Nc,
	})
	if err != nil {
		return authWrong, cred.Username
	}
	userOK := subtle.ConstantTimeCompare([]byte(cred.Username), []byte(a.username)) == 1
	responseOK := subtle.ConstantTimeCompare([]byte(strings.ToLower(cred.Response)), []byte(want.Response)) == 1
	switch {
	case !userOK || !responseOK:
		return authWrong, cred.Username
	case now.Sub(issued) > nonceLifetime:
		return authStale, cred.Username
	}
	return authOK, cred.Username
}

// challenge is the WWW-Authenticate header of a 401 to source.
func (a *digestAuth) challenge(source netip.Addr, now time.Time, stale bool) sip.Header {
	chal := digest.Challenge{
		Realm:     a.realm,
		Nonce:     a.nonce(source, now),
		Algorithm: "MD5",
		QOP:       []string{"auth"},
		Stale:     stale,
	}
	return sip.NewHeader("WWW-Authenticate", chal.String())
}

// nonce is hex(issue time in Unix nanoseconds, 8 bytes | HMAC-SHA256 over
// it and the source address, first 16 bytes).
func (a *digestAuth) nonce(source netip.Addr, now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	copy(b[8:], a.nonceMAC(b[:8], source))
	return hex.EncodeToString(b[:])
}

// checkNonce reports whether n is one of ours, issued to source, and when.
func (a *digestAuth) checkNonce(n string, source netip.Addr) (time.Time, bool) {
	b, err := hex.DecodeString(n)
	if err != nil || len(b) != 8+16 {
		return time.Time{}, false
	}
	if !hmac.Equal(b[8:], a.nonceMAC(b[:8], source)) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))), true
}

func (a *digestAuth) nonceMAC(issued []byte, source netip.Addr) []byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(issued)
	ip := source.Unmap().As16()
	m.Write(ip[:])
	return m.Sum(nil)[:16]
}

// authenticate lets a new call's INVITE through when it carries valid
// credentials; otherwise it answers it (401 with a challenge, or 403) and
// returns false.
func (s *Server) authenticate(req *sip.Request, tx sip.ServerTransaction, log zerolog.Logger) bool {
	source, _ := sourceAddr(req.Source()) // the zero Addr when unknown: its nonces fit no real source
	now := time.Now()
	result, username := s.auth.check(req, source, now)
	switch result {
	case authOK:
		log.Debug().Str("username", loglimit.Excerpt(username)).Msg("digest authentication passed")
		return true
	case authMissing, authStale:
		log.Info().Str("reason", result.String()).Msg("challenged: digest authentication (401)")
		respond(tx, req, 401, "Unauthorized", s.auth.challenge(source, now, result == authStale))
	default:
		s.refusedAuth.Add(1)
		if ok, suppressed := s.authLog.Allow(now); ok {
			log.Warn().Str("username", loglimit.Excerpt(username)).Str("source", req.Source()).Int("suppressed", suppressed).
				Msg("refused: wrong digest credentials (403)")
		}
		respond(tx, req, 403, "Forbidden")
	}
	return false
}

// RefusedAuth counts the INVITEs refused (403) for wrong digest credentials.
func (s *Server) RefusedAuth() uint64 { return s.refusedAuth.Load() }
