package mailer

import (
	"context"
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	mail "github.com/wneessen/go-mail"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/smtptest"
	"github.com/dialin/dialin/store"
)

const testTimeout = 10 * time.Second

const (
	retryMin = 50 * time.Millisecond
	retryMax = 400 * time.Millisecond
)

func testConfig(srv *smtptest.Server) config.Email {
	return config.Email{
		SMTPHost: srv.Host(),
		SMTPPort: srv.Port(),
		Security: "none",
		From:     "Audio Conferencing <conferencing@example.com>",
		Timeout:  5 * time.Second,
		RetryMin: retryMin,
		RetryMax: retryMax,
		// Enough for the retry tests; TestGivesUpAfterMaxAttempts lowers it.
		MaxAttempts: 100,
		Retention:   time.Hour,
	}
}

// start runs a mailer until the test ends, then checks that Run returns
// promptly once its context is cancelled.
func start(t *testing.T, cfg config.Email, outbox Outbox, poll time.Duration) *logBuffer {
	t.Helper()
	logs, _ := startMailer(t, cfg, outbox, poll)
	return logs
}

// startMailer is start, and gives the mailer too.
func startMailer(t *testing.T, cfg config.Email, outbox Outbox, poll time.Duration) (*logBuffer, *Mailer) {
	t.Helper()
	logs := &logBuffer{}
	m, err := New(Options{
		Config:        cfg,
		Outbox:        outbox,
		DialInNumbers: []string{defaultNum},
		Logger:        zerolog.New(logs),
		PollInterval:  poll,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Error("Run did not return after cancel")
		}
	})
	return logs, m
}

// entries decodes the JSON log lines with the given message.
func entries(t *testing.T, logs *logBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e["message"] == msg {
			out = append(out, e)
		}
	}
	return out
}

func assertNoSecrets(t *testing.T, logs *logBuffer, secrets ...string) {
	t.Helper()
	s := logs.String()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Errorf("log contains %q:\n%s", secret, s)
		}
	}
}

func byRecipient(msgs []smtptest.Message) map[string]smtptest.Message {
	out := map[string]smtptest.Message{}
	for _, m := range msgs {
		for _, to := range m.To {
			out[to] = m
		}
	}
	return out
}

func TestSendsEachKind(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	const infoPIN = "555666777" // carried by mistake; must not be sent
	outbox.queue(store.MailContent{Kind: store.MailEnabled, To: "ada@example.com", UserEmail: "ada@example.com",
		DisplayName: "<b>Ada</b>", ConferenceID: "1234567", PIN: testPIN, DialInNumbers: []string{"+1 425 555 0100"}})
	outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "bob@example.net", UserEmail: "bob@example.com",
		DisplayName: "Bob", PIN: otherPIN})
	outbox.queue(store.MailContent{Kind: store.MailConferenceIDReset, To: "cy@example.com", UserEmail: "cy@example.com",
		ConferenceID: "7654321"})
	outbox.queue(store.MailContent{Kind: store.MailConferenceInfo, To: "di@example.com", UserEmail: "di@example.com",
		DisplayName: "Di", ConferenceID: "2345678", PIN: infoPIN})

	logs := start(t, testConfig(srv), outbox, 10*time.Millisecond)
	got := byRecipient(srv.Wait(t, 4, testTimeout))
	waitUntil(t, "the outbox is empty", func() bool { return outbox.pending() == 0 })
	waitUntil(t, "4 sends are logged", func() bool { return logs.count(`"email sent"`) == 4 })

	tests := []struct {
		to, subject string
		want        []string
		pin         string // the PIN that must be there, if any
	}{
		{"ada@example.com", "Your audio conferencing details",
			[]string{"Hello <b>Ada</b>,", "1234567", "+1 425 555 0100", "only to start a meeting as its organizer"}, testPIN},
		{"bob@example.net", "Your audio conferencing PIN has been reset",
			[]string{"Hello Bob,", "has been reset"}, otherPIN},
		{"cy@example.com", "Your conference ID has changed",
			[]string{"Hello,", "7654321", defaultNum, "old conference ID", "send the invitations again"}, ""},
		{"di@example.com", "Your audio conferencing information",
			[]string{"Hello Di,", "2345678", defaultNum}, ""},
	}
	for _, tt := range tests {
		m, ok := got[tt.to]
		if !ok {
			t.Errorf("nothing sent to %s", tt.to)
			continue
		}
		if m.Subject != tt.subject {
			t.Errorf("%s: Subject = %q, want %q", tt.to, m.Subject, tt.subject)
		}
		if m.From != "conferencing@example.com" {
			t.Errorf("%s: MAIL FROM = %q", tt.to, m.From)
		}
		if !strings.Contains(string(m.Raw), "multipart/alternative") {
			t.Errorf("%s: not multipart/alternative:\n%s", tt.to, m.Raw)
		}
		for _, body := range []string{m.Text, html.UnescapeString(m.HTML)} {
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: body lacks %q:\n%s", tt.to, w, body)
				}
			}
		}
		for _, pin := range []string{testPIN, otherPIN, infoPIN} {
			has := strings.Contains(string(m.Raw), pin) || strings.Contains(m.Text, pin) || strings.Contains(m.HTML, pin)
			if want := pin == tt.pin; has != want {
				t.Errorf("%s: PIN %s present = %v, want %v", tt.to, pin, has, want)
			}
		}
	}
	if ada := got["ada@example.com"]; strings.Contains(ada.HTML, "<b>Ada</b>") || !strings.Contains(ada.HTML, "&lt;b&gt;Ada&lt;/b&gt;") {
		t.Errorf("display name not escaped in HTML:\n%s", ada.HTML)
	}

	for _, e := range entries(t, logs, "email sent") {
		if e["level"] != "info" || e["to"] == "" || e["kind"] == "" || e["id"] == nil || e["attempts"] != float64(1) {
			t.Errorf("email sent entry = %v", e)
		}
	}
	assertNoSecrets(t, logs, testPIN, otherPIN, infoPIN, "Hello")
}

