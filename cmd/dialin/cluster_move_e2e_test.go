package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
	t.Setenv("DIALIN_PG_DSN", pg.Get(t).NewDatabase(t))
	t.Setenv("DIALIN_PIN_SECRET", strings.Repeat("5a", 32))
	node1 = startBridge(t, meetConfig(t)+clusterNodeYAML("node1"))
	node1.WaitLog(t, msgIs("cluster node"), 10*time.Second)
	node2 = startBridge(t, meetConfig(t)+clusterNodeYAML("node2"))
	node2.WaitLog(t, msgIs("cluster node"), 10*time.Second)
	id, pin = ivrOrganizer(t, node1, "ada@example.com")
	meetSettings(t, node1, `{"lobby_admission": "auto"}`)
	return node1, node2, id, pin
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
