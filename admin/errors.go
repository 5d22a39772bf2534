package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// apiError is an error as the client sees it, with its HTTP status.
type apiError struct {
	Status  int
	Code    string // wire.Code*
	Message string
	Field   string
	Rule    string
}

func (e *apiError) Error() string { return e.Message }

// body is e as the API sends it.
func (e *apiError) body() wire.ErrorBody {
	return wire.ErrorBody{Error: &wire.Error{Code: e.Code, Message: e.Message, Field: e.Field, Rule: e.Rule}}
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Message: fmt.Sprintf(format, args...)}
}

// badParam is a bad query parameter.
func badParam(name, format string, args ...any) *apiError {
	e := badRequest("query parameter %s: %s", name, fmt.Sprintf(format, args...))
	e.Field = name
	return e
}

func invalidInput(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: wire.CodeInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusConflict, Code: wire.CodeConflict, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: wire.CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// subjectError names the resource a request addressed, so that a store's
// ErrNotFound becomes "user ada@example.com not found" rather than the
// store's internal wording (user IDs, table names).
type subjectError struct {
	subject string
	err     error
}

func (e *subjectError) Error() string { return e.subject + ": " + e.err.Error() }
func (e *subjectError) Unwrap() error { return e.err }

// about attaches subject to err (nil stays nil).
func about(err error, subject string) error {
	if err == nil {
		return nil
	}
	return &subjectError{subject: subject, err: err}
}

// toAPIError maps an error of a handler or of the store to what the client
// sees. internal is true when the error is ours, not the request's: it is
// logged and its text never reaches the client.
func toAPIError(err error) (e *apiError, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	var policy *store.PolicyError
	var input *store.InputError
	switch {
	case errors.As(err, &policy):
		return &apiError{Status: http.StatusBadRequest, Code: wire.CodePINPolicy, Field: "pin", Rule: policy.Rule, Message: policy.Msg}, false
	case errors.As(err, &input):
		return invalidInput(input.Field, "%s", input.Msg), false
	case errors.Is(err, store.ErrInvalidInput):
		return &apiError{Status: http.StatusBadRequest, Code: wire.CodeInvalidInput, Message: storeMessage(err)}, false
	case errors.Is(err, store.ErrNotFound):
		var s *subjectError
		if errors.As(err, &s) {
			return notFound("%s not found", s.subject), false
		}
		return notFound("not found"), false
	case errors.Is(err, store.ErrPINLocked):
		return &apiError{Status: http.StatusConflict, Code: wire.CodePINLocked, Message: store.ErrPINLocked.Error()}, false
	case errors.Is(err, store.ErrExists):
		return conflict("%s", storeMessage(err)), false
	}
	return &apiError{Status: http.StatusInternalServerError, Code: wire.CodeInternal, Message: "internal error (see the server log)"}, true
}

// storeMessage is the store's own text of a refusal, without the subject
// this package added.
func storeMessage(err error) string {
	var s *subjectError
	if errors.As(err, &s) {
		return s.err.Error()
	}
	return err.Error()
}
