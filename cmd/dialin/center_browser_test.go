package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts a headless Chromium (Debian's chromium, installed by
// make test) for one test; the context ends it.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found in PATH: install chromium (make test does this)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// screenshot keeps a picture of the page for make screenshots
// (DIALIN_SCREENSHOTS names the folder; unset: none kept).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DIALIN_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axePath is where scripts/install-test-deps.sh puts axe-core.
const axePath = "../../build/test-deps/node_modules/axe-core/axe.min.js"

// checkAccessible runs axe-core on the page the browser shows and fails
// the test on any serious or critical violation. The script is handed to
// the page over the DevTools protocol, from the file npm installed: the
// page loads nothing from outside the server, and its CSP stays as it is.
func checkAccessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core: %v (scripts/install-test-deps.sh installs it; make test runs that)", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		t.Fatalf("%s: load axe-core: %v", page, err)
	}
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe-core: %v", page, err)
	}
	for _, v := range found {
		t.Errorf("%s: accessibility: %s", page, v)
	}
}

// signInInBrowser signs in to the admin center with the form.
func signInInBrowser(t *testing.T, ctx context.Context, base, name, password string) {
	t.Helper()
	q := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/signin"),
		chromedp.WaitVisible(q("#name")),
		chromedp.SendKeys(q("#name"), name),
		chromedp.SendKeys(q("#password"), password),
		chromedp.Click(q("button[type=submit]")),
		chromedp.WaitVisible(q(`form[action="/admin/signout"]`)),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", name, err)
	}
}

// TestCenterSignInInBrowser: in a real browser, an administrator added
// with dialin admin add signs in to the admin center with the password it
// printed, lands on the home page, and signs out; a wrong password reads
// "Wrong name or password." next to the form.
func TestCenterSignInInBrowser(t *testing.T) {
	t.Parallel()
	b, c := startAdminBridge(t, "demo_organizer: false")
	password := outField(t, c.ok("admin", "add", "alice"), "password")
	base := apiURL(t, b)
	ctx := browser(t)

	q := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/"), // no session: the sign-in form
		chromedp.WaitVisible(q("#name")),
		chromedp.SendKeys(q("#name"), "alice"),
		chromedp.SendKeys(q("#password"), "not-the-password"),
		chromedp.Click(q("button[type=submit]")),
		chromedp.WaitVisible(q(".error")),
	)
	if err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	if text, err := chromedp.Run(ctx, chromedp.Text(q(".error"))); err != nil || text != "Wrong name or password." {
		t.Errorf("error shown: %q, %v", text, err)
	}
	screenshot(t, ctx, "signin-wrong-password")
	checkAccessible(t, ctx, "sign-in")

	// The form came back with the name kept and the password field empty.
	if name, err := chromedp.Run(ctx, chromedp.Value(q("#name"))); err != nil || name != "alice" {
		t.Errorf("name after a failure: %q, %v", name, err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(q("#password"), password),
		chromedp.Click(q("button[type=submit]")),
		chromedp.WaitVisible(q(`form[action="/admin/signout"]`)),
	)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	if who, err := chromedp.Run(ctx, chromedp.Text(q(".who span"))); err != nil || who != "alice" {
		t.Errorf("signed in as %q, %v", who, err)
	}
	if text, err := chromedp.Run(ctx, chromedp.Text(q("main"))); err != nil || !strings.Contains(text, "Audio Conferencing") {
		t.Errorf("home page: %q, %v", text, err)
	}
	screenshot(t, ctx, "home")
	checkAccessible(t, ctx, "home")

	err = chromedp.Do(ctx,
		chromedp.Click(q(`form[action="/admin/signout"] button`)),
		chromedp.WaitVisible(q("#name")),
	)
	if err != nil {
		t.Fatalf("sign-out: %v", err)
	}
	if location, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(location, "/admin/signin") {
		t.Errorf("after sign-out: %s, %v", location, err)
	}
	screenshot(t, ctx, "signin")
}
