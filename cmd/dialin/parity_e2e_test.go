package main

import (
	"testing"
	"time"

	"github.com/dialin/dialin/internal/testphone"
)

// TestE2EMeetingListSaysWhatACallDoes: dialin meeting list shows a static
// ID as requiring its organizer exactly when a real call to it is asked for
// the organizer's PIN, before and after anonymous-can-start changes.
func TestE2EMeetingListSaysWhatACallDoes(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	c := apiCLI{t: t, url: apiURL(t, b), token: testAdminToken}
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)
	for _, tc := range []struct {
		anonymousCanStart, require string
	}{{"off", "true"}, {"on", "false"}} {
		c.ok("settings", "set", "anonymous-can-start", tc.anonymousCanStart)
		var ms []struct {
			ConferenceID     string `json:"conference_id"`
			Static           bool   `json:"static"`
			RequireOrganizer bool   `json:"require_organizer"`
		}
		c.okJSON(&ms, "meeting", "list")
		if len(ms) != 1 || !ms[0].Static || ms[0].ConferenceID != id || fmtBool(ms[0].RequireOrganizer) != tc.require {
			t.Fatalf("anonymous-can-start %s: meeting list %+v, want require_organizer %s", tc.anonymousCanStart, ms, tc.require)
		}
		want := map[string]string{"true": "yes (settings)", "false": "no (settings)"}[tc.require]
		if out := c.ok("meeting", "show", id); !outLine(out, "require organizer", want) {
			t.Errorf("meeting show with anonymous-can-start %s:\n%s", tc.anonymousCanStart, out)
		}
		call := dial(t, b, testphone.Options{})
		ivrKeys(t, ctx, call, id)
		b.WaitLog(t, allOf(ofCall(call, "conference ID found"), fieldIs("conference_id", id),
			fieldIs("require_organizer", tc.require)), 5*time.Second)
		ivrHangup(t, b, call)
	}
}

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
