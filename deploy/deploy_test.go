// Package deploy holds the service files (systemd/dialin.service, the
// repository's Dockerfile, the Kamailio proxy in front of several nodes:
// kamailio_test.go) and their checks: make check-deploy runs these
// tests, and so does make test.
package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/token"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
)

const unitPath = "systemd/dialin.service"

// run runs a command with a bound on its time and returns its output.
func run(t *testing.T, timeout time.Duration, dir string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	return o.String(), e.String(), err
}

// TestSystemdUnitHardening: the unit says what README promises (its own
// user, a read-only system, /var/lib/dialin, no capability, the secrets as
// credentials under the names the bridge reads).
func TestSystemdUnitHardening(t *testing.T) {
	data, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)
	for _, line := range []string{
		"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=dialin", "Environment=DIALIN_DATA_DIR=/var/lib/dialin",
		"NoNewPrivileges=yes", "CapabilityBoundingSet=", "AmbientCapabilities=", "ProtectHome=yes", "PrivateTmp=yes",
		"KillSignal=SIGTERM",
		// The credentials' names are the ones the bridge looks for.
		"LoadCredential=" + store.SecretFile + ":/etc/dialin/pin-secret",
		"LoadCredential=" + token.File + ":/etc/dialin/admin-token",
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).MatchString(unit) {
			t.Errorf("%s: no line %q", unitPath, line)
		}
	}
	if regexp.MustCompile(`(?m)^(CapabilityBoundingSet|AmbientCapabilities)=.+$`).MatchString(unit) {
		t.Errorf("%s grants a capability; the default ports need none", unitPath)
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit (its
// ExecStart pointed at an executable that exists here: verify checks it)
// and fails on any complaint, warnings included (verify exits 0 on an
// unknown key); then systemd-analyze security scores its exposure offline.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: systemd-analyze is not installed (Debian: apt-get install systemd); the unit is not verified")
	}
	data, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := strings.Replace(string(data), "ExecStart=/usr/local/bin/dialin ", "ExecStart="+self+" ", 1)
	path := filepath.Join(dir, "dialin.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, time.Minute, dir, analyze, "verify", path)
	if err != nil || strings.TrimSpace(stdout+stderr) != "" {
		t.Fatalf("systemd-analyze verify %s: %v\n%s%s", unitPath, err, stdout, stderr)
	}
	stdout, stderr, err = run(t, time.Minute, dir, analyze, "security", "--offline=true", "--no-pager", path)
	if err != nil {
		t.Logf("systemd-analyze security --offline is not available here (%v): %s", err, stderr)
		return
	}
	m := regexp.MustCompile(`Overall exposure level for dialin\.service: ([0-9.]+)`).FindStringSubmatch(stdout + stderr)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s%s", stdout, stderr)
	}
	level, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("systemd-analyze security: exposure %.1f (0 safest, 10 unsafe)", level)
	if level > 2.0 {
		t.Errorf("exposure %.1f: the unit lost some of its hardening (want at most 2.0)\n%s", level, stdout)
	}
}

