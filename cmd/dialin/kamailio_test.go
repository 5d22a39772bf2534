package main

// End-to-end tests with Kamailio as a stateful proxy in front of the
// bridge, as a carrier's SBC or an operator's proxy is in production: the
// config is testdata/kamailio (see its README.md), filled in with free
// loopback ports. Kamailio runs in the test's temp dir in the foreground
// and is killed (its process group) when the test ends. Without the
// kamailio binary the tests skip, loudly: install-test-deps.sh installs it.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/testphone"
)

const kamailioDir = "../../testdata/kamailio"

// kamailioModules is where Debian's package keeps the modules.
var kamailioModules = []string{"/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules", "/usr/local/lib64/kamailio/modules"}

// kamailioProcess is one running Kamailio.
type kamailioProcess struct {
	Port   int    // UDP and TCP on 127.0.0.1
	Dir    string // its config, pid file, ctl socket
	kamcmd string

	mu  sync.Mutex
	log []string // its stderr
}

// startKamailio runs Kamailio in front of the bridge on bridgePort and
// waits until its dispatcher has found both of the bridge's addresses (UDP
// and TCP) alive by OPTIONS.
func startKamailio(t *testing.T, bridgePort int) *kamailioProcess {
	t.Helper()
	return startKamailioWith(t, kamailioSetup{
		Config: "kamailio.cfg.tmpl",
		List: fillTemplate(t, "dispatcher.list.tmpl", map[string]string{
			"BRIDGE_PORT": strconv.Itoa(bridgePort)}),
		Active: 2,
	})
}

// kamailioSetup is what one Kamailio runs: a config template of
// testdata/kamailio (filled in with {{PORT}}, {{DIR}}, {{MODULES}} and
// {{LOG_PREFIX}}) or, with Render, a config made for its port and folder;
// its dispatcher list; and how many of the list's destinations must
// answer OPTIONS before the test goes on.
type kamailioSetup struct {
	Config string
	Render func(t *testing.T, port int, dir string) string
	List   string
	Active int
}

// fillTemplate is testdata/kamailio/name with each {{KEY}} of fields
// replaced by its value.
func fillTemplate(t *testing.T, name string, fields map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(kamailioDir, name))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for k, v := range fields {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	return text
}

