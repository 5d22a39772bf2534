package media

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// jitterLevel is the level of every sample of a test frame but the first,
// so that concealment can be measured.
const jitterLevel = 8000

// jitterFrame is the test sender's frame tagged n: the tag in sample 0, so
// the order of play can be read back, then a steady level.
func jitterFrame(n int) []int16 {
	f := make([]int16, FrameSamples)
	f[0] = int16(n)
	for i := 1; i < len(f); i++ {
		f[i] = jitterLevel
	}
	return f
}

// jitterHarness drives a buffer with one stream whose frame n has
// sequence number base+n and timestamp tsBase+160n and is tagged n.
type jitterHarness struct {
	t      *testing.T
	j      *JitterBuffer
	base   uint16
	tsBase uint32
	out    [FrameSamples]int16
	frames [][FrameSamples]int16 // every frame popped, for inspection
}

func newJitterHarness(t *testing.T, depth int, base uint16, tsBase uint32) *jitterHarness {
	return &jitterHarness{t: t, j: NewJitterBuffer(depth), base: base, tsBase: tsBase}
}

func (h *jitterHarness) push(n int) {
	h.j.Push(h.base+uint16(n), h.tsBase+uint32(n)*FrameSamples, jitterFrame(n))
}

// pop returns the tag of an audio frame, "c" for a concealed frame and "-"
// for silence.
func (h *jitterHarness) pop() string {
	h.t.Helper()
	kind := h.j.Pop(h.out[:])
	h.frames = append(h.frames, h.out)
	switch kind {
	case FrameAudio:
		return strconv.Itoa(int(h.out[0]))
	case FrameConcealed:
		return "c"
	case FrameSilence:
		for _, s := range h.out {
			if s != 0 {
				h.t.Fatalf("silence frame holds %d", s)
			}
		}
		return "-"
	}
	h.t.Fatalf("Pop returned kind %d", kind)
	return ""
}

// run plays one tick per field of script: the frames listed (joined by
// "+", in arrival order) are pushed, "." pushes nothing, then Pop runs once.
// It returns what each Pop gave, space separated.
func (h *jitterHarness) run(script string) string {
	h.t.Helper()
	var got []string
	for _, field := range strings.Fields(script) {
		if field != "." {
			for _, tag := range strings.Split(field, "+") {
				n, err := strconv.Atoi(tag)
				if err != nil {
					h.t.Fatalf("bad script field %q", field)
				}
				h.push(n)
			}
		}
		got = append(got, h.pop())
	}
	checkJitterBalance(h.t, h.j)
	return strings.Join(got, " ")
}

// pops pops n times without pushing.
func (h *jitterHarness) pops(n int) string {
	h.t.Helper()
	return h.run(strings.TrimSpace(strings.Repeat(". ", n)))
}

// seq returns "from from+1 … to-1" as a script or an expectation.
func seq(from, to int) string {
	var s []string
	for n := from; n < to; n++ {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, " ")
}

// checkJitterBalance checks that every packet pushed is accounted for.
func checkJitterBalance(t testing.TB, j *JitterBuffer) {
	t.Helper()
	st := j.Stats()
	buffered := uint64(j.Buffered())
	if sum := st.Played + st.Dropped + st.Duplicates + st.Late + buffered; sum != st.Received {
		t.Fatalf("received %d, but played+dropped+duplicates+late+buffered = %d: %+v, buffered %d", st.Received, sum, st, buffered)
	}
}

func wantJitter(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("frames played:\n got %s\nwant %s", got, want)
	}
}

func wantStats(t *testing.T, got, want JitterStats) {
	t.Helper()
	if got != want {
		t.Fatalf("stats:\n got %+v\nwant %+v", got, want)
	}
}

func TestJitterInOrder(t *testing.T) {
	h := newJitterHarness(t, 3, 1000, 5000)
	// Silent until three frames are in, then two frames behind the sender;
	// when the sender stops, the last frame fades out over four frames.
	wantJitter(t, h.run(seq(0, 10)), "- - "+seq(0, 8))
	wantJitter(t, h.pops(8), "8 9 c c c c - -")
	wantStats(t, h.j.Stats(), JitterStats{Received: 10, Played: 10, Concealed: 4, Underruns: 1})
}

