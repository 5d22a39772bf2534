package bridge

import (
	"bytes"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dialin/dialin/internal/audiotest"
	"github.com/dialin/dialin/media"
)

// signal is sample n of a test input.
type signal func(n int) int16

func tone(freqHz, amp float64) signal {
	return func(n int) int16 {
		return int16(math.Round(amp * math.Sin(2*math.Pi*freqHz*float64(n)/media.SampleRate)))
	}
}

func constant(v int16) signal { return func(int) int16 { return v } }

// frameOf is frame t (counting from 0) of sig.
func frameOf(sig signal, t int) []int16 {
	out := make([]int16, media.FrameSamples)
	for i := range out {
		out[i] = sig(t*media.FrameSamples + i)
	}
	return out
}

// source plays a signal, one frame per Pop, labelled kind.
type source struct {
	kind FrameKind
	sig  signal
	t    int // next frame
}

func (s *source) Pop(out []int16) FrameKind {
	if s.kind != FrameSilence {
		for i := range out {
			out[i] = s.sig(s.t*media.FrameSamples + i)
		}
	}
	s.t++
	return s.kind
}

func talking(sig signal) *source { return &source{kind: FrameAudio, sig: sig} }

// nothing is a source with no frames at all (an empty jitter buffer).
func nothing() *source { return &source{kind: FrameSilence} }

// sink records every frame it gets.
type sink struct {
	codec  media.Codec
	frames [][]byte
}

func (s *sink) WriteFrame(payload []byte) error {
	s.frames = append(s.frames, bytes.Clone(payload))
	return nil
}

// pcm is frame t decoded.
func (s *sink) pcm(t int) []int16 {
	out := make([]int16, media.FrameSamples)
	s.codec.Decode(out, s.frames[t])
	return out
}

// meeting is a mixer with test participants.
type meeting struct {
	t     *testing.T
	m     *Mixer
	sinks map[string]*sink
	parts map[string]*Participant
}

func newTestMix(t *testing.T) *meeting {
	return &meeting{t: t, m: NewMixer(), sinks: map[string]*sink{}, parts: map[string]*Participant{}}
}

func (mt *meeting) add(name string, codec media.Codec, src FrameSource) {
	s := &sink{codec: codec}
	mt.sinks[name] = s
	mt.parts[name] = mt.m.Add(ParticipantID(name), codec, src, s)
}

// wantFrame checks that name's frame t is exactly pcm encoded in its law.
func (mt *meeting) wantFrame(name string, t int, pcm []int16) {
	mt.t.Helper()
	s := mt.sinks[name]
	want := make([]byte, media.FrameBytes)
	s.codec.Encode(want, pcm)
	if !bytes.Equal(s.frames[t], want) {
		mt.t.Errorf("%s frame %d: got %x, want %x", name, t, s.frames[t], want)
	}
}

// wantSilence checks that name's frame t is its law's silence frame.
func (mt *meeting) wantSilence(name string, t int) {
	mt.t.Helper()
	s := mt.sinks[name]
	if !bytes.Equal(s.frames[t], media.SilenceFrame(s.codec)) {
		mt.t.Errorf("%s frame %d: got %x, want silence", name, t, s.frames[t])
	}
}

// sum is the saturated sum of frame t of sigs.
func sum(t int, sigs ...signal) []int16 {
	out := make([]int16, media.FrameSamples)
	for i := range out {
		var s int32
		for _, sig := range sigs {
			s += int32(sig(t*media.FrameSamples + i))
		}
		out[i] = saturate(s)
	}
	return out
}

// relPower is the share of pcm's energy at freqHz (0..1).
func relPower(pcm []int16, freqHz float64) float64 {
	return audiotest.NewGoertzel(freqHz, media.SampleRate).RelativePower(pcm)
}

var (
	toneA = tone(1000, 8000) // bins of a 160-sample frame: no leakage
	toneB = tone(1500, 8000)
)

