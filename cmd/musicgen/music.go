package main

import (
	"fmt"
	"math"
	"strings"
)

// The output format is the bridge's own (media/wav.go): 8 kHz mono 16-bit.
const sampleRate = 8000

// Tempo: 75 beats a minute is calm, and makes a beat a whole number of
// samples (6400) and a bar a whole number of 20 ms frames, so the loop needs
// no padding and the lobby can play it back to back without a gap.
const (
	bpm       = 75
	beatLen   = sampleRate * 60 / bpm // samples in a beat (0.8 s)
	barLen    = 4 * beatLen           // samples in a 4/4 bar (3.2 s)
	eighthLen = beatLen / 2           // samples in an eighth note (0.4 s)
)

// DefaultSeed is the seed of the committed media/prompts/music_on_hold.wav.
const DefaultSeed = 1

// Level of the result, in dBFS relative to a full-scale sine (as
// audiotest.DBFS measures): a little above the spoken prompts' average (-17
// to -19 on this scale, pauses included; -3 dBFS peak), which is about as
// loud as their speech itself, so the music is neither louder nor fainter
// than the announcements around it.
const (
	targetRMSDBFS = -16.0
	peakLimitDBFS = -4.0 // kept below the -3 dBFS asked for, with room to spare
)

// maxPartialHz is the highest overtone any instrument makes: the top of the
// telephone band. Every sound is a sum of sines (additive synthesis), so
// leaving out the partials above it keeps the output clear of the
// 3.8-4 kHz edge that aliasing or G.711 filters would mangle.
const maxPartialHz = 3400

// Keeping clear of DTMF. Callers waiting hear this music, and the bridge's
// in-band detector must never take it for a key: two sines, one of
// 697-941 Hz (a row) and one of 1209-1633 Hz (a column), carrying most of
// the sound, within 9 dB of each other and 2.5% of their frequencies.
//   - No fundamental reaches the column band: every note is at most C#6
//     (maxNote, 1109 Hz), so a column tone can only be an overtone, and
//     overtones are at most 0.4 of their fundamental. That fundamental,
//     sounding elsewhere, then holds too much of the energy for the pair
//     to pass as a key.
//   - The melody, the loudest and purest line, stays below 672 Hz (3.5%
//     under the lowest row tone): no long near-sine sits on a row.
//   - The pad is chorused (three detuned voices), the melody has vibrato.
//
// The tests check these limits and run the detector over the result.
const (
	maxNote       = 85 // C#6, 1109 Hz: 8% under 1209 Hz
	maxMelodyNote = 76 // E5, 659 Hz: 5% under 697 Hz
)

// section is eight bars of music: its chords, its key (for the melody's
// scale) and which instruments play.
type section struct {
	key    string // tonic of the major scale the melody uses
	chords string // one chord a bar, space separated; "Gsus4,G" splits a bar in two
	arp    int    // arpeggio pattern (index into arpPatterns), -1 for none
	arpLow int    // lowest note of the arpeggio, MIDI
	melody bool
	gain   float64 // overall level of the section, for a gentle rise and fall
}

// The piece: 7 sections of 8 bars, 56 bars of 3.2 s = 179.2 s. It starts
// and ends in C; the last chord is G, the dominant, so the loop's end leads
// into its start (Cmaj7) as a cadence rather than a cut. A middle part in D
// (reached through G, which is IV there) and a quieter breakdown keep three
// minutes from sounding like one short loop.
var piece = []section{
	// Intro: pad, bass and arpeggio, no melody.
	{key: "C", chords: "Cmaj7 Am7 Fmaj7 G Cmaj7 Am7 Fmaj7 Gsus4,G", arp: 0, arpLow: 64, gain: 0.9},
	{key: "C", chords: "C Am F G C Em F G", arp: 0, arpLow: 64, melody: true, gain: 1},
	{key: "C", chords: "Am F C G Am F Dm7 Gsus4,G", arp: 1, arpLow: 67, melody: true, gain: 1},
	{key: "D", chords: "D Bm G A D Bm Em7 Asus4,A", arp: 1, arpLow: 66, melody: true, gain: 1.05},
	// Breakdown: the arpeggio thins out to quarter notes.
	{key: "D", chords: "Bm G D A G A D D7", arp: 2, arpLow: 62, melody: true, gain: 0.85},
	{key: "C", chords: "G Em Am F Dm7 G C Cmaj7", arp: 0, arpLow: 64, melody: true, gain: 1},
	// Outro, melody resting, back to the intro's texture.
	{key: "C", chords: "Am F C G Am Fmaj7 Dm7 Gsus4,G", arp: 1, arpLow: 64, gain: 0.9},
}

