package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	kamailioCfg  = "kamailio/kamailio.cfg"
	kamailioList = "kamailio/dispatcher.list"
)

// TestKamailioConfig: the production proxy has what README promises
// (dispatcher pings, round robin with failover, Record-Route, in-dialog
// loose_route, 503 when no bridge is active), and `kamailio -c` passes it
// with its dispatcher list where the test put it.
func TestKamailioConfig(t *testing.T) {
	data, err := os.ReadFile(kamailioCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(data)
	for _, want := range []string{
		`modparam("dispatcher", "ds_ping_method", "OPTIONS")`, `modparam("dispatcher", "ds_ping_interval", 1)`,
		`modparam("dispatcher", "flags", 2)`, `ds_select_dst("$var(set)", "4")`, "ds_next_dst()",
		"record_route();", "loose_route()", `sl_send_reply("503"`, `modparam("tm", "fr_timer", 2000)`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("%s: no %s", kamailioCfg, want)
		}
	}
	if strings.Contains(cfg, "{{") || strings.Contains(cfg, "log_stderror=yes") {
		t.Errorf("%s has a test's template field or logs to stderr", kamailioCfg)
	}

	bin, err := exec.LookPath("kamailio")
	if err != nil {
		if bin = "/usr/sbin/kamailio"; !exists(bin) {
			t.Skip("SKIPPED LOUDLY: kamailio is not installed (scripts/install-test-deps.sh, Debian package kamailio); " +
				kamailioCfg + " is not checked")
		}
	}
	dir := t.TempDir()
	list := filepath.Join(dir, "dispatcher.list")
	copyFile(t, kamailioList, list)
	cfg = strings.Replace(cfg, "!/etc/kamailio/dispatcher.list!", "!"+list+"!", 1)
	path := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, time.Minute, dir, bin, "-c", "-f", path)
	if err != nil || !strings.Contains(stdout+stderr, "config file ok") {
		t.Fatalf("kamailio -c -f %s: %v\n%s%s", kamailioCfg, err, stdout, stderr)
	}
}

// TestDispatcherList: every destination is a SIP URI in set 1 (UDP) or
// set 2 (TCP), starting inactive (flags 1) until its first ping is
// answered, and the two sets name the same bridges.
func TestDispatcherList(t *testing.T) {
	data, err := os.ReadFile(kamailioList)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^([12]) (sip:[0-9A-Za-z.:\[\]-]+?)(;transport=tcp)? 1 0$`)
	sets := map[string][]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil || (m[1] == "2") != (m[3] != "") {
			t.Errorf("%s: %q is not `1 sip:HOST:PORT 1 0` or `2 sip:HOST:PORT;transport=tcp 1 0`", kamailioList, l)
			continue
		}
		sets[m[1]] = append(sets[m[1]], m[2])
	}
	if len(sets["1"]) == 0 || strings.Join(sets["1"], " ") != strings.Join(sets["2"], " ") {
		t.Errorf("%s: sets 1 (UDP) %v and 2 (TCP) %v differ", kamailioList, sets["1"], sets["2"])
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
