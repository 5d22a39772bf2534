package testphone

import (
	"testing"
	"time"

	"github.com/dialin/dialin/internal/audiotest"
)

func TestSendDigitsMarked(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target})

	if _, err := call.SendDigitsMarked(ctx, "1x", 0); err == nil {
		t.Error("key 'x' accepted")
	}
	marks, err := call.SendDigitsMarked(ctx, "12", 40*time.Millisecond)
	if err != nil {
		t.Fatalf("SendDigitsMarked: %v", err)
	}
	if len(marks) != 2 || marks[0].IsZero() || !marks[1].After(marks[0]) {
		t.Fatalf("marks %v, want two in order", marks)
	}

	// Each key's first event packet comes back from the echo after its mark.
	var firsts []PacketInfo
	for ctx.Err() == nil && len(firsts) < 2 {
		time.Sleep(10 * time.Millisecond)
		firsts = firsts[:0]
		for _, p := range call.Received().PacketLog {
			if p.PayloadType == 101 && p.Marker {
				firsts = append(firsts, p)
			}
		}
	}
	if len(firsts) != 2 {
		t.Fatalf("%d key starts echoed, want 2", len(firsts))
	}
	for k, p := range firsts {
		if !p.At.After(marks[k]) {
			t.Errorf("key %d: echo arrived at %v, before its mark %v", k, p.At, marks[k])
		}
	}
}

// A tone echoed back stops where the echo of the silence after it starts.
func TestAudioStopAfterLive(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target})

	if err := call.SendTone(ctx, []float64{1000}, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Measure from the tone's first echoed frame: silence echoed before it
	// (the phone sends silence while idle) must not count as the stop.
	var rec Recording
	var start, stop time.Time
	for ok := false; !ok; {
		if ctx.Err() != nil {
			t.Fatal("the echoed tone never stopped")
		}
		time.Sleep(20 * time.Millisecond)
		rec = call.Received()
		if start.IsZero() {
			for i, p := range rec.PacketLog {
				if p.IsAudio() && audiotest.RMS(rec.PacketPCM(i)) > SilenceRMS {
					start = p.At
					break
				}
			}
			if start.IsZero() {
				continue
			}
		}
		stop, ok = rec.AudioStopAfter(start, SilenceRMS)
	}
	if !stop.After(start) {
		t.Errorf("stop %v not after start %v", stop, start)
	}
	// The packet before the stop is the tone's last frame.
	for i, p := range rec.PacketLog {
		if p.At.Equal(stop) {
			if i == 0 || audiotest.RMS(rec.PacketPCM(i-1)) <= SilenceRMS {
				t.Error("the packet before the stop is not loud")
			}
			if !rec.LoudAt(rec.PacketLog[i-1].At, SilenceRMS) || rec.LoudAt(stop, SilenceRMS) {
				t.Error("LoudAt disagrees with AudioStopAfter")
			}
			return
		}
	}
	t.Fatal("stop time is no packet's arrival")
}
