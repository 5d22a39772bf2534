package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCenterSettingsInBrowser: in a real browser, an administrator changes
// every setting on the Settings page and dialin settings show (the CLI,
// through the API) sees each change; the dial-in numbers are added to,
// edited and removed from; a PIN length of 3 and a malformed dial-in
// number are refused, each with its error next to its field, nothing
// stored and the other fields as typed.
func TestCenterSettingsInBrowser(t *testing.T) {
	t.Parallel()
	b, c := startAdminBridge(t, "demo_organizer: false")
	password := outField(t, c.ok("admin", "add", "alice"), "password")
	base := apiURL(t, b)
	ctx := browser(t)
	signInInBrowser(t, ctx, base, "alice", password)

	q := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	// typeInto replaces what a field holds with text, typed.
	typeInto := func(sel, text string) chromedp.Action[chromedp.Void] {
		clear := fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)
		return chromedp.Steps(chromedp.Evaluate[chromedp.Void](clear), chromedp.SendKeys(q(sel), text))
	}
	// save submits the form and waits for the page that answers it (the
	// notice after a save, or the form with its errors).
	save := chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "yes"`),
		chromedp.Click(q(`form.settings button[type=submit]`)),
		chromedp.WaitVisible(q(`body:not([data-stale]) .notice, body:not([data-stale]) .field-error`)),
	)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/settings"),
		chromedp.WaitVisible(q("#set-pin-length")),
	); err != nil {
		t.Fatalf("settings page: %v", err)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(q("#set-pin-length"))); err != nil || v != "5" {
		t.Errorf("PIN length shown: %q, %v", v, err)
	}
	screenshot(t, ctx, "settings")
	checkAccessible(t, ctx, "settings")

	// Every setting changed at once, with the mouse and the keyboard.
	err := steps(ctx,
		typeInto("#set-pin-length", "7"),
		chromedp.Click(q("#set-block-common-pins")), // on -> off
		typeInto("#set-lockout-local-limit", "7"),
		typeInto("#set-lockout-window", "45m"),
		typeInto("#set-lockout-local-lock-duration", "2h"),
		typeInto("#set-lockout-global-limit", "70"),
		chromedp.Click(q(`label[for="set-conference-id-mode-dynamic"]`)),
		chromedp.Click(q(`label[for="set-lobby-admission-auto"]`)),
		chromedp.Click(q("#set-anonymous-can-start")),
		chromedp.Click(q("#set-dial-in-bypass-lobby")),
		chromedp.Click(q(`label[for="set-entry-exit-announcements-off"]`)),
		chromedp.Click(q("#set-send-emails")), // on -> off
		typeInto("#set-dial-in-numbers", "+1 425 555 0100\n+44 20 7946 0000\n"),
		save,
	)
	if err != nil {
		t.Fatalf("change every setting: %v", err)
	}
	if text, err := chromedp.Run(ctx, chromedp.Text(q(".notice"))); err != nil ||
		!strings.HasPrefix(text, "Settings saved: PIN length, Block common PINs,") || !strings.Contains(text, "Dial-in numbers") {
		t.Errorf("notice: %q, %v", text, err)
	}
	out := c.ok("settings", "show")
	for _, kv := range [][2]string{
		{"pin-length", "7"}, {"block-common-pins", "off"}, {"lockout-local-limit", "7"}, {"lockout-window", "45m0s"},
		{"lockout-local-lock-duration", "2h0m0s"}, {"lockout-global-limit", "70"}, {"conference-id-mode", "dynamic"},
		{"lobby-admission", "auto"}, {"anonymous-can-start", "on"}, {"dial-in-bypass-lobby", "on"},
		{"entry-exit-announcements", "off"}, {"send-emails", "off"},
		{"dial-in-numbers", "+1 425 555 0100, +44 20 7946 0000"},
	} {
		if !outLine(out, kv[0], kv[1]) {
			t.Errorf("settings show after the page's save: want %s %s:\n%s", kv[0], kv[1], out)
		}
	}
	// The page shows what was saved.
	if v, err := chromedp.Run(ctx, chromedp.Value(q("#set-lockout-window"))); err != nil || v != "45m" {
		t.Errorf("window shown after the save: %q, %v", v, err)
	}

	// The dial-in numbers: one edited, one removed, one added.
	if err := chromedp.Do(ctx,
		typeInto("#set-dial-in-numbers", "+1 425 555 0199\n+33 1 23 45 67 89"),
		save,
	); err != nil {
		t.Fatalf("edit the numbers: %v", err)
	}
	if out := c.ok("settings", "show"); !outLine(out, "dial-in-numbers", "+1 425 555 0199, +33 1 23 45 67 89") ||
		!outLine(out, "pin-length", "7") {
		t.Errorf("settings show after editing the numbers:\n%s", out)
	}

	// Refused: a PIN length of 3, typed over the field, with a malformed
	// number waiting in the list. The error is on the PIN length; the
	// number stays as typed.
	if err := chromedp.Do(ctx,
		typeInto("#set-pin-length", "3"),
		typeInto("#set-dial-in-numbers", "+1 425 555 0199\n+1 425 CALL NOW"),
		chromedp.Click(q(`label[for="set-entry-exit-announcements"]`)), // tones: refused with the rest
		save,
	); err != nil {
		t.Fatalf("PIN length 3: %v", err)
	}
	fieldError(t, ctx, "set-pin-length", "3 is not 4-12")
	if v, err := chromedp.Run(ctx, chromedp.Value(q("#set-dial-in-numbers"))); err != nil || v != "+1 425 555 0199\n+1 425 CALL NOW" {
		t.Errorf("the numbers typed were not kept: %q, %v", v, err)
	}
	if on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#set-entry-exit-announcements").checked`)); err != nil || !on {
		t.Errorf("the announcements chosen were not kept: %v, %v", on, err)
	}
	screenshot(t, ctx, "settings-error-pin-length")
	checkAccessible(t, ctx, "settings with an error")

	// Corrected, the number is refused next.
	if err := chromedp.Do(ctx, typeInto("#set-pin-length", "6"), save); err != nil {
		t.Fatalf("PIN length 6: %v", err)
	}
	fieldError(t, ctx, "set-dial-in-numbers", `Number 2 ("+1 425 CALL NOW") has 'C'`)
	if invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(q("#set-pin-length"), "aria-invalid")); err != nil || invalid.Exists {
		t.Errorf("the corrected PIN length is still marked: %+v, %v", invalid, err)
	}
	screenshot(t, ctx, "settings-error-dial-in-number")
	checkAccessible(t, ctx, "settings with a refused number")
	if out := c.ok("settings", "show"); !outLine(out, "pin-length", "7") || !outLine(out, "entry-exit-announcements", "off") ||
		!outLine(out, "dial-in-numbers", "+1 425 555 0199, +33 1 23 45 67 89") {
		t.Errorf("refused forms changed the settings:\n%s", out)
	}

	// Fixed: saved.
	if err := chromedp.Do(ctx, typeInto("#set-dial-in-numbers", "+1 425 555 0199"), save); err != nil {
		t.Fatalf("save the fixed form: %v", err)
	}
	if out := c.ok("settings", "show"); !outLine(out, "pin-length", "6") || !outLine(out, "entry-exit-announcements", "tones") ||
		!outLine(out, "dial-in-numbers", "+1 425 555 0199") {
		t.Errorf("settings show after the fixed form:\n%s", out)
	}

	// On a phone's screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(q("#set-pin-length"))); err != nil {
		t.Fatalf("phone: %v", err)
	}
	if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || wide {
		t.Errorf("the page scrolls sideways on a 390px screen: %v, %v", wide, err)
	}
	screenshot(t, ctx, "settings-phone")
	checkAccessible(t, ctx, "settings on a phone")
}

// fieldError checks that the field with this id is marked invalid,
// described by its error, and that the error says want.
func fieldError(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	attrs, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS("#"+id)))
	if err != nil {
		t.Fatalf("#%s: %v", id, err)
	}
	if attrs["aria-invalid"] != "true" || !strings.Contains(attrs["aria-describedby"], id+"-error") {
		t.Errorf("#%s not marked invalid: %v", id, attrs)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#"+id+"-error.field-error")))
	if err != nil || !strings.Contains(text, want) {
		t.Errorf("#%s's error: %q, %v; want %q", id, text, err, want)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".field-error").length`)); err != nil || n != 1 {
		t.Errorf("%d fields show an error, want 1 (%v)", n, err)
	}
}

// steps runs actions in order and says which one failed.
func steps(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	for i, a := range actions {
		if err := chromedp.Do(ctx, a); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}
