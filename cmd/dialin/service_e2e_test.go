package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dialin/dialin/internal/datalock"
)

// TestE2ESecondBridgeOnOneDataFolderRefused: a second dialin serve on the
// data folder of a running one refuses to start, naming the first one's
// PID; once the first is SIGKILLed (no clean-up of any kind) the kernel
// has dropped its lock and a new bridge starts on the same folder.
func TestE2ESecondBridgeOnOneDataFolderRefused(t *testing.T) {
	t.Parallel()
	first := startBridge(t, udpOnlySIP)
	cfg := filepath.Join(first.Dir, "dialin.yaml")
	r := runCLI(t, first.Dir, nil, "serve", "--config", cfg)
	want := fmt.Sprintf("is in use by another dialin serve (PID %d)", first.cmd.Process.Pid)
	if r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("second serve: exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", r.Code, want, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stdout, "directory loaded") || strings.Contains(r.Stdout, "ready: ") {
		t.Errorf("the second bridge got as far as the directory or the listeners:\n%s", r.Stdout)
	}

	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	first.stopOnce.Do(func() {}) // killed on purpose: not a failed stop
	if _, err := os.Stat(filepath.Join(first.Dir, "data", datalock.FileName)); err != nil {
		t.Fatalf("lock file: %v", err)
	}
	again := startBridgeIn(t, first.Dir, udpOnlySIP)
	again.WaitLog(t, msgIs("directory loaded"), 5*time.Second)
}

// TestE2ENoDemoOrganizerInADeployment: a configuration file that does not
// ask for the demo organizer starts with an empty directory and no banner.
func TestE2ENoDemoOrganizerInADeployment(t *testing.T) {
	t.Parallel()
	b := startBridge(t, udpOnlySIP)
	b.WaitLog(t, allOf(msgIs("directory loaded"), fieldIs("users", "0")), 5*time.Second)
	if out := b.tail(1000); strings.Contains(out, "Demo organizer") || strings.Contains(out, demoEmail) {
		t.Errorf("a deployment got the demo organizer:\n%s", out)
	}
}

// TestE2EVersion: dialin --version is one line from the build information;
// built from a git checkout (not a worktree: go does not stamp those) it
// names the commit.
func TestE2EVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, "", nil, "--version")
	line := strings.TrimSpace(r.Stdout)
	if r.Code != 0 || !regexp.MustCompile(`^dialin \S+( revision [0-9a-f]{12}( \([^)]*\))?)? go1\.\S+$`).MatchString(line) {
		t.Fatalf("dialin --version: exit %d, %q", r.Code, r.Stdout)
	}
	if fi, err := os.Stat("../../.git"); err == nil && fi.IsDir() {
		rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err == nil && !strings.Contains(line, "revision "+string(rev[:12])) {
			t.Errorf("built in a git checkout at %s, --version says %q", rev[:12], line)
		}
	} else {
		t.Logf("not a plain git checkout (a worktree or an export): no revision to compare; %s", line)
	}
}

// TestE2EConsoleLogRedirectedHasNoColour: the real binary with the console
// log format and its stdout in a pipe writes no colour codes.
func TestE2EConsoleLogRedirectedHasNoColour(t *testing.T) {
	t.Parallel()
	bin := buildBridge(t)
	dir := t.TempDir()
	cfg, err := mergeConfig(baseBridgeConfig, udpOnlySIP+"log: {format: console}\n")
	if err != nil {
		t.Fatal(err)
	}
	cfg["data_dir"] = filepath.Join(dir, "data")
	path := filepath.Join(dir, "dialin.yaml")
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", path)
	cmd.Dir = dir
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), "ready: ") {
		if ctx.Err() != nil {
			t.Fatalf("no ready line:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bridge: %v\n%s", err, out.String())
	}
	if bytes.Contains([]byte(out.String()), []byte("\x1b[")) {
		t.Errorf("colour codes in a redirected console log:\n%q", out.String())
	}
	if !strings.Contains(out.String(), "INF") {
		t.Errorf("not the console format:\n%s", out.String())
	}
}

// lockedBuffer is a bytes.Buffer the process's output goroutine writes
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestE2EDialInNumbersWarnings: with emails on and no number to print the
// bridge warns at start; a phone number in sip.called_numbers (the
// fallback) silences it; the old key name still works, with a warning,
// in serve and in check-config.
func TestE2EDialInNumbersWarnings(t *testing.T) {
	t.Parallel()
	noNumber := "emails are on (send-emails) but name no dial-in number"
	b := startBridge(t, udpOnlySIP)
	b.WaitLog(t, allOf(msgHasPrefix(noNumber), fieldIs("level", "warn")), 5*time.Second)

	old := startBridge(t, "sip: {listen: [\"udp:127.0.0.1:0\"], dial_in_numbers: [\"+14255550100\", conference]}")
	old.WaitLog(t, allOf(msgHasPrefix("config: sip.dial_in_numbers is now sip.called_numbers"), fieldIs("level", "warn")), 5*time.Second)
	old.WaitLog(t, msgIs("directory loaded"), 5*time.Second)
	if n := old.CountLogs(msgHasPrefix(noNumber)); n != 0 {
		t.Errorf("warned of no dial-in number with +14255550100 in the called numbers")
	}
	r := runCLI(t, old.Dir, nil, "check-config", "dialin.yaml")
	if r.Code != 0 || !strings.Contains(r.Stderr, "dialin.yaml: warning: sip.dial_in_numbers is now sip.called_numbers") {
		t.Errorf("check-config: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

func msgHasPrefix(prefix string) logPred { return fieldHasPrefix("message", prefix) }
