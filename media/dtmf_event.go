package media

import (
	"encoding/binary"
	"errors"
)

// DTMFEventSize is the size of an RFC 4733 telephone-event payload.
const DTMFEventSize = 4

// ErrShortEvent is returned for a telephone-event payload under 4 bytes.
var ErrShortEvent = errors.New("rfc4733: payload shorter than 4 bytes")

// DTMFEvent is one RFC 4733 telephone-event payload (section 2.3):
//
//	 0                   1                   2                   3
//	|     event     |E|R| volume    |          duration             |
type DTMFEvent struct {
	Event    uint8  // 0-9, 10 = *, 11 = #, 12-15 = A-D
	End      bool   // E bit: this is (a retransmission of) the end of the event
	Volume   uint8  // power level in -dBm0, 0..63
	Duration uint16 // in timestamp units (8 kHz) since the event began
}

// Unmarshal parses a telephone-event payload. Extra bytes (a redundant
// second event some gateways append) are ignored.
func (e *DTMFEvent) Unmarshal(payload []byte) error {
	if len(payload) < DTMFEventSize {
		return ErrShortEvent
	}
	e.Event = payload[0]
	e.End = payload[1]&0x80 != 0
	e.Volume = payload[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(payload[2:4])
	return nil
}

// MarshalTo writes the 4-byte payload into b and returns the bytes written.
func (e DTMFEvent) MarshalTo(b []byte) (int, error) {
	if len(b) < DTMFEventSize {
		return 0, ErrShortEvent
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3F
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], e.Duration)
	return DTMFEventSize, nil
}

const dtmfDigits = "0123456789*#ABCD"

// DigitForEvent maps an event code to its key: '0'-'9', '*', '#', 'A'-'D'.
func DigitForEvent(event uint8) (byte, bool) {
	if int(event) >= len(dtmfDigits) {
		return 0, false
	}
	return dtmfDigits[event], true
}

// EventForDigit maps a key to its event code.
func EventForDigit(digit byte) (uint8, bool) {
	if 'a' <= digit && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := 0; i < len(dtmfDigits); i++ {
		if dtmfDigits[i] == digit {
			return uint8(i), true
		}
	}
	return 0, false
}