// startKamailioWith runs Kamailio on a free port of 127.0.0.1 with setup
// and waits until setup.Active destinations are alive.
func startKamailioWith(t *testing.T, setup kamailioSetup) *kamailioProcess {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		bin = "/usr/sbin/kamailio"
		if _, err := os.Stat(bin); err != nil {
			t.Skip("SKIPPED: kamailio not installed, so the tests through a proxy did not run: " +
				"run scripts/install-test-deps.sh (Debian package kamailio)")
		}
	}
	kamcmd, err := exec.LookPath("kamcmd")
	if err != nil {
		kamcmd = filepath.Join(filepath.Dir(bin), "kamcmd")
	}
	modules := ""
	for _, m := range kamailioModules {
		if _, err := os.Stat(filepath.Join(m, "dispatcher.so")); err == nil {
			modules = m + "/"
			break
		}
	}
	if modules == "" {
		t.Fatalf("kamailio is installed but its modules are not in %v", kamailioModules)
	}
	k := &kamailioProcess{Port: freePort(t, false), Dir: t.TempDir(), kamcmd: kamcmd}
	write := func(name, text string) string {
		path := filepath.Join(k.Dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var text string
	if setup.Render != nil {
		text = setup.Render(t, k.Port, k.Dir)
	} else {
		text = fillTemplate(t, setup.Config, map[string]string{
			"PORT": strconv.Itoa(k.Port), "DIR": k.Dir, "MODULES": modules, "LOG_PREFIX": "kamailio:"})
	}
	cfg := write("kamailio.cfg", text)
	write("dispatcher.list", setup.List)

	ctx, cancel := testContext(t)
	cmd := exec.CommandContext(ctx, bin, "-DD", "-E", "-f", cfg, "-P", filepath.Join(k.Dir, "kamailio.pid"),
		"-Y", k.Dir, "-w", k.Dir)
	cmd.Dir = k.Dir
	cmd.Stdout = &lineWriter{line: k.addLine}
	cmd.Stderr = &lineWriter{line: k.addLine}
	// Its own process group: Kamailio forks its workers, and the test
	// ends them all by the group of the process it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start kamailio: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		cancel()
		if t.Failed() {
			t.Logf("kamailio output (last lines):\n%s", k.tail(60))
		}
	})

	// The destinations start inactive (flags 1 in the list): they turn
	// active only when the bridge answers the dispatcher's OPTIONS.
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("kamailio exited at start-up:\n%s", k.tail(40))
		default:
		}
		if n := k.activeDestinations(t); n == setup.Active {
			break
		}
		if time.Now().After(deadline) {
			out, _ := exec.Command(k.kamcmd, "-s", k.ctl(), "dispatcher.list").CombinedOutput()
			t.Fatalf("kamailio's dispatcher did not find the bridges alive by OPTIONS within 15 s:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return k
}

func (k *kamailioProcess) ctl() string { return "unix:" + filepath.Join(k.Dir, "kamailio_ctl") }

// activeDestinations counts the dispatcher's destinations that are active
// and probed (flags AP), read through the ctl socket.
func (k *kamailioProcess) activeDestinations(t *testing.T) int {
	out, err := exec.Command(k.kamcmd, "-s", k.ctl(), "dispatcher.list").CombinedOutput()
	if err != nil {
		return 0 // not up yet
	}
	return bytes.Count(out, []byte("FLAGS: AP"))
}

func (k *kamailioProcess) addLine(line string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log = append(k.log, line)
}

// logged reports whether a line of Kamailio's output contains all of parts.
func (k *kamailioProcess) logged(parts ...string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
next:
	for _, l := range k.log {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		return true
	}
	return false
}

func (k *kamailioProcess) tail(n int) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	lines := k.log
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestKamailioProxy: calls through Kamailio over UDP and over TCP, hung up
// by the caller and by the bridge (its maximum call duration), each BYE
// routed through the proxy by the route set it recorded; and the
// dispatcher's OPTIONS keepalive answered (startKamailio waits for it).
func TestKamailioProxy(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "limits: {max_call_duration: 3s}")
	k := startKamailio(t, b.SIPPort)
	if !k.logged("dispatcher: destination up") {
		t.Errorf("kamailio logged no destination coming up (OPTIONS answered)")
	}
	target := fmt.Sprintf("sip:conference@127.0.0.1:%d", k.Port)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport+"/caller-bye", func(t *testing.T) {
			call := dial(t, b, testphone.Options{Target: target, Transport: transport})
			id := call.CallID()
			offered := b.WaitLog(t, allOf(msgIs("call offered"), fieldIs("call_id", id)), 5*time.Second)
			if src, _ := offered["source"].(string); !strings.HasPrefix(src, "127.0.0.1:") ||
				(transport == "udp" && src != fmt.Sprintf("127.0.0.1:%d", k.Port)) {
				t.Errorf("the INVITE came from %v, not through kamailio on port %d", offered["source"], k.Port)
			}
			if offered["transport"] != strings.ToUpper(transport) {
				t.Errorf("kamailio relayed the %s call over %v (dispatcher set by transport)", transport, offered["transport"])
			}
			ctx, cancel := testContext(t)
			defer cancel()
			if err := call.WaitForAudio(ctx, 300*time.Millisecond); err != nil {
				t.Fatalf("no audio through a %s call via kamailio: %v", transport, err)
			}
			if err := call.Hangup(ctx); err != nil {
				t.Fatalf("BYE through kamailio: %v", err)
			}
			ended := b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", id)), 5*time.Second)
			if ended["reason"] != "caller hung up" {
				t.Errorf("call ended with reason %v, want caller hung up", ended["reason"])
			}
			if !k.logged("request BYE from 127.0.0.1:", "over "+transport, id) {
				t.Errorf("the caller's BYE did not pass through kamailio")
			}
		})
		t.Run(transport+"/bridge-bye", func(t *testing.T) {
			call := dial(t, b, testphone.Options{Target: target, Transport: transport})
			id := call.CallID()
			waitEnded(t, call, 10*time.Second)
			if !call.HungUpByRemote() {
				t.Fatal("the call ended without the bridge's BYE")
			}
			ended := b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", id)), 5*time.Second)
			if ended["reason"] != "maximum call duration reached" {
				t.Errorf("call ended with reason %v, want maximum call duration reached", ended["reason"])
			}
			if !k.logged("request BYE from 127.0.0.1:", "over "+transport, id) {
				t.Errorf("the bridge's BYE did not pass through kamailio (Record-Route not honoured)")
			}
		})
	}
	assertNoErrorLogs(t, b)
}
