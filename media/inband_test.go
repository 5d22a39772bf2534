package media

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dialin/dialin/internal/audiotest"
)

// The keypad as Q.23 draws it, written out again here so that the tests do
// not take the detector's own tables on trust.
var (
	ibRows   = [4]float64{697, 770, 852, 941}
	ibCols   = [4]float64{1209, 1336, 1477, 1633}
	ibKeypad = [4]string{"123A", "456B", "789C", "*0#D"}
)

const ibAllKeys = "123A456B789C*0#D"

// ibMS is samples per millisecond.
const ibMS = SampleRate / 1000

// ibPress is one synthesised key press: both tones, then a pause.
type ibPress struct {
	key    byte
	level  float64 // row tone, dBFS (0 dBFS: a sine peaking at 32767)
	twist  float64 // dB the column tone is below the row tone; negative is reverse twist
	rowDev float64 // frequency error of the row tone, as a fraction: 0.015 is +1.5%
	colDev float64
	dur    int // tone, in samples
	gap    int // silence after it, in samples
}

// ibNominal is a clean press at -10 dBFS per tone, 60 ms on, 60 ms off.
func ibNominal(key byte) ibPress {
	return ibPress{key: key, level: -10, dur: 60 * ibMS, gap: 60 * ibMS}
}

// ibKeyFreqs returns the row and column frequency of key.
func ibKeyFreqs(t testing.TB, key byte) (row, col float64) {
	t.Helper()
	for r, keys := range ibKeypad {
		if c := strings.IndexByte(keys, key); c >= 0 {
			return ibRows[r], ibCols[c]
		}
	}
	t.Fatalf("no key %q", key)
	return 0, 0
}

// ibNoNoise turns the noise of ibSynth off.
var ibNoNoise = math.Inf(-1)

// ibSynth renders presses after lead samples of silence, with white
// Gaussian noise at noiseDBFS (RMS) over all of it. Each tone starts at a
// random phase drawn from seed.
func ibSynth(t testing.TB, lead int, noiseDBFS float64, seed uint64, presses ...ibPress) []int16 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	n := lead
	for _, p := range presses {
		n += p.dur + p.gap
	}
	out := make([]float64, n)
	at := lead
	for _, p := range presses {
		row, col := ibKeyFreqs(t, p.key)
		ibAddSine(out[at:at+p.dur], row*(1+p.rowDev), p.level, rng.Float64()*2*math.Pi)
		ibAddSine(out[at:at+p.dur], col*(1+p.colDev), p.level-p.twist, rng.Float64()*2*math.Pi)
		at += p.dur + p.gap
	}
	ibAddNoise(out, noiseDBFS, rng)
	return ibPCM(out)
}

// ibAddSine adds a sine at freq Hz and level dBFS to out.
func ibAddSine(out []float64, freq, level, phase float64) {
	amp := 32767 * math.Pow(10, level/20)
	for i := range out {
		out[i] += amp * math.Sin(2*math.Pi*freq*float64(i)/SampleRate+phase)
	}
}

// ibAddNoise adds white Gaussian noise at level dBFS (RMS) to out.
func ibAddNoise(out []float64, level float64, rng *rand.Rand) {
	if math.IsInf(level, -1) {
		return
	}
	sigma := audiotest.FullScaleSineRMS * math.Pow(10, level/20)
	for i := range out {
		out[i] += sigma * rng.NormFloat64()
	}
}

