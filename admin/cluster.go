package admin

// The API of a cluster node (issue 17, part 5): all of a meeting's state
// is on its home node, so a node whose bridge does not hold the meeting
// forwards the meeting's live routes to the home's admin API and answers
// with the home's answer, and GET /live asks every live node. The
// forwarded request carries no token (nodes may have different ones): it
// is signed with HMAC-SHA256 under cluster.secret, and the home takes it
// as the credential "node:NODE/ORIGINAL" for those routes only (SECURITY.md,
// "Between nodes").

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialin/dialin/admin/wire"
)

// ForwardHeader carries a forwarded request's claim: the forwarding node,
// the original credential's name, the client's address, a time and the
// signature.
const ForwardHeader = "X-Dialin-Forwarded"

// NodeHeader names, on an answer that came from another node, the node
// that gave it.
const NodeHeader = "X-Dialin-Node"

const (
	// forwardClockSkew is how far a claim's time may be from ours: a claim
	// is made just before it is sent, so this bounds a replay.
	forwardClockSkew = 30 * time.Second
	// forwardTimeout bounds a forwarded live control (ending a meeting
	// hangs everyone up, which the home does in its own time).
	forwardTimeout = 10 * time.Second
	// peerTimeout is how long GET /live waits for each other node.
	peerTimeout = time.Second
	// maxForwardedAnswer bounds what is read of a node's answer.
	maxForwardedAnswer = 8 << 20
)

// forwardedRoutes are the routes a node forwards to a meeting's home (GET
// /live: asks every node), and the only ones a signed request may reach.
var forwardedRoutes = map[string]bool{
	"GET /api/v1/meetings/{conference_id}":                                    true,
	"POST /api/v1/meetings/{conference_id}/start":                             true,
	"POST /api/v1/meetings/{conference_id}/end":                               true,
	"POST /api/v1/meetings/{conference_id}/admit":                             true,
	"PUT /api/v1/meetings/{conference_id}/lock":                               true,
	"PUT /api/v1/meetings/{conference_id}/participants/{participant_id}/mute": true,
	"DELETE /api/v1/meetings/{conference_id}/participants/{participant_id}":   true,
	"GET /api/v1/live": true,
}

// Peer is another node's admin API.
type Peer struct {
	Node     string // its cluster.node_id
	AdminURL string // its admin API's base URL; "" when it has none
}

// ClusterPeers is what the API needs of the cluster (cmd/dialin has it
// from the shared database).
type ClusterPeers interface {
	// Home is the meeting's home when it is another node (elsewhere
	// true); elsewhere is false when this node or no node is its home.
	Home(ctx context.Context, conferenceID string) (home Peer, elsewhere bool, err error)
	// Peers are the other nodes seen lately, by node ID.
	Peers(ctx context.Context) ([]Peer, error)
}

// Cluster makes the API a cluster node's.
type Cluster struct {
	Node   string // this node's ID, named in the claims it signs
	Secret string // cluster.secret
	Peers  ClusterPeers
	// Networks are the nodes' addresses (cluster.networks): a signed
	// request from anywhere else is refused unread. Empty: any source.
	Networks []netip.Prefix
	// Client sends the forwarded requests; nil: one that goes straight
	// to the node (no proxy) and follows no redirect.
	Client *http.Client
}

// nodeAPI is the cluster side of an api; nil when the node is alone.
type nodeAPI struct {
	node     string
	secret   []byte
	peers    ClusterPeers
	networks []netip.Prefix
	client   *http.Client
}

func newNodeAPI(c *Cluster) *nodeAPI {
	if c == nil {
		return nil
	}
	client := c.Client
	if client == nil {
		// Straight to the node: never through an HTTP proxy of the
		// environment, which would see the signed requests.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		client = &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &nodeAPI{node: c.Node, secret: []byte(c.Secret), peers: c.Peers, networks: c.Networks, client: client}
}

// claim is what a forwarded request says of itself.
type claim struct {
	node       string // the forwarding node
	credential string // the original credential's name there
	addr       string // the client's address there
	polling    bool   // a page's repeated read (logged at debug)
}

// credentialName is the audit's name of a forwarded request's credential.
func (c claim) credentialName() string { return "node:" + c.node + "/" + c.credential }

// sign returns the header value for a request of method to uri (path and
// query, as sent) with body.
func (n *nodeAPI) sign(method, uri string, body []byte, c claim, now time.Time) string {
	poll := "0"
	if c.polling {
		poll = "1"
	}
	cred, addr := hex.EncodeToString([]byte(c.credential)), hex.EncodeToString([]byte(c.addr))
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := n.mac(method, uri, bodyHash(body), c.node, cred, addr, poll, ts)
	return "v1;node=" + c.node + ";cred=" + cred + ";addr=" + addr + ";poll=" + poll + ";ts=" + ts + ";sig=" + mac
}

func bodyHash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}