func TestJitterReorder(t *testing.T) {
	t.Run("pairs", func(t *testing.T) {
		h := newJitterHarness(t, 3, 7, 0)
		wantJitter(t, h.run("1 0 3 2 5 4 7 6 9 8"), "- - "+seq(0, 8))
		st := h.j.Stats()
		if st.Reordered != 5 || st.Lost != 0 || st.Late != 0 {
			t.Fatalf("stats %+v, want 5 reordered, none lost or late", st)
		}
	})
	t.Run("triples", func(t *testing.T) {
		h := newJitterHarness(t, 3, 7, 0)
		wantJitter(t, h.run("2 1 0 5 4 3 8 7 6 11 10 9"), "- - "+seq(0, 10))
		st := h.j.Stats()
		if st.Reordered != 8 || st.Lost != 0 || st.Late != 0 {
			t.Fatalf("stats %+v, want 8 reordered, none lost or late", st)
		}
	})
	t.Run("two in one tick", func(t *testing.T) {
		h := newJitterHarness(t, 3, 7, 0)
		wantJitter(t, h.run("0 . 2+1 3 5 4 6"), "- - 0 1 2 3 4")
	})
}

func TestJitterDuplicates(t *testing.T) {
	h := newJitterHarness(t, 3, 500, 0)
	wantJitter(t, h.run("0+0 1 1+2 2 3+3 4"), "- - 0 1 2 3")
	// A copy of a frame already played is late; it does not play again.
	wantJitter(t, h.run("2+5 6"), "4 5")
	wantStats(t, h.j.Stats(), JitterStats{Received: 12, Played: 6, Duplicates: 4, Late: 1})
	checkJitterBalance(t, h.j)
}

func TestJitterLoss(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		h := newJitterHarness(t, 3, 100, 0)
		wantJitter(t, h.run(seq(0, 7)+" . "+seq(8, 12)), "- - 0 1 2 3 4 5 6 c 8 9")
		wantStats(t, h.j.Stats(), JitterStats{Received: 11, Played: 9, Lost: 1, Concealed: 1})
		// The concealed frame is frame 6 fading from full level to half.
		c := h.frames[9]
		if c[1] > jitterLevel || c[1] < jitterLevel*9/10 || c[159] > jitterLevel*6/10 || c[159] < jitterLevel/2 {
			t.Fatalf("concealed frame runs from %d to %d, want about %d to %d", c[1], c[159], jitterLevel, jitterLevel/2)
		}
	})
	t.Run("burst inside the buffer", func(t *testing.T) {
		// Eight frames deep, six lost: the frames after the gap are already
		// waiting, so the gap is concealed (four fading frames, then silence)
		// and play carries on.
		h := newJitterHarness(t, 8, 100, 0)
		got := h.run(seq(0, 10) + strings.Repeat(" .", 6) + " " + seq(16, 30))
		wantJitter(t, got, "- - - - - - - "+seq(0, 10)+" c c c c - - "+seq(16, 23))
		st := h.j.Stats()
		if st.Lost != 6 || st.Concealed != 4 || st.Underruns != 0 {
			t.Fatalf("stats %+v, want 6 lost, 4 concealed, no underrun", st)
		}
		// The gain falls every frame and ends at zero.
		prev := float64(jitterLevel)
		for k, f := range h.frames[17:21] {
			m := meanAbs(f[1:])
			if m > prev*0.8 {
				t.Fatalf("concealed frame %d: mean level %.0f after %.0f, want at least 2 dB less", k, m, prev)
			}
			prev = m
		}
		if last := h.frames[20][159]; last != 0 {
			t.Fatalf("last concealed frame ends at %d, want 0", last)
		}
	})
	t.Run("burst longer than the buffer", func(t *testing.T) {
		// Three frames deep: the buffer runs dry, conceals, then refills
		// from the first frame after the gap.
		h := newJitterHarness(t, 3, 100, 0)
		got := h.run(seq(0, 10) + strings.Repeat(" .", 6) + " " + seq(16, 20))
		wantJitter(t, got, "- - "+seq(0, 10)+" c c c c - - 16 17")
		st := h.j.Stats()
		if st.Lost != 6 || st.Concealed != 4 || st.Underruns != 1 {
			t.Fatalf("stats %+v, want 6 lost, 4 concealed, 1 underrun", st)
		}
	})
}

