package sipua

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/loglimit"
)

// JoinHeader carries an inter-node INVITE's claim: which meeting the
// caller's IVR found on another node, and whether they gave the
// organizer's PIN (docs/ARCHITECTURE.md, "One meeting across nodes").
const JoinHeader = "X-Dialin-Join"

// joinClockSkew is how far a claim's time may be from ours: a claim is
// made just before its INVITE is sent, so this bounds a replay.
const joinClockSkew = 30 * time.Second

// Join is what an inter-node INVITE says of its caller.
type Join struct {
	ConferenceID string
	Organizer    bool
	Node         string // the node whose IVR identified the caller
	// Origin is the caller's Call-ID there: the call's logs on both
	// nodes can be followed by it. Set by MoveMedia.
	Origin string
}

// clusterAuth signs and checks inter-node INVITEs: HMAC-SHA256 under the
// cluster's secret, from the nodes' networks only. Trunks never get the
// secret, and a claim from outside the networks is refused unread.
type clusterAuth struct {
	node     string
	secret   []byte
	networks []netip.Prefix
}

func newClusterAuth(c config.Cluster) *clusterAuth {
	if !c.Enabled() {
		return nil
	}
	return &clusterAuth{node: c.NodeID, secret: []byte(c.Secret), networks: c.Prefixes()}
}

// sign returns the header value for a claim about the caller of callID.
func (a *clusterAuth) sign(callID, caller string, j Join, now time.Time) string {
	org := "0"
	if j.Organizer {
		org = "1"
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	origin := hex.EncodeToString([]byte(j.Origin)) // any Call-ID, kept apart from the header's syntax
	mac := a.mac(callID, caller, j.ConferenceID, org, j.Node, origin, ts)
	return "v1;conf=" + j.ConferenceID + ";org=" + org + ";node=" + j.Node + ";orig=" + origin + ";ts=" + ts + ";sig=" + mac
}

func (a *clusterAuth) mac(fields ...string) string {
	h := hmac.New(sha256.New, a.secret)
	h.Write([]byte("dialin-join-v1"))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Why a claim is refused (the log says which; the peer only gets 403).
var (
	errNotClusterNode = errors.New("this bridge is not a cluster node")
	errNotFromNode    = errors.New("not from cluster.networks")
	errBadClaim       = errors.New("malformed claim")
	errStaleClaim     = errors.New("claim too old or from the future")
	errBadSignature   = errors.New("signature does not match (another cluster.secret?)")
)

// verify checks the claim of req's JoinHeader.
func (a *clusterAuth) verify(req *sip.Request, now time.Time) (Join, error) {
	if a == nil {
		return Join{}, errNotClusterNode
	}
	ip, ok := sourceAddr(req.Source())
	if !ok || !containsAddr(a.networks, ip) {
		return Join{}, errNotFromNode
	}
	h := req.GetHeader(JoinHeader)
	fields := map[string]string{}
	parts := strings.Split(h.Value(), ";")
	if len(parts) == 0 || parts[0] != "v1" {
		return Join{}, errBadClaim
	}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return Join{}, errBadClaim
		}
		fields[k] = v
	}
	j := Join{ConferenceID: fields["conf"], Organizer: fields["org"] == "1", Node: fields["node"]}
	ts, err := strconv.ParseInt(fields["ts"], 10, 64)
	if err != nil || j.ConferenceID == "" || (fields["org"] != "0" && fields["org"] != "1") {
		return Join{}, errBadClaim
	}
	if d := now.Sub(time.Unix(ts, 0)); d > joinClockSkew || d < -joinClockSkew {
		return Join{}, errStaleClaim
	}
	want := a.mac(callID(req), callerNumber(req), j.ConferenceID, fields["org"], j.Node, fields["orig"], fields["ts"])
	if !hmac.Equal([]byte(want), []byte(fields["sig"])) {
		return Join{}, errBadSignature
	}
	origin, err := hex.DecodeString(fields["orig"])
	if err != nil {
		return Join{}, errBadClaim
	}
	j.Origin = string(origin)
	return j, nil
}

// fromNode reports a request from cluster.networks (false on a bridge
// that is no cluster node).
func (s *Server) fromNode(req *sip.Request) bool {
	if s.cluster == nil {
		return false
	}
	ip, ok := sourceAddr(req.Source())
	return ok && containsAddr(s.cluster.networks, ip)
}

func containsAddr(nets []netip.Prefix, ip netip.Addr) bool {
	for _, p := range nets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// readJoin reads an INVITE's claim, if it has one. A claim that does not
// verify is refused with 403 (ok false); isJoin reports a verified one.
func (s *Server) readJoin(req *sip.Request, tx sip.ServerTransaction, log zerolog.Logger, end *callEnd) (j Join, isJoin, ok bool) {
	if req.GetHeader(JoinHeader) == nil {
		return Join{}, false, true
	}
	j, err := s.cluster.verify(req, time.Now())
	if err != nil {
		s.counts.badJoin.Add(1)
		if allow, suppressed := s.joinLog.Allow(time.Now()); allow {
			log.Warn().Int("suppressed", suppressed).Err(err).Str("source", req.Source()).Msg("refused: inter-node INVITE")
		}
		end.refused("inter-node INVITE: " + err.Error())
		respond(tx, req, 403, "Forbidden")
		return Join{}, false, false
	}
	log.Info().Str("conference_id", j.ConferenceID).Bool("organizer", j.Organizer).Str("from_node", j.Node).
		Str("origin_call_id", loglimit.Excerpt(j.Origin)).Msg("inter-node call")
	return j, true, true
}

// String is for logs.
func (j Join) String() string {
	return fmt.Sprintf("%s organizer=%t node=%s", j.ConferenceID, j.Organizer, j.Node)
}
