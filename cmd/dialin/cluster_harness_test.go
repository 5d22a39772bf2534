package main

// A cluster for end-to-end tests, as issue 17 runs it: one PostgreSQL
// database, N bridge processes (default 3) on 127.0.0.2, 127.0.0.3, ...
// (SIP over UDP and TCP, RTP, admin API and metrics each on its node's own
// address), and one Kamailio on 127.0.0.1 whose dispatcher spreads new
// calls over the nodes round robin, pinging each with OPTIONS every second:
// the production deploy/kamailio/kamailio.cfg, set for loopback
// (productionKamailio). The test phones dial Kamailio.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dialin/dialin/internal/testphone"
)

// clusterOptions shape a cluster; the zero value is three nodes.
type clusterOptions struct {
	Nodes int // default 3
	// ExtraYAML, when set, is merged over node i's configuration (i from
	// 0): e.g. its cluster: section, or longer IVR timeouts.
	ExtraYAML func(i int) string
}

// kamCluster is a running one: Nodes[i] is on 127.0.0.(i+2).
type kamCluster struct {
	Nodes    []*clusterNode
	Kamailio *kamailioProcess
	DSN      string // the nodes' PostgreSQL database
}

// clusterNode is one bridge process of a cluster.
type clusterNode struct {
	*bridgeProcess
	IP      string // its loopback address, e.g. 127.0.0.2
	API     string // its admin API's URL (token testAdminToken; /readyz too)
	Metrics string // its metrics listener's URL
}

// clusterNodeConfig is every node's configuration before ExtraYAML: on its
// own address, the shared database and PIN secret, no demo organizer, the
// quick IVR of ivrBridgeConfig.
const clusterNodeConfig = `
demo_organizer: false
sip:
  listen: ["udp:{{IP}}:0", "tcp:{{IP}}:0"]
admin: {listen: "{{IP}}:0", token: ` + testAdminToken + `}
metrics: {listen: "{{IP}}:0"}
store: {driver: postgres, dsn: "{{DSN}}"}
pin_secret_file: "{{SECRET}}"
ivr:
  first_digit_timeout: 3s
  inter_digit_timeout: 2s
  organizer_wait: 1s
`

