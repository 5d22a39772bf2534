package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"

	mail "github.com/wneessen/go-mail"
)

// Some emails must not wait in the outbox: the self-service page's sign-in
// link holds a token that opens the user's page, and the outbox would keep
// it (sealed, but readable by the server) until sent and through retries.
// SendNow sends one such email at once with the configured server: no
// queue, no retry (the user asks again), and errors that never hold the
// message's text.

// signInLink is the sign-in link email's templates.
var signInLink = struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}{
	text: texttemplate.Must(texttemplate.New("signin_link").Option("missingkey=error").
		ParseFS(templateFS, "templates/common.txt", "templates/signin_link.txt")),
	html: htmltemplate.Must(htmltemplate.New("signin_link").Option("missingkey=error").
		ParseFS(templateFS, "templates/common.html", "templates/signin_link.html")),
}

// signInLinkSubject is the sign-in link email's subject.
const signInLinkSubject = "Sign in to your audio conferencing page"

// RenderSignInLink writes the email that carries a self-service sign-in
// link to the user named name.
func RenderSignInLink(name, link string) (Rendered, error) {
	v := struct {
		Subject, Name string
		Link          string
	}{Subject: signInLinkSubject, Name: oneLine(name), Link: link}
	var text, html bytes.Buffer
	if err := signInLink.text.ExecuteTemplate(&text, "signin_link.txt", v); err != nil {
		return Rendered{}, fmt.Errorf("render sign-in link email text: %w", err)
	}
	if err := signInLink.html.ExecuteTemplate(&html, "page", v); err != nil {
		return Rendered{}, fmt.Errorf("render sign-in link email HTML: %w", err)
	}
	return Rendered{Subject: signInLinkSubject, Text: text.String(), HTML: html.String()}, nil
}

// ErrNoServer is SendNow's answer when email.smtp_host is empty.
var ErrNoServer = errors.New("no SMTP server (email.smtp_host is empty)")

// SendNow sends r to to at once, over one connection to the configured
// server, and reports the outcome; nothing is queued or retried. The
// error names the server and its answer, never r's text.
func (m *Mailer) SendNow(ctx context.Context, to string, r Rendered) error {
	if m.cfg.SMTPHost == "" {
		return ErrNoServer
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.cfg.From); err != nil {
		return fmt.Errorf("sender %q: %w", m.cfg.From, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("recipient %q: %w", to, err)
	}
	msg.Subject(r.Subject)
	msg.SetDateWithValue(m.now())
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	client, err := mail.NewClient(m.cfg.SMTPHost, m.clientOpts...)
	if err != nil {
		return fmt.Errorf("SMTP client for %s: %w", m.addr, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil && !msg.IsDelivered() {
		return explain(err, m.addr)
	}
	m.stats.sent.Add(1)
	m.stats.lastSent.Store(m.now().UnixNano())
	return nil
}
