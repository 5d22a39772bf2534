package main

// Helpers for end-to-end tests that run the real dialin binary: TestMain
// prepares a temporary folder, the first test that needs the binary builds
// it there (once per test run), and startBridge runs one bridge per test on
// 127.0.0.1 with free ports and JSON logs that the test can wait for.
//
// Set DIALIN_E2E_RACE=1 to build the bridge with the race detector too.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	binDir    string // temporary folder for the built binary, removed by TestMain
	buildOnce sync.Once
	bridgeBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dialin-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dialin e2e:", err)
		os.Exit(2)
	}
	binDir = dir
	code := m.Run()
	pg.Stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildBridge builds ./cmd/dialin once per test run and returns the binary.
// It is lazy so that unit tests in this package do not pay for the build.
func buildBridge(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		bin := filepath.Join(binDir, "dialin")
		// -buildvcs=auto: stamp the revision (dialin --version) even where
		// GOFLAGS says -buildvcs=false; outside a checkout it stamps none.
		args := []string{"build", "-buildvcs=auto", "-o", bin}
		if os.Getenv("DIALIN_E2E_RACE") != "" {
			args = append(args, "-race")
		}
		args = append(args, ".")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/dialin: %v\n%s", err, out)
			return
		}
		bridgeBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bridgeBin
}

// baseBridgeConfig is what every test bridge gets before the test's own
// YAML is merged over it: loopback only, ports picked by the kernel,
// machine-readable logs, and a short shutdown grace so Stop is quick.
const baseBridgeConfig = `
sip:
  listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]
limits:
  shutdown_grace: 2s
admin:
  listen: 127.0.0.1:0
metrics:
  listen: 127.0.0.1:0
log:
  level: info
  format: json
`

// bridgeProcess is one running dialin process.
type bridgeProcess struct {
	SIPPort int    // SIP port on 127.0.0.1, the same for UDP and TCP
	Dir     string // working folder: dialin.yaml and data/

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // exit status; read only after exited is closed

	mu      sync.Mutex
	logs    []map[string]any // stdout JSON lines, in order
	raw     []string         // every line of stdout and stderr, for failure reports
	newLine chan struct{}    // closed and replaced whenever a line arrives

	stopOnce sync.Once
	stopErr  error
}

// startBridge starts the bridge with baseBridgeConfig plus cfgYAML merged
// over it (maps merge key by key, anything else replaces: "sip:
// {answer_delay: 2s}" keeps the listen addresses). It waits until the bridge
// is listening and registers a cleanup that stops it (SIGTERM, then kill)
// and fails the test if it panicked, raced or exited with an error.
func startBridge(t testing.TB, cfgYAML string) *bridgeProcess {
	t.Helper()
	return startBridgeIn(t, t.TempDir(), cfgYAML)
}

// startBridgeIn is startBridge in an existing working folder, to restart a
// bridge on the data of an earlier one.
func startBridgeIn(t testing.TB, dir, cfgYAML string) *bridgeProcess {
	t.Helper()
	return startBridgeWith(t, dir, cfgYAML)
}

// startBridgeWith is startBridgeIn with the binary run by a wrapper
// command (e.g. "prlimit", "--nofile=256:256", "--"), which must exec it.
func startBridgeWith(t testing.TB, dir, cfgYAML string, wrapper ...string) *bridgeProcess {
	t.Helper()
	bin := buildBridge(t)
	cfg, err := mergeConfig(baseBridgeConfig, cfgYAML)
	if err != nil {
		t.Fatalf("bridge config: %v", err)
	}
	if _, ok := cfg["data_dir"]; !ok {
		cfg["data_dir"] = filepath.Join(dir, "data")
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dialin.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// Bounded by the test binary's deadline: if go test times out, the
	// process is killed before the test binary panics (cleanups do not run
	// then).
	ctx, cancel := testContext(t)
	b := &bridgeProcess{Dir: dir, exited: make(chan struct{}), newLine: make(chan struct{})}
	args := append(slices.Clone(wrapper), bin, "serve", "--config", path)
	b.cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	b.cmd.Dir = dir
	b.cmd.Stdout = &lineWriter{line: b.addStdout}
	b.cmd.Stderr = &lineWriter{line: b.addStderr}
	b.cmd.WaitDelay = 5 * time.Second
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start bridge: %v", err)
	}
	go func() {
		b.waitErr = b.cmd.Wait()
		cancel()
		close(b.exited)
	}()
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("bridge did not stop cleanly: %v", err)
		}
		b.checkCrash(t)
		if t.Failed() {
			t.Logf("bridge output (last lines):\n%s", b.tail(60))
		}
	})

	ready := b.WaitLog(t, func(l map[string]any) bool {
		m, _ := l["message"].(string)
		return strings.HasPrefix(m, "ready: ")
	}, 30*time.Second)
	msg := ready["message"].(string)
	port := regexp.MustCompile(`:(\d+);transport=`).FindStringSubmatch(msg)
	if port == nil {
		t.Fatalf("cannot read the SIP port from %q", msg)
	}
	b.SIPPort, _ = strconv.Atoi(port[1])
	return b
}

// testContext ends a little before the test binary's -timeout, so child
// processes are killed while the tests can still report.
func testContext(t testing.TB) (context.Context, context.CancelFunc) {
	if tt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := tt.Deadline(); ok {
			return context.WithDeadline(context.Background(), d.Add(-3*time.Second))
		}
	}
	return context.WithCancel(context.Background())
}

