package center

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/sqlite"
)

// sentLink is one email the fake link mailer was given.
type sentLink struct {
	to  string
	msg mailer.Rendered
}

// fakeLinkMailer records what the page sends at once.
type fakeLinkMailer struct{ sent chan sentLink }

func (f *fakeLinkMailer) SendNow(_ context.Context, to string, r mailer.Rendered) error {
	f.sent <- sentLink{to: to, msg: r}
	return nil
}

// syncBuffer is a log that the link's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// meEnv is the center with its self-service page, on a real SQLite
// directory with one user, ada@example.com, and a dial-in number.
type meEnv struct {
	*env
	mail *fakeLinkMailer
	log  *syncBuffer
	ada  store.User
}

const publicURL = "https://dialin.example.com"

func newMeEnv(t *testing.T) *meEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dialin.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: bytes.Repeat([]byte{7}, 32),
		PasswordParams: store.PasswordParams{Time: 1, Memory: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	ada, err := dir.EnableUser(ctx, store.EnableRequest{Email: "ada@example.com", DisplayName: "Ada Lovelace",
		Mail: store.MailOptions{Skip: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.UpdateSettings(ctx, func(s *store.Settings) error {
		s.DialInNumbers = []string{"+1 425 555 0100"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	api, err := admin.NewHandler(admin.Options{Directory: dir, Token: "test-admin-token", Logger: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeLinkMailer{sent: make(chan sentLink, 100)}
	c, err := New(Options{Accounts: dir, API: api, Logger: zerolog.New(logs), Now: clock.Now,
		SelfService: dir, LinkMailer: fake, PublicURL: publicURL,
		DialInNumbers: func() []string { return dir.Settings().DialInNumbers }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &meEnv{env: &env{t: t, srv: srv, client: newBrowser(t), clock: clock, dir: dir},
		mail: fake, log: logs, ada: ada.User}
}

// askLink fills the sign-in page's email form as a browser does.
func (e *meEnv) askLink(b *http.Client, email string) page {
	e.t.Helper()
	form := e.get(b, "/me/signin")
	return e.post(b, "/me/signin/link", url.Values{"csrf": {csrfOf(e.t, form)}, "email": {email}})
}

var linkRE = regexp.MustCompile(regexp.QuoteMeta(publicURL) + `(/me/link\?t=[A-Za-z0-9%_-]+)`)

// link waits for the next email and returns its link's path.
func (e *meEnv) link() (string, sentLink) {
	e.t.Helper()
	select {
	case m := <-e.mail.sent:
		got := linkRE.FindStringSubmatch(m.msg.Text)
		if got == nil || !strings.Contains(m.msg.HTML, got[1]) {
			e.t.Fatalf("no link in the email:\n%s", m.msg.Text)
		}
		return got[1], m
	case <-time.After(10 * time.Second):
		e.t.Fatal("no sign-in link was sent")
	}
	return "", sentLink{}
}

// noMoreMail checks that nothing else was sent (every send that was
// started has been received: the callers wait for each first).
func (e *meEnv) noMoreMail() {
	e.t.Helper()
	select {
	case m := <-e.mail.sent:
		e.t.Errorf("an unexpected email to %s", m.to)
	default:
	}
}

// signInByLink asks for a link in b and opens it there.
func (e *meEnv) signInByLink(b *http.Client) page {
	e.t.Helper()
	e.askLink(b, "ada@example.com")
	path, _ := e.link()
	return e.get(b, path)
}

// waitLog waits until the log holds n lines with msg (the link's
// goroutine logs after sending).
func (e *meEnv) waitLog(msg string, n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(e.log.String(), msg) < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d log lines %q, want %d:\n%s", strings.Count(e.log.String(), msg), msg, n, e.log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	csrfValueRE = regexp.MustCompile(`name="csrf" value="[^"]+"`)
	emailValRE  = regexp.MustCompile(`name="email" type="email"[^>]*value="[^"]*"`)
)

// TestMeSameAnswer: asking for a link for a user and for an address that
// is nobody's gets the same page (only the form's token differs); only the
// user gets an email, and the page says nothing else.
func TestMeSameAnswer(t *testing.T) {
	e := newMeEnv(t)
	nobody := e.askLink(newBrowser(t), "nobody@example.com")
	ada := e.askLink(newBrowser(t), "ada@example.com")
	_, m := e.link()
	if m.to != "ada@example.com" || !strings.Contains(m.msg.Text, "Hello Ada Lovelace,") {
		t.Errorf("the email went to %s:\n%s", m.to, m.msg.Text)
	}
	e.waitLog("sign-in link asked for an address that is no user's", 1)
	e.noMoreMail()
	norm := func(p page) string {
		s := csrfValueRE.ReplaceAllString(p.body, "")
		return emailValRE.ReplaceAllString(s, "")
	}
	if nobody.status != http.StatusOK || ada.status != http.StatusOK || norm(nobody) != norm(ada) {
		t.Errorf("different answers: %d and %d\n%s\n----\n%s", nobody.status, ada.status, nobody.body, ada.body)
	}
	if !strings.Contains(ada.body, "If that address can use audio conferencing, we&#39;ve sent it a sign-in link. It works for 15 minutes, once, in this browser.") {
		t.Errorf("the answer:\n%s", ada.body)
	}
	if p := e.askLink(newBrowser(t), "not an address"); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `aria-invalid="true" aria-describedby="email-error"`) {
		t.Errorf("not an address: %d\n%s", p.status, p.body)
	}
}

// TestMeLinkSignsIn: the link opens a session in a strict cookie for /me/
// and moves on to the page, which shows the conference ID, the dial-in
// number as a tel: link and the masked PIN; the link works once; the token
// is in no log line; sign-out ends the session.
func TestMeLinkSignsIn(t *testing.T) {
	e := newMeEnv(t)
	b := e.client
	if p := e.get(b, "/me/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/me/signin" {
		t.Fatalf("without a session: %d %s", p.status, p.header.Get("Location"))
	}
	asked := e.askLink(b, "ada@example.com")
	var nonce string
	for _, ck := range asked.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, meNonceCookie+"=") {
			nonce = ck
		}
	}
	for _, attr := range []string{"HttpOnly", "Path=/me/", "Max-Age=900", "SameSite=Lax"} {
		if !strings.Contains(nonce, attr) {
			t.Errorf("nonce cookie %q has no %s", nonce, attr)
		}
	}
	path, _ := e.link()
	in := e.get(b, path)
	if in.status != http.StatusOK || !strings.Contains(in.body, `<meta http-equiv="refresh" content="0; url=/me/">`) {
		t.Fatalf("the link: %d\n%s", in.status, in.body)
	}
	token, _ := url.ParseQuery(strings.TrimPrefix(path, "/me/link?"))
	if strings.Contains(in.body, token.Get("t")) {
		t.Error("the token is in the page")
	}
	var cookie string
	for _, c := range in.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, meSessionCookie+"=") {
			cookie = c
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/me/"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q has no %s", cookie, attr)
		}
	}
	home := e.get(b, "/me/")
	for _, want := range []string{
		"<span>ada@example.com</span>", "Sign out",
		`<span class="mono me-id" id="conference-id">` + e.ada.ConferenceID + `</span>`,
		`<a href="tel:&#43;14255550100,,` + e.ada.ConferenceID + `%23">&#43;1 425 555 0100</a>`,
		`<span class="mono" id="pin-masked">***********</span>`,
		"Reset my PIN", "Choose my PIN", "Send me my meeting details",
	} {
		if !strings.Contains(home.body, want) {
			t.Errorf("the page has no %s:\n%s", want, home.body)
		}
	}
	if strings.Contains(home.body, `href="/admin/users"`) {
		t.Error("the self-service page shows the admin navigation")
	}
	if p := e.get(b, "/admin/"); p.status != http.StatusSeeOther {
		t.Errorf("a user's session opened the admin center: %d", p.status)
	}

	again := e.get(b, path)
	if again.status != http.StatusGone || !strings.Contains(again.body, "was used already") ||
		!strings.Contains(again.body, `action="/me/signin/link"`) {
		t.Errorf("the link a second time: %d\n%s", again.status, again.body)
	}

	if p := e.post(b, "/me/signout", url.Values{"csrf": {csrfOf(t, home)}}); p.status != http.StatusSeeOther ||
		p.header.Get("Location") != "/me/signin?signedout" {
		t.Errorf("sign-out: %d %s", p.status, p.header.Get("Location"))
	}
	if p := e.get(b, "/me/"); p.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", p.status)
	}
	e.waitLog("sign-in link sent", 1)
	if strings.Contains(e.log.String(), token.Get("t")) {
		t.Error("the link's token reached the log")
	}
}

// TestMeLinkExpires: a link is refused 15 minutes after it was sent (the
// center's clock), with the form to ask again.
func TestMeLinkExpires(t *testing.T) {
	e := newMeEnv(t)
	e.askLink(e.client, "ada@example.com")
	path, _ := e.link()
	e.clock.Add(store.SignInLinkTTL + time.Second)
	p := e.get(e.client, path)
	if p.status != http.StatusGone || !strings.Contains(p.body, "has expired") || !strings.Contains(p.body, `id="email"`) {
		t.Errorf("an expired link: %d\n%s", p.status, p.body)
	}
	if p := e.get(e.client, "/me/link?t=dialin-link-nonsense"); p.status != http.StatusNotFound || !strings.Contains(p.body, "not valid") {
		t.Errorf("a wrong link: %d\n%s", p.status, p.body)
	}
}

// TestMeLinkOtherBrowser: a link opened in a browser without the asking
// browser's nonce (none, or one of its own) is refused and not used up:
// the browser that asked still signs in with it.
func TestMeLinkOtherBrowser(t *testing.T) {
	e := newMeEnv(t)
	e.askLink(e.client, "ada@example.com")
	path, _ := e.link()

	none := newBrowser(t)
	if p := e.get(none, path); p.status != http.StatusForbidden || !strings.Contains(p.body, "works only in the browser where you asked for it") {
		t.Errorf("no nonce: %d\n%s", p.status, p.body)
	}
	other := newBrowser(t)
	e.askLink(other, "nobody@example.com") // a nonce of its own
	if p := e.get(other, path); p.status != http.StatusForbidden {
		t.Errorf("another nonce: %d", p.status)
	}
	if p := e.get(other, "/me/"); p.status != http.StatusSeeOther {
		t.Errorf("the other browser got a session: %d", p.status)
	}
	if p := e.get(e.client, path); p.status != http.StatusOK {
		t.Errorf("the right browser after the others: %d\n%s", p.status, p.body)
	}
	if p := e.get(e.client, "/me/"); p.status != http.StatusOK {
		t.Errorf("signed in: %d", p.status)
	}
}

// TestMeLinkThrottled: three links per address and ten per source each
// quarter of an hour; more get the same answer, no email, and a log line.
func TestMeLinkThrottled(t *testing.T) {
	e := newMeEnv(t)
	for range linksPerAddress {
		e.askLink(newBrowser(t), "ada@example.com")
		e.link()
	}
	p := e.askLink(newBrowser(t), "Ada@example.com")
	if p.status != http.StatusOK || !strings.Contains(p.body, "we&#39;ve sent it a sign-in link") {
		t.Errorf("over the address's limit: %d\n%s", p.status, p.body)
	}
	e.waitLog("sign-in link sent", linksPerAddress)
	e.noMoreMail()
	if !strings.Contains(e.log.String(), "too many requests for this address or from this source") {
		t.Error("the refusal is not logged")
	}

	e.clock.Add(throttleWindow + time.Second)
	// From one source (the test's loopback), 10 requests are served,
	// whatever the address: the 11th, for the user, sends nothing.
	for i := range linksPerSource - 1 {
		e.askLink(e.client, "x"+string(rune('a'+i))+"@example.com")
	}
	e.askLink(e.client, "ada@example.com")
	e.link()
	e.askLink(e.client, "ada@example.com")
	e.waitLog("sign-in link sent", linksPerAddress+1)
	e.noMoreMail()

	e.clock.Add(throttleWindow + time.Second)
	e.askLink(e.client, "ada@example.com")
	e.link()
}

// TestMeTokenSignIn: the self-service token signs in; a wrong one says so
// on its field; five wrong ones from a source refuse it for a while.
func TestMeTokenSignIn(t *testing.T) {
	e := newMeEnv(t)
	token, err := e.dir.IssueUserToken(context.Background(), e.ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(b *http.Client, tok string) page {
		form := e.get(b, "/me/signin")
		return e.post(b, "/me/signin/token", url.Values{"csrf": {csrfOf(t, form)}, "token": {tok}})
	}
	wrong := signIn(newBrowser(t), store.UserTokenPrefix+"wrong")
	if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, `aria-invalid="true" aria-describedby="token-error"`) {
		t.Errorf("a wrong token: %d\n%s", wrong.status, wrong.body)
	}
	b := newBrowser(t)
	if p := signIn(b, token); p.status != http.StatusSeeOther || p.header.Get("Location") != "/me/" {
		t.Fatalf("the token: %d\n%s", p.status, p.body)
	}
	if p := e.get(b, "/me/"); p.status != http.StatusOK || !strings.Contains(p.body, "<span>ada@example.com</span>") {
		t.Errorf("signed in with the token: %d", p.status)
	}
	for range pairLimit - 1 {
		signIn(newBrowser(t), "guess")
	}
	if p := signIn(newBrowser(t), token); p.status != http.StatusTooManyRequests {
		t.Errorf("after %d wrong tokens: %d", pairLimit, p.status)
	}
	if strings.Contains(e.log.String(), token) {
		t.Error("the token reached the log")
	}
}

// TestMePIN: a reset PIN is shown once, after a redirect whose URL holds
// only a key, and never again; a chosen PIN is checked by the policy, the
// error on its field, and never written back; both are audited as the
// user; no PIN reaches a log or a URL.
func TestMePIN(t *testing.T) {
	e := newMeEnv(t)
	b := e.client
	e.signInByLink(b)
	home := e.get(b, "/me/")
	reset := e.post(b, "/me/pin/reset", url.Values{"csrf": {csrfOf(t, home)}})
	loc := reset.header.Get("Location")
	if reset.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/me/?shown=") {
		t.Fatalf("reset: %d %s", reset.status, loc)
	}
	shown := e.get(b, loc)
	m := regexp.MustCompile(`<span class="secret" id="new-pin">(\d+)</span>`).FindStringSubmatch(shown.body)
	if m == nil {
		t.Fatalf("no new PIN on the page:\n%s", shown.body)
	}
	pin := m[1]
	if strings.Contains(loc, pin) {
		t.Error("the PIN is in the URL")
	}
	again := e.get(b, loc)
	if strings.Contains(again.body, pin) || !strings.Contains(again.body, "shown once and cannot be shown again") {
		t.Errorf("the PIN shown a second time:\n%s", again.body)
	}
	if p := e.get(b, "/me/"); strings.Contains(p.body, pin) {
		t.Error("the PIN on the page after its showing")
	}

	choose := func(pin, confirm string) page {
		return e.post(b, "/me/pin", url.Values{"csrf": {csrfOf(t, home)}, "pin": {pin}, "confirm": {confirm}})
	}
	short := choose("2580", "2580")
	if short.status != http.StatusBadRequest || !strings.Contains(short.body, `id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" required aria-invalid="true" aria-describedby="pin-error"`) ||
		!strings.Contains(short.body, `<p class="field-error" id="pin-error">PIN must have`) || strings.Contains(short.body, "2580") {
		t.Errorf("a short PIN: %d\n%s", short.status, short.body)
	}
	if p := choose("582049173605", "582049173606"); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="confirm-error">The two PINs differ`) {
		t.Errorf("two different PINs: %d\n%s", p.status, p.body)
	}
	const chosen = "582049173605"
	if p := choose(chosen, chosen); p.status != http.StatusSeeOther {
		t.Fatalf("a good PIN: %d\n%s", p.status, p.body)
	}
	if p := e.get(b, "/me/"); !strings.Contains(p.body, "Your new PIN is set.") || strings.Contains(p.body, chosen) {
		t.Errorf("after choosing:\n%s", p.body)
	}
	if r, _ := e.dir.VerifyOrganizerPIN(context.Background(), e.ada.ConferenceID, chosen); r != store.PINOK {
		t.Errorf("the chosen PIN does not work: %v", r)
	}

	entries, err := e.dir.Audit(context.Background(), store.AuditFilter{User: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, a := range entries {
		actions[a.Action+" "+a.Outcome] = a.Credential
	}
	for _, want := range []string{"self.pin_reset ok", "self.pin_set ok", "self.pin_set refused"} {
		if actions[want] != "user:ada@example.com" {
			t.Errorf("audit %q: credential %q (%v)", want, actions[want], actions)
		}
	}
	for _, secret := range []string{pin, chosen, "2580"} {
		if strings.Contains(e.log.String(), secret) {
			t.Errorf("PIN %s reached the log", secret)
		}
	}
}

// TestMeLockedPIN: a locked PIN is said to be locked, with who unlocks it;
// reset and choose are refused with that message.
func TestMeLockedPIN(t *testing.T) {
	e := newMeEnv(t)
	for range 50 {
		r, err := e.dir.VerifyOrganizerPIN(context.Background(), e.ada.ConferenceID, "000000000000")
		if err != nil {
			t.Fatal(err)
		}
		if r == store.PINLocked {
			break
		}
	}
	b := e.client
	e.signInByLink(b)
	home := e.get(b, "/me/")
	if !strings.Contains(home.body, "Your PIN is locked") || !strings.Contains(home.body, "<code>dialin pin unlock</code>") ||
		strings.Contains(home.body, `action="/me/pin/reset"`) {
		t.Errorf("a locked PIN:\n%s", home.body)
	}
	for _, path := range []string{"/me/pin/reset", "/me/pin"} {
		p := e.post(b, path, url.Values{"csrf": {csrfOf(t, home)}, "pin": {"582049173605"}, "confirm": {"582049173605"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, "ask your administrator to unlock it") {
			t.Errorf("%s on a locked PIN: %d\n%s", path, p.status, p.body)
		}
	}
}

// TestMeSendInfo: the details are queued for the user's own address, and
// the page says where; audited as the user.
func TestMeSendInfo(t *testing.T) {
	e := newMeEnv(t)
	b := e.client
	e.signInByLink(b)
	home := e.get(b, "/me/")
	if p := e.post(b, "/me/send-info", url.Values{"csrf": {csrfOf(t, home)}}); p.status != http.StatusSeeOther {
		t.Fatalf("send: %d\n%s", p.status, p.body)
	}
	if p := e.get(b, "/me/"); !strings.Contains(p.body, "We&#39;ve sent your meeting details to ada@example.com.") {
		t.Errorf("after sending:\n%s", p.body)
	}
	mails, err := e.dir.ListMail(context.Background(), store.MailFilter{})
	if err != nil || len(mails) != 1 || mails[0].Kind != store.MailConferenceInfo || mails[0].To != "ada@example.com" {
		t.Errorf("the outbox: %+v %v", mails, err)
	}
	entries, err := e.dir.Audit(context.Background(), store.AuditFilter{Action: "self.send_info"})
	if err != nil || len(entries) != 1 || entries[0].Credential != "user:ada@example.com" {
		t.Errorf("audit: %+v %v", entries, err)
	}
}

// TestMeUserDisabled: a user disabled while signed in is signed out at
// their next page.
func TestMeUserDisabled(t *testing.T) {
	e := newMeEnv(t)
	e.signInByLink(e.client)
	if err := e.dir.DisableUser(context.Background(), e.ada.ID); err != nil {
		t.Fatal(err)
	}
	if p := e.get(e.client, "/me/"); p.status != http.StatusForbidden || !strings.Contains(p.body, "can no longer use audio conferencing") {
		t.Errorf("after being disabled: %d\n%s", p.status, p.body)
	}
	if p := e.get(e.client, "/me/"); p.status != http.StatusSeeOther {
		t.Errorf("the session was not ended: %d", p.status)
	}
}

// TestMeRefusals: every form needs its CSRF token (the session's, or the
// sign-in form's cookie); without a session a form is refused and a page
// sends to the sign-in; sessions end after their idle time.
func TestMeRefusals(t *testing.T) {
	e := newMeEnv(t)
	b := e.client
	if p := e.post(b, "/me/signin/link", url.Values{"email": {"ada@example.com"}}); p.status != http.StatusForbidden {
		t.Errorf("the link form without its token: %d", p.status)
	}
	form := e.get(newBrowser(t), "/me/signin") // another browser's form token
	if p := e.post(b, "/me/signin/token", url.Values{"csrf": {csrfOf(t, form)}, "token": {"x"}}); p.status != http.StatusForbidden {
		t.Errorf("the token form with another browser's token: %d", p.status)
	}
	for _, path := range []string{"/me/pin/reset", "/me/pin", "/me/send-info", "/me/signout"} {
		if p := e.post(newBrowser(t), path, url.Values{"csrf": {"x"}}); p.status != http.StatusForbidden {
			t.Errorf("%s without a session: %d", path, p.status)
		}
	}
	e.signInByLink(b)
	e.noMoreMail()
	home := e.get(b, "/me/")
	for _, path := range []string{"/me/pin/reset", "/me/pin", "/me/send-info", "/me/signout"} {
		if p := e.post(b, path, url.Values{"csrf": {"forged"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "This form has expired") {
			t.Errorf("%s with a forged token: %d", path, p.status)
		}
	}
	if p := e.get(b, "/me/nothing"); p.status != http.StatusNotFound {
		t.Errorf("no such page: %d", p.status)
	}
	e.clock.Add(31 * time.Minute)
	if p := e.get(b, "/me/"); p.status != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %d", p.status)
	}
	if p := e.post(b, "/me/pin/reset", url.Values{"csrf": {csrfOf(t, home)}}); p.status != http.StatusForbidden {
		t.Errorf("a form after the session ended: %d", p.status)
	}
	if h := home.header.Get("Content-Security-Policy"); !strings.Contains(h, "default-src 'self'") {
		t.Errorf("CSP %q", h)
	}
}
