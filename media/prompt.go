package media

import (
	"bytes"
	"fmt"
	"time"
)

// Prompt is a recorded message, pre-encoded so playback is a copy.
type Prompt struct {
	Name string
	// PCM is the linear samples, padded with silence to a whole number of
	// 20 ms frames; nil after DropPCM (calls play the encoded frames).
	PCM []int16

	ulaw, alaw []byte // one byte a sample
}

// NewPrompt pads pcm to whole frames and encodes it in both laws, once, so
// that no call ever encodes a prompt.
func NewPrompt(name string, pcm []int16) *Prompt {
	n := (len(pcm) + FrameSamples - 1) / FrameSamples * FrameSamples
	padded := make([]int16, n) // zero is silence
	copy(padded, pcm)
	p := &Prompt{
		Name: name,
		PCM:  padded,
		ulaw: make([]byte, n),
		alaw: make([]byte, n),
	}
	PCMU.Encode(p.ulaw, padded)
	PCMA.Encode(p.alaw, padded)
	return p
}

// Frames returns the prompt encoded for codec c; its length is a multiple
// of FrameBytes. The slice is shared by every call playing the prompt:
// read it, never write to it.
func (p *Prompt) Frames(c Codec) []byte {
	if c == PCMA {
		return p.alaw
	}
	return p.ulaw
}

// FrameCount is the number of 20 ms frames in the prompt.
func (p *Prompt) FrameCount() int { return len(p.ulaw) / FrameSamples }

// Duration is how long the prompt plays, padding included.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.ulaw)) * time.Second / SampleRate
}

// DropPCM lets the linear samples go: calls play the encoded frames, and
// only audio mixed into a meeting (the join and leave tones) needs PCM.
// Call it at start-up, before the prompt is shared.
func (p *Prompt) DropPCM() { p.PCM = nil }

// DecodePrompt turns a WAV file into a Prompt. An empty recording is
// refused: a prompt that plays nothing is a mistake, not a choice.
func DecodePrompt(name string, wav []byte) (*Prompt, error) {
	pcm, err := ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return nil, err
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("wav: no samples")
	}
	return NewPrompt(name, pcm), nil
}
