package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/internal/smtptest"
	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/store"
)

// usersBridgeConfig: the IVR's short timeouts (the test locks a PIN by
// phone) and the real SMTP test server.
const usersBridgeConfig = `demo_organizer: false
ivr:
  first_digit_timeout: 3s
  inter_digit_timeout: 2s
  organizer_wait: 1s
`

// waitText waits until the element sel's text holds want: the page a
// form went to has come (the old page's notice is another one).
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); return e ? e.innerText : "\u0000"; })()`
	deadline := time.Now().Add(10 * time.Second)
	for {
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err == nil && text != "\x00" && strings.Contains(text, want) {
			return text
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: no %q in %s (%v) after 10 s; the page:\n%s", loc, want, sel, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pageText is the text of the page the browser shows.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// do runs browser steps, failing the test with what they were.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mailTo waits for the n-th email (counted from 1) and checks it went to
// to, with subject, holding has and none of hasNot.
func mailTo(t *testing.T, smtp *smtptest.Server, n int, to, subject string, has, hasNot []string) smtptest.Message {
	t.Helper()
	msgs := smtp.Wait(t, n, outboxWait)
	m := msgs[n-1]
	if m.Subject != subject {
		t.Errorf("email %d: %q to %v, want %q", n, m.Subject, m.To, subject)
	}
	checkMail(t, m, to, has, hasNot)
	return m
}

// TestCenterUsersInBrowser: every task of the seeds for a user, done in a
// real browser on the admin center's pages against the binary, with the
// emails read from a real SMTP server: enable (the PIN shown once, the
// welcome to the email override), the list and its search, reset the PIN
// to another address (shown once; reload and back show it no more), a PIN
// the policy refuses (the error on its field), set a PIN, unlock a PIN
// locked by phone, reset and set the conference ID, the email override
// cleared and set, the conference details to another address, revoke the
// self-service token, disable after a confirmation. Every page passes
// axe-core; no email holds a PIN it should not.
func TestCenterUsersInBrowser(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t, smtptest.Options{})
	b, c := startAdminBridge(t, usersBridgeConfig+emailYAML(smtp, "", ""))
	c.ok("settings", "set", "dial-in-numbers", "+1 425 555 0100")
	c.ok("settings", "set", "lockout-local-limit", "2")
	password := outField(t, c.ok("admin", "add", "alice"), "password")
	base := apiURL(t, b)
	ctx := browser(t)
	q := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	signInInBrowser(t, ctx, base, "alice", password)

	// The list, empty; "Enable a user".
	do(t, ctx, "users", chromedp.Navigate(base+"/admin/users"), chromedp.WaitVisible(q(".users-head")))
	waitText(t, ctx, "main", "No user is enabled for audio conferencing yet.")
	checkAccessible(t, ctx, "users (empty)")
	do(t, ctx, "enable form", chromedp.Click(q(`a.button[href="/admin/users/new"]`)), chromedp.WaitVisible(q("#email")))
	checkAccessible(t, ctx, "enable form")

	// A bad address: the error on its field.
	do(t, ctx, "enable a bad address",
		chromedp.SendKeys(q("#email"), "ada@example.com"),
		chromedp.SendKeys(q("#email_override"), "not an address"),
		chromedp.Click(q(`main button[type=submit]`)))
	waitText(t, ctx, "#email_override-error", "not an email address")
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#email_override").getAttribute("aria-describedby")`)); !strings.Contains(v, "email_override-error") {
		t.Errorf("the override field is not described by its error: %q", v)
	}
	checkAccessible(t, ctx, "enable form with an error")

	// Enabled: the PIN shown once; the welcome goes to the override.
	do(t, ctx, "enable ada",
		chromedp.Clear(q("#email_override")),
		chromedp.SendKeys(q("#email_override"), "assistant@example.com"),
		chromedp.SendKeys(q("#display_name"), "Ada Lovelace"),
		chromedp.Click(q(`main button[type=submit]`)))
	waitText(t, ctx, ".notice", "ada@example.com is enabled")
	pin1 := waitText(t, ctx, "output.secret", "")
	checkPIN(t, pin1, 5)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, pin1) {
		t.Errorf("the PIN in the URL %s", loc)
	}
	screenshot(t, ctx, "user-new-pin")
	checkAccessible(t, ctx, "one-time PIN")
	do(t, ctx, "reload the PIN page", chromedp.Reload())
	waitText(t, ctx, "main", "This PIN was shown once and can't be shown again")
	if strings.Contains(pageText(t, ctx), pin1) {
		t.Error("a reload shows the PIN")
	}
	checkAccessible(t, ctx, "PIN shown already")
	mailTo(t, smtp, 1, "assistant@example.com", "Your audio conferencing details", []string{pin1}, nil)

	// A second user, without an email.
	do(t, ctx, "enable grace",
		chromedp.Navigate(base+"/admin/users/new"), chromedp.WaitVisible(q("#email")),
		chromedp.SendKeys(q("#email"), "grace@example.com"),
		chromedp.SendKeys(q("#display_name"), "Grace Hopper"),
		chromedp.Click(q(`input[name=send_email]`)),
		chromedp.Click(q(`main button[type=submit]`)))
	waitText(t, ctx, ".notice", "grace@example.com is enabled")
	if !strings.Contains(pageText(t, ctx), "No email was sent.") {
		t.Error("grace's notice does not say no email was sent")
	}

	// The list: both, PINs masked, the override's badge; the search.
	do(t, ctx, "list", chromedp.Navigate(base+"/admin/users"), chromedp.WaitVisible(q(".users-table")))
	list := waitText(t, ctx, ".users-table", "grace@example.com")
	for _, want := range []string{"Ada Lovelace", "ada@example.com", "***********", "Email override", "Grace Hopper"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list has no %q:\n%s", want, list)
		}
	}
	if strings.Contains(pageText(t, ctx), pin1) {
		t.Error("the list shows a PIN")
	}
	screenshot(t, ctx, "users-list")
	checkAccessible(t, ctx, "users")
	do(t, ctx, "search", chromedp.SendKeys(q("#q"), "GRA"), chromedp.Click(q(`form[role=search] button`)))
	found := waitText(t, ctx, "main", "starts with “GRA”")
	if !strings.Contains(found, "grace@example.com") || strings.Contains(found, "ada@example.com") {
		t.Errorf("search GRA:\n%s", found)
	}
	do(t, ctx, "pages", chromedp.Navigate(base+"/admin/users?limit=1"), chromedp.WaitVisible(q(`a[rel=next]`)),
		chromedp.Click(q(`a[rel=next]`)))
	waitText(t, ctx, ".pager", "First page")
	if text := waitText(t, ctx, ".users-table", "grace@example.com"); strings.Contains(text, "ada@example.com") {
		t.Errorf("the second page of one holds ada:\n%s", text)
	}

	// Ada's page.
	ada := base + "/admin/users/ada@example.com"
	do(t, ctx, "ada's page", chromedp.Navigate(ada), chromedp.WaitVisible(q(".user-grid")))
	screenshot(t, ctx, "user-detail")
	checkAccessible(t, ctx, "user")

	// Reset the PIN, its email to another address; shown once, and the
	// back button does not show it again.
	do(t, ctx, "reset the PIN",
		chromedp.SendKeys(q("#pin-reset-to"), "desk@example.com"),
		chromedp.Click(q(`form[action$="/pin/reset"] button`)))
	waitText(t, ctx, ".notice", "An email is on its way to desk@example.com")
	pin2 := waitText(t, ctx, "output.secret", "")
	checkPIN(t, pin2, 5)
	do(t, ctx, "back to ada", chromedp.Click(q(`.user-pin a.button`)), chromedp.WaitVisible(q(".user-grid")))
	// history.back: chromedp's NavigateBack waits for a load event that
	// a page restored from the back-forward cache would not fire.
	do(t, ctx, "back button", chromedp.Evaluate[chromedp.Void](`history.back()`))
	waitText(t, ctx, "main", "This PIN was shown once and can't be shown again")
	mailTo(t, smtp, 2, "desk@example.com", "Your audio conferencing PIN has been reset", []string{pin2}, []string{pin1})

	// Set a PIN: the policy's refusal on its field, then a good one.
	do(t, ctx, "an easy PIN", chromedp.Navigate(ada), chromedp.WaitVisible(q("#pin-set-pin")),
		chromedp.SendKeys(q("#pin-set-pin"), "12345"),
		chromedp.Click(q(`form[action$="/pin/set"] button`)))
	waitText(t, ctx, "#pin-set-error", "")
	attrs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => { const e = document.querySelector("#pin-set-pin"); return [e.getAttribute("aria-invalid"), e.getAttribute("aria-describedby"), e.value]; })()`))
	if err != nil || len(attrs) != 3 || attrs[0] != "true" || !strings.Contains(attrs[1], "pin-set-error") || attrs[2] != "" {
		t.Errorf("the refused PIN's field: %q, %v", attrs, err)
	}
	screenshot(t, ctx, "user-pin-policy-error")
	checkAccessible(t, ctx, "user with a policy error")
	const chosen = "58203"
	do(t, ctx, "a good PIN", chromedp.SendKeys(q("#pin-set-pin"), chosen), chromedp.Click(q(`form[action$="/pin/set"] button`)))
	waitText(t, ctx, ".notice", "is set to the one you chose")

	// Two wrong PINs by phone lock it; the page offers to unlock it.
	var user client.User
	c.okJSON(&user, "user", "show", "ada@example.com")
	phone := dial(t, b, testphone.Options{})
	keys := ivrContext(t)
	wrong := ivrWrongPINs(chosen, 2)
	ivrKeys(t, keys, phone, user.ConferenceID+"*"+wrong[0]+"#")
	b.WaitLog(t, ofCall(phone, "organizer PIN wrong"), 10*time.Second)
	ivrKeys(t, keys, phone, wrong[1]+"#")
	b.WaitLog(t, ofCall(phone, "organizer PIN locked"), 10*time.Second)
	ivrHangup(t, b, phone)
	do(t, ctx, "locked", chromedp.Navigate(ada), chromedp.WaitVisible(q(`form[action$="/pin/unlock"]`)))
	waitText(t, ctx, ".user-head", "PIN locked")
	checkAccessible(t, ctx, "user with a locked PIN")
	do(t, ctx, "unlock", chromedp.Click(q(`form[action$="/pin/unlock"] button`)))
	waitText(t, ctx, ".notice", "is unlocked")
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/pin/unlock"]').length`)); n != 0 {
		t.Error("unlock still offered")
	}

	// Reset the conference ID: the email to the override, no PIN in it.
	oldID := user.ConferenceID
	do(t, ctx, "reset the conference ID", chromedp.Click(q(`form[action$="/conference-id/reset"] button`)))
	waitText(t, ctx, ".notice", "has a new conference ID")
	c.okJSON(&user, "user", "show", "ada@example.com")
	if user.ConferenceID == oldID {
		t.Fatal("the conference ID did not change")
	}
	mailTo(t, smtp, 3, "assistant@example.com", "Your conference ID has changed", []string{user.ConferenceID}, []string{pin1, pin2, chosen})

	// Clear the override: then set the conference ID, emailed to the user.
	do(t, ctx, "clear the override", chromedp.Click(q(`form[action$="/email-override"] button[name=clear]`)))
	waitText(t, ctx, ".notice", "no override")
	newID := checkDigitID(t, "765432")
	do(t, ctx, "set the conference ID", chromedp.SendKeys(q("#cid-set-id"), newID),
		chromedp.Click(q(`form[action$="/conference-id/set"] button`)))
	waitText(t, ctx, ".notice", "conference ID is now "+newID)
	mailTo(t, smtp, 4, "ada@example.com", "Your conference ID has changed", []string{newID}, []string{pin1, pin2, chosen})

	// The conference details to another address.
	do(t, ctx, "send the details", chromedp.SendKeys(q("#send-info-to"), "room@example.com"),
		chromedp.Click(q(`form[action$="/conference-id/send"] button`)))
	waitText(t, ctx, ".notice", "room@example.com")
	mailTo(t, smtp, 5, "room@example.com", "Your audio conferencing information", []string{newID}, []string{pin1, pin2, chosen})

	// The override set again from the page.
	do(t, ctx, "set the override", chromedp.SendKeys(q("#override-addr"), "assistant@example.com"),
		chromedp.Click(q(`form[action$="/email-override"] button:not([name])`)))
	waitText(t, ctx, ".notice", "go to assistant@example.com from now on")

	// Revoke the self-service token: it stops working.
	token := outField(t, c.ok("user", "token", "ada@example.com"), "token")
	if st := meStatus(t, base, token); st != http.StatusOK {
		t.Fatalf("the token before revoking: %d", st)
	}
	do(t, ctx, "revoke", chromedp.Click(q(`form[action$="/token/revoke"] button`)))
	waitText(t, ctx, ".notice", "is revoked")
	if st := meStatus(t, base, token); st != http.StatusUnauthorized {
		t.Errorf("the token after revoking: %d", st)
	}

	// Disable: the confirmation page, then the list.
	do(t, ctx, "disable", chromedp.Click(q(`a.button.danger`)), chromedp.WaitVisible(q(`form[action$="/disable"]`)))
	screenshot(t, ctx, "user-disable")
	checkAccessible(t, ctx, "disable confirmation")
	c.okJSON(&user, "user", "show", "ada@example.com") // not yet
	do(t, ctx, "confirm", chromedp.Click(q(`form[action$="/disable"] button`)))
	waitText(t, ctx, ".notice", "ada@example.com is disabled")
	if text := pageText(t, ctx); strings.Contains(text, "ada@example.com</") || strings.Contains(waitText(t, ctx, ".users-table", "grace"), "ada@example.com") {
		t.Errorf("ada still listed:\n%s", text)
	}
	if r := c.run("user", "show", "ada@example.com"); r.Code == 0 {
		t.Error("ada still enabled")
	}

	// A phone-sized screen: nothing wider than it.
	do(t, ctx, "phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/admin/users/grace@example.com"), chromedp.WaitVisible(q(".user-grid")))
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the user's page is %d px wide on a 390 px screen", w)
	}
	screenshot(t, ctx, "user-detail-phone")
	do(t, ctx, "phone list", chromedp.Navigate(base+"/admin/users"), chromedp.WaitVisible(q(".users-table")))
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the list is %d px wide on a 390 px screen", w)
	}
	screenshot(t, ctx, "users-list-phone")
	checkAccessible(t, ctx, "users on a phone")

	// No email holds a PIN but the two that tell it.
	for _, m := range smtp.Messages() {
		if strings.HasPrefix(m.Subject, "Your audio conferencing details") || strings.HasPrefix(m.Subject, "Your audio conferencing PIN") {
			continue
		}
		for _, pin := range []string{pin1, pin2, chosen} {
			if countPIN(m.Text, pin) > 0 || countPIN(m.HTML, pin) > 0 {
				t.Errorf("email %q to %v holds a PIN", m.Subject, m.To)
			}
		}
	}
}

// checkDigitID is the conference ID of six digits with their check digit.
func checkDigitID(t *testing.T, body string) string {
	t.Helper()
	for d := '0'; d <= '9'; d++ {
		if id := body + string(d); store.ValidConferenceID(id) {
			return id
		}
	}
	t.Fatalf("no check digit for %s", body)
	return ""
}

// meStatus is the status of GET /api/v1/me with a user's token.
func meStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
