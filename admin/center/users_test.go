package center

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
)

// signedIn is the env's browser signed in as alice.
func (e *env) signedIn() *http.Client {
	e.t.Helper()
	if p := e.signIn(e.client, "alice", e.password); p.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in: %d", p.status)
	}
	return e.client
}

// enableDirect enables a user in the directory, for a test's setup.
func (e *env) enableDirect(email, name string) store.Change {
	e.t.Helper()
	ch, err := e.dir.EnableUser(context.Background(), store.EnableRequest{Email: email, DisplayName: name, Mail: store.MailOptions{Skip: true}})
	if err != nil {
		e.t.Fatal(err)
	}
	return ch
}

// submit posts a form of page p (its CSRF token) to path and follows
// one redirect, as a browser does; it returns the redirect and the page.
func (e *env) submit(b *http.Client, p page, path string, form url.Values) (redirect, landed page) {
	e.t.Helper()
	form.Set("csrf", csrfOf(e.t, p))
	redirect = e.post(b, path, form)
	if redirect.status != http.StatusSeeOther {
		return redirect, redirect
	}
	return redirect, e.get(b, redirect.header.Get("Location"))
}

func pageHas(t *testing.T, p page, what ...string) {
	t.Helper()
	for _, w := range what {
		if !strings.Contains(p.body, w) {
			t.Errorf("the page (%d) has no %q:\n%s", p.status, w, p.body)
		}
	}
}

var hrefRE = regexp.MustCompile(`href="(/admin/users\?[^"]+)"[^>]*>Next page`)