func (n *nodeAPI) mac(fields ...string) string {
	h := hmac.New(sha256.New, n.secret)
	h.Write([]byte("dialin-admin-v1"))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Why a forwarded request is refused (the log says which; the client only
// gets 401).
var (
	errNotClusterNode = errors.New("this API is not a cluster node's")
	errNotFromNode    = errors.New("not from cluster.networks")
	errBadClaim       = errors.New("malformed claim")
	errStaleClaim     = errors.New("claim too old or from the future")
	errBadSignature   = errors.New("signature does not match (another cluster.secret?)")
	errNotForwardable = errors.New("a route that is never forwarded")
	errForwardedBody  = errors.New("body unreadable or over the limit")
)

// verify checks a claim (header) of a request of method to uri with body.
func (n *nodeAPI) verify(method, uri string, body []byte, header string, now time.Time) (claim, error) {
	if n == nil {
		return claim{}, errNotClusterNode
	}
	parts := strings.Split(header, ";")
	if len(parts) == 0 || parts[0] != "v1" {
		return claim{}, errBadClaim
	}
	fields := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if _, dup := fields[k]; !ok || dup {
			return claim{}, errBadClaim
		}
		fields[k] = v
	}
	ts, err := strconv.ParseInt(fields["ts"], 10, 64)
	if err != nil || !validNodeID(fields["node"]) || (fields["poll"] != "0" && fields["poll"] != "1") {
		return claim{}, errBadClaim
	}
	if d := now.Sub(time.Unix(ts, 0)); d > forwardClockSkew || d < -forwardClockSkew {
		return claim{}, errStaleClaim
	}
	want := n.mac(method, uri, bodyHash(body), fields["node"], fields["cred"], fields["addr"], fields["poll"], fields["ts"])
	if !hmac.Equal([]byte(want), []byte(fields["sig"])) {
		return claim{}, errBadSignature
	}
	cred, err1 := hex.DecodeString(fields["cred"])
	addr, err2 := hex.DecodeString(fields["addr"])
	if err1 != nil || err2 != nil || len(cred) == 0 {
		return claim{}, errBadClaim
	}
	return claim{node: fields["node"], credential: auditText(string(cred)), addr: auditText(string(addr)), polling: fields["poll"] == "1"}, nil
}

// validNodeID is cluster.node_id's form (config checks it; a host name
// fits it too).
func validNodeID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// forwardedKey marks a request another node forwarded: it is answered
// here, never forwarded again.
type forwardedKey struct{}

func isForwarded(ctx context.Context) bool {
	f, _ := ctx.Value(forwardedKey{}).(bool)
	return f
}

// acceptForwarded checks a signed request for pattern and returns it as
// the request the handlers see, with the claim. The body is read here (the
// signature covers it) and put back.
func (a *api) acceptForwarded(w http.ResponseWriter, r *http.Request, pattern string) (*http.Request, claim, error) {
	if a.node != nil && !a.node.fromNode(r.RemoteAddr) {
		return r, claim{}, errNotFromNode
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return r, claim{}, errForwardedBody
	}
	c, err := a.node.verify(r.Method, r.RequestURI, body, r.Header.Get(ForwardHeader), time.Now())
	if err != nil {
		return r, claim{}, err
	}
	if !forwardedRoutes[pattern] {
		return r, c, errNotForwardable
	}
	r = r.WithContext(context.WithValue(r.Context(), forwardedKey{}, true))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if c.addr != "" {
		r.RemoteAddr = c.addr // the client's, for the audit; the credential names the node
	}
	return r, c, nil
}

// fromNode reports whether addr (host:port) is in the nodes' networks.
func (n *nodeAPI) fromNode(addr string) bool {
	if len(n.networks) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range n.networks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// refuseForwarded answers a signed request that did not verify. The reason
// is logged, never the claim.
func (a *api) refuseForwarded(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Str("remote", r.RemoteAddr).
		Msg("admin API: refused a request forwarded by another node")
	e := &apiError{Status: http.StatusUnauthorized, Code: wire.CodeUnauthorized,
		Message: "forwarded request refused (see the server log)"}
	writeJSON(w, e.Status, e.body())
}

// forwarding wraps the handler of a route the meeting's home answers: on
// a node whose bridge does not hold the meeting, while another node is its
// home, the request goes there. audited is the route's handler as
// audited here; a request that reached the home is audited there.
func (a *api) forwarding(method, path string, audited handlerFunc) handlerFunc {
	if a.node == nil || !forwardedRoutes[method+" "+path] || path == "/api/v1/live" {
		return audited
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		home, ok, err := a.homeElsewhere(r)
		if err == nil && !ok {
			return audited(w, r)
		}
		if err == nil {
			err = a.forward(w, r, home)
		}
		if err == nil {
			return nil
		}
		// The home was not reached: the refusal is this node's to audit.
		return a.audited(method, path, func(http.ResponseWriter, *http.Request) error { return err })(w, r)
	}
}

// homeElsewhere is the home of the request's meeting when another node is
// it and this node's bridge does not hold the meeting. A home that cannot
// be reached is an error for the client.
func (a *api) homeElsewhere(r *http.Request) (Peer, bool, error) {
	id := r.PathValue("conference_id")
	if isForwarded(r.Context()) || !isDigits(id, 7) {
		return Peer{}, false, nil
	}
	if a.live != nil {
		if _, held := a.live.Status(id); held {
			return Peer{}, false, nil
		}
	}
	home, elsewhere, err := a.node.peers.Home(r.Context(), id)
	switch {
	case err != nil && !elsewhere:
		// The database cannot say: answer as a node alone would.
		a.log.Warn().Err(err).Str("conference_id", id).Msg("admin API: the meeting's home is unknown: answering here")
		return Peer{}, false, nil
	case !elsewhere:
		return Peer{}, false, nil
	case err != nil || home.AdminURL == "":
		if err != nil {
			a.log.Warn().Err(err).Str("conference_id", id).Str("node", home.Node).Msg("admin API: the admin API of the meeting's home is unknown")
		}
		return home, true, homeUnavailable(id, home.Node)
	}
	return home, true, nil
}

func homeUnavailable(id, node string) error {
	return &apiError{Status: http.StatusServiceUnavailable, Code: wire.CodeBridgeUnavailable,
		Message: "meeting " + id + " is on node " + node + ", whose admin API does not answer"}
}

// forward sends the request to the home's admin API, signed, and answers
// with its answer: status, body and the headers that describe it.
func (a *api) forward(w http.ResponseWriter, r *http.Request, home Peer) error {
	id := r.PathValue("conference_id")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return badRequest("request body is larger than %d KiB", maxBodyBytes>>10)
		}
		return badRequest("reading request body: %v", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), forwardTimeout)
	defer cancel()
	resp, err := a.sendSigned(ctx, r, home, r.URL.RequestURI(), body)
	if err != nil {
		a.log.Warn().Err(err).Str("conference_id", id).Str("node", home.Node).Msg("admin API: the meeting's home did not answer")
		return homeUnavailable(id, home.Node)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		a.log.Error().Str("conference_id", id).Str("node", home.Node).
			Msg("admin API: the meeting's home refused a forwarded request (another cluster.secret, or an older version?)")
		return homeUnavailable(id, home.Node)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Allow"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.Header().Set(NodeHeader, home.Node)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxForwardedAnswer)) // a client gone: nothing to do
	return nil
}

// sendSigned sends r's method with body to uri at peer, signed as a
// request forwarded for r's credential and client.
func (a *api) sendSigned(ctx context.Context, r *http.Request, peer Peer, uri string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimSuffix(peer.AdminURL, "/")+uri, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", peer.Node, err)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	c := claim{node: a.node.node, credential: credentialOf(r.Context()), addr: r.RemoteAddr, polling: isPolling(r.Context())}
	req.Header.Set(ForwardHeader, a.node.sign(req.Method, req.URL.RequestURI(), body, c, time.Now()))
	resp, err := a.node.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", peer.Node, err)
	}
	return resp, nil
}

