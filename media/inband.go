package media

import (
	"math"
	"math/cmplx"
)

// In-band DTMF: the keys a caller presses as tones in the audio itself
// (ITU-T Q.23), for phones and gateways that do not send RFC 4733 events.
// The limits are Q.24's: accept tones within ±1.5% of their frequency,
// 8 dB of normal and 4 dB of reverse twist, 40 ms of tone and 40 ms of
// pause; reject ±3.5%, tones under 23 ms, and speech and music.
//
// The detector looks at the audio through a 102-sample (12.75 ms) window
// that slides along in steps of 34 samples (4.25 ms). 102 samples is the
// shortest rectangular window whose response to the next row frequency,
// 73 Hz away, is down near its first null (78 Hz), so that adjacent rows are
// told apart. Each of the eight frequencies has a Goertzel filter that runs
// over one step at a time; a window's value at a frequency is the sum of
// its three steps' values, so sliding costs no more than not sliding.
//
// A window is a hit for a key when both of the key's tones are loud enough,
// each beats the other frequencies of its group, and together they carry
// most of the window's energy. A key is reported once, when
// inbandHitsToBegin windows in a row hit it and, measured over those
// windows, each tone is within inbandMaxDeviation of its frequency and the
// twist is within limits. It is held until inbandMissesToEnd windows in a
// row do not hit it.
//
// Frequency. A 102-sample filter cannot tell a tone 1.5% off from one 3.5%
// off by level: both lie inside its main lobe, and the difference, a dB or
// so, is lost among the levels and twists a key may have. So the detector
// measures each tone's frequency instead. From one window to the next, one
// step later, a tone's phase in its filter turns by 2π·Δf·S/fs more than the
// filter's own frequency would, Δf being the tone's error; summed over the
// run, that turn gives Δf within a few hertz, at any level and twist.
//
// Timing, in samples (8 per ms). A run of 6 hits spans 5 steps plus a
// window, 272 samples; a tone of 305 (38 ms) holds one at any alignment, so
// a 40 ms tone is always found. A window hits only when the tone fills at
// least inbandMinShare of it; 6 such windows need at least 170 + 0.3·102 =
// 201 samples (25 ms) of tone, so tones under 23 ms never are. A dropout of
// up to 16 ms in a held tone breaks at most 5 windows in a row; a 40 ms
// pause breaks 10, ending the key so that the next press is a new one.
const (
	inbandStep   = 34             // samples per step (4.25 ms)
	inbandWindow = 3 * inbandStep // samples per window (12.75 ms)

	// inbandHitsToBegin and inbandMissesToEnd are counted in windows, one per step.
	inbandHitsToBegin = 6
	inbandMissesToEnd = 6

	// inbandMinLevel is the quietest tone accepted, in dBFS per tone
	// (about -45 dBm0): room for a key at -36 dBFS with 8 dB of twist, and
	// well above a quiet line's idle noise.
	inbandMinLevel = -48.0

	// inbandMinShare is the part of a window's energy that the two tones
	// must carry. A clean key reads nearly 1; a key 1.5% off frequency with
	// 4 dB of reverse twist reads about 0.77 (the rectangular window loses
	// up to 1.4 dB on a tone that far off); speech and music read far less.
	inbandMinShare = 0.65

	// inbandRelativePeak is how much the strongest frequency of a group must
	// beat each other frequency of that group: 6 dB. Asterisk asks for 8,
	// but a key with 8 dB of twist and both tones 1.5% off reads as little
	// as 8 dB above the next frequency here (the off-frequency tone leaks
	// more into its neighbour); two tones in one group read under 1 dB
	// apart, so 6 dB still tells them from one.
	inbandRelativePeak = 3.98

	// Twist limits: Q.24 asks that up to 8 dB of normal twist (the column
	// tone weaker) and 4 dB of reverse twist be accepted; beyond 10 dB and
	// 6 dB we reject. The limits sit half-way.
	inbandNormalTwistDB  = 9.0
	inbandReverseTwistDB = 5.0

	// inbandMaxDeviation is the largest frequency error accepted: half-way
	// between Q.24's ±1.5% (must accept) and ±3.5% (must reject).
	inbandMaxDeviation = 0.025
)

// inbandFreqs are the DTMF rows then columns, in Hz.
var inbandFreqs = [8]float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}