// startKamailioCluster starts a cluster and waits until Kamailio has found every
// node alive (both transports); everything stops when the test ends.
func startKamailioCluster(t *testing.T, opts clusterOptions) *kamCluster {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	started := time.Now()
	c := &kamCluster{DSN: pg.Get(t).NewDatabase(t)}
	// The nodes share the PIN secret (each has a data folder of its own).
	secret := filepath.Join(t.TempDir(), "pin-secret")
	if err := os.WriteFile(secret, []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var list strings.Builder
	list.WriteString("# setid destination flags priority: flags 1, inactive until its OPTIONS is answered\n")
	var tcp []string
	for i := range opts.Nodes {
		ip := fmt.Sprintf("127.0.0.%d", i+2)
		yml := strings.NewReplacer("{{IP}}", ip, "{{DSN}}", c.DSN, "{{SECRET}}", secret).Replace(clusterNodeConfig)
		if opts.ExtraYAML != nil {
			yml = mergeYAML(t, yml, opts.ExtraYAML(i))
		}
		// One at a time: the first migrates the database.
		n := &clusterNode{bridgeProcess: startBridge(t, yml), IP: ip}
		n.API = listenURL(t, n.bridgeProcess, "admin API ready", ip)
		n.Metrics = listenURL(t, n.bridgeProcess, "metrics ready", ip)
		c.Nodes = append(c.Nodes, n)
		fmt.Fprintf(&list, "1 sip:%s:%d 1 0\n", ip, n.SIPPort)
		tcp = append(tcp, fmt.Sprintf("2 sip:%s:%d;transport=tcp 1 0\n", ip, n.SIPPort))
	}
	list.WriteString(strings.Join(tcp, ""))
	c.Kamailio = startKamailioWith(t, kamailioSetup{Render: productionKamailio, List: list.String(), Active: 2 * opts.Nodes})
	t.Logf("cluster of %d nodes up in %v", opts.Nodes, time.Since(started).Round(time.Millisecond))
	return c
}

// productionKamailio is deploy/kamailio/kamailio.cfg with what its
// comments say to change set for the test (Kamailio and the test phones on
// 127.0.0.1, on port), logging to stderr and its ctl socket in dir (for
// kamcmd). Each change must find its line: the test runs the production
// file, not a copy of it that could drift.
func productionKamailio(t *testing.T, port int, dir string) string {
	t.Helper()
	data, err := os.ReadFile(productionKamailioCfg)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, r := range [][2]string{
		{`"!PROXY_IP!192.0.2.10!g"`, `"!PROXY_IP!127.0.0.1!g"`},
		{`"!CARRIER_NET!203.0.113.0/24!g"`, `"!CARRIER_NET!127.0.0.1/32!g"`},
		{`"!DISPATCHER_LIST!/etc/kamailio/dispatcher.list!g"`, `"!DISPATCHER_LIST!` + filepath.Join(dir, "dispatcher.list") + `!g"`},
		{"listen=udp:PROXY_IP:5060", fmt.Sprintf("listen=udp:PROXY_IP:%d", port)},
		{"listen=tcp:PROXY_IP:5060", fmt.Sprintf("listen=tcp:PROXY_IP:%d", port)},
		{"log_stderror=no", "log_stderror=yes"},
		{`loadmodule "ctl.so"`, `loadmodule "ctl.so"` + "\nmodparam(\"ctl\", \"binrpc\", \"unix:" + filepath.Join(dir, "kamailio_ctl") + "\")"},
	} {
		if strings.Count(text, r[0]) != 1 {
			t.Fatalf("%s has no line %s (once) for the test to change", productionKamailioCfg, r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	return text
}

const productionKamailioCfg = "../../deploy/kamailio/kamailio.cfg"

// mergeYAML is extra merged over base (maps key by key), as YAML.
func mergeYAML(t *testing.T, base, extra string) string {
	t.Helper()
	cfg, err := mergeConfig(base, extra)
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// listenURL is the url field of the bridge's log line msg, which must be
// on ip.
func listenURL(t *testing.T, b *bridgeProcess, msg, ip string) string {
	t.Helper()
	l := b.WaitLog(t, msgIs(msg), 10*time.Second)
	u, _ := l["url"].(string)
	if !strings.HasPrefix(u, "http://"+ip+":") {
		t.Fatalf("%s: url = %q, want one on %s", msg, u, ip)
	}
	return u
}

// Target is the request URI that reaches the cluster through Kamailio.
func (c *kamCluster) Target() string {
	return fmt.Sprintf("sip:conference@127.0.0.1:%d", c.Kamailio.Port)
}

// Dial calls the cluster through Kamailio (opts.Target is set to it) and
// fails the test unless the call is answered.
func (c *kamCluster) Dial(t *testing.T, opts testphone.Options) *testphone.Call {
	t.Helper()
	opts.Target = c.Target()
	return dial(t, nil, opts)
}

// AnsweredBy waits up to within for a node to log that it answered call
// and returns that node's index. The Call-ID is the caller's: Kamailio, a
// proxy, relays it unchanged.
func (c *kamCluster) AnsweredBy(t *testing.T, call *testphone.Call, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for i, n := range c.Nodes {
			if n.CountLogs(ofCall(call, "call answered")) > 0 {
				return i
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no node logged that it answered call %s within %v", call.CallID(), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends node i with SIGKILL, as a crash or a power cut would, and
// waits for the process to be gone.
func (c *kamCluster) Kill(t *testing.T, i int) {
	t.Helper()
	n := c.Nodes[i]
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill -9 node %d: %v", i+1, err)
	}
	<-n.exited
	// Its cleanup's Stop would report the kill as an unclean exit: the
	// test meant it, so Stop now does nothing and reports nothing.
	n.stopOnce.Do(func() {})
}

// Terminate sends node i SIGTERM, which starts its drain (it returns at
// once; the node exits when its calls have ended or its grace is over).
func (c *kamCluster) Terminate(t *testing.T, i int) {
	t.Helper()
	if err := c.Nodes[i].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM node %d: %v", i+1, err)
	}
}

// Exited reports whether node i's process has ended.
func (c *kamCluster) Exited(i int) bool {
	select {
	case <-c.Nodes[i].exited:
		return true
	default:
		return false
	}
}

// dispatcher is Kamailio's view of each destination (its URI, e.g.
// "sip:127.0.0.2:5070;transport=tcp") and its flags: "AP" active, "IP"
// inactive, "TP" trying, with P while it is probed; read with kamcmd.
func (k *kamailioProcess) dispatcher() (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, k.kamcmd, "-s", k.ctl(), "dispatcher.list").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("kamcmd dispatcher.list: %w\n%s", err, out)
	}
	dests := map[string]string{}
	uri := ""
	for _, line := range strings.Split(string(out), "\n") {
		key, value, _ := strings.Cut(strings.TrimSpace(line), ": ")
		switch key {
		case "URI":
			uri = value
		case "FLAGS":
			if uri != "" {
				dests[uri] = value
				uri = ""
			}
		}
	}
	return dests, nil
}

// NodeFlags are the dispatcher's flags of node i's UDP and TCP
// destinations.
func (c *kamCluster) NodeFlags(t *testing.T, i int) (udp, tcp string) {
	t.Helper()
	udp, tcp, err := c.nodeFlags(i)
	if err != nil {
		t.Fatal(err)
	}
	return udp, tcp
}

func (c *kamCluster) nodeFlags(i int) (udp, tcp string, err error) {
	n := c.Nodes[i]
	dests, err := c.Kamailio.dispatcher()
	if err != nil {
		return "", "", err
	}
	uri := fmt.Sprintf("sip:%s:%d", n.IP, n.SIPPort)
	return dests[uri], dests[uri+";transport=tcp"], nil
}

func isActive(flags string) bool { return strings.HasPrefix(flags, "A") }

// WatchInactive polls Kamailio every 50 ms from now on, in the
// background, for node i to be marked inactive over both transports. Its
// result is how long after since that was seen, or an error after within
// (or if kamcmd fails); the test goes on meanwhile (calls, say).
func (c *kamCluster) WatchInactive(i int, since time.Time, within time.Duration) func(t *testing.T) time.Duration {
	type result struct {
		d   time.Duration
		err error
	}
	done := make(chan result, 1)
	go func() {
		for {
			udp, tcp, err := c.nodeFlags(i)
			switch {
			case err != nil:
				done <- result{err: err}
				return
			case !isActive(udp) && !isActive(tcp):
				done <- result{d: time.Since(since)}
				return
			case time.Since(since) > within:
				done <- result{err: fmt.Errorf("node %d still active in Kamailio's dispatcher %v after (flags UDP %s, TCP %s)",
					i+1, within, udp, tcp)}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func(t *testing.T) time.Duration {
		t.Helper()
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.d
	}
}

// WaitInactive waits until Kamailio has marked node i inactive over both
// transports and returns how long after since that was seen; it fails the
// test after within.
func (c *kamCluster) WaitInactive(t *testing.T, i int, since time.Time, within time.Duration) time.Duration {
	t.Helper()
	return c.WatchInactive(i, since, within)(t)
}
