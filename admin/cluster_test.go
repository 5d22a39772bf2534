package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

const testClusterSecret = "cluster-secret-0123456789abcdef-0123"

// fakePeers is the cluster as the database would tell it: the homes of
// meetings and the other nodes.
type fakePeers struct {
	mu    sync.Mutex
	homes map[string]Peer // conference ID -> its home, when another node
	peers []Peer
	err   error
}

func (f *fakePeers) Home(_ context.Context, id string) (Peer, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Peer{}, false, f.err
	}
	h, ok := f.homes[id]
	return h, ok, nil
}

func (f *fakePeers) Peers(context.Context) ([]Peer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.peers), f.err
}

// node is one cluster node's API in the tests: its env (the directory is
// shared, as PostgreSQL is), its peers and how many requests it served.
type node struct {
	*env
	id       string
	token    string
	peers    *fakePeers
	requests atomic.Int64
}

// clusterNodes starts the APIs of nodes ids on one directory, each with
// its own token named "local" (the first node's is testToken, so that the
// env's helpers work on it; the others' are "testToken-ID") and a fake
// bridge.
func clusterNodes(t *testing.T, ids ...string) []*node {
	t.Helper()
	dir := openDirectory(t, filepath.Join(t.TempDir(), "dialin.db"))
	var out []*node
	for i, id := range ids {
		n := &node{id: id, peers: &fakePeers{homes: map[string]Peer{}}, token: testToken}
		if i > 0 {
			n.token += "-" + id
		}
		n.env = &env{t: t, dir: dir, live: &fakeLive{}, logs: &syncBuffer{}, client: &http.Client{Timeout: 10 * time.Second}}
		h, err := NewHandler(Options{Directory: dir, Token: n.token, Live: n.live, Logger: zerolog.New(n.logs),
			Cluster: &Cluster{Node: id, Secret: testClusterSecret, Peers: n.peers}})
		if err != nil {
			t.Fatal(err)
		}
		n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.requests.Add(1)
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(n.srv.Close)
		out = append(out, n)
	}
	for _, n := range out {
		for _, o := range out {
			if o != n {
				n.peers.peers = append(n.peers.peers, Peer{Node: o.id, AdminURL: o.srv.URL})
			}
		}
	}
	return out
}

// call makes a request to n with n's own token.
func (n *node) call(method, path, body string) response {
	n.t.Helper()
	return n.as(n.token, method, path, body)
}

// homeOn makes home the home of the meeting for the other nodes.
func homeOn(id string, home *node, others ...*node) {
	for _, o := range others {
		o.peers.mu.Lock()
		o.peers.homes[id] = Peer{Node: home.id, AdminURL: home.srv.URL}
		o.peers.mu.Unlock()
	}
}