// peersLive adds the live meetings of the other nodes to out (GET /live
// on a cluster node): each node is asked at once and given peerTimeout; a
// node that does not answer is named in out.UnansweredNodes. A meeting
// two nodes hold (split while the database was out of reach) is listed
// once, as the node with the most callers in it has it.
func (a *api) peersLive(r *http.Request, out *wire.LiveList) error {
	peers, err := a.node.peers.Peers(r.Context())
	if err != nil {
		return fmt.Errorf("the cluster's nodes: %w", err)
	}
	lists := make([]wire.LiveList, len(peers))
	answered := make([]bool, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		if p.AdminURL == "" {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), peerTimeout)
			defer cancel()
			if err := a.askLive(ctx, r, p, &lists[i]); err != nil {
				a.log.Warn().Err(err).Str("node", p.Node).Msg("admin API: a node did not list its live meetings")
				return
			}
			answered[i] = true
		})
	}
	wg.Wait()
	byID := map[string]int{}
	for i, m := range out.Meetings {
		byID[m.ConferenceID] = i
	}
	for i, p := range peers {
		if !answered[i] {
			out.UnansweredNodes = append(out.UnansweredNodes, p.Node)
			continue
		}
		for _, m := range lists[i].Meetings {
			j, ok := byID[m.ConferenceID]
			switch {
			case !ok:
				byID[m.ConferenceID] = len(out.Meetings)
				out.Meetings = append(out.Meetings, m)
			case callers(m) > callers(out.Meetings[j]):
				out.Meetings[j] = m
			}
		}
	}
	slices.SortFunc(out.Meetings, func(x, y wire.Meeting) int { return strings.Compare(x.ConferenceID, y.ConferenceID) })
	slices.Sort(out.UnansweredNodes)
	return nil
}

func callers(m wire.Meeting) int {
	if m.Live == nil {
		return 0
	}
	return len(m.Live.Participants) + len(m.Live.Lobby)
}

// askLive reads peer's own live meetings (a forwarded GET /live, which
// the peer answers alone).
func (a *api) askLive(ctx context.Context, r *http.Request, peer Peer, out *wire.LiveList) error {
	resp, err := a.sendSigned(ctx, r, peer, "/api/v1/live", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("node %s answered %s", peer.Node, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxForwardedAnswer)).Decode(out); err != nil {
		return fmt.Errorf("node %s: its answer: %w", peer.Node, err)
	}
	return nil
}
