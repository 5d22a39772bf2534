package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dialin/dialin/store"
)

// Error codes of the API (API.md, "Errors").
const (
	codeBadRequest       = "bad_request"
	codeInvalidInput     = "invalid_input"
	codePINPolicy        = "pin_policy"
	codeUnauthorized     = "unauthorized"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeConflict         = "conflict"
	codePINLocked        = "pin_locked"
	codeUnsupportedMedia = "unsupported_media_type"
	codeInternal         = "internal"
)

// apiError is an error as the client sees it.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Rule    string `json:"rule,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

// errorBody is the JSON of every error response.
type errorBody struct {
	Error *apiError `json:"error"`
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeBadRequest, Message: fmt.Sprintf(format, args...)}
}

// badParam is a bad query parameter.
func badParam(name, format string, args ...any) *apiError {
	e := badRequest("query parameter %s: %s", name, fmt.Sprintf(format, args...))
	e.Field = name
	return e
}

func invalidInput(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusConflict, Code: codeConflict, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: fmt.Sprintf(format, args...)}
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
		return &apiError{Status: http.StatusBadRequest, Code: codePINPolicy, Field: "pin", Rule: policy.Rule, Message: policy.Msg}, false
	case errors.As(err, &input):
		return invalidInput(input.Field, "%s", input.Msg), false
	case errors.Is(err, store.ErrInvalidInput):
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidInput, Message: storeMessage(err)}, false
	case errors.Is(err, store.ErrNotFound):
		var s *subjectError
		if errors.As(err, &s) {
			return notFound("%s not found", s.subject), false
		}
		return notFound("not found"), false
	case errors.Is(err, store.ErrPINLocked):
		return &apiError{Status: http.StatusConflict, Code: codePINLocked, Message: store.ErrPINLocked.Error()}, false
	case errors.Is(err, store.ErrExists):
		return conflict("%s", storeMessage(err)), false
	}
	return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error (see the server log)"}, true
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
