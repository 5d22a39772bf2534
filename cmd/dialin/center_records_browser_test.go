package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/internal/smtptest"
	"github.com/dialin/dialin/internal/testphone"
)

// TestCenterRecordsInBrowser: real calls with the test phone (an organizer
// who sends RTCP, an attendee admitted from the lobby, a caller who hangs up
// in the welcome) show on the call records page, masked, and filter by
// outcome; the organizer's call has its steps and both directions'
// quality on its page; the CSV download is the API's for the same filters;
// the usage report counts the meeting's calls; an email that the SMTP
// server refuses shows failed in the mail queue with the server's answer,
// and is retried and dropped with the page's buttons, audited as the
// account.
func TestCenterRecordsInBrowser(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t, smtptest.Options{Refuse: func(rcpt string) *smtptest.Reply {
		if rcpt == "gone@example.com" {
			return &smtptest.Reply{Code: 550, Message: "No such mailbox"}
		}
		return nil
	}})
	b := startBridge(t, ivrWith(t, emailYAML(smtp, "", "")))
	base := apiURL(t, b)
	cli := apiCLI{t: t, url: base, token: testAdminToken}
	password := outField(t, cli.ok("admin", "add", "alice"), "password")
	id, pin := ivrOrganizer(t, b, "ada@example.com")

	// The calls: the organizer starts the meeting; an attendee waits in the
	// lobby and is admitted; both hang up; a third caller hangs up in the
	// welcome.
	ctx := ivrContext(t)
	org := dial(t, b, testphone.Options{From: "+14255550105", RTCPInterval: 500 * time.Millisecond})
	ivrKeys(t, ctx, org, id)
	b.WaitLog(t, ofCall(org, "conference ID found"), 5*time.Second)
	ivrKeys(t, ctx, org, "*"+pin+"#")
	b.WaitLog(t, allOf(ofCall(org, "caller joined the meeting"), fieldIs("role", "organizer")), 10*time.Second)
	att := dial(t, b, testphone.Options{From: "+14255550106"})
	ivrKeys(t, ctx, att, id)
	b.WaitLog(t, allOf(ofCall(att, "caller joined the meeting"), fieldIs("waiting", "true")), 10*time.Second)
	time.Sleep(300 * time.Millisecond) // a measurable wait in the lobby
	ivrAPI(t, b, 200, "POST", "/api/v1/meetings/"+id+"/admit", "{}", nil)
	b.WaitLog(t, ofCall(att, "caller admitted from the lobby"), 5*time.Second)
	time.Sleep(time.Second) // a second in the meeting, with RTCP from the organizer
	ivrHangup(t, b, att)
	ivrHangup(t, b, org)
	welcome := dial(t, b, testphone.Options{From: "+14255550101"})
	if err := welcome.WaitForAudio(ctx, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ivrHangup(t, b, welcome)
	cdrWhere(t, b, "limit=1000", 3)

	// An email the server refuses for good: failed at once.
	cli.ok("user", "enable", "bob@example.com", "--email-override", "gone@example.com")
	failedLog := allOf(msgIs("email failed: not retried (dialin outbox retry ID sends it again)"), fieldIs("to", "gone@example.com"))
	b.WaitLog(t, failedLog, outboxWait)

	bctx := browser(t)
	signInInBrowser(t, bctx, base, "alice", password)
	q := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(q(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	has := func(what, got string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s: no %q in\n%s", what, w, got)
			}
		}
	}

	// The list: every call, masked as the API gives it.
	err := chromedp.Do(bctx,
		chromedp.Click(q(`.nav a[href="/admin/calls"]`)),
		chromedp.WaitVisible(q("table.calls")),
	)
	if err != nil {
		t.Fatalf("calls page: %v", err)
	}
	list := text("table.calls")
	has("calls", list, "+*******0105", "+*******0106", "+*******0101", id, "ada@example.com", "Joined", "Hung up in the menu", "Good")
	if strings.Contains(list, "+14255550105") {
		t.Error("the calls page shows a calling number whole")
	}
	screenshot(t, bctx, "calls")
	checkAccessible(t, bctx, "calls")

	// Filtered by outcome: the meeting's two calls.
	err = chromedp.Do(bctx,
		chromedp.SetValue(q("#outcome"), "joined"),
		chromedp.Click(q(`form.rec-filters button[type=submit]`)),
		chromedp.WaitReady(q(`#outcome option[value="joined"][selected]`)),
	)
	if err != nil {
		t.Fatalf("filter: %v", err)
	}
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("table.calls tbody tr").length`)); err != nil || n != 2 {
		t.Errorf("joined calls: %d rows, %v", n, err)
	}

	// The CSV link: the API's CSV of the same filters, as an attachment.
	type download struct {
		Status      int    `json:"status"`
		Disposition string `json:"disposition"`
		Body        string `json:"body"`
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[download](`(async () => {
		const href = document.querySelector("a[download]").getAttribute("href");
		const r = await fetch(href);
		return {status: r.status, disposition: r.headers.get("Content-Disposition"), body: await r.text()};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || got.Status != 200 || got.Disposition != `attachment; filename="calls.csv"` ||
		strings.Count(got.Body, "\n") != 3 || !strings.HasPrefix(got.Body, "call_id,calling,") || !strings.Contains(got.Body, org.CallID()) {
		t.Errorf("CSV download: %v %+v", err, got)
	}

	// The organizer's call: its steps and both directions.
	orgJS, _ := json.Marshal(org.CallID())
	err = chromedp.Do(bctx,
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("table.calls a")].find(a =>
			decodeURIComponent(a.getAttribute("href").split("?")[0].split("/").pop()) === `+string(orgJS)+`).click()`),
		chromedp.WaitVisible(q("ol.rec-steps")),
	)
	if err != nil {
		t.Fatalf("the organizer's call: %v", err)
	}
	has("call steps", text("ol.rec-steps"), "Call arrived from +*******0105", "Answered (PCMU)",
		"Entered conference ID "+id+" and the organizer's PIN (ada@example.com)", "Joined the meeting", "Ended: caller hung up")
	quality := text("table.quality")
	has("call quality", quality, "Jitter", "Longest gap", "not known", "MOS (estimated)", "Good")
	if strings.Contains(quality, "Not measured") {
		t.Errorf("the organizer sent RTCP: both directions are measured:\n%s", quality)
	}
	has("call facts", text("dl.facts"), org.CallID(), "organizer", "rfc4733", "PCMU")
	screenshot(t, bctx, "call-detail")
	checkAccessible(t, bctx, "call detail")
	err = chromedp.Do(bctx,
		chromedp.Click(q(".rec-crumbs a")),
		chromedp.WaitReady(q(`#outcome option[value="joined"][selected]`)),
	)
	if err != nil {
		t.Errorf("back to the filtered list: %v", err)
	}

	// The usage report: the meeting's two calls, by organizer and meeting.
	err = chromedp.Do(bctx,
		chromedp.Click(q(`.nav a[href="/admin/usage"]`)),
		chromedp.WaitVisible(q(".figures")),
	)
	if err != nil {
		t.Fatalf("usage page: %v", err)
	}
	has("usage", text("main"), "ada@example.com", id, "participant minutes", "By organizer", "By meeting")
	if calls := text(`table[aria-label="Usage by organizer"] tbody td:nth-child(3)`); calls != "2" {
		t.Errorf("ada's calls: %q, want 2", calls)
	}
	screenshot(t, bctx, "usage")
	checkAccessible(t, bctx, "usage")

	// The mail queue: the failed email with the server's answer; Retry
	// sends it again (refused again), Drop ends it.
	err = chromedp.Do(bctx,
		chromedp.Click(q(`.nav a[href="/admin/outbox"]`)),
		chromedp.WaitVisible(q(".rec-tabs")),
		chromedp.Click(q(`.rec-tabs a[href="/admin/outbox?status=failed"]`)),
		chromedp.WaitVisible(q(`.rec-tabs a[aria-current="page"][href="/admin/outbox?status=failed"]`)),
	)
	if err != nil {
		t.Fatalf("mail queue: %v", err)
	}
	row := text("table.outbox tbody tr")
	has("failed email", row, "gone@example.com", "about bob@example.com", "Your audio conferencing details", "failed", "550", "No such mailbox")
	screenshot(t, bctx, "outbox-failed")
	checkAccessible(t, bctx, "mail queue")
	err = chromedp.Do(bctx,
		chromedp.Click(q(`table.outbox button[aria-label^="Retry"]`)),
		chromedp.WaitVisible(q(".notice")),
	)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	has("retry notice", text(".notice"), "to gone@example.com is being sent again now")
	screenshot(t, bctx, "outbox-retried")
	b.WaitLogCount(t, failedLog, 2, outboxWait)
	err = chromedp.Do(bctx,
		chromedp.Reload(),
		chromedp.WaitVisible(q(`table.outbox button[aria-label^="Drop"]`)),
		chromedp.Click(q(`table.outbox button[aria-label^="Drop"]`)),
		chromedp.WaitVisible(q(".notice")),
	)
	if err != nil {
		t.Fatalf("drop: %v", err)
	}
	has("drop notice", text(".notice"), "to gone@example.com was dropped: it will not be sent.")
	err = chromedp.Do(bctx,
		chromedp.Click(q(`.rec-tabs a[href="/admin/outbox?status=dropped"]`)),
		chromedp.WaitVisible(q(`.rec-tabs a[aria-current="page"][href="/admin/outbox?status=dropped"]`)),
	)
	if err != nil {
		t.Fatalf("dropped tab: %v", err)
	}
	has("dropped email", text("table.outbox tbody"), "gone@example.com", "dropped")
	screenshot(t, bctx, "outbox-dropped")
	checkAccessible(t, bctx, "mail queue, dropped")

	// On a phone: the pages fit, the tables scroll within their frame.
	for _, page := range []struct{ name, path, sel string }{
		{"calls-phone", "/admin/calls", "table.calls"},
		{"call-detail-phone", "/admin/calls/" + url.PathEscape(org.CallID()), "ol.rec-steps"},
		{"usage-phone", "/admin/usage", ".figures"},
		{"outbox-phone", "/admin/outbox", "table.outbox"},
	} {
		err := chromedp.Do(bctx,
			chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(base+page.path),
			chromedp.WaitVisible(q(page.sel)),
		)
		if err != nil {
			t.Fatalf("%s: %v", page.name, err)
		}
		if wide, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || wide {
			t.Errorf("%s: wider than the phone's screen (%v)", page.name, err)
		}
		screenshot(t, bctx, page.name)
		checkAccessible(t, bctx, page.name)
	}

	for _, action := range []string{"outbox.retry", "outbox.drop"} {
		var page wire.AuditPage
		ivrAPI(t, b, 200, "GET", "/api/v1/audit?action="+action, "", &page)
		if len(page.Entries) != 1 || page.Entries[0].Credential != "account:alice" || page.Entries[0].Outcome != "ok" {
			t.Errorf("%s audited: %+v", action, page.Entries)
		}
	}
	if emails := outboxList(cli, "dropped"); len(emails) != 1 || emails[0].To != "gone@example.com" {
		t.Errorf("dropped: %+v", emails)
	}
}
