package testphone

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dialin/dialin/internal/audiotest"
	"github.com/dialin/dialin/media"
)

// InbandOptions shape the audio of SendDigitsInband. Zero fields take the
// defaults, so the zero value is 80 ms tones, 80 ms gaps, -10 dBFS per
// tone and no noise.
type InbandOptions struct {
	ToneDuration time.Duration // how long each key sounds; default 80 ms
	Gap          time.Duration // quiet (or noise only) after each key; default 80 ms

	// LevelDBFS is the level of each of the key's two tones, in dBFS (a
	// full-scale sine is 0); default -10. Above -6 the sum may clip, and
	// clipped samples are saturated, as a real codec would.
	LevelDBFS float64

	// NoiseDBFS, if below 0, adds white Gaussian noise of that RMS level
	// (in dBFS, as audiotest.DBFS measures it) to the tones and the gaps, as a
	// noisy line would; 0 adds none.
	NoiseDBFS float64

	// Seed seeds the noise generator: the same seed gives the same noise,
	// so a failing test fails the same way again.
	Seed uint64
}

func (o *InbandOptions) setDefaults() error {
	if o.ToneDuration == 0 {
		o.ToneDuration = 80 * time.Millisecond
	}
	if o.Gap == 0 {
		o.Gap = 80 * time.Millisecond
	}
	if o.LevelDBFS == 0 {
		o.LevelDBFS = -10
	}
	switch {
	case o.ToneDuration < 0 || o.Gap < 0:
		return errors.New("testphone: negative in-band tone duration or gap")
	case o.LevelDBFS > 0 || o.NoiseDBFS > 0:
		return errors.New("testphone: in-band levels must be at most 0 dBFS")
	case math.IsNaN(o.LevelDBFS) || math.IsNaN(o.NoiseDBFS):
		return errors.New("testphone: in-band level is NaN")
	}
	return nil
}

// SendDigitsInband sends keys as DTMF tones in the audio itself, encoded in
// the answered codec, with no telephone-event packets: what a phone behind
// a gateway that does not do RFC 4733 sends. Per key: the row and column
// tones for opts.ToneDuration, then opts.Gap of silence (or of noise only);
// noise, if asked for, runs through tones and gaps alike. A gap frame with
// no noise is an ordinary silence frame, so Options.NoSilence pauses the
// stream there. It returns when the last gap has been sent.
func (c *Call) SendDigitsInband(ctx context.Context, keys string, opts InbandOptions) error {
	src, err := newInbandSource(keys, opts)
	if err != nil {
		return err
	}
	return c.run(ctx, src)
}

// SendDigitsInbandMarked is SendDigitsInband that also returns, for each
// key, the time the phone wrote the first packet holding that key's tone, as
// SendDigitsMarked does for RFC 4733 events.
func (c *Call) SendDigitsInbandMarked(ctx context.Context, keys string, opts InbandOptions) ([]time.Time, error) {
	src, err := newInbandSource(keys, opts)
	if err != nil {
		return nil, err
	}
	return c.runMarked(ctx, src, len(keys))
}

// inbandSource plays DTMF tone pairs and gaps as one sample stream, so a
// tone or gap that is not a whole number of frames simply runs on into the
// next frame.
type inbandSource struct {
	freqs    [][]float64 // row and column frequency of each key
	amp      float64     // peak of each sine
	noiseRMS float64     // 0: no noise
	rng      *rand.Rand
	toneN    int // samples of tone per key
	keyN     int // samples per key, tone and gap
	n        int // samples produced so far
}

func newInbandSource(keys string, opts InbandOptions) (*inbandSource, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &inbandSource{
		// A sine of peak 32767 is 0 dBFS (audiotest.FullScaleSineRMS).
		amp:   32767 * math.Pow(10, opts.LevelDBFS/20),
		rng:   rand.New(rand.NewPCG(opts.Seed, 0x7e57_d7f0)),
		toneN: int(opts.ToneDuration * media.SampleRate / time.Second),
	}
	s.keyN = s.toneN + int(opts.Gap*media.SampleRate/time.Second)
	if s.toneN == 0 {
		return nil, errors.New("testphone: in-band tone shorter than one sample")
	}
	// Two keys starting in one frame would share one mark (and no detector
	// could split them anyway).
	if s.keyN < media.FrameSamples {
		return nil, errors.New("testphone: in-band tone plus gap shorter than one frame")
	}
	if opts.NoiseDBFS < 0 {
		s.noiseRMS = audiotest.FullScaleSineRMS * math.Pow(10, opts.NoiseDBFS/20)
	}
	for i := range len(keys) {
		f, ok := DigitFrequencies(keys[i])
		if !ok {
			return nil, fmt.Errorf("testphone: no DTMF key %q", keys[i])
		}
		s.freqs = append(s.freqs, f)
	}
	return s, nil
}

func (s *inbandSource) next(f *frame) bool {
	total := len(s.freqs) * s.keyN
	if s.n >= total {
		return false
	}
	sound := s.noiseRMS > 0
	for i := range f.pcm {
		pos := s.n + i
		var v float64
		if pos < total {
			key, off := pos/s.keyN, pos%s.keyN
			if off < s.toneN {
				// Each key starts at phase 0, as a tone generator switched
				// on for the key would.
				t := float64(off) / media.SampleRate
				for _, fr := range s.freqs[key] {
					v += s.amp * math.Sin(2*math.Pi*fr*t)
				}
				sound = true
				if off == 0 {
					f.mark = true
				}
			}
			if s.noiseRMS > 0 {
				v += s.noiseRMS * s.rng.NormFloat64()
			}
		}
		f.pcm[i] = saturate(v)
	}
	s.n += media.FrameSamples
	if sound {
		f.kind = frameAudio
	} else {
		f.kind = frameIdle
	}
	return true
}

// saturate rounds v to the nearest 16-bit sample, clipping at the limits.
func saturate(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