func meanAbs(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		sum += float64(max(s, -s))
	}
	return sum / float64(len(pcm))
}

func TestJitterLate(t *testing.T) {
	h := newJitterHarness(t, 3, 100, 0)
	// Frame 5 comes two ticks late: its turn has passed, so it is dropped.
	wantJitter(t, h.run("0 1 2 3 4 . 6 7 5+8 9"), "- - 0 1 2 3 4 c 6 7")
	wantStats(t, h.j.Stats(), JitterStats{Received: 10, Played: 7, Late: 1, Lost: 1, Concealed: 1})
}

func TestJitterWrap(t *testing.T) {
	// Sequence numbers 65530 … 13 and timestamps wrap; frames 5 and 6
	// (65535 and 0) arrive swapped.
	h := newJitterHarness(t, 3, 65530, 0xFFFFFC00)
	wantJitter(t, h.run("0 1 2 3 4 6 5 "+seq(7, 20)), "- - "+seq(0, 18))
	st := h.j.Stats()
	if st.Lost != 0 || st.Late != 0 || st.Resyncs != 0 || st.Reordered != 1 {
		t.Fatalf("stats %+v, want 1 reordered, nothing lost, late or resynced", st)
	}
}

func TestJitterUnderrunRefill(t *testing.T) {
	// The caller stops talking (the sender stops sending, as with silence
	// suppression) and starts again with the next sequence number and a
	// later timestamp.
	h := newJitterHarness(t, 3, 100, 0)
	wantJitter(t, h.run(seq(0, 10)), "- - "+seq(0, 8))
	wantJitter(t, h.pops(10), "8 9 c c c c - - - -")
	h.tsBase += 10 * FrameSamples
	wantJitter(t, h.run(seq(10, 20)), "- - "+seq(10, 18))
	st := h.j.Stats()
	if st.Underruns != 1 || st.Lost != 0 || st.Resyncs != 0 || st.Played != 18 {
		t.Fatalf("stats %+v, want 1 underrun, 18 played, nothing lost", st)
	}
}

func TestJitterComfortNoise(t *testing.T) {
	// Frame 5 is comfort noise (no samples) and 6 is lost: both are
	// silence, since there is no speech to repeat.
	h := newJitterHarness(t, 3, 100, 0)
	var got []string
	for n := range 11 {
		switch n {
		case 5:
			h.j.Push(h.base+5, h.tsBase+5*FrameSamples, nil)
		case 6:
		default:
			h.push(n)
		}
		got = append(got, h.pop())
	}
	wantJitter(t, strings.Join(got, " "), "- - 0 1 2 3 4 - - 7 8")
	st := h.j.Stats()
	if st.Lost != 1 || st.Concealed != 0 || st.Played != 8 {
		t.Fatalf("stats %+v, want 8 played, 1 lost, none concealed", st)
	}
}

func TestJitterRestart(t *testing.T) {
	// Stream A plays 40 frames from sequence number 1000; then the sender
	// restarts (or the SSRC changes) and stream B sends 40 frames, tagged
	// 1000 and up, from new sequence numbers and timestamps.
	const aSeq, aTS = 1000, 1_000_000
	// B's first packet is held as a probe and its second confirms the
	// restart: A's last buffered frame is dropped and B fills from its first.
	const followed = "38 c "
	for _, tc := range []struct {
		name    string
		seq     uint16
		ts      uint32
		want    string // A's tail, then B's first frames
		firstB  int
		late    uint64
		dropped uint64
	}{
		{name: "far ahead", seq: aSeq + 20000, ts: 77, want: followed, dropped: 1},
		{name: "far behind", seq: aSeq + 65536 - 20000, ts: 4_000_000_000, want: followed, dropped: 1},
		// Close behind, with a later timestamp: no packet of A can be that.
		{name: "close behind", seq: aSeq + 40 - 50, ts: aTS + 1_000_000, want: followed, dropped: 1},
		// In the window, but the timestamp went back.
		{name: "in window", seq: aSeq + 42, ts: aTS - 1_000_000, want: followed, dropped: 1},
		// Close behind with an earlier timestamp looks like late packets of
		// A until A's tail has played; then the buffer follows B.
		{name: "close behind and earlier", seq: aSeq + 40 - 50, ts: aTS - 1_000_000, want: "38 39 c c ", firstB: 2, late: 2},
		// sipp replaying the same pcap: the same sequence numbers and
		// timestamps again.
		{name: "replay", seq: aSeq, ts: aTS, want: "38 39 c c ", firstB: 2, late: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newJitterHarness(t, 3, aSeq, aTS)
			wantJitter(t, h.run(seq(0, 40)), "- - "+seq(0, 38))
			var got []string
			for n := range 40 {
				h.j.Push(tc.seq+uint16(n), tc.ts+uint32(n)*FrameSamples, jitterFrame(1000+n))
				got = append(got, h.pop())
			}
			got = append(got, strings.Fields(h.pops(3))...)
			wantJitter(t, strings.Join(got, " "), tc.want+seq(1000+tc.firstB, 1040)+" c")
			st := h.j.Stats()
			if st.Resyncs != 1 || st.Late != tc.late || st.Dropped != tc.dropped || st.Lost != 0 {
				t.Fatalf("stats %+v, want 1 resync, %d late, %d dropped, none lost", st, tc.late, tc.dropped)
			}
		})
	}
}

