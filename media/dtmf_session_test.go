package media

import (
	"fmt"
	"testing"
	"time"
)

// TestSessionLateDTMFPacketReadOnce plays a key press through a real
// socket, then one of its continuations held back by the network 80, 150
// and 300 ms past the end packets: each is read as one press. A replay of
// the same press (sipp's pcaps) is still read again.
func TestSessionLateDTMFPacketReadOnce(t *testing.T) {
	for _, delay := range []time.Duration{80 * ms, 150 * ms, 300 * ms} {
		t.Run(fmt.Sprint(delay), func(t *testing.T) {
			t.Parallel()
			s, rec, peer, _ := newTestSession(t, 5*time.Second)
			readOnClock(t, s)
			play := func(ps []pkt) {
				start := time.Now()
				for _, p := range ps {
					time.Sleep(time.Until(start.Add(p.at)))
					sendRTP(t, peer, s.LocalPort(), 101, p.seq, p.ts, p.marker, p.payload())
				}
			}
			one := burst(0, 1000, 8000, 1)
			play(concat(one, late(one, 3, 140*ms+delay)))
			time.Sleep(200 * time.Millisecond) // past any reading tick
			if keys, _ := rec.snapshot(); keys != "1" {
				t.Fatalf("keys %q, want %q", keys, "1")
			}
			play(burst(0, 1000, 8000, 1))
			waitFor(t, "the replayed press", func() bool { keys, _ := rec.snapshot(); return keys == "11" })
		})
	}
}
