package audiotest

import (
	"math"
	"testing"
)

// frameSamples is one 20 ms frame at the bridge's 8 kHz.
const frameSamples = 160

// tone returns n samples of the sum of sines at freqs, each of amplitude amp.
func tone(n int, amp float64, freqs ...float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		var v float64
		for j, f := range freqs {
			// A different phase per tone, so nothing relies on sin(0) = 0.
			v += amp * math.Sin(2*math.Pi*f*float64(i)/sampleRate+0.3+float64(j))
		}
		out[i] = int16(math.Round(v))
	}
	return out
}

// DTMF keypad frequencies (ITU-T Q.23).
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
)

func TestGoertzelSingleTone(t *testing.T) {
	tests := []struct {
		name     string
		tone     float64
		detector float64
		n        int
		min, max float64
	}{
		{"440 Hz at 440 Hz", 440, 440, frameSamples, 0.95, 1},
		{"1000 Hz at 1000 Hz", 1000, 1000, frameSamples, 0.99, 1},
		{"697 Hz at 697 Hz", 697, 697, frameSamples, 0.95, 1},
		{"440 Hz at 1000 Hz", 440, 1000, frameSamples, 0, 0.01},
		{"1000 Hz at 440 Hz", 1000, 440, frameSamples, 0, 0.01},
		// Adjacent DTMF rows, 73 Hz apart: one 20 ms frame resolves 50 Hz.
		{"697 Hz at 770 Hz", 697, 770, frameSamples, 0, 0.1},
		{"770 Hz at 697 Hz", 770, 697, frameSamples, 0, 0.1},
		// The classic 205-sample DTMF block separates them better.
		{"697 Hz at 770 Hz, 205 samples", 697, 770, 205, 0, 0.05},
		{"1209 Hz at 1336 Hz", 1209, 1336, frameSamples, 0, 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGoertzel(tt.detector, sampleRate)
			// The same answer at any level: that is what RelativePower is for.
			for _, amp := range []float64{300, 8000, 32000} {
				got := g.RelativePower(tone(tt.n, amp, tt.tone))
				if got < tt.min || got > tt.max || math.IsNaN(got) {
					t.Errorf("amplitude %v: RelativePower = %.4f, want %v..%v", amp, got, tt.min, tt.max)
				}
			}
		})
	}
}

// TestGoertzelDTMFKeys checks every key's two tones: each reads about half
// the block's energy, and the other rows and columns read next to nothing.
func TestGoertzelDTMFKeys(t *testing.T) {
	for r, row := range dtmfRows {
		for c, col := range dtmfCols {
			key := dtmfDigitsByPosition[r][c]
			samples := tone(frameSamples, 12000, row, col)
			for i := 0; i < 4; i++ {
				checkHalf(t, key, dtmfRows[i], samples, i == r)
				checkHalf(t, key, dtmfCols[i], samples, i == c)
			}
		}
	}
}

var dtmfDigitsByPosition = [4]string{"123A", "456B", "789C", "*0#D"}

func checkHalf(t *testing.T, key byte, freq float64, samples []int16, present bool) {
	t.Helper()
	got := NewGoertzel(freq, sampleRate).RelativePower(samples)
	if present && (got < 0.4 || got > 0.6) {
		t.Errorf("key %c: %v Hz reads %.3f, want about 0.5", key, freq, got)
	}
	if !present && got > 0.1 {
		t.Errorf("key %c: %v Hz reads %.3f, want under 0.1", key, freq, got)
	}
}

func TestGoertzelPowerScale(t *testing.T) {
	// 1000 Hz is a whole number of periods in a frame, so the bin is exact:
	// Power = (A·N/2)² = sum of squares × N/2.
	const amp = 10000
	samples := tone(frameSamples, amp, 1000)
	got := NewGoertzel(1000, sampleRate).Power(samples)
	want := math.Pow(amp*frameSamples/2, 2)
	if math.Abs(got-want)/want > 0.001 {
		t.Errorf("Power = %.4g, want %.4g", got, want)
	}
	var energy float64
	for _, s := range samples {
		energy += float64(s) * float64(s)
	}
	if want := energy * frameSamples / 2; math.Abs(got-want)/want > 0.001 {
		t.Errorf("Power = %.4g, want sum of squares × N/2 = %.4g", got, want)
	}
}