func TestJitterStray(t *testing.T) {
	// One packet with a wild sequence number in the middle of the stream is
	// dropped; the stream plays on.
	h := newJitterHarness(t, 3, 100, 0)
	wantJitter(t, h.run(seq(0, 5)), "- - 0 1 2")
	h.j.Push(30000, 123, jitterFrame(999))
	wantJitter(t, h.run(seq(5, 10)), "3 4 5 6 7")
	st := h.j.Stats()
	if st.Resyncs != 0 || st.Dropped != 1 || st.Lost != 0 {
		t.Fatalf("stats %+v, want one stray dropped, no resync", st)
	}
}

func TestJitterDrift(t *testing.T) {
	// 10,000 ticks of a sender whose clock runs 0.5% fast or slow, with up
	// to 24 ms of network jitter (so packets get reordered), in simulated
	// time (1000 units a tick).
	const jitter = 1200
	for _, tc := range []struct {
		name   string
		period int // sender's frame period in thousandths of a tick
	}{
		{"fast", 995},
		{"slow", 1005},
	} {
		for _, depth := range []int{1, 3, 8} {
			t.Run(tc.name+"/depth"+strconv.Itoa(depth), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, uint64(depth)))
				type packet struct{ arrive, n int }
				var packets []packet
				for n := 0; n*tc.period < 10_000*1000; n++ {
					packets = append(packets, packet{n*tc.period + rng.IntN(jitter), n})
				}
				slices.SortStableFunc(packets, func(a, b packet) int { return a.arrive - b.arrive })

				j := NewJitterBuffer(depth)
				var (
					out      [FrameSamples]int16
					last     = -1
					maxBuf   int
					maxDelay int // in thousandths of a tick, from sending to playing
				)
				for tick := 0; tick < 10_000; tick++ {
					now := tick * 1000
					for len(packets) > 0 && packets[0].arrive <= now {
						n := packets[0].n
						j.Push(uint16(n+40000), uint32(n*FrameSamples), jitterFrame(n))
						packets = packets[1:]
					}
					if j.Pop(out[:]) == FrameAudio {
						n := int(uint16(out[0]))
						if n <= last {
							t.Fatalf("tick %d: frame %d played after %d", tick, n, last)
						}
						last = n
						maxDelay = max(maxDelay, now-n*tc.period)
					}
					maxBuf = max(maxBuf, j.Buffered())
				}
				checkJitterBalance(t, j)
				st := j.Stats()
				t.Logf("max buffered %d, max delay %d ms, %+v", maxBuf, maxDelay*20/1000, st)
				if limit := depth + j.slack; maxBuf > limit {
					t.Fatalf("buffer held up to %d frames, want at most depth+slack = %d (%+v)", maxBuf, limit, st)
				}
				if limit := (depth + j.slack + 1) * 1000; maxDelay > limit {
					t.Fatalf("delay reached %d ms, want at most %d ms (%+v)", maxDelay*20/1000, limit*20/1000, st)
				}
				if st.Played < 9_000 || st.Resyncs != 0 {
					t.Fatalf("stats %+v: want most frames played and no resync", st)
				}
				// A fast sender is kept in check by dropping frames, a slow
				// one by the buffer running dry now and then.
				if tc.period < 1000 && st.Dropped == 0 || tc.period > 1000 && st.Underruns == 0 {
					t.Fatalf("stats %+v: drift not corrected", st)
				}
			})
		}
	}
}