func TestServerDownThenBack(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	srv.Stop()
	outbox := newFakeOutbox()
	id := outbox.queue(store.MailContent{Kind: store.MailEnabled, To: "ada@example.com",
		ConferenceID: "1234567", PIN: testPIN})

	logs, m := startMailer(t, testConfig(srv), outbox, 10*time.Millisecond)
	waitUntil(t, "3 failed attempts", func() bool {
		m, _ := outbox.get(id)
		return m.Attempts >= 3
	})
	if m, ok := outbox.get(id); !ok || !strings.Contains(m.LastError, "could not connect to "+srv.Addr()) {
		t.Errorf("kept = %v, last error %q, want one saying it could not connect", ok, m.LastError)
	}
	fails := outbox.failureList()
	for i := 1; i < len(fails); i++ {
		if !fails[i].next.After(fails[i-1].next) {
			t.Errorf("next attempt did not move on: %v then %v", fails[i-1].next, fails[i].next)
		}
	}
	notSent := entries(t, logs, "email not sent; kept in the outbox")
	if len(notSent) < 3 {
		t.Fatalf("%d failures logged, want 3 or more", len(notSent))
	}
	for i, want := range []string{"50ms", "100ms", "200ms"} {
		e := notSent[i]
		if e["level"] != "error" || e["retry_in"] != want || e["attempt"] != float64(i+1) ||
			e["to"] != "ada@example.com" || e["kind"] != store.MailEnabled {
			t.Errorf("failure %d logged as %v, want retry_in %s", i+1, e, want)
		}
		if msg, _ := e["error"].(string); !strings.Contains(msg, "could not connect to "+srv.Addr()) {
			t.Errorf("failure %d error = %q", i+1, msg)
		}
	}

	srv.Restart(t)
	msgs := srv.Wait(t, 1, testTimeout)
	if msgs[0].To[0] != "ada@example.com" || !strings.Contains(msgs[0].Text, testPIN) {
		t.Errorf("sent %v with text %q", msgs[0].To, msgs[0].Text)
	}
	waitUntil(t, "the outbox is empty", func() bool { return outbox.pending() == 0 })
	waitUntil(t, "the send is logged", func() bool { return logs.count(`"email sent"`) == 1 })
	if e := entries(t, logs, "email sent")[0]; e["attempts"].(float64) < 4 {
		t.Errorf("email sent entry = %v, want attempts >= 4", e)
	}
	if st := m.Stats(); st.Sent != 1 || st.Failed < 3 || st.LastSent.IsZero() {
		t.Errorf("stats %+v, want 1 sent after 3 or more failures", st)
	}
	assertNoSecrets(t, logs, testPIN)
}

