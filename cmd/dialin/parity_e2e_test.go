package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/store"
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

// TestE2EImportedConferenceIDWithoutCheckDigit: an ID from another system,
// imported with conference-id set --no-check-digit, is found by a real
// call and takes its organizer's PIN; a typo of it is looked up (not
// refused by its form) and not found; a plain set still asks for the check
// digit.
func TestE2EImportedConferenceIDWithoutCheckDigit(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	c := apiCLI{t: t, url: apiURL(t, b), token: testAdminToken}
	_, pin := ivrOrganizer(t, b, "ada@example.com")
	right := ivrValidID("271828")
	imported := "271828" + string('0'+(right[6]-'0'+1)%10)
	if stderr := c.fails(1, "conference-id", "set", "ada@example.com", imported, "--no-email"); !strings.Contains(stderr, "wrong check digit") {
		t.Fatalf("plain set of %s: %s", imported, stderr)
	}
	out := c.ok("conference-id", "set", "ada@example.com", imported, "--no-email", "--no-check-digit")
	if !strings.Contains(out, "conference ID imported (no check digit") {
		t.Errorf("import:\n%s", out)
	}
	if out := c.ok("meeting", "show", imported); !strings.Contains(out, "none (imported)") {
		t.Errorf("meeting show:\n%s", out)
	}
	ctx := ivrContext(t)
	org := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, org, imported)
	b.WaitLog(t, allOf(ofCall(org, "conference ID found"), fieldIs("conference_id", imported)), 5*time.Second)
	ivrKeys(t, ctx, org, "*"+pin+"#")
	b.WaitLog(t, ofCall(org, "organizer PIN accepted"), 5*time.Second)
	ivrHangup(t, b, org)

	// One digit off, with a wrong check digit too: once refused by its
	// form, now looked up because an ID without a check digit exists.
	typo := ""
	for d := byte('0'); d <= '9' && typo == ""; d++ {
		if w := imported[:2] + string(d) + imported[3:]; w != imported && !store.ValidConferenceID(w) {
			typo = w
		}
	}
	call := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, call, typo)
	b.WaitLog(t, allOf(ofCall(call, "conference ID not found"), fieldIs("attempt", "1")), 10*time.Second)
	ivrHangup(t, b, call)
}