func TestJitterReset(t *testing.T) {
	h := newJitterHarness(t, 3, 100, 0)
	wantJitter(t, h.run(seq(0, 6)), "- - 0 1 2 3")
	h.j.Reset()
	// Nothing left to play or conceal; a new stream from an earlier
	// sequence number is not late: it fills from scratch.
	h.base = 50
	wantJitter(t, h.run(". "+seq(0, 5)), "- - - 0 1 2")
	st := h.j.Stats()
	if st.Received != 11 || st.Dropped != 2 || st.Late != 0 || st.Played != 7 || st.Concealed != 0 {
		t.Fatalf("stats %+v, want 11 received, 2 dropped by Reset, 7 played", st)
	}
}

func TestJitterDepthLimits(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{-5, 1}, {0, 1}, {1, 1}, {3, 3}, {50, 50}, {1000, MaxJitterDepth}} {
		j := NewJitterBuffer(tc.in)
		if j.depth != tc.want {
			t.Errorf("NewJitterBuffer(%d) has depth %d, want %d", tc.in, j.depth, tc.want)
		}
		n := len(j.slots)
		if n&(n-1) != 0 || n < 2*(j.depth+j.slack) || 65536%n != 0 {
			t.Errorf("depth %d: ring of %d slots", tc.in, n)
		}
	}
}

func TestJitterConcurrent(t *testing.T) {
	// The RTP goroutine and the mixer tick at their own pace; whatever the
	// interleaving, frames play in order and every packet is accounted for.
	j := NewJitterBuffer(3)
	const frames = 3000
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := range frames {
			j.Push(uint16(n+65000), uint32(n*FrameSamples), jitterFrame(n))
		}
	})
	var out [FrameSamples]int16
	last := -1
	for range frames {
		if j.Pop(out[:]) == FrameAudio {
			n := int(uint16(out[0]))
			if n <= last {
				t.Fatalf("frame %d played after %d", n, last)
			}
			last = n
		}
	}
	wg.Wait()
	checkJitterBalance(t, j)
}

func TestJitterNoAllocs(t *testing.T) {
	j := NewJitterBuffer(3)
	pcm := jitterFrame(1)
	var out [FrameSamples]int16
	var (
		seq uint16
		ts  uint32
		i   int
	)
	allocs := testing.AllocsPerRun(1000, func() {
		j.Push(seq, ts, pcm)
		if i++; i%7 != 0 { // now and then a duplicate, and a tick without a new frame
			seq, ts = seq+1, ts+FrameSamples
		}
		j.Pop(out[:])
		_ = j.Stats()
	})
	if allocs != 0 {
		t.Fatalf("Push+Pop allocate %.1f times", allocs)
	}
	if st := j.Stats(); st.Played < 800 || st.Duplicates == 0 || st.Underruns == 0 {
		t.Fatalf("stats %+v: want mostly audio, some duplicates and underruns", st)
	}
}