func TestBadPassword(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "right-password"})
	outbox := newFakeOutbox()
	id := outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "ada@example.com", PIN: testPIN})
	cfg := testConfig(srv)
	cfg.Username = "mailer"
	cfg.Password = "wrong-password"

	logs := start(t, cfg, outbox, 10*time.Millisecond)
	waitUntil(t, "a failed attempt", func() bool {
		m, _ := outbox.get(id)
		return m.Attempts >= 1
	})
	waitUntil(t, "the failure is logged", func() bool { return logs.count("email not sent; kept in the outbox") >= 1 })

	m, ok := outbox.get(id)
	if !ok {
		t.Fatal("email left the outbox")
	}
	const want = "SMTP authentication failed: check email.username and email.password"
	if !strings.Contains(m.LastError, want) {
		t.Errorf("last error = %q, want it to say %q", m.LastError, want)
	}
	if e := entries(t, logs, "email not sent; kept in the outbox")[0]; !strings.Contains(e["error"].(string), want) {
		t.Errorf("logged error = %q, want it to say %q", e["error"], want)
	}
	if srv.AuthFailures() == 0 {
		t.Error("the server saw no failed AUTH")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages", n)
	}
	assertNoSecrets(t, logs, testPIN, "wrong-password", "right-password")
}

func TestGoodPassword(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "right-password"})
	outbox := newFakeOutbox()
	outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "ada@example.com", PIN: testPIN})
	cfg := testConfig(srv)
	cfg.Username = "mailer"
	cfg.Password = "right-password"

	logs := start(t, cfg, outbox, 10*time.Millisecond)
	srv.Wait(t, 1, testTimeout)
	waitUntil(t, "the outbox is empty", func() bool { return outbox.pending() == 0 })
	if n := srv.AuthFailures(); n != 0 {
		t.Errorf("AuthFailures = %d", n)
	}
	assertNoSecrets(t, logs, testPIN, "right-password")
}

func TestNoSMTPHost(t *testing.T) {
	outbox := newFakeOutbox()
	outbox.queue(store.MailContent{Kind: store.MailEnabled, To: "ada@example.com", ConferenceID: "1234567", PIN: testPIN})
	outbox.queue(store.MailContent{Kind: store.MailConferenceInfo, To: "bob@example.com", ConferenceID: "2345678"})
	cfg := config.Email{Security: "starttls", SMTPPort: 587, From: "conferencing@example.com",
		Timeout: time.Second, RetryMin: retryMin, RetryMax: retryMax, MaxAttempts: 3}

	logs := &logBuffer{}
	m, err := New(Options{Config: cfg, Outbox: outbox, Logger: zerolog.New(logs), PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	const warning = "email.smtp_host is empty: emails wait in the outbox"
	waitUntil(t, "the warning", func() bool { return logs.count(warning) >= 1 })
	// More wake-ups must not repeat it.
	for range 3 {
		select {
		case outbox.wake <- struct{}{}:
		case <-time.After(testTimeout):
			t.Fatal("the mailer stopped taking wake-ups")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Run did not return after cancel")
	}

	w := entries(t, logs, warning)
	if len(w) != 1 || w[0]["level"] != "warn" || w[0]["due"] != float64(2) {
		t.Errorf("warnings = %v, want one at warn with due 2", w)
	}
	if outbox.pending() != 2 || outbox.sentCount() != 0 || len(outbox.failureList()) != 0 {
		t.Errorf("outbox changed: pending %d, sent %d, failures %v", outbox.pending(), outbox.sentCount(), outbox.failureList())
	}
	assertNoSecrets(t, logs, testPIN)
}

func TestStartTLSRequired(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{}) // offers no STARTTLS
	outbox := newFakeOutbox()
	id := outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "ada@example.com", PIN: testPIN})
	cfg := testConfig(srv)
	cfg.Security = "starttls"

	start(t, cfg, outbox, 10*time.Millisecond)
	waitUntil(t, "a failed attempt", func() bool {
		m, _ := outbox.get(id)
		return m.Attempts >= 1
	})
	m, _ := outbox.get(id)
	if !strings.Contains(m.LastError, "does not offer STARTTLS") {
		t.Errorf("last error = %q", m.LastError)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("sent %d messages in clear", n)
	}
}

func TestImplicitTLSAgainstPlainServer(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	id := outbox.queue(store.MailContent{Kind: store.MailPINReset, To: "ada@example.com", PIN: testPIN})
	cfg := testConfig(srv)
	cfg.Security = "tls"

	start(t, cfg, outbox, 10*time.Millisecond)
	waitUntil(t, "a failed attempt", func() bool {
		m, _ := outbox.get(id)
		return m.Attempts >= 1
	})
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("sent %d messages in clear", n)
	}
}