// arpPatterns index the chord's notes from arpLow upwards, one an eighth;
// -1 is a rest.
var arpPatterns = [][]int{
	{0, 1, 2, 3, 4, 3, 2, 1}, // up and down
	{0, 2, 1, 3, 2, 4, 3, 1}, // broken
	{0, -1, 2, -1, 1, -1, 3, -1},
}

var pitchClasses = map[string]int{
	"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5,
	"F#": 6, "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11,
}

// chordKinds are semitones above the root.
var chordKinds = map[string][]int{
	"":     {0, 4, 7},
	"m":    {0, 3, 7},
	"7":    {0, 4, 7, 10},
	"maj7": {0, 4, 7, 11},
	"m7":   {0, 3, 7, 10},
	"sus4": {0, 5, 7},
}

var majorScale = []int{0, 2, 4, 5, 7, 9, 11}

type chord struct {
	root  int   // pitch class, 0 = C
	tones []int // pitch classes
}

func parseChord(s string) chord {
	n := 1
	if len(s) > 1 && (s[1] == '#' || s[1] == 'b') {
		n = 2
	}
	root, ok := pitchClasses[s[:n]]
	kind, ok2 := chordKinds[s[n:]]
	if !ok || !ok2 {
		panic(fmt.Sprintf("musicgen: bad chord %q", s))
	}
	c := chord{root: root}
	for _, iv := range kind {
		c.tones = append(c.tones, (root+iv)%12)
	}
	return c
}

func (c chord) has(midi int) bool {
	for _, pc := range c.tones {
		if midi%12 == pc {
			return true
		}
	}
	return false
}

// timedChord is a chord and where it sounds, in samples.
type timedChord struct {
	chord
	start, end int
}

// note is one event for an instrument to render.
type note struct {
	start int     // sample
	hold  int     // samples until the release starts
	midi  float64 // pitch, MIDI note number (69 = A4 = 440 Hz)
	vel   float64 // amplitude
}

// Generate renders the music for seed: a loop of 56 bars (179.2 s) of
// 8 kHz samples. The same seed gives the same samples; the seed picks the
// melody and the small variations of timing and loudness.
func Generate(seed uint64) []int16 {
	chords, secOf := layout()
	mix := make([]float64, len(piece)*8*barLen)

	// Each part draws from its own generator, so that changing one part
	// does not change the others.
	padRNG, bassRNG, arpRNG, melodyRNG := newRNG(seed, 1), newRNG(seed, 2), newRNG(seed, 3), newRNG(seed, 4)
	for _, n := range padNotes(chords, secOf) {
		renderPad(mix, n, padRNG)
	}
	for ci, c := range chords {
		renderBass(mix, c, piece[secOf[ci]].gain, bassRNG)
	}
	for ci, c := range chords {
		sec := piece[secOf[ci]]
		if sec.arp < 0 {
			continue
		}
		for _, n := range arpNotes(c, sec, arpRNG) {
			renderPluck(mix, n, false)
			// Two echoes a dotted quarter apart, darker and softer:
			// a little space around the notes without a reverb.
			for e, g := range []float64{0.28, 0.08} {
				echo := n
				echo.start += (e + 1) * 3 * eighthLen
				echo.vel *= g
				renderPluck(mix, echo, true)
			}
		}
	}
	for _, n := range melodyNotes(chords, secOf, melodyRNG) {
		renderLead(mix, n)
	}

	return finish(mix)
}

// layout lays the chords of the piece out in time, with the section of
// each.
func layout() (chords []timedChord, secOf []int) {
	at := 0
	for si, sec := range piece {
		bars := strings.Fields(sec.chords)
		if len(bars) != 8 {
			panic(fmt.Sprintf("musicgen: section %d has %d bars, want 8", si, len(bars)))
		}
		for _, bar := range bars {
			parts := strings.Split(bar, ",")
			for i, p := range parts {
				chords = append(chords, timedChord{
					chord: parseChord(p),
					start: at + barLen*i/len(parts),
					end:   at + barLen*(i+1)/len(parts),
				})
				secOf = append(secOf, si)
			}
			at += barLen
		}
	}
	return chords, secOf
}

// finish scales mix to the target level, rotates it to start at a zero
// crossing and rounds it to 16 bits.
func finish(mix []float64) []int16 {
	var sum float64
	for _, v := range mix {
		sum += v * v
	}
	rms := math.Sqrt(sum / float64(len(mix)))
	scale := 32767 / math.Sqrt2 * math.Pow(10, targetRMSDBFS/20) / rms

	// The music is rendered around a circle (see addAt), so it is already
	// seamless: any sample may be the first. Start at the upward zero
	// crossing nearest the first downbeat, so that a caller who hears it
	// from the beginning hears no click either.
	n := len(mix)
	wrap := func(i int) int { return (i%n + n) % n }
	crossing := func(i int) bool { return mix[wrap(i-1)] <= 0 && mix[wrap(i)] > 0 }
	shift := 0
	for d := range sampleRate / 100 { // within 10 ms
		if crossing(d) {
			shift = d
			break
		}
		if crossing(-d) {
			shift = -d
			break
		}
	}

	limit := 32767 * math.Pow(10, peakLimitDBFS/20)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(softLimit(scale*mix[wrap(i+shift)], limit)))
	}
	return out
}

