package sipua

import (
	"sync"
	"time"

	"github.com/dialin/dialin/config"
)

// Where a key came from, as logged.
const (
	sourceRFC4733 = "rfc4733"
	sourceINFO    = "sip-info"
	sourceInband  = "inband"
)

// dtmfDuplicateWindow: a key reported by a second transport within this
// long of the same key from another transport is the same press (a trunk
// sending both RFC 4733 and INFO, or events with the tones left in). A
// person cannot press one key twice this fast.
const dtmfDuplicateWindow = 300 * time.Millisecond

// dtmfGate decides which transports a call takes keys from and drops a
// press reported by two of them. Keys arrive on the RTP goroutine (RFC 4733
// and in-band) and on sipgo's (INFO), hence the mutex.
type dtmfGate struct {
	mode   string // config.DTMF*
	inband bool   // the in-band detector runs on this call

	mu         sync.Mutex
	lastKey    byte
	lastSource string
	lastAt     time.Time
}

// newDTMFGate: in auto mode the detector runs only when the offer has no
// telephone-event; tones that ride along with events would otherwise be
// read too (harmless thanks to the duplicate check, but wasted work).
func newDTMFGate(mode string, telephoneEvent bool) *dtmfGate {
	return &dtmfGate{
		mode:   mode,
		inband: mode == config.DTMFInband || (mode == config.DTMFAuto && !telephoneEvent),
	}
}

// accept reports whether a key from source counts.
func (g *dtmfGate) accept(key byte, source string, now time.Time) bool {
	switch g.mode {
	case config.DTMFRFC4733:
		if source != sourceRFC4733 {
			return false
		}
	case config.DTMFInfo:
		if source != sourceINFO {
			return false
		}
	case config.DTMFInband:
		if source != sourceInband {
			return false
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if key == g.lastKey && source != g.lastSource && now.Sub(g.lastAt) < dtmfDuplicateWindow {
		g.lastAt = now
		return false
	}
	g.lastKey, g.lastSource, g.lastAt = key, source, now
	return true
}
