package main

import "math"

// The instruments. Each is a sum of harmonics (additive synthesis) under
// an envelope, rendered into the mix at a note's start.

// addAt adds v to out at sample i, wrapping around the end: a note still
// ringing when the loop ends sounds at its start, so the loop has no seam.
func addAt(out []float64, i int, v float64) {
	n := len(out)
	out[(i%n+n)%n] += v
}

// osc is a sine oscillator: a unit phasor (cos θ, sin θ) turned by a fixed
// angle each sample. That is a few multiplications a sample instead of a
// math.Sin per harmonic, and the rounding it accumulates over a note stays
// far below what 16 bits can show.
type osc struct{ c, s, wc, ws float64 }

func newOsc(f, phase float64) osc {
	w := 2 * math.Pi * f / sampleRate
	return osc{c: math.Cos(phase), s: math.Sin(phase), wc: math.Cos(w), ws: math.Sin(w)}
}

// next moves the oscillator on one sample.
func (o *osc) next() {
	o.c, o.s = o.c*o.wc-o.s*o.ws, o.c*o.ws+o.s*o.wc
}

// harmonics is Σ amps[k]·g^k·sin((k+1)θ), θ the oscillator's phase: its
// harmonics, the fundamental first, each g times the one below (g < 1
// makes upper harmonics fade faster). They come from sin θ and cos θ by
// sin((k+1)θ) = 2·cos θ·sin kθ − sin((k-1)θ).
func (o *osc) harmonics(amps []float64, g float64) float64 {
	var v float64
	prev, cur, gk := 0.0, o.s, 1.0
	for _, a := range amps {
		v += a * gk * cur
		prev, cur = cur, 2*o.c*cur-prev
		gk *= g
	}
	return v
}

// audible is amps, the amplitudes of the harmonics of f, without those
// above maxPartialHz.
func audible(f float64, amps ...float64) []float64 {
	n := 0
	for n < len(amps) && f*float64(n+1) <= maxPartialHz {
		n++
	}
	return amps[:n]
}

// riseFall is an envelope: a raised-cosine rise over attack samples, 1
// until hold, then a raised-cosine fall over release samples. Raised
// cosines start and end with zero slope: no clicks.
func riseFall(i, hold int, attack, release float64) float64 {
	env := 1.0
	if t := float64(i); t < attack {
		env = 0.5 - 0.5*math.Cos(math.Pi*t/attack)
	}
	if i >= hold {
		t := float64(i - hold)
		if t >= release {
			return 0
		}
		env *= 0.5 + 0.5*math.Cos(math.Pi*t/release)
	}
	return env
}

// renderPad: three slightly detuned voices a note (±7 cents, a slow chorus
// that beats about once a second), soft overtones, a 0.7 s attack and
// 1.2 s release, so chords melt into each other. The beating also keeps
// the pad from ever being a steady pure tone.
func renderPad(out []float64, n note, rng *rng) {
	const (
		attack  = 0.7 * sampleRate
		release = 1.2 * sampleRate
		level   = 0.16
	)
	f := hz(n.midi)
	amps := audible(f, 1, 0.28, 0.09)
	env := make([]float64, n.hold+int(release))
	for i := range env {
		env[i] = level * n.vel / 3 * riseFall(i, n.hold, attack, release)
	}
	for _, cents := range []float64{-7, 0, 7} {
		o := newOsc(f*math.Pow(2, cents/1200), rng.float()*2*math.Pi)
		for i, e := range env {
			addAt(out, n.start+i, e*o.harmonics(amps, 1))
			o.next()
		}
	}
}

