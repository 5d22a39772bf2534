package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/media/prompts"
)

// Cluster nodes in these tests: two bridge processes on one PostgreSQL
// database, each its own SIP port on loopback, with the same cluster
// secret. (The three-node tests behind Kamailio use the same keys.)
const testClusterSecret = "0123456789abcdef0123456789abcdef-test"

func clusterNodeYAML(node string) string {
	return fmt.Sprintf(`store: {driver: postgres, dsn: "${DIALIN_PG_DSN}"}
cluster: {secret: %q, node_id: %s, networks: [127.0.0.0/8], lease: 2s}
`, testClusterSecret, node)
}

// startClusterPair starts two cluster nodes on a new database, with the
// meeting settings of the meeting tests (no join tones, short IVR waits)
// and automatic lobby admission; it returns them and an organizer's
// conference ID and PIN.
func startClusterPair(t *testing.T) (node1, node2 *bridgeProcess, id, pin string) {
	t.Helper()
	nodes, id, pin := startClusterNodes(t, 2)
	return nodes[0], nodes[1], id, pin
}

// startClusterNodes is startClusterPair with n nodes (node1, node2, ...).
func startClusterNodes(t *testing.T, n int) (nodes []*bridgeProcess, id, pin string) {
	t.Helper()
	return startClusterNodesWith(t, n, func(int) string { return "" })
}

// startClusterNodesWith is startClusterNodes with extra(i) in node i's
// configuration (i from 1).
func startClusterNodesWith(t *testing.T, n int, extra func(i int) string) (nodes []*bridgeProcess, id, pin string) {
	t.Helper()
	t.Setenv("DIALIN_PG_DSN", pg.Get(t).NewDatabase(t))
	t.Setenv("DIALIN_PIN_SECRET", strings.Repeat("5a", 32))
	for i := 1; i <= n; i++ {
		cfg, err := mergeConfig(meetConfig(t)+clusterNodeYAML(fmt.Sprintf("node%d", i)), extra(i))
		if err != nil {
			t.Fatal(err)
		}
		data, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b := startBridge(t, string(data))
		b.WaitLog(t, msgIs("cluster node"), 10*time.Second)
		nodes = append(nodes, b)
	}
	id, pin = ivrOrganizer(t, nodes[0], "ada@example.com")
	meetSettings(t, nodes[0], `{"lobby_admission": "auto"}`)
	return nodes, id, pin
}

// sigkillBridge kills a bridge process as a crash would (SIGKILL): no
// shutdown, no BYE, no lease released.
func sigkillBridge(b *bridgeProcess) {
	b.stopOnce.Do(func() {
		_ = b.cmd.Process.Kill()
		<-b.exited
	})
}

// movedJoined waits until a caller whose IVR ran on from has joined the
// meeting on home: from moved its media, home took the inter-node call
// and joined it. It returns the leg's member line on home.
func movedJoined(t *testing.T, from, home *bridgeProcess, call *testphone.Call) map[string]any {
	t.Helper()
	from.WaitLog(t, ofCall(call, "media moved to the meeting's home node"), 15*time.Second)
	leg := home.WaitLog(t, allOf(msgIs("inter-node call"), fieldIs("origin_call_id", call.CallID())), 5*time.Second)
	return home.WaitLog(t, allOf(msgIs("caller joined the meeting"), fieldIs("call_id", fmt.Sprint(leg["call_id"]))), 5*time.Second)
}

