package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/wire"
)

// The admin API on any node sees the whole cluster: the meeting is homed
// on node 1 (its organizer dialled there) and an attendee who dialled
// node 2 was moved there; node 2's API shows both, mutes and removes the
// attendee (node 1's bridge acts; the shared audit names node 2), and
// lists the meeting among the live ones.
func TestClusterAdminAnyNode(t *testing.T) {
	node1, node2, id, pin, ctx := clusterSetup(t)
	cli2 := apiCLI{t: t, url: apiURL(t, node2), token: testAdminToken}

	_, orgID := meetOrganizer(t, ctx, node1, id, pin, "+14255550100")
	bob := meetDial(t, ctx, node2, id, "+14255550177")[0]
	bobID, _ := movedJoined(t, node2, node1, bob)["member"].(string)
	if bobID == "" {
		t.Fatal("no member id of the moved attendee")
	}

	// dialin meeting show through node 2: everyone on node 1.
	out := cli2.ok("meeting", "show", id)
	for _, want := range []string{orgID, bobID, "organizer", "attendee", "0177"} {
		if !strings.Contains(out, want) {
			t.Errorf("meeting show through node 2: no %q in\n%s", want, out)
		}
	}
	var m struct{ Live wire.Live }
	cli2.okJSON(&m, "meeting", "show", id)
	if got := meetParticipantIDs(m.Live); len(got) != 2 || !m.Live.Started {
		t.Errorf("meeting show --json through node 2: started %v, participants %v; want %s and %s", m.Live.Started, got, orgID, bobID)
	}

	// Mute through node 2: node 1's bridge mutes him.
	cli2.ok("meeting", "mute", id, bobID)
	if !meetMuted(t, meetGet(t, node1, id), bobID) {
		t.Error("node 1 does not show the attendee muted through node 2")
	}

	// GET /api/v1/live on node 2 lists the meeting; every node answered.
	var live wire.LiveList
	ivrAPI(t, node2, 200, "GET", "/api/v1/live", "", &live)
	if len(live.Meetings) != 1 || live.Meetings[0].ConferenceID != id || live.Meetings[0].Live == nil ||
		len(live.Meetings[0].Live.Participants) != 2 || len(live.UnansweredNodes) != 0 {
		t.Errorf("GET /api/v1/live on node 2: %+v", live)
	}

	// Remove through node 2: node 1 hangs up his leg, node 2 his call.
	leg := movedLegCallID(t, node1, bob)
	cli2.ok("meeting", "remove", id, bobID)
	l := node1.WaitLog(t, allOf(msgIs("bridge ends the call"), fieldIs("call_id", leg)), 5*time.Second)
	if l["reason"] != "removed" {
		t.Errorf("node 1 ends the attendee's leg for %v, want removed", l["reason"])
	}
	waitEnded(t, bob, 15*time.Second)
	if !bob.HungUpByRemote() {
		t.Error("the removed attendee got no BYE")
	}
	if got := meetParticipantIDs(meetGet(t, node1, id)); len(got) != 1 || got[0] != orgID {
		t.Errorf("after the removal node 1 lists %v, want %s", got, orgID)
	}

	// The audit on node 1: who acted, through which node, once each.
	var page wire.AuditPage
	ivrAPI(t, node1, 200, "GET", "/api/v1/audit?limit=1000", "", &page)
	n := map[string]int{}
	for _, e := range page.Entries {
		if e.Action != "meeting.mute" && e.Action != "meeting.remove" {
			continue
		}
		n[e.Action]++
		if !strings.HasPrefix(e.Credential, "node:node2/") || e.Outcome != "ok" || !strings.Contains(e.Target, bobID) {
			t.Errorf("audit entry %s: credential %q, outcome %s, target %q; want node:node2/..., ok, participant %s",
				e.Action, e.Credential, e.Outcome, e.Target, bobID)
		}
	}
	if n["meeting.mute"] != 1 || n["meeting.remove"] != 1 {
		t.Errorf("audit entries: %v, want one mute and one remove", n)
	}
}
