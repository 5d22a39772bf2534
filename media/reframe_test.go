package media

import "testing"

type pushed struct {
	seq   uint16
	ts    uint32
	first int16
	n     int
}

type frameLog []pushed

func (l *frameLog) Push(seq uint16, ts uint32, pcm []int16) {
	p := pushed{seq: seq, ts: ts, n: len(pcm)}
	if len(pcm) > 0 {
		p.first = pcm[0]
	}
	*l = append(*l, p)
}

// ramp returns n samples counting up from first.
func ramp(first, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(first + i)
	}
	return s
}

func TestReframerPassesTwentyMillisecondPackets(t *testing.T) {
	var r Reframer
	var got frameLog
	r.Push(&got, 7, 1000, ramp(0, 160))
	r.Push(&got, 8, 1160, nil) // comfort noise keeps its place
	r.Push(&got, 9, 1320, ramp(5, 160))
	want := frameLog{{7, 1000, 0, 160}, {8, 1160, 0, 0}, {9, 1320, 5, 160}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReframerJoinsTenMillisecondPackets(t *testing.T) {
	var r Reframer
	var got frameLog
	ts := uint32(4000)
	for i := range 6 {
		r.Push(&got, uint16(100+i), ts, ramp(i*80, 80))
		ts += 80
	}
	if len(got) != 3 {
		t.Fatalf("got %d frames, want 3: %v", len(got), got)
	}
	for i, f := range got {
		if f.seq != uint16(i) || f.ts != 4000+uint32(i)*160 || f.first != int16(i*160) || f.n != 160 {
			t.Errorf("frame %d: %+v", i, f)
		}
	}
}

func TestReframerSplitsLongPackets(t *testing.T) {
	var r Reframer
	var got frameLog
	r.Push(&got, 1, 0, ramp(0, 480))     // 60 ms
	r.Push(&got, 2, 480, ramp(480, 240)) // 30 ms: half a frame waits
	r.Push(&got, 3, 720, ramp(720, 240))
	if len(got) != 6 {
		t.Fatalf("got %d frames, want 6: %v", len(got), got)
	}
	for i, f := range got {
		if f.seq != uint16(i) || f.first != int16(i*160) {
			t.Errorf("frame %d: %+v", i, f)
		}
	}
}

func TestReframerDropsPartFrameOnGap(t *testing.T) {
	var r Reframer
	var got frameLog
	r.Push(&got, 1, 0, ramp(0, 80))
	r.Push(&got, 2, 80, ramp(80, 80))   // frame 0
	r.Push(&got, 3, 160, ramp(160, 80)) // half of frame 1
	// packet 4 (ts 240) lost
	r.Push(&got, 5, 320, ramp(320, 80))
	r.Push(&got, 6, 400, ramp(400, 80)) // frame 2
	if len(got) != 2 || got[0].seq != 0 || got[1].seq != 2 || got[1].first != 320 {
		t.Fatalf("got %v, want frames 0 and 2", got)
	}
}

func TestReframerAllocatesNothing(t *testing.T) {
	var r Reframer
	var sink nopInput
	pcm := ramp(0, 80)
	ts := uint32(0)
	allocs := testing.AllocsPerRun(1000, func() {
		r.Push(sink, 0, ts, pcm)
		ts += 80
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per push", allocs)
	}
}

type nopInput struct{}

func (nopInput) Push(uint16, uint32, []int16) {}