// go-mail's WithTLSPortPolicy and WithSSLPort turn port 25 into 587 or 465;
// the configured port must be the one used.
func TestClientKeepsPort(t *testing.T) {
	for _, security := range []string{"starttls", "tls", "none"} {
		cfg := config.Email{SMTPPort: 25, Security: security, Timeout: time.Second}
		opts, err := clientOptions(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c, err := mail.NewClient("smtp.example.com", opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ServerAddr(); got != "smtp.example.com:25" {
			t.Errorf("%s: server address %s, want port 25", security, got)
		}
	}
}

// An email that cannot be rendered (an unknown kind) fails at once: no
// retry would render it. The others go on.
func TestUnknownKindFails(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	bad := outbox.queue(store.MailContent{Kind: "welcome", To: "ada@example.com"})
	outbox.queue(store.MailContent{Kind: store.MailConferenceInfo, To: "bob@example.com", ConferenceID: "2345678"})

	logs := start(t, testConfig(srv), outbox, 10*time.Millisecond)
	srv.Wait(t, 1, testTimeout)
	waitUntil(t, "the bad email fails", func() bool { return outbox.outcome(bad) != "" })
	waitUntil(t, "the good email leaves", func() bool { return outbox.pending() == 0 })
	if got := outbox.outcome(bad); !strings.Contains(got, `failed: render email: unknown kind "welcome"`) {
		t.Errorf("bad email: %q", got)
	}
	waitUntil(t, "the failure is logged", func() bool { return logs.count(`"email failed`) >= 1 })
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != "bob@example.com" {
		t.Errorf("sent %v", msgs)
	}
}

func TestWakesOnQueue(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	start(t, testConfig(srv), outbox, time.Hour) // only a wake-up can send
	waitUntil(t, "the first look at the outbox", func() bool { return outbox.dueCallCount() >= 1 })
	outbox.queue(store.MailContent{Kind: store.MailConferenceInfo, To: "ada@example.com", ConferenceID: "2345678"})
	srv.Wait(t, 1, testTimeout)
	waitUntil(t, "the outbox is empty", func() bool { return outbox.pending() == 0 })
}

func TestManyInBatches(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	outbox := newFakeOutbox()
	const n = batchSize*2 + 3
	for i := range n {
		outbox.queue(store.MailContent{Kind: store.MailConferenceInfo, To: "user" + strconv.Itoa(i) + "@example.com", ConferenceID: "2345678"})
	}
	start(t, testConfig(srv), outbox, time.Hour)
	if got := len(byRecipient(srv.Wait(t, n, testTimeout))); got != n {
		t.Errorf("%d recipients, want %d", got, n)
	}
	waitUntil(t, "the outbox is empty", func() bool { return outbox.pending() == 0 })
}

func TestBackoff(t *testing.T) {
	m := &Mailer{cfg: config.Email{RetryMin: retryMin, RetryMax: retryMax}}
	want := []time.Duration{50, 100, 200, 400, 400, 400}
	for attempts, w := range want {
		if got := m.backoff(attempts); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", attempts, got, w*time.Millisecond)
		}
	}
	if got := m.backoff(1000); got != retryMax {
		t.Errorf("backoff(1000) = %v", got)
	}
}

func TestNewValidates(t *testing.T) {
	good := config.Email{SMTPHost: "smtp.example.com", SMTPPort: 587, Security: "starttls",
		From: "conferencing@example.com", Timeout: time.Second, RetryMin: retryMin, RetryMax: retryMax, MaxAttempts: 3}
	if _, err := New(Options{Config: good, Outbox: newFakeOutbox()}); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no outbox", func(o *Options) { o.Outbox = nil }, "no outbox"},
		{"security", func(o *Options) { o.Config.Security = "ssl" }, "email.security"},
		{"from", func(o *Options) { o.Config.From = "not an address" }, "email.from"},
		{"port", func(o *Options) { o.Config.SMTPPort = 0 }, "port"},
		{"retry", func(o *Options) { o.Config.RetryMax = time.Millisecond }, "email.retry_max"},
		{"password alone", func(o *Options) { o.Config.Password = "x" }, "email.username"},
		{"max attempts", func(o *Options) { o.Config.MaxAttempts = 0 }, "email.max_attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Config: good, Outbox: newFakeOutbox()}
			tt.change(&o)
			if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one about %q", err, tt.want)
			}
		})
	}
}
