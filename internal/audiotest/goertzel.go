// Package audiotest measures and writes the bridge's audio for tests and
// test tools: tone power (Goertzel), RMS and dBFS levels, and WAV files.
// The bridge itself never measures levels or writes WAVs, so none of this
// is in media. It imports nothing of the project, so that media's own
// tests can use it.
package audiotest

import "math"

// FullScaleSineRMS is the RMS level of a sine whose peaks reach the 16-bit
// limit, 32767/√2: the 0 dBFS reference for DBFS.
const FullScaleSineRMS = 32767 / math.Sqrt2

// MinDBFS is what DBFS reports for silence, instead of -Inf, so that levels
// can be compared, logged and serialised as ordinary numbers. The quietest
// non-silent 20 ms frame (one sample of ±1) is about -109 dBFS.
const MinDBFS = -120.0

// Goertzel measures the power of one frequency in blocks of 16-bit samples.
// It is a single DFT bin computed with the Goertzel recurrence; the frequency
// need not fall on a bin of the block length. The zero value measures 0 Hz
// nonsense, so build one with NewGoertzel.
type Goertzel struct {
	coeff float64 // 2·cos(2π·f/fs), the recurrence coefficient
}

// NewGoertzel returns a detector for freqHz at sampleRate samples per second.
func NewGoertzel(freqHz float64, sampleRate int) Goertzel {
	w := 2 * math.Pi * freqHz / float64(sampleRate)
	return Goertzel{coeff: 2 * math.Cos(w)}
}

// Power returns the squared magnitude of freq in samples: |X(f)|² of the
// block's DFT at that frequency, in squared sample units.
//
// Scale: for a sine of amplitude A at freq over N samples, Power ≈ (A·N/2)²,
// which equals the block's sum of squares (A²·N/2) times N/2. A block of N
// samples resolves frequencies about fs/N apart (50 Hz for one 160-sample
// frame at 8 kHz).
func (g Goertzel) Power(samples []int16) float64 {
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + g.coeff*s1 - s2
		s2 = s1
		s1 = s0
	}
	// The magnitude at the last step, without the phase; this form needs
	// no sine or cosine of the frequency.
	return s1*s1 + s2*s2 - g.coeff*s1*s2
}

// RelativePower returns Power normalised by the block's total energy (0..1;
// a pure tone at freq reads about 1), so callers can threshold it whatever
// the level.
//
// It divides Power by sum of squares × N/2, the most a pure tone at freq can
// give. Spectral leakage can push a tone slightly above 1 when freq is not a
// bin of the block; the result is clamped to 1. Silence and an empty block
// give 0.
func (g Goertzel) RelativePower(samples []int16) float64 {
	var energy float64
	for _, x := range samples {
		v := float64(x)
		energy += v * v
	}
	if energy == 0 {
		return 0
	}
	rel := g.Power(samples) / (energy * float64(len(samples)) / 2)
	if rel > 1 {
		return 1
	}
	return rel
}

// RMS is the root-mean-square level of samples (0 for silence, ~23170 for a full-scale sine).
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		v := float64(x)
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// DBFS converts an RMS level to dBFS relative to a full-scale sine (full-scale
// sine = 0 dBFS). Silence, and anything quieter than MinDBFS, is MinDBFS.
// A full-scale square wave reads +3 dBFS.
func DBFS(rms float64) float64 {
	if !(rms > 0) { // also catches NaN
		return MinDBFS
	}
	db := 20 * math.Log10(rms/FullScaleSineRMS)
	if db < MinDBFS {
		return MinDBFS
	}
	return db
}