// signed makes a request to n signed as node from, for credential, with
// the claim's time at; secret signs it.
func (n *node) signed(secret, from, credential string, at time.Time, method, path, body string) response {
	n.t.Helper()
	signer := &nodeAPI{node: from, secret: []byte(secret)}
	h := http.Header{ForwardHeader: {signer.sign(method, path, []byte(body), claim{node: from, credential: credential, addr: "192.0.2.7:4000"}, at)}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	return n.raw(method, path, body, h)
}

// A meeting's live routes, asked of a node that does not hold it, are
// answered by its home: the home acts, its audit names the node and the
// original credential, once; a node that holds the meeting answers itself.
func TestClusterForwardsToHome(t *testing.T) {
	nodes := clusterNodes(t, "node1", "node2")
	n1, n2 := nodes[0], nodes[1]
	id := n1.enable("ada@example.com").User.ConferenceID
	n1.live.set(id, wire.Live{Started: true, Participants: []wire.Participant{
		{ID: "m1", Caller: "+14255550100", Role: "organizer"}, {ID: "m2", Caller: "+14255550101", Role: "attendee"}},
		Lobby: []wire.LobbyCaller{{ID: "l1", Caller: "+14255550102"}}})
	homeOn(id, n1, n2)
	base := "/api/v1/meetings/" + id

	r := n2.call("GET", base, "")
	var m struct{ Live wire.Live }
	r.decode(t, &m)
	if r.status != 200 || len(m.Live.Participants) != 2 || len(m.Live.Lobby) != 1 || r.header.Get(NodeHeader) != "node1" {
		t.Fatalf("GET through node 2: %d %s %v\n%s", r.status, NodeHeader, r.header.Get(NodeHeader), r.body)
	}
	for _, step := range []struct{ method, path, body string }{
		{"PUT", base + "/participants/m2/mute", `{"muted": true}`},
		{"POST", base + "/admit", `{"caller_id": "l1"}`},
		{"PUT", base + "/lock", `{"locked": true}`},
		{"DELETE", base + "/participants/m2", ""},
		{"POST", base + "/end", ""},
		{"POST", base + "/start", ""}, // the home claimed: it starts there
	} {
		if r := n2.call(step.method, step.path, step.body); r.status >= 300 || r.header.Get(NodeHeader) != "node1" {
			t.Fatalf("%s %s through node 2: %d\n%s", step.method, step.path, r.status, r.body)
		}
	}
	want := []string{"mute " + id + " m2 true", "admit " + id + " l1", "lock " + id + " true", "remove " + id + " m2", "end " + id, "start " + id}
	if got := n1.live.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("node 1's bridge got %q, want %q", got, want)
	}
	if got := n2.live.takeCalls(); len(got) != 0 {
		t.Errorf("node 2's bridge got %q", got)
	}
	// One entry per request (the home's), naming who acted through which node.
	entries := n1.auditAll()
	if len(entries) != 7 { // the enable, the six controls
		t.Fatalf("%d audit entries, want 7: %+v", len(entries), entries)
	}
	for _, e := range entries[:6] {
		if e.Credential != "node:node2/local" || e.Outcome != store.AuditOK || !strings.HasPrefix(e.Address, "127.0.0.1:") {
			t.Errorf("audit entry %s: credential %q, outcome %s, address %s", e.Action, e.Credential, e.Outcome, e.Address)
		}
	}
	if entries[5].Action != "meeting.mute" || !strings.Contains(entries[5].Target, "participant m2") {
		t.Errorf("the mute's entry: %+v", entries[5])
	}

	// The home refuses as it would its own caller's: the answer is its.
	n2.checkErr(n2.call("PUT", base+"/participants/m9/mute", `{"muted": true}`), 404, wire.CodeCallerNotFound, "mute of nobody")
	n2.checkErr(n2.call("PUT", base+"/lock", `{}`), 400, wire.CodeInvalidInput, "lock without locked")
	n1.live.takeCalls()

	// A node whose bridge holds the meeting answers itself, even if the
	// database names another home.
	n2.live.set(id, wire.Live{Started: true})
	if r := n2.call("PUT", base+"/lock", `{"locked": false}`); r.status != 204 || r.header.Get(NodeHeader) != "" {
		t.Fatalf("lock on the node that holds it: %d %q", r.status, r.header.Get(NodeHeader))
	}
	if got := n2.live.takeCalls(); !slices.Equal(got, []string{"lock " + id + " false"}) {
		t.Errorf("node 2's bridge got %q", got)
	}
	if got := n1.live.takeCalls(); len(got) != 0 {
		t.Errorf("node 1's bridge got %q", got)
	}

	// No home anywhere: as today.
	other := n1.enable("bob@example.com").User.ConferenceID
	n2.checkErr(n2.call("POST", "/api/v1/meetings/"+other+"/end", ""), 409, wire.CodeMeetingNotStarted, "end of a meeting on nowhere")

	// Never the claim in a log.
	for _, n := range nodes {
		if strings.Contains(n.logs.String(), "sig=") || strings.Contains(n.logs.String(), ForwardHeader) {
			t.Errorf("%s's log shows the claim:\n%s", n.id, n.logs.String())
		}
	}
}