// softLimit passes v unchanged up to 3/4 of limit and bends the rest
// smoothly towards limit, so a rare pile-up of notes is rounded off
// instead of clipped.
func softLimit(v, limit float64) float64 {
	knee := 0.75 * limit
	a := math.Abs(v)
	if a <= knee {
		return v
	}
	room := limit - knee
	a = knee + room*math.Tanh((a-knee)/room)
	return math.Copysign(a, v)
}

func hz(midi float64) float64 {
	return 440 * math.Pow(2, (midi-69)/12)
}

// padNotes voices each chord around E4 (330 Hz): each chord tone in the
// octave that puts it nearest the centre. The pad then lies between A#3 and
// A4 (233-440 Hz), under the melody and arpeggio, and consecutive chords
// move by small steps. A pitch held from one chord to the next is one long
// note, not two, so common tones do not dip.
func padNotes(chords []timedChord, secOf []int) []note {
	const centre = 64
	var out []note
	type held struct {
		midi       int
		start, end int
		gain       float64
	}
	var open []held
	for ci, c := range chords {
		gain := piece[secOf[ci]].gain
		var voicing []int
		for _, pc := range c.tones {
			m := centre - 6 + ((pc-(centre-6))%12+12)%12
			voicing = append(voicing, m)
		}
		var next []held
		for _, m := range voicing {
			h := held{midi: m, start: c.start, end: c.end, gain: gain}
			for _, o := range open {
				if o.midi == m && o.end == c.start {
					h.start, h.gain = o.start, o.gain
				}
			}
			next = append(next, h)
		}
		for _, o := range open {
			tied := false
			for _, h := range next {
				if h.midi == o.midi && h.start == o.start {
					tied = true
				}
			}
			if !tied {
				out = append(out, note{start: o.start, hold: o.end - o.start, midi: float64(o.midi), vel: o.gain})
			}
		}
		open = next
	}
	for _, o := range open {
		out = append(out, note{start: o.start, hold: o.end - o.start, midi: float64(o.midi), vel: o.gain})
	}
	return out
}

// arpNotes is the arpeggio over one chord: an eighth-note pattern over the
// chord's notes from sec.arpLow up, accenting the beat, with a little
// randomness in timing (±5 ms) and loudness so it does not sound machined.
// A note above maxNote is played an octave down.
func arpNotes(c timedChord, sec section, rng *rng) []note {
	var tones []int
	for m := sec.arpLow; len(tones) < 5; m++ {
		if c.has(m) {
			tones = append(tones, m)
		}
	}
	for i, m := range tones {
		if m > maxNote {
			tones[i] = m - 12
		}
	}
	pat := arpPatterns[sec.arp]
	var out []note
	for i := 0; c.start+i*eighthLen < c.end; i++ {
		idx := pat[((c.start/eighthLen)+i)%len(pat)]
		if idx < 0 {
			continue
		}
		vel := sec.gain * (0.8 + 0.2*rng.float())
		if (c.start/eighthLen+i)%2 == 0 {
			vel *= 1.15 // on the beat
		}
		out = append(out, note{
			start: c.start + i*eighthLen + rng.jitter(),
			midi:  float64(tones[idx]),
			vel:   vel,
		})
	}
	return out
}

// Melody rhythms, one bar each, in eighths; a negative length is a rest.
var (
	phraseStarts = [][]int{
		{4, 4},
		{2, 2, 4},
		{3, 1, 4},
		{2, 2, 2, 2},
		{4, 2, 2},
		{-2, 2, 2, 2},
		{-4, 2, 2},
		{6, 2},
	}
	// The second bar of a phrase ends on a long note or a rest: a breath.
	phraseEnds = [][]int{
		{8},
		{4, 4},
		{2, 6},
		{6, -2},
		{4, -4},
		{2, 2, 4},
	}
)