// inbandKeys is the keypad, indexed by row then column.
var inbandKeys = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// inbandFilter holds one frequency's constants, with ω its angular frequency
// in radians per sample and S the step length.
type inbandFilter struct {
	// endS1, endS2 turn the Goertzel state after a step into the step's
	// DFT value, with phase taken at the step's first sample:
	// Y = s1·e^(-jω(S-1)) - s2·e^(-jωS).
	endS1, endS2 complex128

	// shift1 = e^(-jωS) and shift2 = e^(-2jωS) move a step's value to its
	// place in the window. shift1 also takes the nominal phase advance out
	// of two windows one step apart, leaving the frequency error.
	shift1, shift2 complex128

	// maxTurn is tan of the largest phase error per step accepted, 2π·f·
	// inbandMaxDeviation·S/fs; comparing Im/Re with it needs no arctangent.
	maxTurn float64
}

var (
	// inbandCoeff is each filter's Goertzel coefficient, 2·cos ω, kept
	// apart from the rest because the per-sample loop reads only these.
	inbandCoeff   [8]float64
	inbandFilters [8]inbandFilter

	// inbandLeak[k][j] is what a tone at frequency j, alone, reads in
	// filter k over one window, as a multiple of what it reads in filter j.
	inbandLeak [8][8]complex128

	// inbandMinPower is inbandMinLevel as a window power |X|²: a sine of
	// amplitude A gives (A·N/2)², and 0 dBFS is an amplitude of 32767.
	inbandMinPower = math.Pow(32767*math.Pow(10, inbandMinLevel/20)*inbandWindow/2, 2)

	inbandNormalTwist  = math.Pow(10, inbandNormalTwistDB/10)
	inbandReverseTwist = math.Pow(10, inbandReverseTwistDB/10)
)

func init() {
	for k, f := range inbandFreqs {
		w := 2 * math.Pi * f / SampleRate
		inbandCoeff[k] = 2 * math.Cos(w)
		inbandFilters[k] = inbandFilter{
			endS1:   cmplx.Rect(1, -w*(inbandStep-1)),
			endS2:   cmplx.Rect(1, -w*inbandStep),
			shift1:  cmplx.Rect(1, -w*inbandStep),
			shift2:  cmplx.Rect(1, -2*w*inbandStep),
			maxTurn: math.Tan(w * inbandMaxDeviation * inbandStep),
		}
	}
	for k, fk := range inbandFreqs {
		for j, fj := range inbandFreqs {
			// Σ e^(jΔn)/N over the window, Δ the difference in ω.
			dw := 2 * math.Pi * (fj - fk) / SampleRate
			var sum complex128
			for n := range inbandWindow {
				sum += cmplx.Rect(1, dw*float64(n))
			}
			inbandLeak[k][j] = sum / inbandWindow
		}
	}
}

// InbandDetector finds DTMF keys in 8 kHz 16-bit linear audio. Feed it the
// audio in order, in pieces of any length (a 20 ms frame is usual): the keys
// found do not depend on how the audio is cut up.
//
// The zero value is ready to use and holds no pointers, so a detector can
// be a plain field of a call's struct; Feed allocates nothing. It is not
// safe for concurrent use: the goroutine that reads a call's audio owns it.
type InbandDetector struct {
	// The step being filled: Goertzel state, energy and sample count.
	s1, s2 [8]float64
	energy float64
	n      int

	// The last three steps (step[2] is the newest) and how many of them
	// are filled; a window needs all three.
	step    [3][8]complex128
	energy3 [3]float64
	steps   int

	// The previous window's values, for the phase advance to this one.
	prev [8]complex128

	// The current run of windows hitting one key. Over the run, rowPower
	// and colPower add up the two tones' powers and rowTurn and colTurn the
	// phase advance of each tone from one window to the next.
	cand               byte // 0: the last window hit nothing
	row, col           int
	run                int
	rowPower, colPower float64
	rowTurn, colTurn   complex128

	// The key reported and still held (0 if none), and the windows since
	// it last hit.
	key    byte
	misses int
}

// Reset forgets all audio fed so far, as at the start of a new stream (for
// instance after the remote changed SSRC or the codec changed).
func (d *InbandDetector) Reset() {
	*d = InbandDetector{}
}