// FuzzJitterBuffer drives a buffer with random sender behaviour. The input
// is a depth (1 + byte 0 mod 8), a starting sequence number (bytes 1-2),
// then one operation per byte: the top 3 bits say what, the low 5 bits (n)
// how much.
//
//	0 send the next frame, then tick
//	1 send the next frame (fast sender)
//	2 tick (slow sender)
//	3 lose n+1 frames
//	4 resend the frame n+1 back (late, duplicate or reordered)
//	5 send the next two frames swapped, then tick twice
//	6 restart: the next two bytes are the new sequence number and timestamp
//	7 n=0 Reset, n=1 send comfort noise, else n ticks
//
// The buffer must never panic, never play a frame out of order between two
// resyncs, never play anything but what was sent, only conceal by fading
// the last frame, hold no more than its ring, and account for every packet.
func FuzzJitterBuffer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		j := NewJitterBuffer(1 + int(data[0]%8))
		seq := binary.BigEndian.Uint16(data[1:])
		ts := uint32(seq) * 7919
		var (
			out      [FrameSamples]int16
			prev     [FrameSamples]int16 // last audio or concealed frame
			havePrev bool
			lastSeq  uint16
			played   bool // lastSeq is valid: something played since the last resync
			resyncs  uint64
			run      int // concealed frames since the last audio frame
		)
		send := func(seq uint16, ts uint32) { j.Push(seq, ts, fuzzJitterFrame(seq, ts)) }
		tick := func() {
			kind := j.Pop(out[:])
			if st := j.Stats(); st.Resyncs != resyncs {
				resyncs, played = st.Resyncs, false
			}
			switch kind {
			case FrameAudio:
				s, ts := uint16(out[0]), uint32(uint16(out[1]))|uint32(uint16(out[2]))<<16
				if want := fuzzJitterFrame(s, ts); !slices.Equal(out[:], want) {
					t.Fatalf("played a frame that was never sent (seq %d)", s)
				}
				if played && int16(s-lastSeq) <= 0 {
					t.Fatalf("played seq %d after %d", s, lastSeq)
				}
				lastSeq, played = s, true
				prev, havePrev, run = out, true, 0
			case FrameConcealed:
				if run++; !havePrev || run > concealFrames {
					t.Fatalf("concealed frame %d after the last audio (have one: %v)", run, havePrev)
				}
				for i, s := range out {
					if abs16(s) > abs16(prev[i]) {
						t.Fatalf("concealment sample %d grew from %d to %d", i, prev[i], s)
					}
				}
				prev = out
			case FrameSilence:
				if slices.ContainsFunc(out[:], func(s int16) bool { return s != 0 }) {
					t.Fatal("silence frame is not silent")
				}
			default:
				t.Fatalf("Pop returned kind %d", kind)
			}
			if n := j.Buffered(); n > len(j.slots) {
				t.Fatalf("%d frames buffered in a ring of %d", n, len(j.slots))
			}
			checkJitterBalance(t, j)
		}
		for i := 3; i < len(data); i++ {
			op, n := data[i]>>5, int(data[i]&31)
			switch op {
			case 0, 1:
				send(seq, ts)
				seq, ts = seq+1, ts+FrameSamples
				if op == 0 {
					tick()
				}
			case 2:
				tick()
			case 3:
				seq, ts = seq+uint16(n+1), ts+uint32(n+1)*FrameSamples
			case 4:
				send(seq-uint16(n+1), ts-uint32(n+1)*FrameSamples)
			case 5:
				send(seq+1, ts+FrameSamples)
				send(seq, ts)
				seq, ts = seq+2, ts+2*FrameSamples
				tick()
				tick()
			case 6:
				if i+2 < len(data) {
					seq = binary.BigEndian.Uint16(data[i+1:])
					ts = uint32(data[i+2])<<24 | uint32(data[i+1])<<8
					i += 2
				}
			case 7:
				switch n {
				case 0:
					j.Reset()
					played, havePrev = false, false
				case 1:
					j.Push(seq, ts, nil)
					seq, ts = seq+1, ts+FrameSamples
				default:
					for range n {
						tick()
					}
				}
			}
		}
	})
}

// fuzzJitterFrame is the frame the fuzzer sends as seq at ts: both written
// into it, so a frame played can be checked against what was sent.
func fuzzJitterFrame(seq uint16, ts uint32) []int16 {
	f := make([]int16, FrameSamples)
	f[0], f[1], f[2] = int16(seq), int16(ts), int16(ts>>16)
	for i := 3; i < len(f); i++ {
		f[i] = int16(int(seq)*31 + i*517)
	}
	return f
}

func abs16(s int16) int { return max(int(s), -int(s)) }

// BenchmarkJitterPushPop is one packet in and one frame out: what each call
// costs the RTP goroutine and the mixer tick every 20 ms.
func BenchmarkJitterPushPop(b *testing.B) {
	j := NewJitterBuffer(3)
	pcm := jitterFrame(1)
	var out [FrameSamples]int16
	var (
		seq uint16
		ts  uint32
	)
	push := func() {
		j.Push(seq, ts, pcm)
		seq, ts = seq+1, ts+FrameSamples
	}
	for range 3 {
		push()
	}
	b.ReportAllocs()
	for b.Loop() {
		push()
		if j.Pop(out[:]) != FrameAudio {
			b.Fatal("no audio")
		}
	}
}