func TestOthersHearSpeaker(t *testing.T) {
	mt := newTestMix(t)
	mt.add("A", media.PCMU, talking(toneA))
	mt.add("B", media.PCMU, nothing())
	mt.add("C", media.PCMA, talking(constant(0)))
	for tick := range 5 {
		mt.m.Tick()
		mt.wantFrame("B", tick, frameOf(toneA, tick))
		mt.wantFrame("C", tick, frameOf(toneA, tick))
		mt.wantSilence("A", tick) // alone: hears nothing, not even itself
		for _, name := range []string{"B", "C"} {
			if p := relPower(mt.sinks[name].pcm(tick), 1000); p < 0.95 {
				t.Errorf("%s frame %d: 1 kHz share %.3f, want A's tone", name, tick, p)
			}
		}
	}
	if !mt.parts["A"].Talking() || mt.parts["B"].Talking() || mt.parts["C"].Talking() {
		t.Errorf("Talking: A %v B %v C %v, want only A", mt.parts["A"].Talking(), mt.parts["B"].Talking(), mt.parts["C"].Talking())
	}
}

func TestTwoSpeakersHearEachOther(t *testing.T) {
	mt := newTestMix(t)
	mt.add("A", media.PCMU, talking(toneA))
	mt.add("B", media.PCMU, talking(toneB))
	mt.add("C", media.PCMU, nothing())
	for tick := range 5 {
		mt.m.Tick()
		mt.wantFrame("A", tick, frameOf(toneB, tick))
		mt.wantFrame("B", tick, frameOf(toneA, tick))
		mt.wantFrame("C", tick, sum(tick, toneA, toneB))

		a, b, c := mt.sinks["A"].pcm(tick), mt.sinks["B"].pcm(tick), mt.sinks["C"].pcm(tick)
		if p := relPower(a, 1000); p > 0.01 {
			t.Errorf("A hears itself: 1 kHz share %.3f", p)
		}
		if p := relPower(a, 1500); p < 0.95 {
			t.Errorf("A: 1.5 kHz share %.3f, want B's tone", p)
		}
		if p := relPower(b, 1500); p > 0.01 {
			t.Errorf("B hears itself: 1.5 kHz share %.3f", p)
		}
		if p := relPower(b, 1000); p < 0.95 {
			t.Errorf("B: 1 kHz share %.3f, want A's tone", p)
		}
		if p1, p2 := relPower(c, 1000), relPower(c, 1500); p1 < 0.4 || p2 < 0.4 {
			t.Errorf("C: 1 kHz share %.3f, 1.5 kHz share %.3f, want both", p1, p2)
		}
	}
}

func TestLawsHearEachOther(t *testing.T) {
	mt := newTestMix(t)
	mt.add("U", media.PCMU, talking(toneA))
	mt.add("A", media.PCMA, talking(toneB))
	mt.add("u", media.PCMU, nothing())
	mt.add("a", media.PCMA, nothing())
	for tick := range 3 {
		mt.m.Tick()
		mt.wantFrame("U", tick, frameOf(toneB, tick))
		mt.wantFrame("A", tick, frameOf(toneA, tick))
		mt.wantFrame("u", tick, sum(tick, toneA, toneB))
		mt.wantFrame("a", tick, sum(tick, toneA, toneB))
		if p := relPower(mt.sinks["U"].pcm(tick), 1500); p < 0.95 {
			t.Errorf("µ-law caller: 1.5 kHz share %.3f, want the A-law caller's tone", p)
		}
		if p := relPower(mt.sinks["A"].pcm(tick), 1000); p < 0.95 {
			t.Errorf("A-law caller: 1 kHz share %.3f, want the µ-law caller's tone", p)
		}
	}
}

func TestSaturation(t *testing.T) {
	loud := tone(1000, 30000)
	mt := newTestMix(t)
	mt.add("A", media.PCMU, talking(loud))
	mt.add("B", media.PCMA, talking(loud))
	mt.add("C", media.PCMU, talking(constant(-20000)))
	mt.add("D", media.PCMA, nothing())
	for tick := range 3 {
		mt.m.Tick()
		// Each output is clamped once, after subtracting the listener's
		// own frame: A hears B + C, not saturate(A+B+C) - A.
		mt.wantFrame("A", tick, sum(tick, loud, constant(-20000)))
		mt.wantFrame("B", tick, sum(tick, loud, constant(-20000)))
		mt.wantFrame("C", tick, sum(tick, loud, loud))
		mt.wantFrame("D", tick, sum(tick, loud, loud, constant(-20000)))

		// Spelled out for C, who hears two in-phase loud tones: peaks
		// clip at full scale and never wrap to the opposite sign.
		got := mt.sinks["C"].pcm(tick)
		clipped := 0
		for i, x := range frameOf(loud, tick) {
			s := 2 * int32(x)
			if s > 0 && got[i] < 0 || s < 0 && got[i] > 0 {
				t.Fatalf("C frame %d sample %d: sum %d came out as %d (wrapped)", tick, i, s, got[i])
			}
			if s > 32767 || s < -32768 {
				clipped++
				if got[i] > -32000 && got[i] < 32000 {
					t.Fatalf("C frame %d sample %d: sum %d came out as %d, want full scale", tick, i, s, got[i])
				}
			}
		}
		if clipped == 0 {
			t.Fatal("test signal does not clip")
		}
	}
}

