package sipua

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
)

func TestDTMFGateModes(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		mode           string
		telephoneEvent bool
		inband         bool
		accepts        []string
	}{
		{config.DTMFAuto, true, false, []string{sourceRFC4733, sourceINFO, sourceInband}},
		{config.DTMFAuto, false, true, []string{sourceRFC4733, sourceINFO, sourceInband}},
		{config.DTMFRFC4733, true, false, []string{sourceRFC4733}},
		{config.DTMFInfo, true, false, []string{sourceINFO}},
		{config.DTMFInband, true, true, []string{sourceInband}},
	}
	for _, tt := range tests {
		g := newDTMFGate(tt.mode, tt.telephoneEvent)
		if g.inband != tt.inband {
			t.Errorf("%s (telephone-event %v): in-band detection %v, want %v", tt.mode, tt.telephoneEvent, g.inband, tt.inband)
		}
		for i, src := range []string{sourceRFC4733, sourceINFO, sourceInband} {
			want := false
			for _, a := range tt.accepts {
				want = want || a == src
			}
			// Different keys, far apart: only the mode decides.
			if got := g.accept(byte('1'+i), src, now.Add(time.Duration(i)*time.Second)); got != want {
				t.Errorf("%s: key from %s accepted %v, want %v", tt.mode, src, got, want)
			}
		}
	}
}

func TestDTMFGateDropsOnePressFromTwoTransports(t *testing.T) {
	g := newDTMFGate(config.DTMFAuto, true)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		key    byte
		source string
		at     time.Duration
		want   bool
	}{
		{'5', sourceRFC4733, 0, true},
		{'5', sourceINFO, 40 * time.Millisecond, false},    // the same press, by INFO
		{'5', sourceInband, 60 * time.Millisecond, false},  // and by its tones
		{'5', sourceRFC4733, 400 * time.Millisecond, true}, // a second press
		{'5', sourceRFC4733, 450 * time.Millisecond, true}, // same transport: always a new press
		{'6', sourceINFO, 460 * time.Millisecond, true},    // another key
		{'5', sourceINFO, time.Second, true},               // long after
	}
	for i, s := range steps {
		if got := g.accept(s.key, s.source, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d: %c from %s at %v accepted %v, want %v", i, s.key, s.source, s.at, got, s.want)
		}
	}
}

// TestDTMFFloodLogsLittle: an RFC 4733 flood fills the call's key queue;
// the "dtmf queue full" warning is written once a second with the count of
// what it left out, not once per key.
func TestDTMFFloodLogsLittle(t *testing.T) {
	var out bytes.Buffer
	c := &Call{
		log:    zerolog.New(&out).Level(zerolog.DebugLevel),
		digits: make(chan byte, 4),
		dtmf:   newDTMFGate(config.DTMFAuto, true),
	}
	for range 20000 {
		c.pushDigit('5', sourceRFC4733)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var keys, full int
	for _, l := range lines {
		switch {
		case strings.Contains(l, `"dtmf key"`):
			keys++
		case strings.Contains(l, "dtmf queue full"):
			full++
		}
	}
	// The test runs in well under a second; on a slow machine a second
	// window may open.
	if keys != 4 || full < 1 || full > 2 || len(lines) != keys+full {
		t.Fatalf("%d key lines, %d queue-full lines, %d in all; want 4, 1:\n%s", keys, full, len(lines), out.String())
	}
	out.Reset()
	time.Sleep(1100 * time.Millisecond) // the next second
	c.pushDigit('5', sourceRFC4733)
	if !strings.Contains(out.String(), `"suppressed":`) || strings.Contains(out.String(), `"suppressed":0`) {
		t.Errorf("the line after the flood does not count what was left out: %s", out.String())
	}
}
