package bridge

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dialin/dialin/media"
)

// loopSource replays prepared frames, as a jitter buffer full of audio
// would: a copy of one frame per Pop.
type loopSource struct {
	frames [][]int16
	i      int
}

func (s *loopSource) Pop(out []int16) FrameKind {
	copy(out, s.frames[s.i])
	s.i = (s.i + 1) % len(s.frames)
	return FrameAudio
}

// discard is a sink that sends nothing; the UDP send is measured by
// media's BenchmarkSessionWriteFrame.
type discard struct{}

func (discard) WriteFrame([]byte) error { return nil }

// benchFrames is a second of sig.
func benchFrames(sig signal) [][]int16 {
	frames := make([][]int16, 50)
	for t := range frames {
		frames[t] = frameOf(sig, t)
	}
	return frames
}

// BenchmarkMixerTick is one 20 ms tick of a meeting of n participants, half
// on PCMU and half on PCMA, of whom a few talk. The others are not silent
// in the RTP sense: like most phones they keep sending frames of line
// noise (about -65 dBFS), which the mixer must measure and leave out.
func BenchmarkMixerTick(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	hiss := make([][]int16, 50)
	for t := range hiss {
		hiss[t] = make([]int16, media.FrameSamples)
		for i := range hiss[t] {
			hiss[t][i] = int16(rng.IntN(41) - 20)
		}
	}
	for _, n := range []int{10, 100, 1000} {
		for _, speakers := range []int{0, 1, 3, n} {
			name := fmt.Sprintf("participants=%d/speakers=%d", n, speakers)
			if speakers == n {
				name = fmt.Sprintf("participants=%d/speakers=all", n)
			}
			b.Run(name, func(b *testing.B) {
				m := NewMixer()
				for i := range n {
					codec := media.PCMU
					if i%2 == 1 {
						codec = media.PCMA
					}
					frames := hiss
					if i < speakers {
						frames = benchFrames(tone(300+float64(i%50)*50, 6000))
					}
					m.Add(ParticipantID(fmt.Sprint(i)), codec, &loopSource{frames: frames, i: i % 50}, discard{})
				}
				b.ReportAllocs()
				for b.Loop() {
					m.Tick()
				}
				nsPerTick := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(nsPerTick/float64(n), "ns/participant")
			})
		}
	}
}
