package version

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-01-02T15:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	i := fromBuildInfo(bi)
	if i.Revision != "0123456789abcdef0123456789abcdef01234567" || !i.Modified ||
		!i.Time.Equal(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)) || i.GoVersion != "go1.26.0" {
		t.Fatalf("fromBuildInfo = %+v", i)
	}
	if got, want := i.String(), "dialin (devel) revision 0123456789ab (2026-01-02T15:04:05Z, modified) go1.26.0"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := i.Short(), "(devel)-0123456789ab+modified"; got != want {
		t.Errorf("Short = %q, want %q", got, want)
	}
	rel := fromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}})
	if rel.String() != "dialin v1.2.3 go1.26.0" || rel.Short() != "v1.2.3" {
		t.Errorf("release: %q, %q", rel.String(), rel.Short())
	}
	if empty := fromBuildInfo(&debug.BuildInfo{}); empty.Version != "(devel)" {
		t.Errorf("no main version: %+v", empty)
	}
}

// TestGetInTestBinary: a test binary has build information but no VCS
// stamp; Get still names the Go release.
func TestGetInTestBinary(t *testing.T) {
	i := Get()
	if i.GoVersion != runtime.Version() || i.Version == "" {
		t.Fatalf("Get = %+v, want Go %s", i, runtime.Version())
	}
}

// TestGoBuildStampsRevision builds a small program with this package's
// source by go build in a git checkout of its own (the real toolchain, the
// real VCS stamping): the version names the commit, its time, then
// "modified" after an uncommitted change.
func TestGoBuildStampsRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	src, err := os.ReadFile("version.go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/stamp\n\ngo 1.26.0\n")
	write("version/version.go", string(src))
	write("main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/stamp/version\"\n)\n\n"+
		"func main() { fmt.Println(version.Get().String()); fmt.Println(version.Get().Short()) }\n")
	env := append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_COMMITTER_DATE=2026-01-02T15:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T15:04:05Z",
		"GOWORK=off", "GOTOOLCHAIN=local", "GOPROXY=off", "GIT_CONFIG_GLOBAL=/dev/null")
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("git", "init", "-q")
	run("git", "add", ".")
	run("git", "commit", "-q", "-m", "stamp")
	rev := run("git", "rev-parse", "HEAD")
	bin := filepath.Join(dir, "stamp")
	run(goTool, "build", "-buildvcs=true", "-o", bin, ".") // this machine's go env may say -buildvcs=false
	out := run(bin)
	if want := "revision " + rev[:12] + " (2026-01-02T15:04:05Z) " + runtime.Version(); !strings.Contains(out, want) {
		t.Errorf("clean checkout: %q, want it to contain %q", out, want)
	}
	write("main.go", strings.Replace(string(must(os.ReadFile(filepath.Join(dir, "main.go")))), "func main", "// changed\nfunc main", 1))
	run(goTool, "build", "-buildvcs=true", "-o", bin, ".") // this machine's go env may say -buildvcs=false
	out = run(bin)
	if !strings.Contains(out, "revision "+rev[:12]+" (2026-01-02T15:04:05Z, modified)") {
		t.Errorf("modified checkout: %q", out)
	}
	t.Logf("go build in a modified checkout: %s", out)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
