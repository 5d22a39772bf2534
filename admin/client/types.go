package client

import "github.com/dialin/dialin/admin/wire"

// The API's bodies are package wire's, shared with the server; these
// aliases keep the client's names. Each response type keeps the object it
// was decoded from in Raw.
type (
	User          = wire.User
	PINPolicy     = wire.PINPolicy
	LockState     = wire.LockState
	Change        = wire.Change
	UserPage      = wire.UserPage
	UserToken     = wire.UserToken
	EnableRequest = wire.EnableRequest
	UserPatch     = wire.UserPatch
	Meeting       = wire.Meeting
	Live          = wire.Live
	Participant   = wire.Participant
	LobbyCaller   = wire.LobbyCaller
	MeetingPage   = wire.MeetingPage
	// MeetingRequest is the body of POST /meetings; nil booleans take the
	// API's defaults (require_organizer true, bypass_lobby false).
	MeetingRequest = wire.MeetingRequest
	Settings       = wire.Settings
	Lockout        = wire.Lockout
	SettingsPatch  = wire.SettingsPatch
	LockoutPatch   = wire.LockoutPatch
)

// MaskedPIN is how the API shows a PIN anywhere but the one response that set it.
const MaskedPIN = wire.MaskedPIN

// Codes of the API's errors about live meetings (APIError.Code).
const (
	CodeMeetingNotStarted = wire.CodeMeetingNotStarted // 409: the meeting is not on
	CodeCallerNotFound    = wire.CodeCallerNotFound    // 404: no participant or lobby caller with that id
	CodeBridgeUnavailable = wire.CodeBridgeUnavailable // 503: the server is not connected to the bridge
)
