package mailer

import (
	"html"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
)

const (
	testPIN    = "738291046" // longer than any port number, so never there by chance
	otherPIN   = "604917283"
	defaultNum = "+44 20 7946 0000"
)

func TestRenderKinds(t *testing.T) {
	numbers := []string{"+1 425 555 0100", "+1 425 555 0199"}
	tests := []struct {
		kind    string
		pin     string // in the content
		subject string
		want    []string // in the text and the (unescaped) HTML
		showPIN bool
	}{
		{store.MailEnabled, testPIN, "Your audio conferencing details",
			[]string{"join meetings by phone", "1234567", numbers[0], numbers[1], "only to start a meeting as its organizer", "Keep it private"}, true},
		{store.MailPINReset, testPIN, "Your audio conferencing PIN has been reset",
			[]string{"has been reset", "only to start a meeting as its organizer"}, true},
		{store.MailConferenceIDReset, "", "Your conference ID has changed",
			[]string{"1234567", numbers[0], "already scheduled", "no longer works", "send the invitations again"}, false},
		// The PIN is never shown in conference info, even if the content has one.
		{store.MailConferenceInfo, testPIN, "Your audio conferencing information",
			[]string{"1234567", numbers[0], "does not contain your PIN"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			c := store.MailContent{Kind: tt.kind, To: "ada@example.com", DisplayName: "Ada Lovelace",
				ConferenceID: "1234567", PIN: tt.pin, DialInNumbers: numbers}
			r, err := Render(c, []string{defaultNum})
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject != tt.subject || Subject(tt.kind) != tt.subject {
				t.Errorf("Subject = %q, Subject(%s) = %q, want %q", r.Subject, tt.kind, Subject(tt.kind), tt.subject)
			}
			page := html.UnescapeString(r.HTML)
			for _, body := range []string{r.Text, page} {
				for _, w := range append(tt.want, "Hello Ada Lovelace,") {
					if !strings.Contains(body, w) {
						t.Errorf("body lacks %q:\n%s", w, body)
					}
				}
				if got := strings.Contains(body, testPIN); got != tt.showPIN {
					t.Errorf("PIN shown = %v, want %v:\n%s", got, tt.showPIN, body)
				}
				if strings.Contains(body, defaultNum) {
					t.Errorf("default numbers used though the email has its own:\n%s", body)
				}
			}
			if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") {
				t.Errorf("HTML is not a page: %q", r.HTML)
			}
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	c := store.MailContent{Kind: store.MailEnabled, DisplayName: "<b>Ada</b>", ConferenceID: "1234567", PIN: testPIN}
	r, err := Render(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<b>Ada</b>") || !strings.Contains(r.HTML, "Hello &lt;b&gt;Ada&lt;/b&gt;,") {
		t.Errorf("display name not escaped in HTML:\n%s", r.HTML)
	}
	if !strings.Contains(r.Text, "Hello <b>Ada</b>,") {
		t.Errorf("text greeting changed:\n%s", r.Text)
	}
}

func TestRenderDialInNumbers(t *testing.T) {
	c := store.MailContent{Kind: store.MailConferenceInfo, ConferenceID: "1234567"}
	r, err := Render(c, []string{defaultNum})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, defaultNum) || !strings.Contains(html.UnescapeString(r.HTML), defaultNum) {
		t.Errorf("fallback numbers missing:\n%s\n%s", r.Text, r.HTML)
	}

	r, err = Render(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{r.Text, r.HTML} {
		if !strings.Contains(body, "Ask your administrator for the dial-in numbers") {
			t.Errorf("no hint without numbers:\n%s", body)
		}
	}
}

func TestRenderGreetingWithoutName(t *testing.T) {
	r, err := Render(store.MailContent{Kind: store.MailPINReset, DisplayName: " \r\n ", PIN: testPIN}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Text, "Hello,\n") || !strings.Contains(r.HTML, "<p>Hello,</p>") {
		t.Errorf("greeting without a name:\n%s\n%s", r.Text, r.HTML)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		c    store.MailContent
		want string
	}{
		{"unknown kind", store.MailContent{Kind: "welcome", ConferenceID: "1234567"}, `unknown kind "welcome"`},
		{"empty kind", store.MailContent{}, "unknown kind"},
		{"enabled without PIN", store.MailContent{Kind: store.MailEnabled, ConferenceID: "1234567"}, "no PIN"},
		{"reset without PIN", store.MailContent{Kind: store.MailPINReset}, "no PIN"},
		{"info without ID", store.MailContent{Kind: store.MailConferenceInfo}, "no conference ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.c, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Each phone number gets its one-tap dial string beside it: the number,
// two pauses, the conference ID and #. Names get none; a PIN email (no
// conference ID shown) dials the number alone.
func TestRenderDialStrings(t *testing.T) {
	c := store.MailContent{Kind: store.MailConferenceInfo, ConferenceID: "1234567",
		DialInNumbers: []string{"+1 (425) 555-0100", "conference"}}
	r, err := Render(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "  +1 (425) 555-0100  (one tap: tel:+14255550100,,1234567#)\n") ||
		!strings.Contains(r.Text, "  conference\n") {
		t.Errorf("text:\n%s", r.Text)
	}
	if h := html.UnescapeString(r.HTML); !strings.Contains(h, `<a href="tel:+14255550100,,1234567%23">tel:+14255550100,,1234567#</a>`) ||
		!strings.Contains(h, "<li>conference</li>") {
		t.Errorf("HTML:\n%s", r.HTML)
	}

	// Dynamic mode: the welcome has no conference ID, so the numbers dial
	// alone.
	r, err = Render(store.MailContent{Kind: store.MailEnabled, PIN: testPIN, DialInNumbers: []string{"+14255550100"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "(one tap: tel:+14255550100)") || !strings.Contains(r.Text, "its own conference ID") ||
		strings.Contains(r.Text, "Conference ID:") {
		t.Errorf("dynamic welcome:\n%s", r.Text)
	}
}
