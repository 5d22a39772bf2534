package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/testphone"
)

// End-to-end tests of three nodes behind Kamailio (cluster_harness_test.go):
// what a caller gets when a node dies or drains.

// clusterCall dials the cluster, waits for the IVR's welcome and returns
// the call with the index of the node that answered it.
func clusterCall(t *testing.T, c *kamCluster) (*testphone.Call, int) {
	t.Helper()
	call := c.Dial(t, testphone.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call.WaitForAudio(ctx, 300*time.Millisecond); err != nil {
		t.Fatalf("no welcome heard on a call through kamailio: %v", err)
	}
	return call, c.AnsweredBy(t, call, 5*time.Second)
}

// hangUp ends a call from the phone's side.
func hangUp(t *testing.T, call *testphone.Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("hang up: %v", err)
	}
}

// spread calls the cluster until every node has answered one (round robin
// takes as many calls as nodes; a few more are allowed) and hangs them up.
func spread(t *testing.T, c *kamCluster) {
	t.Helper()
	answered := make([]int, len(c.Nodes))
	seen := 0
	for range 2 * len(c.Nodes) {
		call, i := clusterCall(t, c)
		hangUp(t, call)
		if answered[i] == 0 {
			seen++
		}
		answered[i]++
		if seen == len(c.Nodes) {
			t.Logf("calls answered per node: %v", answered)
			return
		}
	}
	t.Fatalf("calls answered per node: %v; round robin left a node out", answered)
}

// TestClusterNodeLoss: with calls spread over the three nodes, node 2 is
// killed (-9). Kamailio marks it inactive, and a new call is answered by a
// surviving node with the IVR's welcome, both within 5 s of the kill
// (issue 17: pings every second, a node down after one unanswered ping, a
// call that its node does not answer tried on the next); then every new
// call is answered by a survivor.
func TestClusterNodeLoss(t *testing.T) {
	t.Parallel()
	c := startKamailioCluster(t, clusterOptions{ExtraYAML: func(int) string {
		// The last call is hung up by its node.
		return fmt.Sprintf("limits: {max_call_duration: %v}\n", lossMaxCall)
	}})
	spread(t, c)

	const dead = 1
	killed := time.Now()
	c.Kill(t, dead)
	inactive := c.WatchInactive(dead, killed, 5*time.Second)
	// As many calls as nodes right away: round robin hands one of them to
	// the dead node unless Kamailio has marked it inactive already; that
	// call's INVITE then times out (fr_timer, 2 s) and goes to the next node.
	var first, slowest time.Duration
	for i := range len(c.Nodes) {
		dialled := time.Now()
		call, node := clusterCall(t, c)
		if i == 0 {
			first = time.Since(killed)
		}
		slowest = max(slowest, time.Since(dialled))
		if node == dead {
			t.Fatalf("the dead node answered")
		}
		hangUp(t, call)
	}
	marked := inactive(t)
	udp, tcp := c.NodeFlags(t, dead)
	retried := c.Kamailio.logged("no answer from", c.Nodes[dead].IP)
	t.Logf("after kill -9 of node %d: the first new call answered (welcome heard) in %v; the slowest of %d calls in a row took %v "+
		"(one sent to the dead node and retried on another: %v); kamailio marked node %d inactive in %v (flags UDP %s, TCP %s)",
		dead+1, first.Round(time.Millisecond), len(c.Nodes), slowest.Round(time.Millisecond), retried,
		dead+1, marked.Round(time.Millisecond), udp, tcp)
	if first > 5*time.Second {
		t.Errorf("the first call after the kill took %v to be answered, over 5 s", first)
	}
	if slowest > 5*time.Second {
		t.Errorf("a call dialled after the kill took %v to be answered, over 5 s", slowest)
	}

	for i := range 4 {
		call, node := clusterCall(t, c)
		if node == dead {
			t.Fatalf("the dead node answered")
		}
		if i < 3 {
			hangUp(t, call)
			continue
		}
		// The node's BYE (limits.max_call_duration) comes back through
		// Kamailio by the recorded route, from a bridge's address.
		waitEnded(t, call, lossMaxCall+5*time.Second)
		if !call.HungUpByRemote() {
			t.Errorf("the call ended without its node's BYE")
		}
		c.Nodes[node].WaitLog(t, allOf(ofCall(call, "call ended"), fieldIs("reason", "maximum call duration reached")), 5*time.Second)
	}
	for i, n := range c.Nodes {
		if i != dead {
			assertNoErrorLogs(t, n.bridgeProcess)
		}
	}
}