// mergeConfig merges override YAML over base YAML (maps recursively).
func mergeConfig(base, override string) (map[string]any, error) {
	var b, o map[string]any
	if err := yaml.Unmarshal([]byte(base), &b); err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	if err := yaml.Unmarshal([]byte(override), &o); err != nil {
		return nil, fmt.Errorf("test YAML: %w", err)
	}
	if b == nil {
		b = map[string]any{}
	}
	return mergeMaps(b, o), nil
}

func mergeMaps(base, over map[string]any) map[string]any {
	for k, v := range over {
		bm, baseIsMap := base[k].(map[string]any)
		om, overIsMap := v.(map[string]any)
		if baseIsMap && overIsMap {
			base[k] = mergeMaps(bm, om)
			continue
		}
		base[k] = v
	}
	return base
}

// lineWriter hands each complete line written to it to line. exec.Cmd
// writes to it from one goroutine per stream.
type lineWriter struct {
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (b *bridgeProcess) addStdout(line string) {
	var m map[string]any
	isJSON := json.Unmarshal([]byte(line), &m) == nil
	b.mu.Lock()
	defer b.mu.Unlock()
	if isJSON {
		b.logs = append(b.logs, m)
	}
	b.raw = append(b.raw, line)
	close(b.newLine)
	b.newLine = make(chan struct{})
}

func (b *bridgeProcess) addStderr(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.raw = append(b.raw, "stderr: "+line)
	close(b.newLine)
	b.newLine = make(chan struct{})
}

// Logs returns the JSON log lines so far, in order.
func (b *bridgeProcess) Logs() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]map[string]any(nil), b.logs...)
}

// WaitLog waits for the first log line (from the start of the log) that
// pred accepts and returns it; it fails the test after timeout or if the
// bridge exits first. Call it from the test goroutine.
func (b *bridgeProcess) WaitLog(t testing.TB, pred func(map[string]any) bool, timeout time.Duration) map[string]any {
	t.Helper()
	return b.WaitLogCount(t, pred, 1, timeout)[0]
}

// WaitLogCount waits until n log lines match pred and returns them.
func (b *bridgeProcess) WaitLogCount(t testing.TB, pred func(map[string]any) bool, n int, timeout time.Duration) []map[string]any {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		var found []map[string]any
		for _, l := range b.logs {
			if pred(l) {
				found = append(found, l)
			}
		}
		changed := b.newLine
		b.mu.Unlock()
		if len(found) >= n {
			return found[:n]
		}
		select {
		case <-changed:
		case <-b.exited:
			// One more look: the last lines may have come with the exit.
			if got := b.CountLogs(pred); got >= n {
				continue
			}
			t.Fatalf("bridge exited (%v) with %d of %d expected log lines; last lines:\n%s", b.waitErr, len(found), n, b.tail(30))
		case <-deadline.C:
			t.Fatalf("%d of %d expected log lines after %v; last lines:\n%s", len(found), n, timeout, b.tail(30))
		}
	}
}

// CountLogs is the number of log lines so far that pred accepts.
func (b *bridgeProcess) CountLogs(pred func(map[string]any) bool) int {
	n := 0
	for _, l := range b.Logs() {
		if pred(l) {
			n++
		}
	}
	return n
}

// Stop sends SIGTERM and waits for the bridge to exit (it lets calls finish
// for its shutdown grace, then hangs up); after 30 s it kills it. It returns
// the exit status and may be called more than once.
func (b *bridgeProcess) Stop() error {
	b.stopOnce.Do(func() {
		select {
		case <-b.exited:
		default:
			_ = b.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-b.exited:
			case <-time.After(30 * time.Second):
				_ = b.cmd.Process.Kill()
				<-b.exited
				b.stopErr = fmt.Errorf("killed: no exit within 30 s of SIGTERM")
				return
			}
		}
		b.stopErr = b.waitErr
	})
	return b.stopErr
}

// checkCrash fails the test if the bridge panicked or the race detector
// complained; no test wants either.
func (b *bridgeProcess) checkCrash(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.raw {
		if strings.Contains(l, "panic:") || strings.Contains(l, "fatal error:") || strings.Contains(l, "WARNING: DATA RACE") {
			t.Errorf("bridge crashed or raced: %s", l)
			return
		}
	}
}

// tail is the last n lines of output, for failure messages.
func (b *bridgeProcess) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := b.raw
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Log line predicates, to combine for WaitLog and CountLogs:
//
//	b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", id)), 5*time.Second)
type logPred = func(map[string]any) bool

// msgIs matches lines whose message is exactly m.
func msgIs(m string) logPred {
	return func(l map[string]any) bool { return l["message"] == m }
}

// fieldIs matches lines whose field key prints as value (numbers too).
func fieldIs(key, value string) logPred {
	return func(l map[string]any) bool {
		v, ok := l[key]
		return ok && fmt.Sprint(v) == value
	}
}

// fieldHasPrefix matches lines whose string field key starts with prefix.
func fieldHasPrefix(key, prefix string) logPred {
	return func(l map[string]any) bool {
		v, ok := l[key].(string)
		return ok && strings.HasPrefix(v, prefix)
	}
}

// allOf matches lines that every p matches.
func allOf(ps ...logPred) logPred {
	return func(l map[string]any) bool {
		for _, p := range ps {
			if !p(l) {
				return false
			}
		}
		return true
	}
}