// TestUsersList: the list shows name, email, conference ID, the PIN
// masked and the state; the search finds by email, name or conference ID
// prefix; Next and First page links carry the cursor.
func TestUsersList(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn()
	ada := e.enableDirect("ada@example.com", "Ada Lovelace")
	e.enableDirect("grace@example.com", "Grace Hopper")
	e.enableDirect("alan@example.com", "Alan Turing")
	if _, err := e.dir.SetEmailOverride(context.Background(), ada.User.ID, "assistant@example.com"); err != nil {
		t.Fatal(err)
	}
	p := e.get(b, "/admin/users")
	pageHas(t, p, "Ada Lovelace", "ada@example.com", ada.User.ConferenceID, "***********", "Email override",
		`href="/admin/users/ada@example.com"`, `<label for="q">Search users</label>`, `href="/admin/users/new"`)
	if strings.Contains(p.body, ada.PIN) {
		t.Error("a PIN in the list")
	}

	for q, want := range map[string][]string{
		"GRACE":               {"grace@example.com"},
		"a":                   {"ada@example.com", "alan@example.com"},
		ada.User.ConferenceID: {"ada@example.com"},
	} {
		p := e.get(b, "/admin/users?q="+url.QueryEscape(q))
		for _, u := range []string{"ada@example.com", "grace@example.com", "alan@example.com"} {
			if got := strings.Contains(p.body, ">"+u+"</td>"); got != contains(want, u) {
				t.Errorf("q=%s: %s listed %v", q, u, got)
			}
		}
	}
	if p := e.get(b, "/admin/users?q=zz"); !strings.Contains(p.body, "No user's email, name or conference ID starts with") {
		t.Errorf("no match:\n%s", p.body)
	}
	long := e.get(b, "/admin/users?q="+strings.Repeat("a", 300))
	if long.status != http.StatusBadRequest {
		t.Errorf("a search of 300 letters: %d", long.status)
	}
	pageHas(t, long, `aria-invalid="true" aria-describedby="q-error"`, `id="q-error"`)

	// Two a page: Next carries the cursor, the last page has none, and
	// First goes back.
	first := e.get(b, "/admin/users?limit=2")
	m := hrefRE.FindStringSubmatch(first.body)
	if m == nil || strings.Contains(first.body, "First page") {
		t.Fatalf("first page of two:\n%s", first.body)
	}
	next := e.get(b, strings.ReplaceAll(m[1], "&amp;", "&"))
	pageHas(t, next, "alan@example.com", "First page")
	if strings.Contains(next.body, "Next page") || strings.Contains(next.body, "ada@example.com</td>") {
		t.Errorf("last page:\n%s", next.body)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var pinRE = regexp.MustCompile(`<output class="secret" aria-label="New PIN">([0-9]+)</output>`)

// TestEnableShowsPINOnce: the enable form makes the user and redirects to
// a page that shows the PIN once (the PIN never in a URL); a reload says
// it was shown; no later page holds it; the audit names account:alice.
func TestEnableShowsPINOnce(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn()
	form := e.get(b, "/admin/users/new")
	pageHas(t, form, `<label for="email">Email address</label>`, `name="send_email"`, `name="email_override"`)

	// Errors on their field.
	_, bad := e.submit(b, form, "/admin/users/new", url.Values{"email": {"not an address"}, "send_email": {"1"}})
	if bad.status != http.StatusBadRequest {
		t.Fatalf("a bad email: %d", bad.status)
	}
	pageHas(t, bad, `aria-invalid="true" aria-describedby="email-error"`, `id="email-error"`, "not an email address")
	_, bad = e.submit(b, form, "/admin/users/new", url.Values{"email": {"ada@example.com"}, "email_override": {"nope"}})
	pageHas(t, bad, `id="email_override-error"`, `value="ada@example.com"`)

	redirect, shown := e.submit(b, form, "/admin/users/new", url.Values{"email": {"ada@example.com"}, "display_name": {"Ada Lovelace"},
		"email_override": {"assistant@example.com"}, "send_email": {"1"}})
	if redirect.status != http.StatusSeeOther {
		t.Fatalf("enable: %d\n%s", redirect.status, redirect.body)
	}
	m := pinRE.FindStringSubmatch(shown.body)
	if m == nil {
		t.Fatalf("no PIN on the one-time page:\n%s", shown.body)
	}
	pin := m[1]
	pageHas(t, shown, "ada@example.com is enabled", "assistant@example.com (the user&#39;s email override)")
	if strings.Contains(redirect.header.Get("Location"), pin) {
		t.Errorf("the PIN in the URL %s", redirect.header.Get("Location"))
	}

	// Every later page: no PIN.
	again := e.get(b, redirect.header.Get("Location"))
	pageHas(t, again, "This PIN was shown once and can't be shown again")
	for _, path := range []string{redirect.header.Get("Location"), "/admin/users", "/admin/users/ada@example.com", "/admin/users?q=ada"} {
		if p := e.get(b, path); strings.Contains(p.body, pin) || p.status != http.StatusOK {
			t.Errorf("%s (%d) shows the PIN", path, p.status)
		}
	}
	if strings.Contains(e.logs.String(), pin) {
		t.Error("the PIN reached the log")
	}

	// A reset: the same, one time, to another address.
	detail := e.get(b, "/admin/users/ada@example.com")
	redirect, shown = e.submit(b, detail, "/admin/users/ada@example.com/pin/reset", url.Values{"send_email": {"1"}, "email_to": {"desk@example.com"}})
	m = pinRE.FindStringSubmatch(shown.body)
	if m == nil || m[1] == pin {
		t.Fatalf("no new PIN:\n%s", shown.body)
	}
	pageHas(t, shown, "An email is on its way to desk@example.com")
	if p := e.get(b, redirect.header.Get("Location")); strings.Contains(p.body, m[1]) {
		t.Error("the reset PIN shown twice")
	}

	entries, err := e.dir.Audit(context.Background(), store.AuditFilter{User: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range entries {
		if a.Credential != "account:alice" {
			t.Errorf("audit %s by %q, want account:alice", a.Action, a.Credential)
		}
		if strings.Contains(a.Detail, pin) || strings.Contains(a.Detail, m[1]) {
			t.Errorf("a PIN in the audit: %+v", a)
		}
		if a.Outcome == store.AuditOK {
			actions = append(actions, a.Action)
		}
	}
	if !contains(actions, "user.enable") || !contains(actions, "pin.reset") {
		t.Errorf("audit actions %v", actions)
	}
	mails, err := e.dir.ListMail(context.Background(), store.MailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, ml := range mails {
		to = append(to, ml.To)
	}
	if len(to) != 2 || to[0] != "assistant@example.com" || to[1] != "desk@example.com" {
		t.Errorf("emails to %v, want the override then the other address", to)
	}
}

// TestUserTasksRefuseForgedForms: every form of a user's page needs the
// session's CSRF token; without it nothing changes.
func TestUserTasksRefuseForgedForms(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn()
	ada := e.enableDirect("ada@example.com", "")
	for _, path := range []string{"/admin/users/new", "/admin/users/ada@example.com/pin/reset", "/admin/users/ada@example.com/pin/set",
		"/admin/users/ada@example.com/conference-id/reset", "/admin/users/ada@example.com/disable", "/admin/users/ada@example.com/email-override"} {
		p := e.post(b, path, url.Values{"csrf": {"forged"}, "email": {"bob@example.com"}, "pin": {"86420"}, "email_override": {"x@example.com"}})
		if p.status != http.StatusForbidden {
			t.Errorf("%s with a forged token: %d", path, p.status)
		}
	}
	u, err := e.dir.UserByEmail(context.Background(), "ada@example.com")
	if err != nil || u.ConferenceID != ada.User.ConferenceID || u.EmailOverride != "" || !u.PINSetAt.Equal(ada.User.PINSetAt) {
		t.Errorf("a forged form changed ada: %+v %v", u, err)
	}
	if _, err := e.dir.UserByEmail(context.Background(), "bob@example.com"); err == nil {
		t.Error("a forged form enabled bob")
	}
}

// TestUserTasks: each task of a user's page, its notice after the
// redirect, a policy error next to its field.
func TestUserTasks(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn()
	ctx := context.Background()
	ada := e.enableDirect("ada@example.com", "Ada Lovelace")
	path := "/admin/users/ada@example.com"
	detail := e.get(b, path)
	pageHas(t, detail, "Ada Lovelace", ada.User.ConferenceID, "***********", "Reset the PIN", "Set a PIN",
		"Reset the conference ID", "Set the conference ID", "Send the conference details", "Email override", "Revoke the token", "Disable")
	if strings.Contains(detail.body, "Unlock the PIN") {
		t.Error("unlock offered for a PIN that works")
	}

	// Set a PIN: the policy's refusal next to the field; the PIN is not
	// shown again.
	_, bad := e.submit(b, detail, path+"/pin/set", url.Values{"pin": {"12345"}})
	if bad.status != http.StatusBadRequest {
		t.Fatalf("an easy PIN: %d", bad.status)
	}
	pageHas(t, bad, `aria-describedby="pin-set-hint pin-set-error" aria-invalid="true"`, `id="pin-set-error"`)
	if strings.Contains(bad.body, `value="12345"`) {
		t.Error("the refused PIN is shown again")
	}
	_, ok := e.submit(b, detail, path+"/pin/set", url.Values{"pin": {"86420"}})
	pageHas(t, ok, "is set to the one you chose")
	if strings.Contains(ok.body, "86420") {
		t.Error("the chosen PIN is shown")
	}

	// Unlock: offered once locked.
	for range 30 { // 25 lock a 5-digit PIN
		if _, err := e.dir.VerifyOrganizerPIN(ctx, ada.User.ConferenceID, "00000"); err != nil {
			t.Fatal(err)
		}
	}
	locked := e.get(b, path)
	pageHas(t, locked, "Unlock the PIN", "PIN locked")
	_, ok = e.submit(b, locked, path+"/pin/unlock", url.Values{})
	pageHas(t, ok, "is unlocked")
	if strings.Contains(ok.body, `action="/admin/users/ada@example.com/pin/unlock"`) {
		t.Error("unlock still offered")
	}

	// Conference ID: reset (no email), set (a bad one: the error on its
	// field; then a good one), send the details elsewhere.
	_, ok = e.submit(b, detail, path+"/conference-id/reset", url.Values{})
	pageHas(t, ok, "has a new conference ID", "No email was sent.")
	_, bad = e.submit(b, detail, path+"/conference-id/set", url.Values{"conference_id": {"12"}, "send_email": {"1"}})
	pageHas(t, bad, `id="cid-set-error"`, `aria-describedby="cid-set-hint cid-set-error" aria-invalid="true"`, `value="12"`)
	_, ok = e.submit(b, detail, path+"/conference-id/set", url.Values{"conference_id": {"7654321"}, "import": {"1"}})
	pageHas(t, ok, "conference ID is now 7654321")
	_, ok = e.submit(b, detail, path+"/conference-id/send", url.Values{"email_to": {"desk@example.com"}})
	pageHas(t, ok, "are sent (without the PIN)", "desk@example.com")

	// The email override: a bad address on its field, set, clear.
	_, bad = e.submit(b, detail, path+"/email-override", url.Values{"email_override": {"not-an-address"}})
	pageHas(t, bad, `id="override-error"`, `value="not-an-address"`)
	_, ok = e.submit(b, detail, path+"/email-override", url.Values{"email_override": {"assistant@example.com"}})
	pageHas(t, ok, "go to assistant@example.com from now on", "Clear it")
	_, ok = e.submit(b, detail, path+"/email-override", url.Values{"email_override": {"assistant@example.com"}, "clear": {"1"}})
	pageHas(t, ok, "no override")

	// The self-service token: revoked; without one, says so.
	if _, err := e.dir.IssueUserToken(ctx, ada.User.ID); err != nil {
		t.Fatal(err)
	}
	_, ok = e.submit(b, detail, path+"/token/revoke", url.Values{})
	pageHas(t, ok, "is revoked")
	_, ok = e.submit(b, detail, path+"/token/revoke", url.Values{})
	pageHas(t, ok, "has no self-service token")

	// Disable: a confirmation step, then the list.
	confirm := e.get(b, path+"/disable")
	pageHas(t, confirm, "Disable ada@example.com?", `action="/admin/users/ada@example.com/disable"`)
	if _, err := e.dir.UserByEmail(ctx, "ada@example.com"); err != nil {
		t.Fatal("the confirmation page disabled the user")
	}
	_, ok = e.submit(b, confirm, path+"/disable", url.Values{})
	pageHas(t, ok, "ada@example.com is disabled")
	if _, err := e.dir.UserByEmail(ctx, "ada@example.com"); err == nil {
		t.Error("still enabled")
	}
	if p := e.get(b, path); p.status != http.StatusNotFound {
		t.Errorf("the page of a disabled user: %d", p.status)
	}

	entries, err := e.dir.Audit(ctx, store.AuditFilter{User: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		if a.Credential != "account:alice" {
			t.Errorf("audit %s by %q", a.Action, a.Credential)
		}
	}
	if len(entries) < 10 {
		t.Errorf("%d audit entries, want one per task", len(entries))
	}
}
