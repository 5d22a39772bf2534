package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/internal/testphone"
)

// Two bridge processes on one PostgreSQL database are two nodes: a user
// enabled and its PIN reset through node 1's CLI, a phone dialling node 2
// gets in with the new PIN within a second or two (node 2's index heard
// of the change by LISTEN/NOTIFY), and is refused with the old one.
func TestPostgresNodesShareDirectory(t *testing.T) {
	t.Setenv("DIALIN_PG_DSN", pg.Get(t).NewDatabase(t))
	// The nodes share the PIN secret (each has a data folder of its own).
	t.Setenv("DIALIN_PIN_SECRET", strings.Repeat("5a", 32))
	const storeYAML = "store: {driver: postgres, dsn: \"${DIALIN_PG_DSN}\"}\n"
	node1, c1 := startAdminBridge(t, storeYAML)
	node2 := startBridge(t, ivrBridgeConfig+storeYAML)
	node2.WaitLog(t, allOf(msgIs("directory loaded"), fieldIs("store", "postgres")), 10*time.Second)
	apiURL(t, node1)

	var ada client.Change
	c1.okJSON(&ada, "user", "enable", "ada@example.com", "--no-email")
	var reset client.Change
	c1.okJSON(&reset, "pin", "reset", "ada@example.com", "--no-email")
	changed := time.Now()
	id := ada.User.ConferenceID

	ctx := ivrContext(t)
	call := dial(t, node2, testphone.Options{})
	ivrKeys(t, ctx, call, id+"*"+reset.PIN+"#")
	node2.WaitLog(t, ofCall(call, "organizer PIN accepted"), 10*time.Second)
	t.Logf("node 2 took the new PIN %v after the reset on node 1 (the IVR's prompts included)", time.Since(changed).Round(time.Millisecond))
	ivrHangup(t, node2, call)

	old := dial(t, node2, testphone.Options{})
	ivrKeys(t, ctx, old, id+"*"+ada.PIN+"#")
	node2.WaitLog(t, ofCall(old, "organizer PIN wrong"), 10*time.Second)
	if n := node2.CountLogs(ofCall(old, "organizer PIN accepted")); n != 0 {
		t.Errorf("node 2 accepted the old PIN")
	}
	ivrHangup(t, node2, old)
}