// One meeting, whichever node answered: the organizer on node 1 starts
// it there (its home); two attendees dial node 2, whose IVR finds the
// meeting and moves their media to node 1. Everyone hears everyone but
// themselves, as on one node.
func TestClusterMeetingAcrossNodes(t *testing.T) {
	node1, node2, id, pin, ctx := clusterSetup(t)

	org, _ := meetOrganizer(t, ctx, node1, id, pin, "organizer")
	orgAt := time.Now()
	atts := meetDial(t, ctx, node2, id, "bob", "carol")
	bob, carol := atts[0], atts[1]
	for _, c := range atts {
		l := movedJoined(t, node2, node1, c)
		if l["role"] != "attendee" || l["waiting"] != false {
			t.Fatalf("moved caller joined as %v, waiting %v; want attendee, false", l["role"], l["waiting"])
		}
		if c.Reinvited() != 1 {
			t.Errorf("%s: %d re-INVITEs, want 1 (the move)", c.CallID(), c.Reinvited())
		}
	}
	joinedAt := time.Now()
	meetQuiet(t, org, orgAt, prompts.Joining, prompts.OnlyParticipant)
	meetQuiet(t, bob, joinedAt, prompts.Joining)
	meetQuiet(t, carol, joinedAt, prompts.Joining)

	recs := meetRound(t, ctx, []meetTone{{org, 1000}}, org, bob, carol)
	meetHears(t, "bob (node 2)", recs[bob], 1000, meetHeardAlone)
	meetHears(t, "carol (node 2)", recs[carol], 1000, meetHeardAlone)
	meetNotHears(t, "the organizer (its own tone)", recs[org], 1000)

	recs = meetRound(t, ctx, []meetTone{{org, 1000}, {bob, 1500}}, org, bob, carol)
	meetHears(t, "the organizer", recs[org], 1500, meetHeardAlone)
	meetNotHears(t, "the organizer (its own tone)", recs[org], 1000)
	meetHears(t, "bob", recs[bob], 1000, meetHeardAlone)
	meetNotHears(t, "bob (its own tone)", recs[bob], 1500)
	meetHears(t, "carol", recs[carol], 1000, meetHeardMixed)
	meetHears(t, "carol", recs[carol], 1500, meetHeardMixed)

	// The meeting is node 1's: its live status counts all three.
	if l := meetGet(t, node1, id); len(l.Participants) != 3 {
		t.Errorf("node 1 lists %d participants, want 3", len(l.Participants))
	}
	// Bob hangs up on node 2: node 2 ends the leg, node 1 sees him leave.
	bobLeg := movedLegCallID(t, node1, bob)
	ivrHangup(t, node2, bob)
	node1.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", bobLeg)), 5*time.Second)
}

// clusterSetup is startClusterPair with a context bounding the test.
func clusterSetup(t *testing.T) (node1, node2 *bridgeProcess, id, pin string, ctx context.Context) {
	t.Helper()
	node1, node2, id, pin = startClusterPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return node1, node2, id, pin, ctx
}

// movedLegCallID is the Call-ID of the inter-node call home took for call.
func movedLegCallID(t *testing.T, home *bridgeProcess, call *testphone.Call) string {
	t.Helper()
	l := home.WaitLog(t, allOf(msgIs("inter-node call"), fieldIs("origin_call_id", call.CallID())), 5*time.Second)
	return fmt.Sprint(l["call_id"])
}

