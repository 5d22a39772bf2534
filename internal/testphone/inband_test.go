package testphone

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialin/dialin/internal/audiotest"
	"github.com/dialin/dialin/media"
)

var dtmfFreqs = []float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}

// waitPackets waits until the UAS has n packets and returns them.
func waitPackets(t *testing.T, ctx context.Context, uas *testUAS, n int) []rtp.Packet {
	t.Helper()
	for {
		pkts := uas.receivedPackets()
		if len(pkts) >= n {
			return pkts
		}
		select {
		case <-ctx.Done():
			t.Fatalf("UAS got %d packets, want %d", len(pkts), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func decodeAll(t *testing.T, pkts []rtp.Packet) []int16 {
	t.Helper()
	var pcm []int16
	for _, p := range pkts {
		codec, ok := media.CodecByPayloadType(p.PayloadType)
		if !ok {
			t.Fatalf("packet with payload type %d, want only audio", p.PayloadType)
		}
		n := len(pcm)
		pcm = slices.Grow(pcm, len(p.Payload))[:n+len(p.Payload)]
		codec.Decode(pcm[n:], p.Payload)
	}
	return pcm
}

// toneDBFS is the level of the sine at freq in samples, from its Goertzel
// power: a sine of peak A over N samples has power (A·N/2)².
func toneDBFS(samples []int16, freq float64) float64 {
	p := audiotest.NewGoertzel(freq, media.SampleRate).Power(samples)
	peak := 2 * math.Sqrt(p) / float64(len(samples))
	return 20 * math.Log10(peak/32767)
}

// checkKey checks that the two frequencies of key dominate tone and that
// each is near wantDBFS.
func checkKey(t *testing.T, k int, key byte, tone []int16, wantDBFS float64) {
	t.Helper()
	want, _ := DigitFrequencies(key)
	for _, f := range dtmfFreqs {
		rel := audiotest.NewGoertzel(f, media.SampleRate).RelativePower(tone)
		if slices.Contains(want, f) {
			if rel < 0.4 {
				t.Errorf("key %d %q: %v Hz relative power %.3f, want ≥ 0.4", k, key, f, rel)
			}
			if db := toneDBFS(tone, f); math.Abs(db-wantDBFS) > 1 {
				t.Errorf("key %d %q: %v Hz at %.1f dBFS, want %.0f", k, key, f, db, wantDBFS)
			}
		} else if rel > 0.02 {
			t.Errorf("key %d %q: %v Hz relative power %.3f, want ≤ 0.02", k, key, f, rel)
		}
	}
}

func TestSendDigitsInbandWithNoise(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	// NoSilence: with noise every frame of the job is sent, and only those.
	call := dial(t, ctx, Options{
		Target: uas.target, Codecs: []media.Codec{media.PCMA}, NoTelephoneEvent: true, NoSilence: true,
	})
	if offers := uas.receivedOffers(); bytes.Contains(offers[0], []byte("telephone-event")) {
		t.Fatalf("NoTelephoneEvent offer has telephone-event:\n%s", offers[0])
	}
	if err := call.SendDigits(ctx, "1", 0); err == nil {
		t.Fatal("SendDigits without telephone-event succeeded")
	}

	const keys = "159#"
	opts := InbandOptions{NoiseDBFS: -35, Seed: 7}
	marks, err := call.SendDigitsInbandMarked(ctx, keys, opts)
	if err != nil {
		t.Fatalf("SendDigitsInbandMarked: %v", err)
	}
	const keySamples = 1280 // 80 ms tone + 80 ms gap
	const frames = len(keys) * keySamples / media.FrameSamples
	pkts := waitPackets(t, ctx, uas, frames)
	if len(pkts) != frames {
		t.Fatalf("UAS got %d packets, want %d", len(pkts), frames)
	}
	if !pkts[0].Marker {
		t.Error("first packet has no marker")
	}
	pcm := decodeAll(t, pkts) // fails on anything but audio
	if pkts[0].PayloadType != 8 {
		t.Errorf("payload type %d, want PCMA", pkts[0].PayloadType)
	}

	for k := range len(keys) {
		start := k * keySamples
		checkKey(t, k, keys[k], pcm[start:start+640], -10)
		// The gap holds the noise alone.
		if db := audiotest.DBFS(audiotest.RMS(pcm[start+640 : start+keySamples])); math.Abs(db+35) > 1 {
			t.Errorf("key %d: gap at %.1f dBFS, want -35", k, db)
		}
	}

	var heard []byte
	new(media.InbandDetector).Feed(pcm, func(key byte) { heard = append(heard, key) })
	if string(heard) != keys {
		t.Errorf("in-band detector heard %q, want %q", heard, keys)
	}

	if len(marks) != len(keys) {
		t.Fatalf("%d marks, want %d", len(marks), len(keys))
	}
	for k, m := range marks {
		if m.IsZero() || (k > 0 && !m.After(marks[k-1])) {
			t.Errorf("marks %v: key %d out of order", marks, k)
		}
	}

	// The same seed gives the same noise.
	a, _ := newInbandSource("1", opts)
	b, _ := newInbandSource("1", opts)
	var fa, fb frame
	for a.next(&fa) && b.next(&fb) {
		if fa.pcm != fb.pcm {
			t.Fatal("same seed, different noise")
		}
	}
}

func TestSendDigitsInbandDefaults(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target})
	if call.Codec() != media.PCMU {
		t.Fatalf("codec %v, want PCMU", call.Codec())
	}

	const keys = "0*"
	if err := call.SendDigitsInband(ctx, keys, InbandOptions{}); err != nil {
		t.Fatalf("SendDigitsInband: %v", err)
	}
	time.Sleep(60 * time.Millisecond) // the last frames may be in flight
	pkts := uas.receivedPackets()
	for _, p := range pkts {
		if p.PayloadType != 0 {
			t.Fatalf("payload type %d sent; want PCMU only, no telephone-event", p.PayloadType)
		}
	}
	// Silence before and after; the keys start with the first loud frame.
	pcm := decodeAll(t, pkts)
	first := -1
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		if audiotest.RMS(pcm[i:i+media.FrameSamples]) > SilenceRMS {
			first = i
			break
		}
	}
	if first < 0 || len(pcm) < first+len(keys)*1280 {
		t.Fatalf("no whole key sequence in %d samples (first loud at %d)", len(pcm), first)
	}
	pcm = pcm[first:]
	for k := range len(keys) {
		start := k * 1280
		checkKey(t, k, keys[k], pcm[start:start+640], -10)
		if rms := audiotest.RMS(pcm[start+640 : start+1280]); rms != 0 {
			t.Errorf("key %d: gap RMS %.1f, want silence", k, rms)
		}
	}
}

func TestInbandOptionsRejected(t *testing.T) {
	for _, tc := range []struct {
		keys string
		opts InbandOptions
	}{
		{"x", InbandOptions{}},
		{"1", InbandOptions{LevelDBFS: 3}},
		{"1", InbandOptions{NoiseDBFS: 1}},
		{"1", InbandOptions{ToneDuration: -time.Millisecond}},
		{"1", InbandOptions{ToneDuration: 10 * time.Millisecond, Gap: 5 * time.Millisecond}},
		{"1", InbandOptions{LevelDBFS: math.NaN()}},
	} {
		if _, err := newInbandSource(tc.keys, tc.opts); err == nil {
			t.Errorf("%q %+v accepted", tc.keys, tc.opts)
		}
	}
}

// A tone and gap that are not whole frames run on across frame edges, and
// the mark goes on the frame where each key's tone starts.
func TestInbandSourceFraming(t *testing.T) {
	src, err := newInbandSource("12", InbandOptions{ToneDuration: 50 * time.Millisecond, Gap: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []frameKind
	var marked []int
	var f frame
	for i := 0; ; i++ {
		f.kind, f.mark = frameIdle, false
		if !src.next(&f) {
			break
		}
		kinds = append(kinds, f.kind)
		if f.mark {
			marked = append(marked, i)
		}
	}
	// Keys of 400 samples of tone and 320 of gap: 9 frames. Key 1 sounds in
	// samples 0-399 (frames 0-2), key 2 in 720-1119 (frames 4-6); frames 3,
	// 7 and 8 hold only gap.
	want := []frameKind{frameAudio, frameAudio, frameAudio, frameIdle, frameAudio, frameAudio, frameAudio, frameIdle, frameIdle}
	if !slices.Equal(kinds, want) {
		t.Errorf("frame kinds %v, want %v", kinds, want)
	}
	if !slices.Equal(marked, []int{0, 4}) {
		t.Errorf("marked frames %v, want [0 4]", marked)
	}
}
