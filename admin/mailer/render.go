package mailer

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"unicode"

	"github.com/dialin/dialin/store"
)

//go:embed templates
var templateFS embed.FS

// Rendered is an email ready to send.
type Rendered struct{ Subject, Text, HTML string }

// kind is what each kind of email says and needs.
type kind struct {
	subject      string
	pin          bool // shows the PIN, which must be there
	conferenceID bool // shows the conference ID, which must be there
	optionalID   bool // shows the conference ID if there is one (none in dynamic mode)
	text         *texttemplate.Template
	html         *htmltemplate.Template
}

var kinds = map[string]*kind{
	store.MailEnabled:           {subject: "Your audio conferencing details", pin: true, optionalID: true},
	store.MailPINReset:          {subject: "Your audio conferencing PIN has been reset", pin: true},
	store.MailConferenceIDReset: {subject: "Your conference ID has changed", conferenceID: true},
	store.MailConferenceInfo:    {subject: "Your audio conferencing information", conferenceID: true},
}

// Subject is the subject line of an email of this kind (the mail queue
// lists it); "" for an unknown kind.
func Subject(kind string) string {
	if k, ok := kinds[kind]; ok {
		return k.subject
	}
	return ""
}

// Templates are parsed once: a broken template is a build mistake, caught
// by any test.
func init() {
	for name, k := range kinds {
		k.text = texttemplate.Must(texttemplate.New(name).Option("missingkey=error").
			ParseFS(templateFS, "templates/common.txt", "templates/"+name+".txt"))
		k.html = htmltemplate.Must(htmltemplate.New(name).Option("missingkey=error").
			ParseFS(templateFS, "templates/common.html", "templates/"+name+".html"))
	}
}

// view is what the templates see. PIN is empty unless the kind shows it.
type view struct {
	Subject       string
	Name          string
	ConferenceID  string
	PIN           string
	DialInNumbers []dialIn
}

// dialIn is a dial-in number with its one-tap dial string, as the
// anchors' invitations print them: tel:+14255550100,,1234567# dials the
// number, waits, and types the conference ID and #. Tel is empty for a
// number that is not a phone number (a name like "conference").
type dialIn struct {
	Number string
	Tel    string
	Href   htmltemplate.URL // Tel with # escaped, for the HTML link
}

// dialIns pairs each number with its dial string for conferenceID ("":
// the number alone).
func dialIns(numbers []string, conferenceID string) []dialIn {
	out := make([]dialIn, 0, len(numbers))
	for _, n := range numbers {
		d := dialIn{Number: n}
		if tel, ok := DialString(n, conferenceID); ok {
			d.Tel = tel
			// Only digits, '+', ',' and '#' went in: safe in an href.
			d.Href = htmltemplate.URL(strings.ReplaceAll(d.Tel, "#", "%23"))
		}
		out = append(out, d)
	}
	return out
}

// DialString is the one-tap dial string of a dial-in number for
// conferenceID ("": the number alone), as the emails print it; false for
// a number that is not a phone number. In an href, '#' must be escaped.
func DialString(number, conferenceID string) (string, bool) {
	digits, ok := telDigits(number)
	if !ok {
		return "", false
	}
	tel := "tel:" + digits
	if conferenceID != "" {
		tel += ",," + conferenceID + "#"
	}
	return tel, true
}

// telDigits is a phone number as a tel: URI wants it ("+1 (425) 555-0100"
// gives "+14255550100"); false for anything else.
func telDigits(n string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(n) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	return b.String(), len(digits) >= 3
}

// Render writes the email for c. dialInNumbers are used when c carries
// none. It fails for an unknown kind, or when a fact the kind shows is
// missing (better kept in the outbox than sent as "Your PIN: ").
func Render(c store.MailContent, dialInNumbers []string) (Rendered, error) {
	k, ok := kinds[c.Kind]
	if !ok {
		return Rendered{}, fmt.Errorf("render email: unknown kind %q", c.Kind)
	}
	v := view{
		Subject: k.subject,
		Name:    oneLine(c.DisplayName),
	}
	numbers := c.DialInNumbers
	if len(numbers) == 0 {
		numbers = dialInNumbers
	}
	switch {
	case k.conferenceID && c.ConferenceID == "":
		return Rendered{}, fmt.Errorf("render %s email: no conference ID", c.Kind)
	case k.conferenceID, k.optionalID:
		v.ConferenceID = c.ConferenceID
	}
	v.DialInNumbers = dialIns(numbers, v.ConferenceID)
	// Only kinds that show the PIN ever see it: a conference_info email
	// never carries the PIN, even if the content held one.
	if k.pin {
		if c.PIN == "" {
			return Rendered{}, fmt.Errorf("render %s email: no PIN", c.Kind)
		}
		v.PIN = c.PIN
	}

	var text, html bytes.Buffer
	if err := k.text.ExecuteTemplate(&text, c.Kind+".txt", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s email text: %w", c.Kind, err)
	}
	if err := k.html.ExecuteTemplate(&html, "page", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s email HTML: %w", c.Kind, err)
	}
	return Rendered{Subject: k.subject, Text: text.String(), HTML: html.String()}, nil
}

// oneLine keeps a display name on one line: it is typed by administrators
// and goes into a greeting.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