// A meeting's home dies (kill -9) under callers moved there from the
// other two nodes: each of their nodes notices within a few seconds (the
// leg's probes), takes the caller's media back, tells them they are being
// joined again, and places them anew. The first claims the dead home's
// lease once it ends and starts the meeting (it was on), the other's
// caller moves there: the two keep talking to each other within 10 s.
// The organizer, whose call was on the dead node, is lost with it.
func TestClusterHomeLostCallersRejoin(t *testing.T) {
	nodes, id, pin := startClusterNodes(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	home := nodes[0]
	org, _ := meetOrganizer(t, ctx, home, id, pin, "organizer")
	bob := meetDial(t, ctx, nodes[1], id, "bob")[0]
	carol := meetDial(t, ctx, nodes[2], id, "carol")[0]
	movedJoined(t, nodes[1], home, bob)
	movedJoined(t, nodes[2], home, carol)
	_ = org

	killed := time.Now()
	sigkillBridge(home)
	for i, c := range []*testphone.Call{bob, carol} {
		l := nodes[i+1].WaitLog(t, ofCall(c, "cluster: the meeting's home node is gone: joining again"), 10*time.Second)
		t.Logf("node %d noticed the dead home %v after the kill", i+2, time.Since(killed).Round(time.Millisecond))
		_ = l
	}
	// Each is in the meeting again: on its own node (the new home) or
	// moved to it.
	rejoined := func(b *bridgeProcess, c *testphone.Call) bool {
		return b.CountLogs(allOf(ofCall(c, "caller joined the meeting"))) > 0 ||
			b.CountLogs(ofCall(c, "media moved to the meeting's home node")) > 1
	}
	deadline := time.Now().Add(10 * time.Second)
	for !(rejoined(nodes[1], bob) && rejoined(nodes[2], carol)) {
		if time.Now().After(deadline) {
			t.Fatalf("not both callers rejoined within 10 s of the kill")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("both callers rejoined %v after the kill", time.Since(killed).Round(time.Millisecond))
	time.Sleep(1500 * time.Millisecond) // the "joining" prompt
	recs := meetRound(t, ctx, []meetTone{{bob, 1000}}, bob, carol)
	meetHears(t, "carol (after the re-home)", recs[carol], 1000, meetHeardAlone)
	meetNotHears(t, "bob (its own tone)", recs[bob], 1000)
	recs = meetRound(t, ctx, []meetTone{{carol, 1500}}, bob, carol)
	meetHears(t, "bob (after the re-home)", recs[bob], 1500, meetHeardAlone)
}

// One lobby, one start, one *21 across nodes: an attendee dials node 2
// before the meeting is on and waits in its lobby (node 2 becomes the
// home); the organizer dials node 1, whose IVR takes the PIN and moves
// the call to node 2, which starts the meeting; the lobby waits (the
// organizer admits), and the organizer's *21, sent to node 2 in the
// moved media, admits the attendee. Node 1's IVR knew the meeting was
// on from the lease row: an attendee dialling node 1 then is not asked
// for the organizer's PIN.
func TestClusterLobbyAndAdmitAcrossNodes(t *testing.T) {
	nodes, id, pin := startClusterNodes(t, 2)
	node1, node2 := nodes[0], nodes[1]
	meetSettings(t, node1, `{"lobby_admission": "organizer"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)

	lob := meetDial(t, ctx, node2, id, "lobby")[0]
	meetJoined(t, node2, lob, true)
	if n := node2.CountLogs(ofCall(lob, "meeting not on: offering the organizer's PIN")); n != 1 {
		t.Errorf("node 2 offered the organizer's PIN %d times to the first caller, want once (the meeting was not on)", n)
	}

	org := dial(t, node1, testphone.Options{From: "organizer"})
	ivrKeys(t, ctx, org, id+"*"+pin+"#")
	l := movedJoined(t, node1, node2, org)
	if l["role"] != "organizer" || l["started_meeting"] != true {
		t.Fatalf("the moved organizer joined node 2 as %v, started_meeting %v; want organizer, true", l["role"], l["started_meeting"])
	}
	if live := meetGet(t, node2, id); !live.Started || len(live.Lobby) != 1 || len(live.Participants) != 1 {
		t.Fatalf("node 2's meeting: started %v, %d waiting, %d in; want on, 1, 1", live.Started, len(live.Lobby), len(live.Participants))
	}

	time.Sleep(1500 * time.Millisecond) // the organizer's joining prompt
	ivrKeys(t, ctx, org, "*21")
	meetAdmitted(t, node2, lob)
	admittedAt := time.Now()
	meetQuiet(t, lob, admittedAt, prompts.Joining)
	recs := meetRound(t, ctx, []meetTone{{org, 1000}}, lob, org)
	meetHears(t, "the admitted caller", recs[lob], 1000, meetHeardAlone)
	meetNotHears(t, "the organizer (its own tone)", recs[org], 1000)

	// The meeting is on (node 2 wrote it in the lease): node 1's IVR lets
	// the next attendee straight in, without the organizer's prompt.
	late := meetDial(t, ctx, node1, id, "late")[0]
	movedJoined(t, node1, node2, late)
	if n := node1.CountLogs(ofCall(late, "meeting not on: offering the organizer's PIN")); n != 0 {
		t.Errorf("node 1 offered the organizer's PIN for a meeting that was on")
	}
}

// A home that drains (SIGTERM) lets its meeting finish for its grace,
// then frees the meeting before it hangs up: the callers another node
// moved there are taken back by that node and placed anew, so the
// meeting goes on there (it was on: the new home starts it), and a
// caller dialling the other node meanwhile joins the same meeting.
func TestClusterHomeDrainsCallersRejoin(t *testing.T) {
	nodes, id, pin := startClusterNodesWith(t, 2, func(i int) string {
		if i == 1 {
			return "limits: {shutdown_grace: 3s}"
		}
		return ""
	})
	home, other := nodes[0], nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	meetOrganizer(t, ctx, home, id, pin, "organizer")
	bob := meetDial(t, ctx, other, id, "bob")[0]
	movedJoined(t, other, home, bob)

	stopped := make(chan error, 1)
	drained := time.Now()
	go func() { stopped <- home.Stop() }()
	home.WaitLog(t, msgIs("cluster: this node's meetings are free for other nodes"), 10*time.Second)
	other.WaitLog(t, ofCall(bob, "leg: the meeting's home node is stopping"), 5*time.Second)
	other.WaitLog(t, ofCall(bob, "caller joined the meeting"), 10*time.Second)
	other.WaitLog(t, msgIs("cluster: the meeting was on at a home that is gone: it goes on here"), time.Second)
	t.Logf("bob was in the meeting on node 2 %v after node 1's SIGTERM (grace 3 s)", time.Since(drained).Round(time.Millisecond))
	if err := <-stopped; err != nil {
		t.Errorf("node 1 did not stop cleanly: %v", err)
	}

	carol := meetDial(t, ctx, other, id, "carol")[0]
	other.WaitLog(t, ofCall(carol, "caller joined the meeting"), 15*time.Second)
	meetQuiet(t, carol, time.Now(), prompts.Joining)
	recs := meetRound(t, ctx, []meetTone{{carol, 1000}}, bob, carol)
	meetHears(t, "bob (rejoined on node 2)", recs[bob], 1000, meetHeardAlone)
	meetNotHears(t, "carol (its own tone)", recs[carol], 1000)
}