// ibPCM rounds to 16 bits, clipping.
func ibPCM(x []float64) []int16 {
	pcm := make([]int16, len(x))
	for i, v := range x {
		pcm[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return pcm
}

// ibDetect feeds pcm to a new detector in 20 ms frames, then 100 ms of
// silence, and returns the keys reported.
func ibDetect(pcm []int16) string {
	return ibDetectChunks(pcm, FrameSamples)
}

// ibDetectChunks is ibDetect with pieces of chunk samples.
func ibDetectChunks(pcm []int16, chunk int) string {
	var d InbandDetector
	var keys []byte
	emit := func(k byte) { keys = append(keys, k) }
	for len(pcm) > 0 {
		n := min(chunk, len(pcm))
		d.Feed(pcm[:n], emit)
		pcm = pcm[n:]
	}
	d.Feed(make([]int16, 100*ibMS), emit)
	return string(keys)
}

// ibLeads are the silences put before a press so that it starts at every
// place within the detector's 34-sample step.
func ibLeads() []int {
	var leads []int
	for lead := range inbandStep {
		leads = append(leads, lead)
	}
	return leads
}

// ibCount synthesises one press of every key at each lead in leads, after
// mod has adjusted the nominal press, and returns how many were detected
// as exactly that key, out of how many.
func ibCount(t *testing.T, leads []int, noiseDBFS float64, mod func(p *ibPress)) (ok, n int) {
	t.Helper()
	for _, key := range []byte(ibAllKeys) {
		for _, lead := range leads {
			p := ibNominal(key)
			mod(&p)
			seed := uint64(lead)<<8 | uint64(key)
			if ibDetect(ibSynth(t, lead, noiseDBFS, seed, p)) == string(key) {
				ok++
			}
			n++
		}
	}
	return ok, n
}

func TestInbandEveryKey(t *testing.T) {
	var presses []ibPress
	for _, key := range []byte(ibAllKeys) {
		presses = append(presses, ibNominal(key))
	}
	pcm := ibSynth(t, 0, ibNoNoise, 1, presses...)
	// The keys must not depend on how the audio is cut up.
	for _, chunk := range []int{1, 7, inbandStep, 100, FrameSamples, 1000, len(pcm)} {
		if got := ibDetectChunks(pcm, chunk); got != ibAllKeys {
			t.Errorf("fed %d samples at a time: got %q, want %q", chunk, got, ibAllKeys)
		}
	}
}

// ibOffPress is a nominal press of the j-th key that uses frequency i (rows
// 0-3, then columns 4-7), with that frequency off by dev.
func ibOffPress(i, j int, dev float64) (byte, ibPress) {
	if i < 4 {
		p := ibNominal(ibKeypad[i][j])
		p.rowDev = dev
		return p.key, p
	}
	p := ibNominal(ibKeypad[j][i-4])
	p.colDev = dev
	return p.key, p
}

// TestInbandFrequencyTolerance checks Q.24's limits on both sides of every
// row and column frequency, with the other tone of the key on frequency:
// ±1.5% is accepted, ±3.5% rejected, for every key using that frequency and
// every alignment.
func TestInbandFrequencyTolerance(t *testing.T) {
	freqs := append(ibRows[:], ibCols[:]...)
	for i, f := range freqs {
		for _, dev := range []float64{-0.035, -0.015, 0.015, 0.035} {
			accept := math.Abs(dev) < 0.02
			ok, n := 0, 0
			for j := range 4 {
				key, p := ibOffPress(i, j, dev)
				for _, lead := range ibLeads() {
					if ibDetect(ibSynth(t, lead, ibNoNoise, uint64(lead*16+j), p)) == string(key) {
						ok++
					}
					n++
				}
			}
			t.Logf("%4.0f Hz %+.1f%% (%6.1f Hz): detected %3d/%d", f, dev*100, f*(1+dev), ok, n)
			if accept && ok != n {
				t.Errorf("%v Hz %+.1f%%: detected %d of %d presses, want all", f, dev*100, ok, n)
			}
			if !accept && ok != 0 {
				t.Errorf("%v Hz %+.1f%%: detected %d of %d presses, want none", f, dev*100, ok, n)
			}
		}
	}
	// Both tones off together, as from a sender whose clock is off.
	for _, dev := range []float64{-0.035, -0.015, 0.015, 0.035} {
		accept := math.Abs(dev) < 0.02
		ok, n := ibCount(t, ibLeads(), ibNoNoise, func(p *ibPress) { p.rowDev, p.colDev = dev, dev })
		t.Logf("both tones %+.1f%%: detected %d/%d", dev*100, ok, n)
		if accept && ok != n || !accept && ok != 0 {
			t.Errorf("both tones %+.1f%%: detected %d of %d presses", dev*100, ok, n)
		}
	}
}

// TestInbandFrequencyEdges finds, for the record, where acceptance ends for
// each frequency: the detector aims at ±2.5%, half-way between the limits.
func TestInbandFrequencyEdges(t *testing.T) {
	freqs := append(ibRows[:], ibCols[:]...)
	for i, f := range freqs {
		// edge[s] is the largest deviation, in 0.25% steps from 1.5%, at
		// which every press of the sweep was still detected.
		var edge [2]float64
		for s, sign := range []float64{-1, 1} {
			for dev := 0.015; dev <= 0.035; dev += 0.0025 {
				ok, n := 0, 0
				for j := range 4 {
					key, p := ibOffPress(i, j, sign*dev)
					for _, lead := range []int{0, 11, 23} {
						if ibDetect(ibSynth(t, lead, ibNoNoise, uint64(lead), p)) == string(key) {
							ok++
						}
						n++
					}
				}
				if ok < n {
					break
				}
				edge[s] = sign * dev
			}
		}
		t.Logf("%4.0f Hz: every press detected from %+.2f%% to %+.2f%%", f, edge[0]*100, edge[1]*100)
		if edge[0] > -0.015 || edge[1] < 0.015 {
			t.Errorf("%v Hz: accepted only from %+.2f%% to %+.2f%%", f, edge[0]*100, edge[1]*100)
		}
	}
}

func TestInbandTwist(t *testing.T) {
	tests := []struct {
		twist          float64 // dB; negative is reverse twist
		rowDev, colDev float64
		accept         bool
	}{
		{0, 0, 0, true},
		{4, 0, 0, true},
		{8, 0, 0, true},
		{-4, 0, 0, true},
		{10, 0, 0, false},
		{12, 0, 0, false},
		{20, 0, 0, false},
		{-6, 0, 0, false},
		{-8, 0, 0, false},
		{-20, 0, 0, false},
		// The worst corners Q.24 still accepts: most twist and both
		// tones 1.5% off.
		{8, 0.015, 0.015, true},
		{8, 0.015, -0.015, true},
		{8, -0.015, 0.015, true},
		{8, -0.015, -0.015, true},
		{-4, 0.015, 0.015, true},
		{-4, 0.015, -0.015, true},
		{-4, -0.015, 0.015, true},
		{-4, -0.015, -0.015, true},
	}
	for _, tt := range tests {
		ok, n := ibCount(t, ibLeads(), ibNoNoise, func(p *ibPress) {
			p.twist, p.rowDev, p.colDev = tt.twist, tt.rowDev, tt.colDev
			if tt.twist < 0 {
				p.level += tt.twist // keep the louder tone at -10 dBFS
			}
		})
		name := fmt.Sprintf("twist %+g dB, row %+.1f%%, column %+.1f%%", tt.twist, tt.rowDev*100, tt.colDev*100)
		t.Logf("%s: detected %d/%d", name, ok, n)
		if tt.accept && ok != n {
			t.Errorf("%s: detected %d of %d presses, want all", name, ok, n)
		}
		if !tt.accept && ok != 0 {
			t.Errorf("%s: detected %d of %d presses, want none", name, ok, n)
		}
	}
}

func TestInbandLevel(t *testing.T) {
	tests := []struct {
		level  float64 // dBFS per tone
		accept bool
	}{
		{-6.5, true}, // the two tones peak at 95% of full scale
		{-10, true},
		{-20, true},
		{-30, true},
		{-36, true},
		{-40, true},
		{-50, false},
		{-55, false},
		{-70, false},
	}
	for _, tt := range tests {
		ok, n := ibCount(t, ibLeads(), ibNoNoise, func(p *ibPress) { p.level = tt.level })
		t.Logf("%g dBFS per tone: detected %d/%d", tt.level, ok, n)
		if tt.accept && ok != n {
			t.Errorf("%g dBFS per tone: detected %d of %d presses, want all", tt.level, ok, n)
		}
		if !tt.accept && ok != 0 {
			t.Errorf("%g dBFS per tone: detected %d of %d presses, want none", tt.level, ok, n)
		}
	}
	// Quiet tones with twist: the weaker tone is 8 dB further down.
	ok, n := ibCount(t, ibLeads(), ibNoNoise, func(p *ibPress) { p.level, p.twist = -36, 8 })
	if ok != n {
		t.Errorf("-36 dBFS row, -44 dBFS column: detected %d of %d presses, want all", ok, n)
	}
}

func TestInbandDuration(t *testing.T) {
	for _, tt := range []struct {
		ms     int
		accept bool
	}{
		{5, false}, {10, false}, {15, false}, {20, false}, {22, false}, {23, false},
		{40, true}, {45, true}, {60, true}, {100, true}, {500, true},
	} {
		ok, n := ibCount(t, ibLeads(), ibNoNoise, func(p *ibPress) { p.dur = tt.ms * ibMS })
		t.Logf("%4d ms tone: detected %d/%d", tt.ms, ok, n)
		if tt.accept && ok != n {
			t.Errorf("%d ms tone: detected %d of %d, want all (once each)", tt.ms, ok, n)
		}
		if !tt.accept && ok != 0 {
			t.Errorf("%d ms tone: detected %d of %d, want none", tt.ms, ok, n)
		}
	}
}

// TestInbandPauses checks that a pause of 40 ms between two presses of one
// key makes two keys, and that a dropout of up to 10 ms inside a press does
// not split it.
func TestInbandPauses(t *testing.T) {
	for _, tt := range []struct {
		gapMS int
		want  int // keys
	}{
		{2, 1}, {5, 1}, {8, 1}, {10, 1},
		{40, 2}, {50, 2}, {100, 2},
	} {
		ok, n := 0, 0
		for _, key := range []byte(ibAllKeys) {
			for _, lead := range ibLeads() {
				first, second := ibNominal(key), ibNominal(key)
				first.gap = tt.gapMS * ibMS
				if tt.want == 1 {
					// A dropout: the press goes on at the same level, with a
					// new phase, as after a lost packet.
					first.dur = 50 * ibMS
				} else {
					first.dur, second.dur = 40*ibMS, 40*ibMS
				}
				pcm := ibSynth(t, lead, ibNoNoise, uint64(lead)<<8|uint64(key), first, second)
				if ibDetect(pcm) == strings.Repeat(string(key), tt.want) {
					ok++
				}
				n++
			}
		}
		t.Logf("%3d ms between: %d/%d gave %d key(s)", tt.gapMS, ok, n, tt.want)
		if ok != n {
			t.Errorf("%d ms between two tones of a key: %d of %d gave %d key(s)", tt.gapMS, ok, n, tt.want)
		}
	}
}

// TestInbandFastDialling runs Q.24's fastest dialling, 40 ms of tone and
// 40 ms of pause, over every key and a repeated key.
func TestInbandFastDialling(t *testing.T) {
	const keys = ibAllKeys + "1155##00"
	var presses []ibPress
	for _, key := range []byte(keys) {
		presses = append(presses, ibPress{key: key, level: -20, dur: 40 * ibMS, gap: 40 * ibMS})
	}
	for _, lead := range ibLeads() {
		pcm := ibSynth(t, lead, -50, uint64(lead), presses...)
		if got := ibDetect(pcm); got != keys {
			t.Fatalf("lead %d: got %q, want %q", lead, got, keys)
		}
	}
}

// TestInbandKeyChange has one key follow another with no pause between.
func TestInbandKeyChange(t *testing.T) {
	for _, lead := range ibLeads() {
		for i := 0; i+1 < len(ibAllKeys); i++ {
			first, second := ibNominal(ibAllKeys[i]), ibNominal(ibAllKeys[i+1])
			first.gap = 0
			want := ibAllKeys[i : i+2]
			if got := ibDetect(ibSynth(t, lead, ibNoNoise, uint64(lead), first, second)); got != want {
				t.Errorf("lead %d: got %q, want %q", lead, got, want)
			}
		}
	}
}

// TestInbandNoise adds white noise 15 and 20 dB below each tone.
func TestInbandNoise(t *testing.T) {
	for _, noise := range []float64{-30, -25} {
		ok, n := ibCount(t, ibLeads(), noise, func(p *ibPress) {})
		t.Logf("tones at -10 dBFS, noise at %g dBFS: detected %d/%d", noise, ok, n)
		if ok != n {
			t.Errorf("noise at %g dBFS: detected %d of %d, want all", noise, ok, n)
		}
		// The corners too.
		ok, n = ibCount(t, ibLeads(), noise, func(p *ibPress) { p.twist, p.rowDev, p.colDev = 8, -0.015, 0.015 })
		t.Logf("8 dB twist, -1.5%%/+1.5%%, noise at %g dBFS: detected %d/%d", noise, ok, n)
		if ok != n {
			t.Errorf("8 dB twist, -1.5%%/+1.5%%, noise at %g dBFS: detected %d of %d, want all", noise, ok, n)
		}
	}
}

// TestInbandG711 passes the tones through each law, as they arrive on a
// call.
func TestInbandG711(t *testing.T) {
	var presses []ibPress
	for _, key := range []byte(ibAllKeys) {
		presses = append(presses, ibPress{key: key, dur: 50 * ibMS, gap: 50 * ibMS})
	}
	for _, codec := range []Codec{PCMU, PCMA} {
		for _, level := range []float64{-7, -20, -36} {
			for i := range presses {
				presses[i].level = level
			}
			pcm := ibSynth(t, 17, ibNoNoise, 2, presses...)
			law := make([]byte, len(pcm))
			codec.Encode(law, pcm)
			codec.Decode(pcm, law)
			if got := ibDetect(pcm); got != ibAllKeys {
				t.Errorf("%v at %g dBFS: got %q, want %q", codec, level, got, ibAllKeys)
			}
		}
	}
}

// ibTalkOff runs pcm through a detector and fails on any key. It returns
// the longest run of windows that hit one key (a key needs
// inbandHitsToBegin), as a measure of the margin.
func ibTalkOff(t *testing.T, name string, pcm []int16) (longest int) {
	t.Helper()
	var d InbandDetector
	var keys []byte
	for len(pcm) > 0 {
		n := min(FrameSamples, len(pcm))
		d.Feed(pcm[:n], func(k byte) { keys = append(keys, k) })
		pcm = pcm[n:]
		longest = max(longest, d.run)
	}
	if len(keys) > 0 {
		t.Errorf("%s: false keys %q", name, keys)
	}
	return longest
}

func TestInbandTalkOffPrompts(t *testing.T) {
	ps := readPrompts(t)
	if _, ok := ps["music_on_hold"]; !ok {
		t.Fatal("no music-on-hold prompt")
	}
	var total, longest int
	for _, name := range slices.Sorted(maps.Keys(ps)) {
		p := ps[name]
		longest = max(longest, ibTalkOff(t, name, p.PCM))
		// And as a caller hears it.
		for _, codec := range []Codec{PCMU, PCMA} {
			pcm := make([]int16, len(p.PCM))
			codec.Decode(pcm, p.Frames(codec))
			longest = max(longest, ibTalkOff(t, name+" "+codec.String(), pcm))
		}
		total += len(p.PCM)
	}
	t.Logf("%d prompts, %.1f s of audio (each also through PCMU and PCMA): no keys; longest run of hits %d (a key needs %d)",
		len(ps), float64(total)/SampleRate, longest, inbandHitsToBegin)
}

// ibSpeech is what TestInbandTalkOffSpeech has espeak-ng say: prose, and
// plenty of numbers, in several voices, languages and speeds.
var ibSpeech = []struct {
	voice        string
	speed, pitch int
	text         string
}{
	{"en-us", 150, 50, "Welcome to the quarterly planning call. Before we begin, please make sure your line is muted when you are not speaking. " +
		"Today we will review the budget for the third quarter, the hiring plan for the support team, and the schedule for the data centre move. " +
		"If you have questions, hold them until the end, and we will take them one at a time."},
	{"en-gb+f3", 175, 60, "The conference number is four four seven one, nine two zero three, and the organiser PIN is eight two six five. " +
		"Dial one if you are calling from the main office, two for the warehouse, three for sales, and zero for the operator. " +
		"Press star to mute, and the pound key to hear these options again."},
	{"en+m3", 120, 35, "Seventeen, twenty-eight, thirty-nine, forty-one, fifty-two, sixty-three, seventy-four, eighty-five, ninety-six. " +
		"One hundred and one. Two thousand and twenty six. Nine, eight, seven, six, five, four, three, two, one, zero."},
	{"en-us+f2", 200, 75, "Okay, so I think the main problem with the release was that nobody tested the upgrade path from version three. " +
		"We should add that to the checklist, and maybe run it every night. Does anyone object? No? Great, let us move on. " +
		"Sarah, can you give us an update on the customer escalations from last week?"},
	{"en-gb-scotland", 140, 45, "Good morning everybody. The weather this week has been dreadful, so the site visit is moved to Thursday at half past ten. " +
		"Bring boots, a jacket, and your badge. Parking is at gate seven, and the shuttle leaves every fifteen minutes."},
	{"en+klatt", 160, 50, "Account number: five five five, zero one nine nine. Amount due: three hundred and forty two dollars and eighteen cents. " +
		"Your next payment is due on the twenty first of March. To pay now, press one. To speak to an agent, press zero."},
	{"en+croak", 130, 40, "Hello? Hello, can you hear me? I am calling about the meeting at four o'clock. I think I have the wrong number. " +
		"Hmm, let me try again. Yes, yes, that is right, the one about the new office in Manchester."},
	{"en-us+whisper", 150, 50, "This is a quiet voice, whispering the numbers one, two, three, four, five, six, seven, eight, nine and ten."},
	{"de", 150, 50, "Guten Tag und herzlich willkommen zur Telefonkonferenz. Bitte geben Sie Ihre Konferenznummer ein, gefolgt von der Raute-Taste. " +
		"Die Nummer lautet drei neun vier acht, sieben zwei eins fünf. Vielen Dank für Ihre Geduld."},
	{"de+f4", 185, 70, "Eins, zwei, drei, vier, fünf, sechs, sieben, acht, neun, zehn, elf, zwölf, dreizehn, vierzehn, fünfzehn, sechzehn. " +
		"Wir treffen uns am Montag um neun Uhr dreißig im großen Besprechungsraum im zweiten Stock."},
	{"fr", 160, 50, "Bonjour et bienvenue dans la conférence téléphonique. Veuillez composer votre code, suivi de la touche dièse. " +
		"Le code est le six cent quarante deux, quatre vingt dix sept. Merci de votre patience."},
	{"fr+m2", 130, 60, "Un, deux, trois, quatre, cinq, six, sept, huit, neuf, dix. Nous avons reçu soixante et onze réponses, " +
		"dont quarante huit favorables et vingt trois défavorables. La réunion reprendra à quatorze heures."},
	{"es", 170, 55, "Buenos días. Por favor, marque el número de su conferencia seguido de la tecla numeral. " +
		"El número es siete tres ocho, cuatro cero dos. Para hablar con un operador, marque cero."},
	{"it+f1", 165, 65, "Buongiorno a tutti. La riunione comincia alle dieci e un quarto. Il codice è uno nove otto quattro, sei sei due."},
	{"nl", 150, 45, "Goedemiddag. Toets uw pincode in, gevolgd door het hekje. Uw code is negen vijf drie zeven."},
	{"en-us", 260, 50, "Fast speech: the quick brown fox jumps over the lazy dog, twenty three times, at nine forty five in the evening, " +
		"while four thousand six hundred and eighty eight people watch on channel eleven."},
}

// TestInbandTalkOffSpeech generates several minutes of speech with
// espeak-ng and checks that none of it reads as a key, as linear audio and
// after μ-law.
func TestInbandTalkOffSpeech(t *testing.T) {
	espeak, err1 := exec.LookPath("espeak-ng")
	sox, err2 := exec.LookPath("sox")
	if err1 != nil || err2 != nil {
		msg := "espeak-ng and sox are needed to make the speech for this test (make test-deps installs them)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg) // CI must run it, not skip it
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	var speech []int16
	pause := make([]int16, SampleRate/4)
	for _, rep := range []int{0, 1} { // the second time half the speed and a lower voice
		for i, s := range ibSpeech {
			raw := filepath.Join(dir, fmt.Sprintf("raw%d_%d.wav", rep, i))
			wav := filepath.Join(dir, fmt.Sprintf("s%d_%d.wav", rep, i))
			speed, pitch := s.speed, s.pitch
			if rep == 1 {
				speed, pitch = speed*3/4, pitch*2/3
			}
			cmd := exec.Command(espeak, "-v", s.voice, "-s", fmt.Sprint(speed), "-p", fmt.Sprint(pitch), "-w", raw, s.text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("espeak-ng -v %s: %v\n%s", s.voice, err, out)
			}
			cmd = exec.Command(sox, raw, "-D", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", wav, "norm", "-3")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sox: %v\n%s", err, out)
			}
			f, err := os.Open(wav)
			if err != nil {
				t.Fatal(err)
			}
			pcm, err := ReadWAV(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", wav, err)
			}
			speech = append(speech, pcm...)
			speech = append(speech, pause...)
		}
	}
	minutes := float64(len(speech)) / SampleRate / 60
	if minutes < 3 {
		t.Fatalf("only %.1f minutes of speech, want at least 3", minutes)
	}
	longest := ibTalkOff(t, "speech", speech)
	law := make([]byte, len(speech))
	PCMU.Encode(law, speech)
	PCMU.Decode(speech, law)
	longest = max(longest, ibTalkOff(t, "speech through PCMU", speech))
	t.Logf("%.1f minutes of speech (%d voice, speed and pitch settings), linear and through PCMU: no keys; longest run of hits %d (a key needs %d)",
		minutes, 2*len(ibSpeech), longest, inbandHitsToBegin)
}

// TestInbandTalkOffSignals feeds noise, single tones and the call-progress
// tones a line carries: none is a key.
func TestInbandTalkOffSignals(t *testing.T) {
	const n = 2 * SampleRate
	rng := rand.New(rand.NewPCG(3, 3))
	signal := func(add func(x []float64)) []int16 {
		x := make([]float64, n)
		add(x)
		return ibPCM(x)
	}
	sines := func(level float64, freqs ...float64) []int16 {
		return signal(func(x []float64) {
			for _, f := range freqs {
				ibAddSine(x, f, level, rng.Float64()*2*math.Pi)
			}
		})
	}
	cases := map[string][]int16{
		"silence":           make([]int16, n),
		"white noise -10":   signal(func(x []float64) { ibAddNoise(x, -10, rng) }),
		"white noise -30":   signal(func(x []float64) { ibAddNoise(x, -30, rng) }),
		"white noise -50":   signal(func(x []float64) { ibAddNoise(x, -50, rng) }),
		"pink noise -10":    signal(func(x []float64) { ibAddPink(x, -10, rng) }),
		"pink noise -30":    signal(func(x []float64) { ibAddPink(x, -30, rng) }),
		"dial tone":         sines(-13, 350, 440),
		"ringback":          sines(-19, 440, 480),
		"busy":              sines(-24, 480, 620),
		"1 kHz test tone":   sines(-10, 1000),
		"fax CNG 1100 Hz":   sines(-10, 1100),
		"modem answer 2100": sines(-10, 2100),
		"two rows 697+770":  sines(-10, 697, 770),
		"two columns":       sines(-10, 1209, 1336),
		"key 5 off by +6%":  sines(-10, 770*1.06, 1336*1.06),
		"key 5 off by -6%":  sines(-10, 770*0.94, 1336*0.94),
		// Half the energy in a third tone.
		"key 1 and 1 kHz": signal(func(x []float64) {
			ibAddSine(x, 697, -10, 0)
			ibAddSine(x, 1209, -10, 1)
			ibAddSine(x, 1000, -7, 2)
		}),
		"key 1 plus 2nd row": sines(-10, 697, 1209, 770),
	}
	for _, f := range append(ibRows[:], ibCols[:]...) {
		cases[fmt.Sprintf("%v Hz alone at -3 dBFS", f)] = sines(-3, f)
		cases[fmt.Sprintf("%v Hz alone at -30 dBFS", f)] = sines(-30, f)
	}
	for name, pcm := range cases {
		ibTalkOff(t, name, pcm)
	}
}

// ibAddPink adds pink (1/f) noise at about level dBFS (RMS) to out, from
// Paul Kellet's economy filter over white noise.
func ibAddPink(out []float64, level float64, rng *rand.Rand) {
	var b0, b1, b2 float64
	pink := make([]float64, len(out))
	var sum float64
	for i := range pink {
		w := rng.NormFloat64()
		b0 = 0.99765*b0 + w*0.0990460
		b1 = 0.96300*b1 + w*0.2965164
		b2 = 0.57000*b2 + w*1.0526913
		pink[i] = b0 + b1 + b2 + w*0.1848
		sum += pink[i] * pink[i]
	}
	scale := audiotest.FullScaleSineRMS * math.Pow(10, level/20) / math.Sqrt(sum/float64(len(pink)))
	for i := range out {
		out[i] += scale * pink[i]
	}
}

func TestInbandHeldKeyOnce(t *testing.T) {
	p := ibNominal('9')
	p.dur = 5 * SampleRate
	if got := ibDetect(ibSynth(t, 0, -40, 4, p)); got != "9" {
		t.Errorf("a 5 s press: got %q, want one 9", got)
	}
}

func TestInbandReset(t *testing.T) {
	var d InbandDetector
	var keys []byte
	emit := func(k byte) { keys = append(keys, k) }
	press := ibSynth(t, 0, ibNoNoise, 5, ibNominal('7'))

	// Half a press, a reset, then the other half: neither half is long
	// enough to be a key.
	d.Feed(press[:20*ibMS], emit)
	d.Reset()
	d.Feed(press[40*ibMS:], emit)
	if len(keys) != 0 {
		t.Errorf("halves of a press split by Reset gave %q", keys)
	}
	// After a reset the detector is as new.
	d.Feed(press, emit)
	d.Reset()
	d.Feed(press, emit)
	if string(keys) != "77" {
		t.Errorf("got %q, want 77", keys)
	}
}

// TestInbandNoAllocs feeds a detector kept as a field of a larger struct,
// as a call would, and counts allocations per 20 ms frame.
func TestInbandNoAllocs(t *testing.T) {
	type call struct {
		id   string
		dtmf InbandDetector
		keys []byte
	}
	c := &call{id: "test", keys: make([]byte, 0, 1000)}
	emit := func(k byte) { c.keys = append(c.keys, k) }
	pcm := ibSynth(t, 0, -40, 6, ibNominal('4'), ibNominal('2'))
	pcm = pcm[:len(pcm)/FrameSamples*FrameSamples]
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		c.dtmf.Feed(pcm[i:i+FrameSamples], emit)
		i = (i + FrameSamples) % len(pcm)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
	if len(c.keys) == 0 {
		t.Error("no keys: the test did not exercise reporting")
	}
}

func BenchmarkInbandDetector(b *testing.B) {
	// Speech, then keys in noise, fed round and round: the cost of a
	// frame hardly depends on what is in it.
	pcm := append([]int16(nil), readPrompts(b)["enter_pin"].PCM...)
	pcm = append(pcm, ibSynth(b, 0, -40, 1, ibNominal('1'), ibNominal('5'), ibNominal('#'))...)
	pcm = pcm[:len(pcm)/FrameSamples*FrameSamples]
	var d InbandDetector
	keys := 0
	emit := func(byte) { keys++ }
	b.ReportAllocs()
	b.SetBytes(2 * FrameSamples)
	i := 0
	for b.Loop() {
		d.Feed(pcm[i:i+FrameSamples], emit)
		i = (i + FrameSamples) % len(pcm)
	}
}

// FuzzInbandDetector feeds arbitrary bytes as little-endian samples: the
// detector must not panic, must report only keys, and must report the same
// keys however the audio is cut up.
func FuzzInbandDetector(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x01})
	pcm := ibSynth(f, 5, -40, 7, ibNominal('8'), ibNominal('D'))
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm := make([]int16, len(data)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		var whole InbandDetector
		var keys []byte
		whole.Feed(pcm, func(k byte) { keys = append(keys, k) })
		for _, k := range keys {
			if !strings.ContainsRune(ibAllKeys, rune(k)) {
				t.Fatalf("reported %q, not a key", k)
			}
		}
		// A key needs a run of hits, one window a step: at most one key
		// per inbandHitsToBegin steps.
		if max := len(pcm)/(inbandStep*inbandHitsToBegin) + 1; len(keys) > max {
			t.Fatalf("%d keys from %d samples", len(keys), len(pcm))
		}
		// The same audio in pieces whose sizes the data picks.
		var pieces InbandDetector
		var keys2 []byte
		rest := pcm
		for i := 0; len(rest) > 0; i++ {
			n := 1
			if len(data) > 0 {
				n = min(int(data[i%len(data)])+1, len(rest))
			}
			pieces.Feed(rest[:n], func(k byte) { keys2 = append(keys2, k) })
			rest = rest[n:]
		}
		if string(keys) != string(keys2) {
			t.Fatalf("whole: %q, in pieces: %q", keys, keys2)
		}
	})
}

// readPrompts decodes the recorded prompts in prompts/ (package prompts
// embeds them; media's tests read the files, as that package imports this
// one).
func readPrompts(t testing.TB) map[string]*Prompt {
	t.Helper()
	files, err := filepath.Glob("prompts/*.wav")
	if err != nil || len(files) == 0 {
		t.Fatalf("no prompts in prompts/: %v", err)
	}
	ps := map[string]*Prompt{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".wav")
		if ps[name], err = DecodePrompt(name, b); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return ps
}
