package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/internal/smtptest"
)

// TestSelfServiceInBrowser: in a real browser against the binary and a
// real SMTP server, a user asks for a sign-in link, reads it in the mail
// that arrives, opens it in the same browser and lands on their page (the
// token gone from the address bar); resets their PIN and sees it once (a
// reload shows it no more); chooses a PIN (a too-short one is refused on
// its field, then a good one is set); emails themselves their details (a
// mail arrives without any PIN); signs out. The same link opened again is
// refused. Each page is photographed and checked with axe-core.
func TestSelfServiceInBrowser(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t, smtptest.Options{})
	b, c := startAdminBridge(t, "demo_organizer: false\n"+emailYAML(smtp, "", ""))
	c.ok("settings", "set", "dial-in-numbers", "+1 425 555 0100")
	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com", "--name", "Ada Lovelace", "--no-email")
	base := apiURL(t, b)
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
	location := func() string {
		t.Helper()
		l, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	// submit clicks a form's button and waits for sel on the next page
	// (the old page is marked, so its elements do not count).
	submit := func(button, sel string) error {
		return chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.body.dataset.old = "1"`),
			chromedp.Click(q(button)),
			chromedp.WaitVisible(q("body:not([data-old]) "+sel)),
		)
	}
	absent := func(sel string) bool {
		t.Helper()
		gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+"`"+sel+"`"+`) === null`))
		if err != nil {
			t.Fatal(err)
		}
		return gone
	}

	// Without a session: the sign-in page, with both forms.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/me/"), chromedp.WaitVisible(q("#email"))); err != nil {
		t.Fatalf("sign-in page: %v", err)
	}
	if !strings.HasSuffix(location(), "/me/signin") || !strings.Contains(text("main"), "Have a self-service token?") {
		t.Errorf("sign-in page at %s:\n%s", location(), text("main"))
	}
	screenshot(t, ctx, "me-signin")
	checkAccessible(t, ctx, "self-service sign-in")

	err := chromedp.Do(ctx, chromedp.SendKeys(q("#email"), "ada@example.com"))
	if err == nil {
		err = submit(`form[action="/me/signin/link"] button`, "#link-sent")
	}
	if err != nil {
		t.Fatalf("ask for a link: %v", err)
	}
	if got := text("#link-sent"); got != "If that address can use audio conferencing, we've sent it a sign-in link. It works for 15 minutes, once, in this browser." {
		t.Errorf("the answer: %q", got)
	}
	screenshot(t, ctx, "me-link-sent")
	checkAccessible(t, ctx, "self-service link sent")

	mail := smtp.Wait(t, 1, outboxWait)[0]
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/me/link\?t=[A-Za-z0-9%_-]+`).FindString(mail.Text)
	if link == "" || mail.To[0] != "ada@example.com" || mail.Subject != "Sign in to your audio conferencing page" {
		t.Fatalf("the link email to %v, %q:\n%s", mail.To, mail.Subject, mail.Text)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(q("#reset-pin"))); err != nil {
		t.Fatalf("open the link: %v", err)
	}
	if l := location(); !strings.HasSuffix(l, "/me/") {
		t.Errorf("after the link the address bar shows %s", l)
	}
	if got := text("#conference-id"); got != ada.User.ConferenceID {
		t.Errorf("conference ID %q, want %s", got, ada.User.ConferenceID)
	}
	if got := text("#pin-masked"); got != "***********" {
		t.Errorf("PIN shown as %q", got)
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(q("#dial-in-numbers a"), "href"))
	if err != nil || href.Value != "tel:+14255550100,,"+ada.User.ConferenceID+"%23" {
		t.Errorf("dial-in link %q, %v", href.Value, err)
	}
	if who := text(".who span"); who != "ada@example.com" || !absent("nav") {
		t.Errorf("header: %q, admin navigation absent: %v", who, absent("nav"))
	}
	screenshot(t, ctx, "me-home")
	checkAccessible(t, ctx, "self-service page")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "me-home-phone")
	checkAccessible(t, ctx, "self-service page on a phone")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}

	// Reset: the new PIN once; a reload finds it gone.
	if err := submit("#reset-pin", "#new-pin"); err != nil {
		t.Fatalf("reset the PIN: %v", err)
	}
	newPIN := text("#new-pin")
	if !regexp.MustCompile(`^\d{4,12}$`).MatchString(newPIN) || strings.Contains(location(), newPIN) {
		t.Errorf("new PIN %q at %s", newPIN, location())
	}
	screenshot(t, ctx, "me-new-pin")
	checkAccessible(t, ctx, "self-service new PIN")
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(q("#reset-pin"))); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !absent("#new-pin") || strings.Contains(text("main"), newPIN) || !strings.Contains(text(".notice"), "shown once") {
		t.Errorf("after a reload the PIN is still shown:\n%s", text("main"))
	}
	screenshot(t, ctx, "me-new-pin-reloaded")

	// Choose: a too-short PIN is refused on its field, then a good one.
	err = chromedp.Do(ctx, chromedp.SendKeys(q("#pin"), "2580"), chromedp.SendKeys(q("#confirm"), "2580"))
	if err == nil {
		err = submit("#choose-pin", "#pin-error")
	}
	if err != nil {
		t.Fatalf("choose a short PIN: %v", err)
	}
	invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(q("#pin"), "aria-invalid"))
	if err != nil || invalid.Value != "true" || !strings.Contains(text("#pin-error"), "PIN must have") {
		t.Errorf("the short PIN's error: %q, aria-invalid %q, %v", text("#pin-error"), invalid.Value, err)
	}
	screenshot(t, ctx, "me-pin-error")
	checkAccessible(t, ctx, "self-service PIN error")
	const chosen = "582049173605"
	err = chromedp.Do(ctx, chromedp.SendKeys(q("#pin"), chosen), chromedp.SendKeys(q("#confirm"), chosen))
	if err == nil {
		err = submit("#choose-pin", ".notice")
	}
	if err != nil {
		t.Fatalf("choose a PIN: %v", err)
	}
	if got := text(".notice"); !strings.Contains(got, "Your new PIN is set.") {
		t.Errorf("after choosing: %q", got)
	}

	// Send the details: a mail arrives, without any PIN.
	if err := submit("#send-info", ".notice"); err != nil {
		t.Fatalf("send the details: %v", err)
	}
	if got := text(".notice"); got != "We've sent your meeting details to ada@example.com." {
		t.Errorf("after sending: %q", got)
	}
	screenshot(t, ctx, "me-details-sent")
	checkAccessible(t, ctx, "self-service details sent")
	details := smtp.Wait(t, 2, outboxWait)[1]
	checkMail(t, details, "ada@example.com", []string{ada.User.ConferenceID, "+1 425 555 0100"}, []string{newPIN, chosen})
	if strings.Contains(details.HTML, chosen) || strings.Contains(details.HTML, newPIN) {
		t.Error("a PIN in the details' HTML")
	}

	// Sign out; the link, opened again, is refused.
	if err := submit(`form[action="/me/signout"] button`, "#email"); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if got := text(".notice"); got != "You're signed out." {
		t.Errorf("after sign-out: %q", got)
	}
	screenshot(t, ctx, "me-signed-out")
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(q("#link-error"))); err != nil {
		t.Fatalf("the link again: %v", err)
	}
	if got := text("#link-error"); !strings.Contains(got, "used already") {
		t.Errorf("the link again: %q", got)
	}
	screenshot(t, ctx, "me-link-used")
	checkAccessible(t, ctx, "self-service used link")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/me/"), chromedp.WaitVisible(q("#email"))); err != nil {
		t.Fatalf("after sign-out: %v", err)
	}

	// Nothing secret reached the bridge's log.
	logs := b.tail(1 << 20)
	for _, secret := range []string{newPIN, chosen, strings.TrimPrefix(link, base+"/me/link?t=")} {
		if strings.Contains(logs, secret) {
			t.Errorf("%q reached the log", secret)
		}
	}
}