// lossMaxCall is the node-loss test's limits.max_call_duration: longer
// than its calls but the last, which waits for it.
const lossMaxCall = 4 * time.Second

// drainGrace is the drain test's limits.shutdown_grace: longer than the
// test, so that the call in progress ends by its caller, not by the grace.
const drainGrace = 60 * time.Second

// TestClusterDrain: SIGTERM to node 1 while a call on it is up. Kamailio
// marks it inactive within a few seconds (its pings get 503); new calls
// are answered by the other nodes and never reach node 1; the call in
// progress keeps its media until its caller hangs up, and node 1 then
// exits cleanly without waiting for the rest of its grace.
func TestClusterDrain(t *testing.T) {
	t.Parallel()
	c := startKamailioCluster(t, clusterOptions{ExtraYAML: func(int) string {
		// The call in progress waits in the IVR for its first key.
		return fmt.Sprintf("limits: {shutdown_grace: %v}\nivr: {first_digit_timeout: %v}\n", drainGrace, drainGrace)
	}})
	// Node 1 is drained: round robin hands it one of the first calls.
	const draining = 0
	var call *testphone.Call
	for range len(c.Nodes) {
		next, node := clusterCall(t, c)
		if node == draining {
			call = next
			break
		}
		hangUp(t, next)
	}
	if call == nil {
		t.Fatalf("round robin gave node %d none of %d calls", draining+1, len(c.Nodes))
	}

	termed := time.Now()
	c.Terminate(t, draining)
	c.Nodes[draining].WaitLog(t, msgIs("shutting down: refusing new calls"), 5*time.Second)
	inactive := c.WaitInactive(t, draining, termed, 5*time.Second)
	t.Logf("after SIGTERM of node %d: kamailio marked it inactive in %v", draining+1, inactive.Round(time.Millisecond))
	// The draining node says so to an HTTP health check too.
	if status, body := httpGet(t, c.Nodes[draining].API+"/readyz"); status != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("the draining node's /readyz: %d %q, want 503 shutting down", status, body)
	}

	for range 3 {
		other, node := clusterCall(t, c)
		if node == draining {
			t.Fatalf("a new call was answered by the draining node %d", node+1)
		}
		hangUp(t, other)
	}
	if n := c.Nodes[draining].CountLogs(msgIs("refused: shutting down")); n != 0 {
		t.Errorf("the draining node refused %d new calls: kamailio still sent it some after marking it inactive", n)
	}

	// The call in progress still hears the bridge (the IVR's silence as it
	// waits for a key is RTP too) and the bridge still hears it.
	before := call.Received().Packets
	time.Sleep(time.Second)
	if got := call.Received().Packets - before; got < 25 {
		t.Errorf("the call in progress on the draining node got %d RTP packets in 1 s, want about 50", got)
	}
	if c.Exited(draining) {
		t.Fatal("the draining node exited with a call in progress, before its grace")
	}
	hangUp(t, call)
	c.Nodes[draining].WaitLog(t, allOf(ofCall(call, "call ended"), fieldIs("reason", "caller hung up")), 5*time.Second)
	select {
	case <-c.Nodes[draining].exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the draining node did not exit within 10 s of its last call")
	}
	if err := c.Nodes[draining].Stop(); err != nil {
		t.Errorf("the drained node exited with %v", err)
	}
	drained := time.Since(termed)
	if drained > drainGrace {
		t.Errorf("the drain took %v, the whole grace", drained)
	}
	t.Logf("node %d drained and exited %v after SIGTERM (its call hung up by the caller)", draining+1, drained.Round(time.Millisecond))
	for _, n := range c.Nodes {
		assertNoErrorLogs(t, n.bridgeProcess)
	}
}