// Feed runs samples through the detector and calls emit with each key
// ('0'-'9', '*', '#', 'A'-'D') whose press it confirms, once per press: at
// the start of the tone, 34-38 ms into it, never again while it is held.
// emit may be nil, to only track the audio.
func (d *InbandDetector) Feed(samples []int16, emit func(key byte)) {
	for len(samples) > 0 {
		n := min(inbandStep-d.n, len(samples))
		d.filter(samples[:n])
		samples = samples[n:]
		if d.n == inbandStep {
			d.endStep(emit)
		}
	}
}

// filter runs samples, which do not go past the end of the step, through
// the eight Goertzel filters.
func (d *InbandDetector) filter(samples []int16) {
	e := d.energy
	for _, v := range samples {
		x := float64(v)
		e += x * x
	}
	d.energy = e
	inbandGoertzel4(samples, (*[4]float64)(inbandCoeff[:4]), (*[4]float64)(d.s1[:4]), (*[4]float64)(d.s2[:4]))
	inbandGoertzel4(samples, (*[4]float64)(inbandCoeff[4:]), (*[4]float64)(d.s1[4:]), (*[4]float64)(d.s2[4:]))
	d.n += len(samples)
}

// inbandGoertzel4 runs four Goertzel recurrences over samples. Written out
// with scalar locals, four at a time, the state stays in registers; it is
// most of the detector's cost.
func inbandGoertzel4(samples []int16, coeff, s1, s2 *[4]float64) {
	c0, c1, c2, c3 := coeff[0], coeff[1], coeff[2], coeff[3]
	a0, a1, a2, a3 := s1[0], s1[1], s1[2], s1[3] // s[n-1]
	b0, b1, b2, b3 := s2[0], s2[1], s2[2], s2[3] // s[n-2]
	for _, v := range samples {
		x := float64(v)
		a0, b0 = c0*a0+(x-b0), a0
		a1, b1 = c1*a1+(x-b1), a1
		a2, b2 = c2*a2+(x-b2), a2
		a3, b3 = c3*a3+(x-b3), a3
	}
	s1[0], s1[1], s1[2], s1[3] = a0, a1, a2, a3
	s2[0], s2[1], s2[2], s2[3] = b0, b1, b2, b3
}

// endStep closes the step just filled and, once there are three steps,
// judges the window they make.
func (d *InbandDetector) endStep(emit func(key byte)) {
	d.step[0], d.step[1] = d.step[1], d.step[2]
	d.energy3[0], d.energy3[1] = d.energy3[1], d.energy3[2]
	for k := range d.step[2] {
		f := &inbandFilters[k]
		d.step[2][k] = complex(d.s1[k], 0)*f.endS1 - complex(d.s2[k], 0)*f.endS2
	}
	d.energy3[2] = d.energy
	d.s1, d.s2, d.energy, d.n = [8]float64{}, [8]float64{}, 0, 0

	if d.steps < 3 {
		d.steps++
		if d.steps < 3 {
			return
		}
	}

	var x [8]complex128
	for k := range x {
		f := &inbandFilters[k]
		x[k] = d.step[0][k] + d.step[1][k]*f.shift1 + d.step[2][k]*f.shift2
	}
	key, row, col := inbandJudge(&x, d.energy3[0]+d.energy3[1]+d.energy3[2])
	prev := d.prev
	d.prev = x

	switch {
	case key == 0:
		d.cand, d.run = 0, 0
	case key != d.cand:
		d.cand, d.row, d.col, d.run = key, row, col, 1
		d.rowPower, d.colPower = inbandPower(x[row]), inbandPower(x[col])
		d.rowTurn, d.colTurn = 0, 0
	default:
		d.run++
		d.rowPower += inbandPower(x[row])
		d.colPower += inbandPower(x[col])
		d.rowTurn += x[row] * cmplx.Conj(prev[row]) * inbandFilters[row].shift1
		d.colTurn += x[col] * cmplx.Conj(prev[col]) * inbandFilters[col].shift1
	}
	d.track(key, emit)
}

