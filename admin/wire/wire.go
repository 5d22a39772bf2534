// Package wire is the JSON of the administration REST API (../API.md): the
// request and response bodies the server (package admin) writes and reads
// and the client (package admin/client) sends and decodes, written once.
//
// It imports only the standard library, so the client links nothing of the
// server or the directory. Field order is the order on the wire: the
// server's responses are these structs encoded as they are, and the tests
// and the OpenAPI document pin that output.
//
// The response types keep the object they were decoded from in Raw, so the
// client can show a response as it came (dialin --json) without a second
// request or a lossy re-encoding. Raw is never encoded.
package wire

import (
	"encoding/json"
	"time"
)

// MaskedPIN is how a PIN is shown anywhere but the one response that set it.
const MaskedPIN = "***********"

// keepRaw decodes data into v (a pointer to a new value of a type without
// UnmarshalJSON, so that it does not recurse) and keeps a copy of data in
// raw. The callers decode into a new value and then assign it, as
// json.Unmarshal into a fresh variable would: a field the object lacks is
// zero, not what the variable held before (a reused Change keeps no PIN).
func keepRaw(data []byte, v any, raw *json.RawMessage) error {
	if err := json.Unmarshal(data, v); err != nil {
		return err
	}
	*raw = append(json.RawMessage(nil), data...)
	return nil
}

// Health is the body of GET /health.
type Health struct {
	Status string `json:"status"` // "ok"
}

// Status is the body of GET /status: what the bridge is doing.
type Status struct {
	Calls         int `json:"calls"`
	RTPPorts      int `json:"rtp_ports"`
	Goroutines    int `json:"goroutines"`
	EmailsPending int `json:"emails_pending"`
	Meetings      int `json:"meetings"`
	// SIP requests refused for their source: a trunk missing from
	// sip.trusted_networks shows here (and in the log).
	SIPRefusedUntrusted uint64 `json:"sip_refused_untrusted"`
	// Calls refused for wrong digest credentials: a trunk with the wrong
	// password, or someone guessing.
	SIPRefusedAuth uint64 `json:"sip_refused_auth"`
	// Memory tells a leak (live heap growing) from memory the runtime
	// keeps after a busy spell (held, not live).
	HeapLiveBytes uint64 `json:"heap_live_bytes"`
	GoHeldBytes   uint64 `json:"go_held_bytes"`

	// Calls hung up because the caller's side was gone: no media and no
	// answer (or 408, 481) to the bridge's in-dialog OPTIONS.
	SIPPeersGone uint64 `json:"sip_peers_gone"`

	// Version is the bridge's build (internal/version's Short: a module
	// version or pseudo-version naming the commit); StartedAt and
	// UptimeSeconds say since when it runs.
	Version       string    `json:"version"`
	StartedAt     time.Time `json:"started_at"`
	UptimeSeconds int64     `json:"uptime_seconds"`

	Counters // since start; the same figures as /metrics
}

// Counters are what went wrong since start, for GET /status (Prometheus
// has them too, on metrics.listen).
type Counters struct {
	CallsAnswered   uint64 `json:"calls_answered"`
	CallsUnanswered uint64 `json:"calls_unanswered"` // cancelled, or never acknowledged
	// Refused at the SIP level for another reason than their source or
	// credentials: limits (503), not a dial-in number, a bad INVITE or
	// offer, no common codec, a session timer too short, no RTP port.
	CallsRefused  uint64 `json:"calls_refused"`
	IDsNotFound   uint64 `json:"conference_ids_not_found"`
	PINsWrong     uint64 `json:"pins_wrong"`
	PINsLocked    uint64 `json:"pins_refused_locked"` // entered while the PIN was locked
	PINLockouts   uint64 `json:"pin_lockouts"`        // PINs locked by failures
	GuardRefusals uint64 `json:"guard_refusals"`      // calls and entries the guessing guard refused
	EmailsSent    uint64 `json:"emails_sent"`
	EmailsFailed  uint64 `json:"emails_failed"` // failed attempts (each retry counts)
}
