package main

import (
	"strings"
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

// TestCLIUserSetPINLength: dialin user set --pin-length gives one user
// longer generated PINs from the next reset; 0 goes back to the setting.
func TestCLIUserSetPINLength(t *testing.T) {
	t.Parallel()
	_, c := startAdminBridge(t, "demo_organizer: false")
	c.ok("user", "enable", "ada@example.com", "--no-email")
	out := c.ok("user", "set", "ada@example.com", "--pin-length", "8")
	if !outLine(out, "PIN length", "8 digits for generated PINs, from the next reset (dialin pin reset ada@example.com)") {
		t.Errorf("user set:\n%s", out)
	}
	if out := c.ok("user", "show", "ada@example.com"); !outLine(out, "PIN policy", "length 8") {
		t.Errorf("user show:\n%s", out)
	}
	checkPIN(t, outField(t, c.ok("pin", "reset", "ada@example.com", "--no-email"), "PIN"), 8)
	if stderr := c.fails(1, "user", "set", "ada@example.com", "--pin-length", "13"); !strings.Contains(stderr, "pin_length") {
		t.Errorf("--pin-length 13: %s", stderr)
	}
	c.fails(2, "user", "set", "ada@example.com")
	c.fails(2, "user", "set", "ada@example.com", "--pin-length", "eight")
	c.ok("user", "set", "ada@example.com", "--pin-length", "0")
	checkPIN(t, outField(t, c.ok("pin", "reset", "ada@example.com", "--no-email"), "PIN"), 5)
}