func TestMuted(t *testing.T) {
	mt := newTestMix(t)
	mt.add("A", media.PCMU, talking(toneA))
	mt.add("B", media.PCMU, talking(toneB))
	mt.add("C", media.PCMA, nothing())
	mt.parts["A"].SetMuted(true)
	mt.m.Tick()
	mt.wantFrame("C", 0, frameOf(toneB, 0)) // A is not heard...
	mt.wantFrame("A", 0, frameOf(toneB, 0)) // ...but hears B
	mt.wantSilence("B", 0)                  // B is the only speaker
	if mt.parts["A"].Talking() || !mt.parts["A"].Muted() {
		t.Errorf("muted A: Talking %v Muted %v", mt.parts["A"].Talking(), mt.parts["A"].Muted())
	}

	mt.parts["A"].SetMuted(false)
	mt.m.Tick()
	mt.wantFrame("C", 1, sum(1, toneA, toneB))
	mt.wantFrame("B", 1, frameOf(toneA, 1))
	if !mt.parts["A"].Talking() {
		t.Error("unmuted A is not talking")
	}
}

func TestNobodySpeaking(t *testing.T) {
	mt := newTestMix(t)
	mt.add("empty", media.PCMU, nothing())
	mt.add("zeros", media.PCMA, talking(constant(0)))
	mt.add("hiss", media.PCMU, &source{kind: FrameConcealed, sig: tone(3000, 40)})
	mt.add("idle", media.PCMA, talking(constant(8))) // A-law's idle code decoded
	for tick := range 3 {
		mt.m.Tick()
		for name := range mt.sinks {
			mt.wantSilence(name, tick)
		}
	}
	if mt.m.encodes != 0 {
		t.Errorf("%d encodes with nobody speaking, want 0", mt.m.encodes)
	}
}

func TestSharedFrame(t *testing.T) {
	for _, tc := range []struct {
		speakers    int
		wantEncodes uint64 // per tick
	}{
		{1, 2}, // one per law for the listeners; the speaker hears silence
		{2, 4}, // plus one per speaker
		{3, 5},
	} {
		mt := newTestMix(t)
		sigs := []signal{toneA, toneB, tone(2000, 5000)}
		for i := range tc.speakers {
			mt.add(string(rune('A'+i)), media.PCMU, talking(sigs[i]))
		}
		for i := range 3 {
			mt.add("u"+string(rune('0'+i)), media.PCMU, nothing())
			mt.add("a"+string(rune('0'+i)), media.PCMA, talking(constant(0)))
		}
		for tick := range 3 {
			before := mt.m.encodes
			mt.m.Tick()
			if n := mt.m.encodes - before; n != tc.wantEncodes {
				t.Errorf("%d speakers, tick %d: %d encodes, want %d", tc.speakers, tick, n, tc.wantEncodes)
			}
			for _, law := range []string{"u", "a"} {
				first := mt.sinks[law+"0"].frames[tick]
				for i := 1; i < 3; i++ {
					if got := mt.sinks[law+string(rune('0'+i))].frames[tick]; !bytes.Equal(got, first) {
						t.Errorf("%d speakers, tick %d: listeners %s0 and %s%d got different frames", tc.speakers, tick, law, law, i)
					}
				}
			}
			mt.wantFrame("u0", tick, sum(tick, sigs[:tc.speakers]...))
			mt.wantFrame("a0", tick, sum(tick, sigs[:tc.speakers]...))
		}
	}
}

