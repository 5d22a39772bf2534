package wire

import (
	"encoding/json"
	"time"
)

// Outcomes of an audit entry.
const (
	AuditOK      = "ok"      // the change was made
	AuditRefused = "refused" // the request's fault (the error says which)
	AuditFailed  = "failed"  // the server's: storage or bridge
)

// AuditEntry is one entry of the audit trail (GET /audit): never a PIN or
// a token, only the name of the credential used.
type AuditEntry struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Credential string    `json:"credential"` // the token's name; "user:EMAIL" for a user's own
	Address    string    `json:"address"`    // the client's host:port
	Action     string    `json:"action"`     // "user.enable", "pin.reset", "meeting.mute"...
	User       string    `json:"user"`       // the user it is about, "" if none
	Target     string    `json:"target"`     // "user ada@example.com", "meeting 1234567", "settings"
	Detail     string    `json:"detail"`
	Outcome    string    `json:"outcome"` // AuditOK, AuditRefused, AuditFailed
	Error      string    `json:"error"`   // refused, failed: the error code, with the field or rule

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (e *AuditEntry) UnmarshalJSON(data []byte) error {
	type plain AuditEntry
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*e = AuditEntry(p)
	return nil
}

// AuditPage is the body of GET /audit: entries newest first.
type AuditPage struct {
	Entries    []AuditEntry `json:"entries"`
	NextBefore int64        `json:"next_before"` // the next page's before; 0 at the end
}