// melodyNotes writes a melody over the sections that have one: two-bar
// phrases, the second half of each section repeating the rhythm of the
// first. Notes on a beat of weight (1 and 3, or any long note) are chord
// tones, near the note before; the others step along the scale, mostly
// keeping their direction. The range is D4 to E5 (294-659 Hz): inside the
// telephone band and below the DTMF tones (see maxMelodyNote).
func melodyNotes(chords []timedChord, secOf []int, rng *rng) []note {
	const lo, hi = 62, maxMelodyNote
	// chordsIn lists the chords sounding from t0 to t1.
	chordsIn := func(t0, t1 int) []chord {
		var cs []chord
		for _, c := range chords {
			if c.start < t1 && c.end > t0 {
				cs = append(cs, c.chord)
			}
		}
		return cs
	}
	var out []note
	prev := 72
	dir := 1
	for si, sec := range piece {
		if !sec.melody {
			continue
		}
		start := -1
		for ci := range chords {
			if secOf[ci] == si {
				start = chords[ci].start
				break
			}
		}
		var scale []int
		tonic := pitchClasses[sec.key]
		for m := lo - 2; m <= hi+2; m++ {
			for _, d := range majorScale {
				if (m-tonic+120)%12 == d {
					scale = append(scale, m)
				}
			}
		}
		var rhythm [8][]int
		for b := range 4 {
			if b%2 == 0 {
				rhythm[b] = phraseStarts[rng.intn(len(phraseStarts))]
			} else {
				rhythm[b] = phraseEnds[rng.intn(len(phraseEnds))]
			}
			rhythm[b+4] = rhythm[b]
		}
		rhythm[7] = []int{2, 6} // the section's last phrase always lands
		for b := range 8 {
			pos := 0 // eighths into the bar
			for i, l := range rhythm[b] {
				if l < 0 {
					pos -= l
					continue
				}
				t := start + b*barLen + pos*eighthLen
				last := i == len(rhythm[b])-1 && b%2 == 1
				var m int
				if pos%4 == 0 || l >= 4 || last {
					m = nearChordTone(chordsIn(t, t+l*eighthLen), prev, lo, hi, last && b == 7, rng)
				} else {
					m = stepAlong(scale, prev, &dir, lo, hi, rng)
				}
				out = append(out, note{
					start: t + rng.jitter(),
					hold:  l*eighthLen - eighthLen/4, // a little air between notes
					midi:  float64(m),
					vel:   sec.gain * (0.85 + 0.15*rng.float()),
				})
				prev = m
				pos += l
			}
		}
	}
	return out
}

// nearChordTone picks a note of every chord in cs (the chords the note
// will sound over) within a fifth of prev, favouring small moves; home asks
// for the root or third of the last chord, to end a section.
func nearChordTone(cs []chord, prev, lo, hi int, home bool, rng *rng) int {
	var cand []int
	var weight []float64
	landing := cs[len(cs)-1]
	for m := max(lo, prev-7); m <= min(hi, prev+7); m++ {
		fits := true
		for _, c := range cs {
			fits = fits && c.has(m)
		}
		if !fits || home && m%12 != landing.root && m%12 != landing.tones[1] {
			continue
		}
		// Small moves are likelier than leaps, and a repeat is as likely
		// as a leap of a fourth, so the line keeps moving.
		w := 0.3
		if d := math.Abs(float64(m - prev)); d > 0 {
			w = 1 / (1 + 0.5*d)
		}
		cand = append(cand, m)
		weight = append(weight, w)
	}
	switch {
	case len(cand) > 0:
		return cand[rng.pick(weight)]
	case home:
		return nearChordTone(cs, prev, lo, hi, false, rng)
	case len(cs) > 1:
		return nearChordTone(cs[:1], prev, lo, hi, false, rng)
	}
	// Nothing near: the chord's root in the middle of the range.
	return lo + ((cs[0].root-lo)%12+12)%12
}

// stepAlong moves one or two scale steps from prev, keeping the direction
// *dir two times in three and turning at the edges of the range.
func stepAlong(scale []int, prev int, dir *int, lo, hi int, rng *rng) int {
	i := 0
	for i < len(scale)-1 && scale[i] < prev {
		i++
	}
	if rng.float() < 1.0/3 {
		*dir = -*dir
	}
	step := 1
	if rng.float() < 0.25 {
		step = 2
	}
	j := i + *dir*step
	if j < 0 || j >= len(scale) || scale[j] < lo || scale[j] > hi {
		*dir = -*dir
		j = i + *dir*step
	}
	j = max(0, min(len(scale)-1, j))
	return scale[j]
}

// rng is SplitMix64: tiny, and written out here so that the music cannot
// change with the standard library's generators.
type rng struct{ state uint64 }

// newRNG returns the generator for one part of the music for seed.
func newRNG(seed, part uint64) *rng { return &rng{state: seed<<8 | part} }

func (r *rng) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// float is uniform in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn is uniform in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// jitter is a timing error of up to ±5 ms, in samples.
func (r *rng) jitter() int { return r.intn(81) - 40 }

// pick returns an index with probability proportional to its weight.
func (r *rng) pick(weight []float64) int {
	var sum float64
	for _, w := range weight {
		sum += w
	}
	x := r.float() * sum
	for i, w := range weight {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weight) - 1
}
