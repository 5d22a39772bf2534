package sipua

import "sync/atomic"

// holdState is whether the caller holds the bridge: its last offer was
// sendonly or inactive (or c=0.0.0.0), so whatever it still sends is its
// PBX's hold music, not the caller. The meeting leaves such a caller out of
// the mix and tells the others (bridge.Call's Held and HoldChanged).
type holdState struct {
	held    atomic.Bool
	changed chan struct{} // one pending signal; made with the Call
}

// Held reports whether the caller holds the bridge (a lock-free read).
func (c *Call) Held() bool { return c.hold.held.Load() }

// HoldChanged signals after Held changed; read Held for the new value. One
// signal stands for any number of changes since the last read.
func (c *Call) HoldChanged() <-chan struct{} { return c.hold.changed }

// setHeld records the direction negotiated for the caller's offer.
func (c *Call) setHeld(on bool) {
	if c.hold.held.Swap(on) == on {
		return
	}
	if on {
		c.log.Info().Msg("caller holds the bridge")
	} else {
		c.log.Info().Msg("caller resumed from hold")
	}
	select {
	case c.hold.changed <- struct{}{}:
	default: // a signal is pending already
	}
}
