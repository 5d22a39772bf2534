package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/internal/pgtest"
)

// pg is the PostgreSQL server of this package's tests, started by the
// first that needs it and stopped by TestMain.
var pg pgtest.Lazy

// The bridge on PostgreSQL: store.driver postgres with the DSN from the
// environment (${DIALIN_PG_DSN}), a user enabled through the CLI, the
// bridge restarted, the user still there; nothing of the directory in the
// data folder but the secrets.
func TestPostgresBridgeKeepsUsersAcrossRestart(t *testing.T) {
	t.Setenv("DIALIN_PG_DSN", pg.Get(t).NewDatabase(t)) // the bridge inherits the environment
	const storeYAML = "store: {driver: postgres, dsn: \"${DIALIN_PG_DSN}\"}\n"
	b, c := startAdminBridge(t, storeYAML)
	b.WaitLog(t, allOf(msgIs("directory loaded"), fieldIs("store", "postgres"), fieldIs("users", "0")), 10*time.Second)
	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com", "--name", "Ada Lovelace", "--no-email")
	checkPIN(t, ada.PIN, 5)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	// The PIN secret in the data folder is not beside the directory.
	if n := b.CountLogs(fieldHasPrefix("message", "the PIN secret sits beside the database")); n != 0 {
		t.Error("warned that the PIN secret sits beside a PostgreSQL database")
	}
	if _, err := os.Stat(filepath.Join(b.Dir, "data", "dialin.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite database in the data folder with store.driver postgres: %v", err)
	}

	again := startBridgeIn(t, b.Dir, udpOnlySIP+"admin: {token: "+testAdminToken+"}\n"+storeYAML)
	again.WaitLog(t, allOf(msgIs("directory loaded"), fieldIs("store", "postgres"), fieldIs("users", "1")), 10*time.Second)
	c2 := apiCLI{t: t, url: apiURL(t, again), token: testAdminToken}
	out := c2.ok("user", "show", "ada@example.com")
	for _, s := range []string{"Ada Lovelace", ada.User.ConferenceID} {
		if !strings.Contains(out, s) {
			t.Errorf("user show after the restart: no %q:\n%s", s, out)
		}
	}
	if countPIN(out, ada.PIN) != 0 {
		t.Errorf("user show shows the PIN:\n%s", out)
	}
	// The audit entry of the enable was written with it, in PostgreSQL.
	if out := c2.ok("audit", "list", "--user", "ada@example.com"); !strings.Contains(out, "user.enable") {
		t.Errorf("audit list after the restart:\n%s", out)
	}
}

// A DSN that names no server stops the start with one clear line that
// names the store, and never the password.
func TestPostgresBridgeRefusesBrokenDSN(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "dialin.yaml")
	yaml := "store: {driver: postgres, dsn: \"host=" + filepath.Join(dir, "nothing") + " user=dialin password=s3cret-pw dbname=dialin connect_timeout=2\"}\n" +
		"data_dir: " + filepath.Join(dir, "data") + "\nadmin: {listen: \"127.0.0.1:0\"}\nmetrics: {listen: \"127.0.0.1:0\"}\n" +
		"sip: {listen: [\"udp:127.0.0.1:0\"]}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "serve", "--config", cfg)
	if r.Code != 1 || !strings.Contains(r.Stdout+r.Stderr, "postgres: open") {
		t.Fatalf("serve with a broken DSN: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stdout+r.Stderr, "s3cret-pw") {
		t.Errorf("the password is shown:\n%s%s", r.Stdout, r.Stderr)
	}
}
