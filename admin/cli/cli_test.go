package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dialin/dialin/config"
)

// firstLine is the first line of s, without its newline.
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestHelpGroup: dialin help GROUP prints the group's help, as GROUP
// --help does; help names a command or a group, nothing else.
func TestHelpGroup(t *testing.T) {
	t.Parallel()
	r := run("help", "user")
	if r.Code != ExitOK || r.Stderr != "" {
		t.Fatalf("dialin help user: exit %d, stderr %q", r.Code, r.Stderr)
	}
	for _, want := range []string{
		"Usage:\n",
		"  dialin user enable EMAIL [--name NAME] [--email-override ADDRESS] [--no-email] [--email-to ADDRESS]\n      enable a user",
		"  dialin user disable EMAIL\n",
		"  dialin user list [--search TEXT]\n",
		"  dialin user show EMAIL\n",
		"  dialin user token EMAIL\n",
		"--server URL",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("dialin help user: no %q:\n%s", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "dialin pin") || strings.Contains(r.Stdout, "dialin serve") {
		t.Errorf("dialin help user: other groups' commands:\n%s", r.Stdout)
	}
	if g := run("user", "--help"); g.Code != ExitOK || g.Stdout != r.Stdout {
		t.Errorf("dialin user --help differs from dialin help user: exit %d\n%s", g.Code, g.Stdout)
	}
	if g := run("help", "settings"); g.Code != ExitOK || !strings.Contains(g.Stdout, "Keys of dialin settings set:") {
		t.Errorf("dialin help settings: no keys: exit %d\n%s", g.Code, g.Stdout)
	}

	for args, want := range map[string]string{
		"help user enable":  "Usage: dialin user enable EMAIL [--name NAME] [--email-override ADDRESS] [--no-email] [--email-to ADDRESS]\n",
		"help check-config": "Usage: dialin check-config FILE\n",
		"help help":         "Usage: dialin help [COMMAND] [SUBCOMMAND]\n",
		"help":              "dialin — dial-in audio conferencing bridge\n",
		"--help":            "dialin — dial-in audio conferencing bridge\n",
	} {
		r := run(strings.Fields(args)...)
		if r.Code != ExitOK || r.Stderr != "" || !strings.HasPrefix(r.Stdout, want) {
			t.Errorf("dialin %s: exit %d, stderr %q, stdout not starting with %q:\n%s", args, r.Code, r.Stderr, want, r.Stdout)
		}
	}
	for args, want := range map[string]string{
		"help nope":                  `dialin: unknown command "nope"`,
		"help user nope":             `dialin: unknown command "user nope"`,
		"help user enable extra":     `dialin: help: unexpected argument "extra"`,
		"help user enable --no-mail": "dialin: unknown flag --no-mail",
	} {
		r := run(strings.Fields(args)...)
		checkFailure(t, r, ExitUsage, strings.Fields(args))
		if firstLine(r.Stderr) != want {
			t.Errorf("dialin %s: first line %q, want %q", args, firstLine(r.Stderr), want)
		}
	}
}

// TestUnknownCommandOrFlag: exit 2, the error on the first line of stderr,
// then a usage text; nothing on stdout.
func TestUnknownCommandOrFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args  []string
		first string
	}{
		{[]string{"nope"}, `dialin: unknown command "nope"`},
		{[]string{"nope", "--json"}, `dialin: unknown command "nope"`},
		{[]string{"--json", "nope"}, `dialin: unknown command "nope"`},
		{[]string{"user", "nope"}, `dialin: unknown command "user nope"`},
		{[]string{"serve", "nope"}, `dialin: serve: unexpected argument "nope"`},
		{[]string{"--nope"}, "dialin: unknown flag --nope"},
		{[]string{"serve", "--nope"}, "dialin: unknown flag --nope"},
		{[]string{"serve", "--json"}, "dialin: flag --json does not apply to dialin serve"},
		{[]string{"check-config", "x.yaml", "--server", "http://x"}, "dialin: flag --server does not apply to dialin check-config"},
		{[]string{"check-config"}, "dialin: check-config: missing FILE"},
		{[]string{"user", "list", "--nope=1"}, "dialin: unknown flag --nope=1"},
		{[]string{"user", "list", "--off"}, "dialin: flag --off does not apply to dialin user list"},
		{[]string{"user", "list", "--version"}, "dialin: flag --version does not apply to dialin user list"},
		{[]string{"me", "show", "-x"}, "dialin: unknown flag -x"},
	} {
		r := run(tc.args...)
		checkFailure(t, r, ExitUsage, tc.args)
		if firstLine(r.Stderr) != tc.first {
			t.Errorf("dialin %q: first line %q, want %q", tc.args, firstLine(r.Stderr), tc.first)
		}
		if !strings.Contains(r.Stderr, "\nUsage") || !strings.Contains(r.Stderr, "Run 'dialin ") {
			t.Errorf("dialin %q: no usage after the error:\n%s", tc.args, r.Stderr)
		}
	}
}

// recordServe is a serve that records what it was given.
type recordServe struct {
	calls int
	cfg   config.Config
	err   error // what it returns
}

func (s *recordServe) serve(cfg config.Config, stdout, stderr io.Writer) error {
	s.calls++
	s.cfg = cfg
	io.WriteString(stdout, "serving\n")
	io.WriteString(stderr, "a log line\n")
	return s.err
}

func runWith(serve ServeFunc, args ...string) cliResult {
	var stdout, stderr strings.Builder
	code := New(serve).Run(args, &stdout, &stderr, noEnv)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// TestServeHelp: serve --help is help, not an error, and serves nothing.
func TestServeHelp(t *testing.T) {
	t.Parallel()
	s := &recordServe{}
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"--help", "serve"}, {"help", "serve"}, {"serve", "--config", "x.yaml", "--help"}} {
		r := runWith(s.serve, args...)
		if r.Code != ExitOK || r.Stderr != "" || !strings.HasPrefix(r.Stdout, "Usage: dialin serve [--config FILE]\n  run the bridge") {
			t.Errorf("dialin %q: exit %d, stderr %q\n%s", args, r.Code, r.Stderr, r.Stdout)
		}
	}
	if s.calls != 0 {
		t.Errorf("help started serve %d times", s.calls)
	}
}

// TestServe: serve gets the configuration of --config, before or after
// its name, and stdout and stderr; its failure is one line, exit 1.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "dialin.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+filepath.Join(dir, "d")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--config", path}, {"--config=" + path, "serve"}} {
		s := &recordServe{}
		r := runWith(s.serve, args...)
		if r.Code != ExitOK || r.Stdout != "serving\n" || r.Stderr != "a log line\n" || s.calls != 1 || s.cfg.DataDir != filepath.Join(dir, "d") {
			t.Errorf("dialin %q: exit %d, %d calls, data_dir %q\n%s%s", args, r.Code, s.calls, s.cfg.DataDir, r.Stdout, r.Stderr)
		}
	}
	s := &recordServe{}
	if r := runWith(s.serve, "serve"); r.Code != ExitOK || s.cfg.DataDir != config.Default().DataDir {
		t.Errorf("dialin serve: exit %d, data_dir %q, want the default", r.Code, s.cfg.DataDir)
	}

	s = &recordServe{err: errors.New("listen udp 127.0.0.1:5060: address already in use\nand more")}
	r := runWith(s.serve, "serve")
	if r.Code != ExitFailed || !strings.HasSuffix(r.Stderr, "dialin: listen udp 127.0.0.1:5060: address already in use; and more\n") {
		t.Errorf("a failed serve: exit %d, stderr %q", r.Code, r.Stderr)
	}
	s = &recordServe{}
	r = runWith(s.serve, "serve", "--config", filepath.Join(dir, "missing.yaml"))
	checkFailure(t, r, ExitFailed, []string{"serve", "--config", "missing.yaml"})
	if s.calls != 0 || !strings.Contains(r.Stderr, "missing.yaml") {
		t.Errorf("serve with a missing file: %d calls, stderr %q", s.calls, r.Stderr)
	}
}

// TestCheckConfig: ok, or one line naming every bad field.
func TestCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("limits: {shutdown_grace: 2s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("sip: {listen: [bogus]}\nlimits: {shutdown_grace: -1s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run("check-config", good); r.Code != ExitOK || r.Stdout != good+": ok\n" || r.Stderr != "" {
		t.Errorf("check-config good: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r := run("check-config", bad)
	checkFailure(t, r, ExitFailed, []string{"check-config", bad})
	if !strings.Contains(r.Stderr, "sip.listen[0]") || !strings.Contains(r.Stderr, "limits.shutdown_grace") {
		t.Errorf("check-config bad: %q", r.Stderr)
	}
}

// TestVersion: dialin --version prints one line from the build information.
func TestVersion(t *testing.T) {
	t.Parallel()
	r := run("--version")
	if r.Code != ExitOK || r.Stderr != "" || !regexp.MustCompile(`^dialin \S+( [0-9a-f]+(\+modified)?)? go[0-9.]+\S*\n$`).MatchString(r.Stdout) {
		t.Errorf("dialin --version: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// TestOptionsBeforeCommand: the API options go before the command's name
// too, as the usage promises.
func TestOptionsBeforeCommand(t *testing.T) {
	t.Parallel()
	url, _ := inProcessAPI(t, nil)
	if r := inProcessCLI(url, "user", "enable", "ada@example.com", "--no-email"); r.Code != ExitOK {
		t.Fatalf("user enable: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	var users []map[string]any
	r := run("--json", "--server", url, "--token="+testAdminToken, "user", "list")
	if err := jsonInto(r.Stdout, &users); r.Code != ExitOK || err != nil || len(users) != 1 || users[0]["email"] != "ada@example.com" {
		t.Errorf("dialin --json user list: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	r = run("--server", url, "user", "--token", testAdminToken, "show", "ada@example.com", "--json")
	if r.Code != ExitOK || !strings.Contains(r.Stdout, `"email": "ada@example.com"`) {
		t.Errorf("options between the words: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