// A home that does not answer: 503, audited on the node that tried.
func TestClusterHomeUnreachable(t *testing.T) {
	nodes := clusterNodes(t, "node1", "node2")
	n1, n2 := nodes[0], nodes[1]
	id := n1.enable("ada@example.com").User.ConferenceID
	homeOn(id, n1, n2)
	n1.srv.Close()
	n2.checkErr(n2.call("PUT", "/api/v1/meetings/"+id+"/participants/m2/mute", `{"muted": true}`), 503, wire.CodeBridgeUnavailable, "mute")
	n2.checkErr(n2.call("GET", "/api/v1/meetings/"+id, ""), 503, wire.CodeBridgeUnavailable, "get")
	e := n2.auditAll()[0]
	if e.Action != "meeting.mute" || e.Credential != "local" || e.Outcome != store.AuditFailed || e.Error != wire.CodeBridgeUnavailable {
		t.Errorf("audit of the mute that reached no home: %+v", e)
	}

	// A home known without an admin API (not seen lately): the same.
	n2.peers.mu.Lock()
	n2.peers.homes[id] = Peer{Node: "node9"}
	n2.peers.mu.Unlock()
	n2.checkErr(n2.call("GET", "/api/v1/meetings/"+id, ""), 503, wire.CodeBridgeUnavailable, "get, home without an admin API")

	// The database cannot say: answered here.
	n2.peers.mu.Lock()
	n2.peers.err = errors.New("database down")
	n2.peers.mu.Unlock()
	if r := n2.call("GET", "/api/v1/meetings/"+id, ""); r.status != 200 {
		t.Errorf("get while the homes are unknown: %d\n%s", r.status, r.body)
	}
}