func TestGoertzelSilence(t *testing.T) {
	g := NewGoertzel(440, sampleRate)
	for _, samples := range [][]int16{nil, {}, make([]int16, frameSamples)} {
		if p := g.Power(samples); p != 0 {
			t.Errorf("Power(%d zero samples) = %v, want 0", len(samples), p)
		}
		if p := g.RelativePower(samples); p != 0 {
			t.Errorf("RelativePower(%d zero samples) = %v, want 0", len(samples), p)
		}
		if v := RMS(samples); v != 0 {
			t.Errorf("RMS(%d zero samples) = %v, want 0", len(samples), v)
		}
	}
}

func TestRMS(t *testing.T) {
	constant := make([]int16, frameSamples)
	for i := range constant {
		constant[i] = -1000
	}
	square := make([]int16, frameSamples)
	for i := range square {
		square[i] = 32767
		if i%8 < 4 {
			square[i] = -32767
		}
	}
	tests := []struct {
		name    string
		samples []int16
		want    float64
		tol     float64
	}{
		{"full-scale 1 kHz sine", tone(frameSamples, 32767, 1000), FullScaleSineRMS, 1},
		{"half-scale 1 kHz sine", tone(frameSamples, 32767.0/2, 1000), FullScaleSineRMS / 2, 1},
		{"440 Hz sine over 1 s", tone(sampleRate, 10000, 440), 10000 / math.Sqrt2, 1},
		{"constant", constant, 1000, 0},
		{"full-scale square", square, 32767, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RMS(tt.samples); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("RMS = %.2f, want %.2f", got, tt.want)
			}
		})
	}
}

func TestDBFS(t *testing.T) {
	tests := []struct {
		rms  float64
		want float64
	}{
		{FullScaleSineRMS, 0},
		{FullScaleSineRMS / 2, -6.02},
		{FullScaleSineRMS / 10, -20},
		{FullScaleSineRMS / 1000, -60},
		{32767, 3.01}, // full-scale square wave
		{0, MinDBFS},
		{-1, MinDBFS},
		{math.NaN(), MinDBFS},
		{1e-9, MinDBFS},
	}
	for _, tt := range tests {
		if got := DBFS(tt.rms); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("DBFS(%v) = %.3f, want %.3f", tt.rms, got, tt.want)
		}
	}
	if got := DBFS(RMS(tone(frameSamples, 32767, 1000))); math.Abs(got) > 0.01 {
		t.Errorf("DBFS of a full-scale sine = %.3f, want 0", got)
	}
}

func TestGoertzelNoAllocs(t *testing.T) {
	samples := tone(frameSamples, 8000, 440)
	g := NewGoertzel(440, sampleRate)
	var sink float64
	allocs := testing.AllocsPerRun(100, func() {
		sink += g.Power(samples) + g.RelativePower(samples) + DBFS(RMS(samples))
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
	_ = sink
}

func BenchmarkGoertzelPower(b *testing.B) {
	samples := tone(frameSamples, 8000, 440)
	g := NewGoertzel(440, sampleRate)
	var sink float64
	b.ReportAllocs()
	for b.Loop() {
		sink += g.Power(samples)
	}
	_ = sink
}

func BenchmarkGoertzelRelativePower(b *testing.B) {
	samples := tone(frameSamples, 8000, 440)
	g := NewGoertzel(440, sampleRate)
	var sink float64
	b.ReportAllocs()
	for b.Loop() {
		sink += g.RelativePower(samples)
	}
	_ = sink
}

func BenchmarkRMS(b *testing.B) {
	samples := tone(frameSamples, 8000, 440)
	var sink float64
	b.ReportAllocs()
	for b.Loop() {
		sink += DBFS(RMS(samples))
	}
	_ = sink
}
