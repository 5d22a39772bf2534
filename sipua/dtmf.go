package sipua

import (
	"sync"
	"time"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/loglimit"
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

	// The caller decides how many keys arrive (an RFC 4733 flood makes
	// thousands a second): the lines about them are limited.
	keyLog, dropLog loglimit.Limiter
}

// newDTMFGate: in auto mode the detector runs only when the offer has no
// telephone-event; tones that ride along with events would otherwise be
// read too (harmless thanks to the duplicate check, but wasted work).
func newDTMFGate(mode string, telephoneEvent bool) *dtmfGate {
	return &dtmfGate{
		mode:    mode,
		inband:  mode == config.DTMFInband || (mode == config.DTMFAuto && !telephoneEvent),
		keyLog:  loglimit.Limiter{Interval: time.Second, Burst: dtmfKeyLogBurst},
		dropLog: loglimit.Limiter{Interval: time.Second, Burst: 1},
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

// dtmfKeyLogBurst is how many "dtmf key" lines a second a call writes
// (debug level): more than anyone presses.
const dtmfKeyLogBurst = 20

// logKey writes the debug line of a key handed to the flow. Keys are not
// logged: they may be a PIN.
func (c *Call) logKey(source string) {
	if e := c.log.Debug(); e.Enabled() {
		if ok, suppressed := c.allowLog(&c.dtmf.keyLog); ok {
			e.Str("source", source).Int("suppressed", suppressed).Msg("dtmf key")
		} else {
			e.Discard()
		}
	}
}

// logDroppedKey warns that a key found the queue full, once a second.
func (c *Call) logDroppedKey(source string) {
	if ok, suppressed := c.allowLog(&c.dtmf.dropLog); ok {
		c.log.Warn().Str("source", source).Int("suppressed", suppressed).Msg("dtmf queue full, key dropped")
	}
}

// allowLog asks l, or lets the line through on a call without a gate.
func (c *Call) allowLog(l *loglimit.Limiter) (bool, int) {
	if c.dtmf == nil {
		return true, 0
	}
	return l.Allow(time.Now())
}
