// Package media carries a call's audio: RTP sessions on UDP, G.711 coding,
// RFC 4733 telephone events, prompts and the 20 ms media clock. It knows
// nothing of SIP, IVR menus or meetings.
package media

import (
	"time"

	"github.com/zaf/g711"
)

// The one audio format the bridge speaks: 8 kHz mono, 20 ms frames.
const (
	SampleRate    = 8000
	FrameSamples  = 160                   // samples in one 20 ms frame
	FrameBytes    = FrameSamples          // G.711 is one byte per sample
	FrameDuration = 20 * time.Millisecond // ptime
)

// Codec is a G.711 law with its static RTP payload type.
type Codec uint8

const (
	PCMU Codec = 0 // G.711 µ-law, payload type 0
	PCMA Codec = 8 // G.711 A-law, payload type 8
)

// CodecByPayloadType maps a static payload type to a codec.
func CodecByPayloadType(pt uint8) (Codec, bool) {
	switch pt {
	case 0:
		return PCMU, true
	case 8:
		return PCMA, true
	}
	return 0, false
}

// PayloadType is the codec's static RTP payload type.
func (c Codec) PayloadType() uint8 { return uint8(c) }

// String is the SDP encoding name.
func (c Codec) String() string {
	if c == PCMA {
		return "PCMA"
	}
	return "PCMU"
}

// SilenceByte encodes a zero sample in this law.
func (c Codec) SilenceByte() byte {
	if c == PCMA {
		return 0xD5
	}
	return 0xFF
}

// Encode writes len(pcm) encoded samples into dst, which must be at least as
// long. It allocates nothing: the per-sample functions are used because the
// slice API of zaf/g711 allocates a new slice on every call.
func (c Codec) Encode(dst []byte, pcm []int16) {
	dst = dst[:len(pcm)]
	if c == PCMA {
		for i, s := range pcm {
			dst[i] = g711.EncodeAlawFrame(s)
		}
		return
	}
	for i, s := range pcm {
		dst[i] = g711.EncodeUlawFrame(s)
	}
}

// Decode writes len(payload) linear samples into dst, which must be at least
// as long. It allocates nothing.
func (c Codec) Decode(dst []int16, payload []byte) {
	dst = dst[:len(payload)]
	if c == PCMA {
		for i, b := range payload {
			dst[i] = g711.DecodeAlawFrame(b)
		}
		return
	}
	for i, b := range payload {
		dst[i] = g711.DecodeUlawFrame(b)
	}
}