func TestHangover(t *testing.T) {
	const loudFrames = 5
	quiet := tone(1000, 30) // below the threshold
	speech := func(n int) int16 {
		if n < loudFrames*media.FrameSamples {
			return toneA(n)
		}
		return quiet(n)
	}
	mt := newTestMix(t)
	mt.add("A", media.PCMU, talking(speech))
	mt.add("B", media.PCMA, nothing())
	ticks := loudFrames + vadHangover + 3
	for tick := range ticks {
		mt.m.Tick()
		inWord := tick < loudFrames+vadHangover
		if inWord {
			// The quiet end of the word still gets through.
			mt.wantFrame("B", tick, frameOf(speech, tick))
		} else {
			mt.wantSilence("B", tick)
		}
		if mt.parts["A"].Talking() != inWord {
			t.Errorf("tick %d: Talking %v, want %v", tick, mt.parts["A"].Talking(), inWord)
		}
	}

	// Words start at once, without waiting for a second loud frame.
	mt2 := newTestMix(t)
	mt2.add("A", media.PCMU, talking(toneA))
	mt2.add("B", media.PCMA, nothing())
	mt2.m.Tick()
	mt2.wantFrame("B", 0, frameOf(toneA, 0))
}

func TestRemove(t *testing.T) {
	mt := newTestMix(t)
	mt.add("A", media.PCMU, talking(toneA))
	mt.add("B", media.PCMU, talking(toneB))
	mt.add("C", media.PCMA, nothing())
	if n := mt.m.Len(); n != 3 {
		t.Fatalf("Len %d, want 3", n)
	}
	mt.m.Tick()
	mt.m.Remove(mt.parts["B"])
	mt.m.Remove(mt.parts["B"]) // twice is harmless
	if n := mt.m.Len(); n != 2 {
		t.Fatalf("Len %d after Remove, want 2", n)
	}
	mt.m.Tick()
	if n := len(mt.sinks["B"].frames); n != 1 {
		t.Errorf("removed B got %d frames, want 1", n)
	}
	mt.wantFrame("C", 1, frameOf(toneA, 1))
	mt.wantSilence("A", 1)
	if mt.parts["B"].Talking() {
		t.Error("removed B still talking")
	}
}

// countSink counts frames; it may be read while the mixer ticks.
type countSink struct{ n atomic.Int64 }

func (s *countSink) WriteFrame([]byte) error { s.n.Add(1); return nil }

func TestAddRemoveWhileTicking(t *testing.T) {
	m := NewMixer()
	resident := &countSink{}
	m.Add("resident", media.PCMU, talking(toneA), resident)

	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				m.Tick()
			}
		}
	})

	var callers sync.WaitGroup
	for g := range 8 {
		callers.Go(func() {
			codec := media.PCMU
			if g%2 == 1 {
				codec = media.PCMA
			}
			for i := range 50 {
				s := &countSink{}
				var src FrameSource = nothing()
				if i%3 == 0 {
					src = talking(toneB)
				}
				p := m.Add(ParticipantID("p"), codec, src, s)
				p.SetMuted(i%2 == 0)
				_ = p.Talking()
				_ = m.Len()
				p.SetCodec(media.PCMA)
				m.Remove(p)
				// Remove waited for any tick in progress: no more frames.
				after := s.n.Load()
				for r := resident.n.Load(); resident.n.Load() < r+2; {
					runtime.Gosched() // until a whole tick has run since
				}
				if n := s.n.Load(); n != after {
					t.Errorf("sink got %d frames after Remove returned", n-after)
				}
			}
		})
	}
	callers.Wait()
	close(stop)
	ticker.Wait()
	if n := m.Len(); n != 1 {
		t.Errorf("Len %d at the end, want 1", n)
	}
}

func TestTickAllocs(t *testing.T) {
	m := NewMixer()
	m.Add("A", media.PCMU, talking(toneA), &countSink{})
	m.Add("B", media.PCMA, talking(toneB), &countSink{})
	for i := range 20 {
		codec := media.PCMU
		if i%2 == 1 {
			codec = media.PCMA
		}
		m.Add("listener", codec, talking(tone(3000, 20)), &countSink{})
	}
	if n := testing.AllocsPerRun(100, m.Tick); n != 0 {
		t.Errorf("Tick allocates %.1f times, want 0", n)
	}
}