// inbandJudge returns the key that a window hits, with the filters of its
// row and column, or key 0. x holds the window's value at each frequency
// and energy its sum of squares. It takes the leaks between the groups out
// of x.
func inbandJudge(x *[8]complex128, energy float64) (key byte, row, col int) {
	var p [8]float64
	for k := range x {
		p[k] = inbandPower(x[k])
	}
	// Each tone leaks into the other group's filters: 102 samples of 941 Hz
	// read -21 dB at 1209 Hz, so with 8 dB of twist the 1209 Hz filter
	// holds a leak only 13 dB below the 1336 Hz tone of key 0, about as
	// much as the 1336 Hz tone itself leaks there. The leak of a tone on
	// its frequency is known exactly, so take out that of the strongest
	// frequency of each group from the other group's filters.
	row, col = inbandStrongest(p[:4]), 4+inbandStrongest(p[4:])
	xr, xc := x[row], x[col]
	for k := range 4 {
		x[k] -= xc * inbandLeak[k][col]
		x[4+k] -= xr * inbandLeak[4+k][row]
	}
	for k := range x {
		p[k] = inbandPower(x[k])
	}
	row, col = inbandStrongest(p[:4]), 4+inbandStrongest(p[4:])

	pr, pc := p[row], p[col]
	if pr < inbandMinPower || pc < inbandMinPower {
		return 0, 0, 0
	}
	for k := range 4 {
		if k != row && p[k]*inbandRelativePeak > pr {
			return 0, 0, 0
		}
		if 4+k != col && p[4+k]*inbandRelativePeak > pc {
			return 0, 0, 0
		}
	}
	// A sine on a filter's frequency reads |X|² = its sum of squares × N/2
	// (amplitude A: |X|² = (A·N/2)², sum of squares A²·N/2).
	if pr+pc < inbandMinShare*energy*inbandWindow/2 {
		return 0, 0, 0
	}
	return inbandKeys[row][col-4], row, col
}

// inbandPower is |x|².
func inbandPower(x complex128) float64 {
	return real(x)*real(x) + imag(x)*imag(x)
}

// track counts hits and misses and reports a key when a run confirms it.
func (d *InbandDetector) track(hit byte, emit func(key byte)) {
	if d.key != 0 {
		if hit == d.key {
			d.misses = 0
		} else if d.misses++; d.misses >= inbandMissesToEnd {
			d.key = 0
		}
	}
	if d.key == 0 && d.run >= inbandHitsToBegin && d.confirmed() {
		d.key, d.misses = d.cand, 0
		if emit != nil {
			emit(d.key)
		}
	}
}

// confirmed checks the current run as a whole: each tone within
// inbandMaxDeviation of its frequency and the twist within limits.
// Measured over the run, the tones' leakage into each other's filters
// (which beats at their difference frequency) averages out.
func (d *InbandDetector) confirmed() bool {
	if !inbandOnFrequency(d.rowTurn, inbandFilters[d.row].maxTurn) ||
		!inbandOnFrequency(d.colTurn, inbandFilters[d.col].maxTurn) {
		return false
	}
	// A tone off its filter's frequency reads low (1.4 dB low at 1633 Hz
	// +1.5%), which would add to the twist; the phase advance says how far
	// off it is, so put the loss back.
	rowPower := d.rowPower / inbandWindowGain(d.rowTurn)
	colPower := d.colPower / inbandWindowGain(d.colTurn)
	return colPower <= rowPower*inbandReverseTwist &&
		rowPower <= colPower*inbandNormalTwist
}

// inbandWindowGain is the power a filter reads, as a fraction of the tone's
// full power, for a tone whose phase advances by angle(turn) radians per
// step more than the filter's: |Σ e^(jΔn)|²/N² over the window, with Δ the
// frequency error in radians per sample.
func inbandWindowGain(turn complex128) float64 {
	half := cmplx.Phase(turn) / inbandStep / 2 // Δ/2
	if half == 0 {
		return 1
	}
	g := math.Sin(inbandWindow*half) / (inbandWindow * math.Sin(half))
	return g * g
}

// inbandOnFrequency reports whether the phase advance turn, summed over a run,
// is within ±atan(maxTurn) radians per step. The phase advance of a tone
// from one window to the next is 2π·Δf·S/fs for a frequency error Δf.
func inbandOnFrequency(turn complex128, maxTurn float64) bool {
	re, im := real(turn), imag(turn)
	return re > 0 && math.Abs(im) <= maxTurn*re
}

// inbandStrongest is the index of the largest of p.
func inbandStrongest(p []float64) int {
	best := 0
	for k := 1; k < len(p); k++ {
		if p[k] > p[best] {
			best = k
		}
	}
	return best
}
