package media

import (
	"testing"
	"time"
)

// The call's record reads the running receive figures: loss from the
// sequence numbers, and the longest silence between two packets.
func TestStatsRunningReceiveFigures(t *testing.T) {
	s, _, peer, _ := newTestSession(t, 0)
	readOnClock(t, s)
	frame := SilenceFrame(PCMU)
	seq, ts := uint16(100), uint32(1000)
	send := func() {
		sendRTP(t, peer, s.LocalPort(), 0, seq, ts, false, frame)
		seq++
		ts += FrameSamples
	}
	for i := range 20 {
		if i%10 == 9 {
			seq++ // never sent: lost
			ts += FrameSamples
			continue
		}
		send()
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a silence
	send()
	waitFor(t, "the figures", func() bool { return s.Stats().RecvReceived == 19 })
	st := s.Stats()
	// Two packets never sent; the one after the silence shows the second.
	if st.RecvExpected != 21 || st.RecvLost() != 2 {
		t.Errorf("expected %d, lost %d; want 21 and 2", st.RecvExpected, st.RecvLost())
	}
	if st.MaxGap < 180*time.Millisecond || st.MaxGap > 600*time.Millisecond {
		t.Errorf("max gap %v, want about 220 ms", st.MaxGap)
	}
	if st.PeerReports != 0 {
		t.Errorf("peer reports %d without any", st.PeerReports)
	}
}

// Counting a packet's arrival and publishing the figures allocate nothing.
func TestRunningFiguresAllocs(t *testing.T) {
	var r rtcpSession
	seq := uint16(1)
	if n := testing.AllocsPerRun(1000, func() {
		r.rx.update(7, seq, uint32(seq)*FrameSamples, uint32(seq)*FrameSamples, true)
		r.gap(uint32(seq)*FrameSamples, true)
		r.publish()
		seq++
	}); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}