// renderBass plays the chord's root from C3 to B3 (131-247 Hz): an octave
// above a usual bass line, with strong second and third harmonics, because
// phones cut below about 300 Hz and the ear fills in the fundamental from
// its overtones. On a whole bar the fifth answers the root on beat 3.
func renderBass(out []float64, c timedChord, gain float64, rng *rng) {
	const (
		level   = 0.13
		attack  = 0.02 * sampleRate
		release = 0.3 * sampleRate
		tau     = 1.2 * sampleRate // decay towards a sustain, like a plucked string
	)
	root := 48 + c.root
	dur := c.end - c.start
	notes := []note{{start: c.start, hold: dur, midi: float64(root), vel: gain}}
	if dur == barLen {
		fifth := root + 7
		if fifth > 59 {
			fifth -= 12
		}
		notes = []note{
			{start: c.start, hold: dur / 2, midi: float64(root), vel: gain},
			{start: c.start + dur/2, hold: dur / 2, midi: float64(fifth), vel: 0.75 * gain},
		}
	}
	step := math.Exp(-1 / tau)
	for _, n := range notes {
		n.start += rng.jitter()
		o := newOsc(hz(n.midi), 0)
		amps := audible(hz(n.midi), 0.7, 1, 0.45, 0.2, 0.08)
		d := 1.0
		for i := range n.hold + int(release) {
			env := level * n.vel * riseFall(i, n.hold, attack, release) * (0.55 + 0.45*d)
			addAt(out, n.start+i, env*o.harmonics(amps, 1))
			o.next()
			d *= step
		}
	}
}

// renderPluck is a soft plucked string (harp or felt piano): a 4 ms
// attack, then harmonics that die away faster the higher they are (the
// k-th as exp(-k·t/tau)). dark keeps less of the upper harmonics, for
// echoes.
func renderPluck(out []float64, n note, dark bool) {
	const (
		level  = 0.17
		attack = 0.004 * sampleRate
		length = int(2.5 * sampleRate)
		fade   = sampleRate / 5 // the last 0.2 s fade to zero, so the note ends silent
		tau    = 0.7 * sampleRate
	)
	f := hz(n.midi)
	amps := audible(f, 1, 0.4, 0.18, 0.08)
	if dark {
		amps = audible(f, 1, 0.16, 0.03)
	}
	o := newOsc(f, 0)
	step := math.Exp(-1 / tau)
	d := 1.0 // the fundamental's decay
	for i := range length {
		e := level * n.vel * d
		if t := float64(i); t < attack {
			e *= 0.5 - 0.5*math.Cos(math.Pi*t/attack)
		}
		if rest := length - i; rest < fade {
			e *= float64(rest) / fade
		}
		addAt(out, n.start+i, e*o.harmonics(amps, d))
		o.next()
		d *= step
	}
}

// renderLead is the melody's voice, a soft flute-like tone: nearly a sine
// with a little second and third harmonic, a 40 ms attack, a slight decay
// and a gentle vibrato (5 Hz, ±0.25%) that comes in after the attack. The
// vibrato keeps even a long note from being a steady tone.
func renderLead(out []float64, n note) {
	const (
		level   = 0.26
		attack  = 0.04 * sampleRate
		release = 0.25 * sampleRate
		tau     = 1.5 * sampleRate
		vibRate = 0.0025
		vibIn   = 0.3 * sampleRate // the vibrato fades in over this
	)
	f := hz(n.midi)
	amps := audible(f, 1, 0.3, 0.12)
	vib := newOsc(5, 0)
	step := math.Exp(-1 / tau)
	d := 1.0
	phase := 0.0 // of the fundamental, in cycles
	for i := range n.hold + int(release) {
		depth := vibRate * min(1, float64(i)/vibIn)
		phase += f * (1 + depth*vib.s) / sampleRate
		vib.next()
		// The frequency moves, so this oscillator is set afresh each sample.
		s, c := math.Sincos(2 * math.Pi * phase)
		o := osc{c: c, s: s}
		env := riseFall(i, n.hold, attack, release) * (0.7 + 0.3*d)
		addAt(out, n.start+i, level*n.vel*env*o.harmonics(amps, 1))
		d *= step
	}
}
