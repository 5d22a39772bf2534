package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCenterRefusalsInBrowser: in a real browser, a page asked for without
// a session shows the sign-in form; a form whose CSRF token was tampered
// with is refused with a page that says so, and the session survives; a
// session left idle past admin.session_idle is refused on its next form,
// and its pages send to the sign-in form.
func TestCenterRefusalsInBrowser(t *testing.T) {
	t.Parallel()
	b := startBridge(t, udpOnlySIP+"admin: {token: "+testAdminToken+", session_idle: 3s, session_max: 1h}\ndemo_organizer: false\n")
	c := apiCLI{t: t, url: apiURL(t, b), token: testAdminToken}
	password := outField(t, c.ok("admin", "add", "alice"), "password")
	base := c.url
	ctx := browser(t)
	q := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(q(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	// No session: the sign-in form, whatever the page.
	err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/users"), chromedp.WaitVisible(q("#password")))
	if err != nil {
		t.Fatalf("a page without a session: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/admin/signin") {
		t.Errorf("without a session: at %s", loc)
	}

	// A forged CSRF token: refused, still signed in.
	signInInBrowser(t, ctx, base, "alice", password)
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/admin/signout"] input[name=csrf]').value = "forged"`),
		chromedp.Click(q(`form[action="/admin/signout"] button`)),
		chromedp.WaitVisible(q(".error")),
	)
	if err != nil {
		t.Fatalf("forged token: %v", err)
	}
	if h1 := text("h1"); h1 != "This form has expired" {
		t.Errorf("forged token: page %q", h1)
	}
	screenshot(t, ctx, "refused-csrf")
	checkAccessible(t, ctx, "refused form")
	err = chromedp.Do(ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(q(".who span")))
	if err != nil {
		t.Fatalf("after a refused form the session should live: %v", err)
	}

	// Idle past session_idle: the next form is refused, and pages send to
	// the sign-in form.
	time.Sleep(3500 * time.Millisecond)
	err = chromedp.Do(ctx, chromedp.Click(q(`form[action="/admin/signout"] button`)), chromedp.WaitVisible(q(".error")))
	if err != nil {
		t.Fatalf("expired session: %v", err)
	}
	if h1 := text("h1"); h1 != "Your session has ended" {
		t.Errorf("expired session: page %q", h1)
	}
	screenshot(t, ctx, "refused-session-ended")
	err = chromedp.Do(ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(q("#password")))
	if err != nil {
		t.Fatalf("after the session ended: %v", err)
	}
	if strings.Contains(b.tail(1<<20), password) {
		t.Error("the password is in the bridge's log")
	}
}
