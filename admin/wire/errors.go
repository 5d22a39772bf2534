package wire

// Error codes of the API (API.md, "Errors").
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidInput     = "invalid_input"
	CodePINPolicy        = "pin_policy"
	CodeUnauthorized     = "unauthorized"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodePINLocked        = "pin_locked"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeInternal         = "internal"

	// The live meeting control's.
	CodeMeetingNotStarted = "meeting_not_started" // 409: the meeting is not on
	CodeCallerNotFound    = "caller_not_found"    // 404: no participant or lobby caller with that id
	CodeBridgeUnavailable = "bridge_unavailable"  // 503: the server is not connected to the bridge
)

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// Error is what went wrong, as the client is told.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // the input field at fault, when known
	Rule    string `json:"rule,omitempty"`  // the PIN policy rule broken, when known
}