// The home takes a signed request only with the cluster's secret, a fresh
// time, the body and path it was signed for, and for a forwarded route;
// it answers it itself, never forwarding it again.
func TestClusterSignedRequests(t *testing.T) {
	nodes := clusterNodes(t, "node1", "node2", "node3")
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	id := n1.enable("ada@example.com").User.ConferenceID
	n1.live.set(id, wire.Live{Started: true, Participants: []wire.Participant{{ID: "m1", Role: "organizer"}}})
	homeOn(id, n1, n2, n3)
	mute := "/api/v1/meetings/" + id + "/participants/m1/mute"
	now := time.Now()

	if r := n1.signed(testClusterSecret, "node2", "alice", now, "PUT", mute, `{"muted": true}`); r.status != 204 {
		t.Fatalf("signed mute: %d\n%s", r.status, r.body)
	}
	if e := n1.auditAll()[0]; e.Credential != "node:node2/alice" || e.Address != "192.0.2.7:4000" {
		t.Errorf("signed mute audited as %q from %q", e.Credential, e.Address)
	}
	n1.live.takeCalls()
	before := n1.state()
	refused := []struct {
		what                         string
		secret, from                 string
		at                           time.Time
		method, path, body, sentBody string
	}{
		{what: "another secret", secret: "another-secret-0123456789abcdef-01", from: "node2", at: now,
			method: "PUT", path: mute, body: `{"muted": false}`},
		{what: "31 s old", secret: testClusterSecret, from: "node2", at: now.Add(-31 * time.Second),
			method: "PUT", path: mute, body: `{"muted": false}`},
		{what: "31 s ahead", secret: testClusterSecret, from: "node2", at: now.Add(31 * time.Second),
			method: "PUT", path: mute, body: `{"muted": false}`},
		{what: "a node ID that is not one", secret: testClusterSecret, from: "node;2", at: now,
			method: "PUT", path: mute, body: `{"muted": false}`},
		{what: "not a forwarded route", secret: testClusterSecret, from: "node2", at: now,
			method: "PATCH", path: "/api/v1/settings", body: `{"pin_length": 9}`},
		{what: "not a forwarded route (GET)", secret: testClusterSecret, from: "node2", at: now,
			method: "GET", path: "/api/v1/users"},
		{what: "a public route", secret: testClusterSecret, from: "node2", at: now,
			method: "GET", path: "/api/v1/health"},
		{what: "no route", secret: testClusterSecret, from: "node2", at: now,
			method: "GET", path: "/api/v1/nothing"},
	}
	for _, c := range refused {
		r := n1.signed(c.secret, c.from, "alice", c.at, c.method, c.path, c.body)
		n1.checkErr(r, 401, wire.CodeUnauthorized, c.what)
	}
	// Signed for one body or path, sent with another.
	signer := &nodeAPI{node: "node2", secret: []byte(testClusterSecret)}
	sig := signer.sign("PUT", mute, []byte(`{"muted": false}`), claim{node: "node2", credential: "alice"}, now)
	h := http.Header{ForwardHeader: {sig}, "Content-Type": {"application/json"}}
	n1.checkErr(n1.raw("PUT", mute, `{"muted": true} `, h), 401, wire.CodeUnauthorized, "another body")
	n1.checkErr(n1.raw("PUT", mute+"?x=1", `{"muted": false}`, h), 401, wire.CodeUnauthorized, "another query")
	n1.checkErr(n1.raw("POST", "/api/v1/meetings/"+id+"/end", `{"muted": false}`, h), 401, wire.CodeUnauthorized, "another route")
	// A bearer token beside a claim that does not verify does not help.
	h.Set("Authorization", "Bearer "+n1.token)
	n1.checkErr(n1.raw("POST", "/api/v1/meetings/"+id+"/end", `{"muted": false}`, h), 401, wire.CodeUnauthorized, "claim and token")
	if got := n1.live.takeCalls(); len(got) != 0 {
		t.Errorf("refused requests reached the bridge: %q", got)
	}
	if n1.state() != before {
		t.Error("a refused request changed something")
	}
	if strings.Contains(n1.logs.String(), "sig=") || !strings.Contains(n1.logs.String(), "refused a request forwarded by another node") {
		t.Errorf("node 1's log of the refusals:\n%s", n1.logs.String())
	}
	for _, e := range n1.auditAll() {
		if strings.HasPrefix(e.Credential, "node:") && e.Outcome != store.AuditOK {
			t.Errorf("a refused signed request was audited: %+v", e)
		}
	}

	// Forwarded once, answered where it arrived: node 3's request reaches
	// node 2, which does not hold the meeting, and answers itself (the
	// meeting is not on there) rather than passing it to node 1.
	n1.requests.Store(0)
	n2.checkErr(n2.signed(testClusterSecret, "node3", "local", time.Now(), "PUT", mute, `{"muted": true}`),
		409, wire.CodeMeetingNotStarted, "forwarded to a node that is not the home")
	var m struct{ Live wire.Live }
	r := n2.signed(testClusterSecret, "node3", "local", time.Now(), "GET", "/api/v1/meetings/"+id, "")
	r.decode(t, &m)
	if r.status != 200 || m.Live.Started || r.header.Get(NodeHeader) != "" {
		t.Errorf("forwarded GET at a node that is not the home: %d, started %v, %s %q", r.status, m.Live.Started, NodeHeader, r.header.Get(NodeHeader))
	}
	var l wire.LiveList
	r = n2.signed(testClusterSecret, "node3", "local", time.Now(), "GET", "/api/v1/live", "")
	r.decode(t, &l)
	if r.status != 200 || len(l.Meetings) != 0 || len(l.UnansweredNodes) != 0 {
		t.Errorf("forwarded GET /live at node 2: %d %s", r.status, r.body)
	}
	if n := n1.requests.Load(); n != 0 {
		t.Errorf("node 1 got %d requests: a forwarded request was forwarded again", n)
	}

	// A node whose cluster.networks do not hold the source refuses it unread.
	far := &env{t: t, dir: n1.dir, live: &fakeLive{}, logs: &syncBuffer{}, client: n1.client}
	fh, err := NewHandler(Options{Directory: far.dir, Token: testToken, Live: far.live, Logger: zerolog.New(far.logs),
		Cluster: &Cluster{Node: "node5", Secret: testClusterSecret, Peers: &fakePeers{}, Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	if err != nil {
		t.Fatal(err)
	}
	far.srv = httptest.NewServer(fh)
	t.Cleanup(far.srv.Close)
	r = (&node{env: far}).signed(testClusterSecret, "node2", "alice", time.Now(), "GET", "/api/v1/meetings/"+id, "")
	far.checkErr(r, 401, wire.CodeUnauthorized, "a claim from outside cluster.networks")
	if !strings.Contains(far.logs.String(), "not from cluster.networks") {
		t.Errorf("the refusal's log:\n%s", far.logs.String())
	}

	// A node alone takes no claim at all.
	alone := newEnv(t)
	r = (&node{env: alone}).signed(testClusterSecret, "node2", "alice", time.Now(), "GET", "/api/v1/meetings/"+id, "")
	alone.checkErr(r, 401, wire.CodeUnauthorized, "a claim at a node alone")
}

// GET /live on any node lists every live node's meetings, once each, in
// order; a node that does not answer within a second is named.
func TestClusterLive(t *testing.T) {
	nodes := clusterNodes(t, "node1", "node2")
	n1, n2 := nodes[0], nodes[1]
	a := n1.enable("ada@example.com").User.ConferenceID
	b := n1.enable("bob@example.com").User.ConferenceID
	c := n1.enable("carol@example.com").User.ConferenceID
	n1.live.set(a, wire.Live{Started: true, Participants: []wire.Participant{{ID: "m1", Role: "organizer"}}})
	n2.live.set(b, wire.Live{Lobby: []wire.LobbyCaller{{ID: "l1"}}})
	// c split over both (the database was out of reach): the node with
	// the most callers is listed.
	n1.live.set(c, wire.Live{Started: true, Participants: []wire.Participant{{ID: "m2"}}})
	n2.live.set(c, wire.Live{Started: true, Participants: []wire.Participant{{ID: "m3"}, {ID: "m4"}}})

	stuck := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stuck:
		}
	}))
	t.Cleanup(silent.Close)
	t.Cleanup(func() { close(stuck) })
	n2.peers.peers = append(n2.peers.peers, Peer{Node: "node3", AdminURL: silent.URL}, Peer{Node: "node4"})

	var l wire.LiveList
	r := n2.call("GET", "/api/v1/live", "")
	r.decode(t, &l)
	var ids []string
	for _, m := range l.Meetings {
		ids = append(ids, m.ConferenceID+":"+strconv.Itoa(callers(m)))
	}
	want := []string{a + ":1", b + ":1", c + ":2"}
	slices.SortFunc(want, strings.Compare)
	if r.status != 200 || !slices.Equal(ids, want) || !slices.Equal(l.UnansweredNodes, []string{"node3", "node4"}) {
		t.Errorf("GET /live on node 2: %d, meetings %v (want %v), unanswered %v (want node3, node4)", r.status, ids, want, l.UnansweredNodes)
	}
	for _, m := range l.Meetings {
		if m.ConferenceID == a && m.Organizer != "ada@example.com" {
			t.Errorf("node 1's meeting as node 2 lists it: %+v", m)
		}
	}

	// A node alone says nothing of nodes.
	alone := newEnv(t)
	if r := alone.must(200, "GET", "/api/v1/live", ""); strings.Contains(string(r.body), "unanswered_nodes") {
		t.Errorf("GET /live of a node alone: %s", r.body)
	}
}

// The forwarded routes are routes, and the meeting's.
func TestClusterForwardedRoutes(t *testing.T) {
	routes := map[string]bool{}
	for _, rt := range (&api{}).routes() {
		routes[rt.method+" "+rt.path] = true
	}
	for p := range forwardedRoutes {
		if !routes[p] {
			t.Errorf("forwarded route %s is no route", p)
		}
		if p != "GET /api/v1/live" && !strings.Contains(p, "{conference_id}") {
			t.Errorf("forwarded route %s names no meeting", p)
		}
	}
}
