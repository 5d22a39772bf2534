package smtptest

import (
	"fmt"
	"io"
	"sync/atomic"

	sasl "github.com/emersion/go-sasl"
	smtp "github.com/emersion/go-smtp"
)

// errAuthRequired is what real submission servers answer to MAIL before
// AUTH (go-smtp's ErrAuthRequired uses 502, which clients read as
// "command not implemented").
var errAuthRequired = &smtp.SMTPError{
	Code:         530,
	EnhancedCode: smtp.EnhancedCode{5, 7, 0},
	Message:      "Authentication required",
}

var errStopped = &smtp.SMTPError{
	Code:         421,
	EnhancedCode: smtp.EnhancedCode{4, 3, 2},
	Message:      "Server stopped",
}

// backend serves one listening period of a Server.
type backend struct {
	s       *Server
	stopped atomic.Bool
}

func (b *backend) stop() { b.stopped.Store(true) }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if b.stopped.Load() {
		c.Conn().Close()
		return nil, errStopped
	}
	return &session{b: b}, nil
}

// session is one SMTP connection.
type session struct {
	b      *backend
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) opts() Options { return ss.b.s.opts }

func (ss *session) AuthMechanisms() []string {
	if ss.opts().Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.opts().Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		o := ss.opts()
		if (identity != "" && identity != username) || username != o.Username || password != o.Password {
			ss.b.s.authFailed()
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.check(); err != nil {
		return err
	}
	ss.from = from
	ss.to = nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.check(); err != nil {
		return err
	}
	if refuse := ss.opts().Refuse; refuse != nil {
		if r := refuse(to); r != nil {
			return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: r.Message}
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if err := ss.check(); err != nil {
		return err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	if ss.b.stopped.Load() {
		return errStopped
	}
	m := parse(raw)
	m.From = ss.from
	m.To = append([]string(nil), ss.to...)
	ss.b.s.record(m)
	return nil
}

func (ss *session) check() error {
	if ss.b.stopped.Load() {
		return errStopped
	}
	if ss.opts().Username != "" && !ss.authed {
		return errAuthRequired
	}
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }
