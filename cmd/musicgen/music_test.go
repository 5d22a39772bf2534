package main

import (
	"bytes"
	"math"
	"math/cmplx"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/dialin/dialin/media"
)

// committed is the file the bridge embeds.
const committed = "../../media/prompts/music_on_hold.wav"

// music is Generate(DefaultSeed), made once for all the tests.
var music = sync.OnceValue(func() []int16 { return Generate(DefaultSeed) })

func TestDeterministic(t *testing.T) {
	t.Parallel()
	if !slices.Equal(Generate(DefaultSeed), music()) {
		t.Fatal("two runs with the same seed differ")
	}
	if slices.Equal(Generate(DefaultSeed+1), music()) {
		t.Error("another seed gives the same music")
	}
}

// TestCommittedFileIsGenerated: the WAV in media/prompts is what the
// generator makes, so neither is edited without the other. Run
// `go run ./cmd/musicgen -o media/prompts/music_on_hold.wav` (or
// `make prompts`) after changing the generator.
//
// Samples may differ by one step: Go may fuse a multiply and an add into
// one instruction on some processors (arm64, not amd64), which changes
// the last bits of a float and can tip a rounding. Anything more is a
// real difference.
func TestCommittedFileIsGenerated(t *testing.T) {
	b, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := media.ReadWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", committed, err)
	}
	want := music()
	if len(got) != len(want) {
		t.Fatalf("%s has %d samples, the generator makes %d: regenerate it", committed, len(got), len(want))
	}
	var differ int
	for i := range got {
		if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
			t.Fatalf("%s differs from the generator at sample %d (%d, want %d): regenerate it", committed, i, got[i], want[i])
		} else if d != 0 {
			differ++
		}
	}
	if differ > len(got)/1000 {
		t.Errorf("%s: %d samples off by one from the generator: regenerate it", committed, differ)
	}
	if len(b) > 4<<20 {
		t.Errorf("%s is %d bytes, want under 4 MiB", committed, len(b))
	}
}

func TestWAVRoundTrip(t *testing.T) {
	pcm := music()
	got, err := media.ReadWAV(bytes.NewReader(encodeWAV(pcm)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, pcm) {
		t.Error("media.ReadWAV does not read back what encodeWAV wrote")
	}
}

func TestDuration(t *testing.T) {
	pcm := music()
	secs := float64(len(pcm)) / sampleRate
	if secs < 150 || secs > 240 {
		t.Errorf("%.1f s, want 2.5 to 4 minutes", secs)
	}
	// Whole 20 ms frames: media pads a prompt with silence to a whole
	// frame, which would be a gap in the loop.
	if len(pcm)%media.FrameSamples != 0 {
		t.Errorf("%d samples, not a whole number of %d-sample frames", len(pcm), media.FrameSamples)
	}
}

func TestLevel(t *testing.T) {
	pcm := music()
	rms, peak := levels(pcm)
	if rms < -18 || rms > -14 {
		t.Errorf("RMS %.1f dBFS, want -18 to -14", rms)
	}
	if peak > -3 {
		t.Errorf("peak %.1f dBFS, want below -3", peak)
	}
	// Nothing near full scale, let alone stuck there.
	for i, s := range pcm {
		if s >= 32000 || s <= -32000 {
			t.Fatalf("sample %d is %d: clipping", i, s)
		}
	}
	// Not too quiet anywhere: every 5 s holds music (no dropouts).
	const block = 5 * sampleRate
	for at := 0; at+block <= len(pcm); at += block {
		if r, _ := levels(pcm[at : at+block]); r < -30 {
			t.Errorf("%d-%d s: RMS %.1f dBFS, a near-silent stretch", at/sampleRate, at/sampleRate+5, r)
		}
	}
	t.Logf("RMS %.1f dBFS, peak %.1f dBFS (relative to a full-scale sine)", rms, peak)
}

// TestSpectrum: the energy is in the telephone band, none of it near the
// 4 kHz Nyquist edge.
func TestSpectrum(t *testing.T) {
	const n = 1024 // 128 ms blocks, 7.8 Hz a bin
	pcm := music()
	win := make([]float64, n)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n) // Hann: little leakage
	}
	var below300, band, above3400, above3800, total float64
	x := make([]complex128, n)
	for at := 0; at+n <= len(pcm); at += n {
		for i := range x {
			x[i] = complex(float64(pcm[at+i])*win[i], 0)
		}
		fft(x)
		for k := 1; k < n/2; k++ {
			p := real(x[k])*real(x[k]) + imag(x[k])*imag(x[k])
			f := float64(k) * sampleRate / n
			total += p
			switch {
			case f < 300:
				below300 += p
			case f <= 3400:
				band += p
			case f < 3800:
				above3400 += p
			default:
				above3800 += p
			}
		}
	}
	db := func(p float64) float64 { return 10 * math.Log10(p/total) }
	if share := band / total; share < 0.7 {
		t.Errorf("%.0f%% of the energy in 300-3400 Hz, want most of it", 100*share)
	}
	if d := db(above3800); d > -60 {
		t.Errorf("energy above 3.8 kHz at %.1f dB of the total, want below -60", d)
	}
	t.Logf("energy: below 300 Hz %.1f%%, 300-3400 Hz %.1f%%, 3.4-3.8 kHz %.1f dB, above 3.8 kHz %.1f dB",
		100*below300/total, 100*band/total, db(above3400), db(above3800))
}

// fft is an in-place radix-2 FFT; len(x) is a power of two.
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j |= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Rect(1, -2*math.Pi/float64(size))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := range size / 2 {
				a, b := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = a+b, a-b
				wk *= w
			}
		}
	}
}

// TestLoopSeam: played round and round, the end runs into the start with
// no click and no jump in level; played from the start, it starts near
// zero.
func TestLoopSeam(t *testing.T) {
	pcm := music()
	n := len(pcm)
	at := func(i int) float64 { return float64(pcm[(i%n+n)%n]) }

	// A click is a kink in the waveform: a large second difference. Compare
	// the seam's with those of the whole piece.
	kink := func(i int) float64 { return math.Abs(at(i+1) - 2*at(i) + at(i-1)) }
	var sum float64
	for i := 1; i < n-1; i++ {
		sum += kink(i) * kink(i)
	}
	kinkRMS := math.Sqrt(sum / float64(n-2))
	if k := max(kink(0), kink(n-1)); k > 4*kinkRMS {
		t.Errorf("second difference %.0f across the seam, %.0f RMS elsewhere: a click", k, kinkRMS)
	}
	if a := math.Abs(at(0)); a > kinkRMS {
		t.Errorf("first sample is %.0f, want near zero", a)
	}

	// Level: the loop starts on a downbeat, where new notes begin, so its
	// first 50 ms are somewhat louder than the 50 ms before, as at every
	// bar line. The seam must be no worse than the other bar lines.
	const ms50 = sampleRate / 20
	change := func(i int) float64 {
		before, _ := levels(pcm[i-ms50 : i])
		after, _ := levels(pcm[i : i+ms50])
		return after - before
	}
	head, _ := levels(pcm[:ms50])
	tail, _ := levels(pcm[n-ms50:])
	seam := head - tail
	worst := 0.0
	for b := barLen; b < n; b += barLen {
		worst = max(worst, math.Abs(change(b)))
	}
	if math.Abs(seam) > 6 || math.Abs(seam) > worst {
		t.Errorf("level changes by %+.1f dB across the seam (first 50 ms %.1f dBFS, last 50 ms %.1f), at most %.1f dB at the other bar lines",
			seam, head, tail, worst)
	}
	t.Logf("seam: second difference %.0f (%.0f RMS elsewhere); level %+.1f dB (at other bar lines up to %.1f dB)",
		max(kink(0), kink(n-1)), kinkRMS, seam, worst)
}

// TestNoteLimits checks the pitch limits that keep the music clear of the
// DTMF tones (see maxNote): for every seed the notes stay below them, and
// the limits sit outside the detector's ±3.5% around the tones.
func TestNoteLimits(t *testing.T) {
	if f := hz(maxNote); f > 1209/1.035 {
		t.Errorf("maxNote is %.0f Hz, within 3.5%% of the 1209 Hz column tone", f)
	}
	if f := hz(maxMelodyNote); f > 697/1.035 {
		t.Errorf("maxMelodyNote is %.0f Hz, within 3.5%% of the 697 Hz row tone", f)
	}
	chords, secOf := layout()
	for seed := uint64(0); seed < 50; seed++ {
		for _, n := range melodyNotes(chords, secOf, newRNG(seed, 4)) {
			if n.midi > maxMelodyNote {
				t.Fatalf("seed %d: melody note %v above %d", seed, n.midi, maxMelodyNote)
			}
		}
		rng := newRNG(seed, 3)
		for ci, c := range chords {
			for _, n := range arpNotes(c, piece[secOf[ci]], rng) {
				if n.midi > maxNote {
					t.Fatalf("seed %d: arpeggio note %v above %d", seed, n.midi, maxNote)
				}
			}
		}
	}
	for _, n := range padNotes(chords, secOf) {
		if n.midi > maxNote {
			t.Fatalf("pad note %v above %d", n.midi, maxNote)
		}
	}
}

// TestNoDTMF: music played to callers waiting must never read as a key to
// the in-band DTMF detector, heard linear or through G.711, and across the
// loop's seam (two loops back to back).
func TestNoDTMF(t *testing.T) {
	pcm := music()
	twice := append(slices.Clone(pcm), pcm...)
	check := func(name string, pcm []int16) {
		d := new(media.InbandDetector)
		var keys []byte
		for at := 0; at < len(pcm); at += media.FrameSamples {
			d.Feed(pcm[at:min(at+media.FrameSamples, len(pcm))], func(k byte) { keys = append(keys, k) })
		}
		if len(keys) > 0 {
			t.Errorf("%s: the DTMF detector heard keys %q", name, keys)
		}
	}
	check("linear", twice)
	for _, c := range []media.Codec{media.PCMU, media.PCMA} {
		law := make([]byte, len(twice))
		c.Encode(law, twice)
		dec := make([]int16, len(twice))
		c.Decode(dec, law)
		check(c.String(), dec)
	}
}
