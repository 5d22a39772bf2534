package mailer

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"

	mail "github.com/wneessen/go-mail"
	gomailsmtp "github.com/wneessen/go-mail/smtp"
)

// explain turns a go-mail error into one an administrator can act on.
// go-mail's errors name neither the server nor the setting to check.
func explain(err error, addr string) error {
	switch {
	case isAuthError(err):
		return fmt.Errorf("SMTP authentication failed: check email.username and email.password: %w", err)
	case errors.Is(err, gomailsmtp.ErrUnencrypted):
		return fmt.Errorf("SMTP authentication refused on an unencrypted connection to %s: use email.security starttls or tls: %w", addr, err)
	case isDialError(err):
		return fmt.Errorf("could not connect to %s: %w", addr, err)
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return fmt.Errorf("%s does not offer STARTTLS: check email.security and email.smtp_port: %w", addr, err)
	case isTimeout(err):
		return fmt.Errorf("timed out talking to %s (email.timeout): %w", addr, err)
	}
	return fmt.Errorf("SMTP server %s: %w", addr, err)
}

func isAuthError(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) && (te.Code == 535 || te.Code == 534 || te.Code == 530) {
		return true
	}
	var se *mail.SendError
	if errors.As(err, &se) && se.ErrorCode() == 530 {
		return true // MAIL refused: the server wants AUTH
	}
	// go-mail wraps every AUTH exchange error in "SMTP AUTH failed".
	return strings.Contains(err.Error(), "SMTP AUTH failed") ||
		errors.Is(err, mail.ErrPlainAuthNotSupported) ||
		errors.Is(err, mail.ErrNoSupportedAuthDiscovered) ||
		strings.Contains(err.Error(), "does not support SMTP AUTH")
}

func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