// dockerfile is the repository's Dockerfile as instructions: keyword and
// the rest of the line, continuation lines joined, comments dropped.
func dockerfile(t *testing.T) [][2]string {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	var cur string
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		cur += strings.TrimSuffix(trimmed, `\`) + " "
		if strings.HasSuffix(trimmed, `\`) {
			continue
		}
		kw, rest, _ := strings.Cut(strings.TrimSpace(cur), " ")
		out = append(out, [2]string{strings.ToUpper(kw), strings.TrimSpace(rest)})
		cur = ""
	}
	return out
}

// TestDockerfileStructure is the check that stands in for hadolint, which
// this machine cannot install (not in Debian 12 nor on npm; PyPI is not
// reachable): a multi-stage build of a static binary into a small
// non-root image with the data folder as a volume, pinned base images,
// exec-form entry point, and the baked-in configuration valid.
func TestDockerfileStructure(t *testing.T) {
	ins := dockerfile(t)
	var froms []string
	lastFrom := -1
	has := map[string]bool{}
	for i, in := range ins {
		kw, rest := in[0], in[1]
		switch kw {
		case "FROM":
			froms = append(froms, rest)
			lastFrom = i
			if image, _, _ := strings.Cut(rest, " "); !strings.Contains(image, ":") || strings.HasSuffix(image, ":latest") {
				t.Errorf("FROM %s: pin a tag (not latest)", rest)
			}
		case "ADD":
			t.Errorf("ADD %s: use COPY (ADD fetches URLs and unpacks archives)", rest)
		case "ENTRYPOINT", "CMD":
			var v []string
			if json.Unmarshal([]byte(rest), &v) != nil {
				t.Errorf("%s %s: use the exec (JSON) form, so SIGTERM reaches dialin", kw, rest)
			}
		case "RUN":
			if strings.Contains(rest, "apt-get install") && !strings.Contains(rest, "--no-install-recommends") {
				t.Errorf("RUN %s: apt-get install without --no-install-recommends", rest)
			}
		}
		has[kw] = true
	}
	if len(froms) < 2 || !strings.HasSuffix(froms[0], " AS build") {
		t.Fatalf("FROM lines %q: want a build stage (AS build) and a run stage", froms)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final image %s: want distroless/static or scratch", final)
	}
	var user, volume string
	cgoOff := false
	for i, in := range ins {
		switch {
		case in[0] == "USER" && i > lastFrom:
			user = in[1]
		case in[0] == "VOLUME" && i > lastFrom:
			volume = in[1]
		case in[0] == "ENV" && strings.Contains(in[1], "CGO_ENABLED=0"), in[0] == "RUN" && strings.Contains(in[1], "CGO_ENABLED=0"):
			cgoOff = true
		}
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("final stage USER %q: want a non-root user", user)
	}
	if !strings.Contains(volume, "/var/lib/dialin") {
		t.Errorf("VOLUME %q: want /var/lib/dialin", volume)
	}
	if !cgoOff {
		t.Error("no CGO_ENABLED=0: the binary must be static for distroless/static")
	}
	for _, kw := range []string{"ENTRYPOINT", "CMD", "EXPOSE", "STOPSIGNAL"} {
		if !has[kw] {
			t.Errorf("no %s", kw)
		}
	}

	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git", "bin", "data"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(p) + `$`).Match(ignore) {
			t.Errorf(".dockerignore does not leave out %s", p)
		}
	}

	// The configuration the image carries loads, keeps its data in the
	// volume, and creates no demo organizer.
	cfg, err := config.Load("docker/dialin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/var/lib/dialin" || cfg.DemoOrganizer || cfg.Admin.Listen == "" {
		t.Errorf("docker/dialin.yaml: data_dir %q, demo_organizer %v, admin.listen %q", cfg.DataDir, cfg.DemoOrganizer, cfg.Admin.Listen)
	}
}

// TestDockerfileHadolint runs hadolint when it is installed.
func TestDockerfileHadolint(t *testing.T) {
	hadolint, err := exec.LookPath("hadolint")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: hadolint is not installed (not in Debian 12 nor on npm here); TestDockerfileStructure checks the Dockerfile instead")
	}
	stdout, stderr, err := run(t, time.Minute, "..", hadolint, "Dockerfile")
	if err != nil {
		t.Fatalf("hadolint Dockerfile: %v\n%s%s", err, stdout, stderr)
	}
}

// TestDockerBuild builds the image and runs dialin --version in it, where a
// container daemon answers and both base images are already present: the
// test never pulls (no network but loopback), and the build runs with
// --network=none on a vendored copy of the modules.
func TestDockerBuild(t *testing.T) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: no docker client; the image is not built")
	}
	if _, stderr, err := run(t, 15*time.Second, "", docker, "info"); err != nil {
		t.Skipf("SKIPPED LOUDLY: docker is installed but no daemon answers (%v: %s); the image is not built",
			err, strings.TrimSpace(firstLine(stderr)))
	}
	for _, in := range dockerfile(t) {
		if in[0] != "FROM" {
			continue
		}
		image, _, _ := strings.Cut(in[1], " ")
		if _, _, err := run(t, 15*time.Second, "", docker, "image", "inspect", image); err != nil {
			t.Skipf("SKIPPED LOUDLY: base image %s is not present locally and tests never pull; the image is not built "+
				"(docker pull %s, then run again)", image, image)
		}
	}
	ctxDir := t.TempDir()
	files, _, err := run(t, time.Minute, "..", "git", "ls-files", "-z")
	if err != nil {
		t.Skipf("SKIPPED LOUDLY: not a git checkout, cannot list the build context: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(files, "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			continue // deleted in the work tree
		}
		dst := filepath.Join(ctxDir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, stderr, err := run(t, 5*time.Minute, ctxDir, "go", "mod", "vendor"); err != nil {
		t.Fatalf("go mod vendor: %v\n%s", err, stderr)
	}
	tag := "dialin-test:" + strconv.Itoa(os.Getpid())
	if stdout, stderr, err := run(t, 15*time.Minute, ctxDir, docker, "build", "--network=none", "--pull=false", "-t", tag, "."); err != nil {
		t.Fatalf("docker build: %v\n%s%s", err, stdout, stderr)
	}
	t.Cleanup(func() { _, _, _ = run(t, time.Minute, "", docker, "image", "rm", "-f", tag) })
	stdout, stderr, err := run(t, time.Minute, "", docker, "run", "--rm", "--network=none", tag, "--version")
	if err != nil || !strings.HasPrefix(stdout, "dialin ") {
		t.Fatalf("docker run %s --version: %v\n%s%s", tag, err, stdout, stderr)
	}
	stdout, _, err = run(t, time.Minute, "", docker, "image", "inspect", "--format", "{{.Config.User}} {{.Size}}", tag)
	if err != nil || !strings.HasPrefix(stdout, "65532:65532 ") {
		t.Errorf("image user and size: %q, %v", stdout, err)
	}
	t.Logf("image %s: %s", tag, strings.TrimSpace(stdout))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
