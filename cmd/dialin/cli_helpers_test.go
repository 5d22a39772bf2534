package main

// Helpers for the end-to-end tests of the administration subcommands
// (cli_test.go): they run the built dialin binary as an administrator
// would, against a bridge started by startBridge.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// testAdminToken is the admin.token of the test bridges that set one.
const testAdminToken = "cli-test-token-0123456789abcdef"

// udpOnlySIP keeps the test bridges off TCP for SIP: these tests make no
// calls, and binding TCP to the port UDP picked fails now and then when
// that port is an ephemeral port of one of the many loopback connections.
const udpOnlySIP = "sip: {listen: [\"udp:127.0.0.1:0\"]}\n"

// cliTimeout bounds one run of the binary; the CLI's own --timeout is 10 s.
const cliTimeout = 20 * time.Second

// cliResult is what one run of `dialin ...` did.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs the dialin binary with args in dir (a new temporary folder
// when empty). The environment is the test's without any DIALIN_ variable
// (a developer's shell must not change the result), plus env.
func runCLI(t *testing.T, dir string, env []string, args ...string) cliResult {
	t.Helper()
	bin := buildBridge(t)
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIALIN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("dialin %s: no exit within %v", strings.Join(args, " "), cliTimeout)
	}
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	default:
		t.Fatalf("run dialin %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// apiCLI runs subcommands against one API with --server and --token.
type apiCLI struct {
	t          *testing.T
	url, token string
}

// startAdminBridge starts a bridge with admin.token set (and cfgYAML over
// it) and returns a CLI that talks to its API.
func startAdminBridge(t *testing.T, cfgYAML string) (*bridgeProcess, apiCLI) {
	t.Helper()
	b := startBridge(t, udpOnlySIP+"admin: {token: "+testAdminToken+"}\n"+cfgYAML)
	return b, apiCLI{t: t, url: apiURL(t, b), token: testAdminToken}
}

// apiURL waits for the bridge's "admin API ready" line and returns its URL.
func apiURL(t *testing.T, b *bridgeProcess) string {
	t.Helper()
	l := b.WaitLog(t, msgIs("admin API ready"), 10*time.Second)
	u, _ := l["url"].(string)
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("admin API ready: url = %q", u)
	}
	return u
}

// run runs `dialin args... --server URL --token TOKEN` (the options last:
// they are accepted anywhere).
func (c apiCLI) run(args ...string) cliResult {
	c.t.Helper()
	return runCLI(c.t, "", nil, append(args, "--server", c.url, "--token", c.token)...)
}

// ok runs a command that must succeed and returns its stdout.
func (c apiCLI) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.Code != 0 || r.Stderr != "" {
		c.t.Fatalf("dialin %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// okJSON runs a command with --json that must succeed and decodes its output.
func (c apiCLI) okJSON(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("dialin %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs a command that must exit with code and returns its stderr.
func (c apiCLI) fails(code int, args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	checkFailure(c.t, r, code, args)
	return r.Stderr
}

// checkFailure checks a failed run: the exit code, nothing on stdout, and
// for code 1 exactly one line "dialin: ..." on stderr.
func checkFailure(t *testing.T, r cliResult, code int, args []string) {
	t.Helper()
	cmd := "dialin " + strings.Join(args, " ")
	if r.Code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmd, r.Code, code, r.Stdout, r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("%s: stdout not empty on failure:\n%s", cmd, r.Stdout)
	}
	if !strings.HasPrefix(r.Stderr, "dialin: ") {
		t.Errorf("%s: stderr does not start with \"dialin: \":\n%s", cmd, r.Stderr)
	}
	if code == 1 && strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("%s: stderr is not one line:\n%s", cmd, r.Stderr)
	}
}

// outField returns the value of an aligned "  key  value" line of the human
// output (its first word), failing the test if there is none.
func outField(t *testing.T, out, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(key) + `\s{2,}(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q line in:\n%s", key, out)
	}
	return m[1]
}

// outLine reports whether out has an aligned "  key  value" line with
// exactly that value.
func outLine(out, key, value string) bool {
	re := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(key) + `\s{2,}` + regexp.QuoteMeta(value) + `\s*$`)
	return re.MatchString(out)
}

// countPIN counts the PIN in s as a whole word: a 5-digit PIN may well be
// part of a 7-digit conference ID or a timestamp's digits.
func countPIN(s, pin string) int {
	return len(regexp.MustCompile(`\b`+regexp.QuoteMeta(pin)+`\b`).FindAllStringIndex(s, -1))
}

var digitsOnly = regexp.MustCompile(`^[0-9]+$`)

// checkPIN checks that pin looks like a generated PIN of length n.
func checkPIN(t *testing.T, pin string, n int) {
	t.Helper()
	if len(pin) != n || !digitsOnly.MatchString(pin) {
		t.Fatalf("PIN %q is not %d digits", pin, n)
	}
}

// newConferenceID returns a random valid conference ID (Damm check digit).
func newConferenceID(t *testing.T) string {
	t.Helper()
	six := fmt.Sprintf("%06d", rand.IntN(1000000))
	for d := '0'; d <= '9'; d++ {
		if id := six + string(d); store.ValidConferenceID(id) {
			return id
		}
	}
	t.Fatalf("no check digit makes %s valid", six)
	return ""
}

// wrongCheckDigit returns id with its check digit replaced by a wrong one.
func wrongCheckDigit(id string) string {
	last := id[len(id)-1]
	return id[:len(id)-1] + string('0'+(last-'0'+1)%10)
}
