package media

import "testing"

func TestPromptPaddedWithSilence(t *testing.T) {
	p := NewPrompt("x", []int16{1000, -1000, 500})
	if len(p.PCM) != FrameSamples || p.FrameCount() != 1 || p.Duration() != FrameDuration {
		t.Fatalf("3 samples became %d samples, %d frames, %v", len(p.PCM), p.FrameCount(), p.Duration())
	}
	for i, s := range p.PCM[3:] {
		if s != 0 {
			t.Fatalf("padding sample %d is %d, want 0", i+3, s)
		}
	}
	for _, c := range []Codec{PCMU, PCMA} {
		for i, b := range p.Frames(c)[3:] {
			if b != c.SilenceByte() {
				t.Fatalf("%v padding byte %d is %#x, want silence %#x", c, i+3, b, c.SilenceByte())
			}
		}
	}
}
