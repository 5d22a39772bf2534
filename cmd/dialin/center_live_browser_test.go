package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// liveBrowser is browser(t) with more time: the test waits for phones to
// pass the IVR and hear prompts several times (about 30 s of its minute).
func liveBrowser(t *testing.T) context.Context {
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
	ctx, cancelTimeout := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// liveWait polls the boolean expression js in the page until it is
// true, for up to within, and says how long it took; the page may be
// between two documents (a form's redirect) meanwhile.
func liveWait(t *testing.T, ctx context.Context, what, js string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v (last error: %v)", what, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// liveText is the text of the first element sel matches, read in one
// step in the page: the live region may be replaced between two steps.
func liveText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); return e === null ? null : e.textContent.trim(); })()`
	var last error
	for range 50 {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[*string](js))
		if err == nil && s != nil {
			return *s
		}
		last = err
		time.Sleep(20 * time.Millisecond) // between two documents, or no such element yet
	}
	t.Fatalf("text of %s: not found (%v)", sel, last)
	return ""
}

// liveClick clicks the element sel matches, a form's button or a link,
// and waits for the page it leads to. The element is found and clicked in
// one step in the page (the live region may be replaced between two), and
// the new page is told from the old by a mark only the old one has: the
// old page's live region may show the change before the new page comes.
func liveClick(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); if (e === null) return false; window.liveLeaving = true; e.click(); return true; })()`
	for i := 0; ; i++ {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			break
		}
		if i == 100 {
			t.Fatalf("click %s: not found (%v)", sel, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	liveWait(t, ctx, "the page after clicking "+sel, `window.liveLeaving === undefined && document.readyState === "complete"`, 5*time.Second)
}

// TestCenterLiveInBrowser: an administrator has a meeting's live page open
// while test phones call the real bridge. A caller waiting in the lobby
// of the meeting (not started yet) shows on the page within a second,
// without a reload; the organizer starts it by phone (admission by the
// organizer: the caller keeps waiting); Admit on the page brings the
// caller in, as the bridge confirms; then mute, lock (a second caller is
// refused as locked), remove and end, each seen on the page and checked
// on the bridge and the phones.
func TestCenterLiveInBrowser(t *testing.T) {
	t.Parallel()
	b, id, pin, phoneCtx := meetSetup(t, meetConfig(t))
	meetSettings(t, b, `{"lobby_admission": "organizer"}`)
	c := apiCLI{t: t, url: apiURL(t, b), token: testAdminToken}
	password := outField(t, c.ok("admin", "add", "alice"), "password")
	ctx := liveBrowser(t)
	signInInBrowser(t, ctx, c.url, "alice", password)

	// The meeting's page, before anyone calls.
	page := c.url + "/admin/live/" + id
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#live-region"))); err != nil {
		t.Fatal(err)
	}
	if s := liveText(t, ctx, "#live-state"); s != "Not in progress" {
		t.Errorf("before anyone calls: %q", s)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.liveMark = "same page"`)); err != nil {
		t.Fatal(err)
	}

	// A caller waits in the lobby: on the page within a second, no reload.
	attendee := meetDial(t, phoneCtx, b, id, "+14255550100")[0]
	attendeeID := meetJoined(t, b, attendee, true)
	took := liveWait(t, ctx, "the lobby caller on the page",
		`document.querySelector('#live-lobby tr[data-caller="`+attendeeID+`"]') !== null`, time.Second)
	t.Logf("the lobby caller showed on the page %v after the bridge took them in", took)
	if mark, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.liveMark || ""`)); err != nil || mark != "same page" {
		t.Errorf("the page reloaded (mark %q, %v)", mark, err)
	}
	if s := liveText(t, ctx, "#live-state"); s != "Waiting for the organizer" {
		t.Errorf("with a caller waiting: %q", s)
	}
	if s := liveText(t, ctx, `#live-lobby tr[data-caller="`+attendeeID+`"]`); !strings.Contains(s, "+*******0100") || strings.Contains(s, "4255550100") {
		t.Errorf("lobby row: %q, want the number masked", s)
	}
	liveWait(t, ctx, "the wait counted", `/^[0-9]+ s$/.test(document.querySelector('[data-since]').textContent)`, 2*time.Second)
	screenshot(t, ctx, "live-meeting-lobby")
	checkAccessible(t, ctx, "live meeting with a caller in the lobby")

	// The organizer starts the meeting by phone; the caller keeps waiting
	// for the organizer's (or our) admission.
	org, orgID := meetOrganizer(t, phoneCtx, b, id, pin, "+14255550199")
	liveWait(t, ctx, "the organizer on the page", `document.querySelector('#live-participants tr[data-participant="`+orgID+`"]') !== null && document.querySelector('#admit-`+attendeeID+`') !== null`, time.Second)
	if s := liveText(t, ctx, "#live-state"); s != "In progress" {
		t.Errorf("after the organizer joined: %q", s)
	}
	if s := liveText(t, ctx, `tr[data-participant="`+orgID+`"]`); !strings.Contains(s, "Organizer") {
		t.Errorf("organizer row: %q", s)
	}

	// Admit: a participant on the page within a second, and in the bridge.
	clicked := time.Now()
	liveClick(t, ctx, "#admit-"+attendeeID)
	liveWait(t, ctx, "the admitted caller as a participant, a second after the click", `document.querySelector('#live-participants tr[data-participant="`+attendeeID+`"]') !== null`,
		max(time.Second-time.Since(clicked), 0))
	meetAdmitted(t, b, attendee)
	meetCheckLive(t, meetGet(t, b, id), []string{orgID, attendeeID}, nil)
	if s := liveText(t, ctx, ".notice"); s != "Caller admitted to the meeting." {
		t.Errorf("notice after admit: %q", s)
	}
	if s := liveText(t, ctx, `tr[data-participant="`+attendeeID+`"]`); !strings.Contains(s, "Attendee") {
		t.Errorf("attendee row: %q", s)
	}
	screenshot(t, ctx, "live-meeting-participants")
	checkAccessible(t, ctx, "live meeting with participants")

	// The list of live meetings.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.url+"/admin/live"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/live/`+id+`"]`))); err != nil {
		t.Fatal(err)
	}
	if row := liveText(t, ctx, "#live-region tbody tr"); !strings.Contains(row, id) || !strings.Contains(row, "ada@example.com") || !strings.Contains(row, "In progress") {
		t.Errorf("list row: %q", row)
	}
	screenshot(t, ctx, "live-list")
	checkAccessible(t, ctx, "live meetings list")
	liveClick(t, ctx, `a[href="/admin/live/`+id+`"]`)

	// Mute.
	liveClick(t, ctx, "#mute-"+attendeeID)
	liveWait(t, ctx, "the participant muted", `/Muted/.test(document.querySelector('tr[data-participant="`+attendeeID+`"] .live-status').textContent)`, time.Second)
	if !meetMuted(t, meetGet(t, b, id), attendeeID) {
		t.Error("the bridge does not have the participant muted")
	}
	if s := liveText(t, ctx, "#mute-"+attendeeID); !strings.HasPrefix(s, "Unmute") {
		t.Errorf("mute button after mute: %q", s)
	}

	// Lock: a second caller is refused as locked and never shows.
	liveClick(t, ctx, "#live-lock")
	liveWait(t, ctx, "the meeting locked", `document.querySelector('#live-lock').textContent === "Unlock meeting"`, time.Second)
	if !meetGet(t, b, id).Locked {
		t.Error("the bridge does not have the meeting locked")
	}
	screenshot(t, ctx, "live-meeting-locked")
	// The same on a phone's screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "live-meeting-phone")
	checkAccessible(t, ctx, "live meeting (phone)")
	if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || wide {
		t.Errorf("the live page scrolls sideways on a phone (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	refused := meetDial(t, phoneCtx, b, id, "+14255550111")[0]
	b.WaitLog(t, ofCall(refused, "call refused: meeting locked"), 10*time.Second)
	waitEnded(t, refused, 15*time.Second)
	if !refused.HungUpByRemote() {
		t.Error("the refused caller got no BYE")
	}
	if s := liveText(t, ctx, "#live-lobby-count"); s != "0" {
		t.Errorf("lobby count after the refused call: %q", s)
	}

	// Remove the attendee: hung up, gone from the page.
	liveClick(t, ctx, "#remove-"+attendeeID)
	meetByeAfter(t, b, attendee, "removed")
	liveWait(t, ctx, "the removed caller gone", `document.querySelector('tr[data-participant="`+attendeeID+`"]') === null`, time.Second)
	meetCheckLive(t, meetGet(t, b, id), []string{orgID}, nil)

	// End, after the confirmation: everyone is hung up.
	liveClick(t, ctx, "#live-end")
	liveClick(t, ctx, "#live-end-confirm")
	liveWait(t, ctx, "the meeting ended", `document.querySelector('#live-state') !== null && document.querySelector('#live-state').textContent === "Not in progress"`, 2*time.Second)
	meetByeAfter(t, b, org, "meeting ended")
	meetEmpty(t, b, id)

	// Each control is in the audit trail as the account.
	out := c.ok("audit", "list", "--credential", "account:alice")
	for _, action := range []string{"meeting.admit", "meeting.mute", "meeting.lock", "meeting.remove", "meeting.end"} {
		if !strings.Contains(out, action) {
			t.Errorf("audit has no %s by account:alice:\n%s", action, out)
		}
	}
}
