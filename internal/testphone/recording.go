package testphone

import (
	"maps"
	"slices"
	"time"

	"github.com/pion/rtp"

	"github.com/dialin/dialin/media"
)

// SilenceRMS is the level (in linear 16-bit sample units, about -50 dBFS)
// under which a 20 ms frame counts as silence. G.711 silence decodes to 0 or
// a few units; any prompt, tone or voice is far above it.
const SilenceRMS = 100

// toneWindow is the block ToneRelativePower slides over the recording:
// 100 ms resolves 10 Hz, fine enough to tell DTMF and test tones apart.
const toneWindow = 800

// Recording is a snapshot of what a call has received so far.
type Recording struct {
	Packets      int           // RTP packets that parsed
	Malformed    int           // datagrams that were not RTP
	PayloadTypes map[uint8]int // packets per payload type
	SSRCs        int           // distinct SSRCs seen

	// SeqErrors counts packets whose sequence number is not the previous
	// packet's +1 (mod 2^16) within the same SSRC: loss, duplication or
	// reordering all show up here.
	SeqErrors int
	// TimestampErrors counts audio (PCMU/PCMA) packets whose timestamp step
	// from the previous audio packet of the same SSRC is not 160 × the
	// sequence step. Telephone-event packets are skipped (they keep the
	// event's start timestamp), and so are audio packets with the marker bit:
	// the marker announces a talkspurt start, after which the timestamp may
	// legitimately jump.
	TimestampErrors int

	FirstAt, LastAt time.Time // arrival of the first and last packet
	PCM             []int16   // decoded audio, in arrival order
}

// PacketsPerSecond is the average packet rate between the first and the last
// packet; 0 with fewer than two packets.
func (r Recording) PacketsPerSecond() float64 {
	span := r.LastAt.Sub(r.FirstAt).Seconds()
	if r.Packets < 2 || span <= 0 {
		return 0
	}
	return float64(r.Packets-1) / span
}

// RMS is the level of all received audio.
func (r Recording) RMS() float64 {
	return media.RMS(r.PCM)
}

// ToneRelativePower is the strongest presence of freq in any 100 ms window of
// the audio (sliding by 20 ms): ≈1 when some window holds a pure tone at
// freq, ≈0 when none does. Windows under SilenceRMS are skipped so that faint
// noise between prompts cannot score. Using the best window, not the whole
// recording, keeps a short tone detectable inside a long call.
func (r Recording) ToneRelativePower(freq float64) float64 {
	g := media.NewGoertzel(freq, media.SampleRate)
	if len(r.PCM) <= toneWindow {
		if media.RMS(r.PCM) < SilenceRMS {
			return 0
		}
		return g.RelativePower(r.PCM)
	}
	best := 0.0
	for start := 0; start+toneWindow <= len(r.PCM); start += media.FrameSamples {
		w := r.PCM[start : start+toneWindow]
		if media.RMS(w) < SilenceRMS {
			continue
		}
		best = max(best, g.RelativePower(w))
	}
	return best
}

// NonSilentDuration is the total length of the 20 ms frames whose RMS is
// above thresholdRMS (use SilenceRMS unless the test needs otherwise).
func (r Recording) NonSilentDuration(thresholdRMS float64) time.Duration {
	frames := 0
	for start := 0; start+media.FrameSamples <= len(r.PCM); start += media.FrameSamples {
		if media.RMS(r.PCM[start:start+media.FrameSamples]) > thresholdRMS {
			frames++
		}
	}
	return time.Duration(frames) * media.FrameDuration
}

// ssrcState is the last packet seen on one SSRC.
type ssrcState struct {
	seq      uint16
	audio    bool // an audio packet has been seen (audioSeq/audioTS are valid)
	audioSeq uint16
	audioTS  uint32
}

// recorder accumulates a Recording from the receive loop. The caller holds
// the Call's lock.
type recorder struct {
	rec       Recording
	ssrcs     map[uint32]*ssrcState
	nonSilent time.Duration // audio above SilenceRMS, kept per packet for WaitForAudio
}

func (r *recorder) reset() {
	*r = recorder{}
}

// add records one packet. pkt.Payload aliases the read buffer: it is decoded
// here and not kept.
func (r *recorder) add(pkt *rtp.Packet, at time.Time) {
	rec := &r.rec
	if rec.Packets == 0 {
		rec.FirstAt = at
	}
	rec.LastAt = at
	rec.Packets++
	if rec.PayloadTypes == nil {
		rec.PayloadTypes = make(map[uint8]int)
	}
	rec.PayloadTypes[pkt.PayloadType]++

	codec, isAudio := media.CodecByPayloadType(pkt.PayloadType)

	if r.ssrcs == nil {
		r.ssrcs = make(map[uint32]*ssrcState)
	}
	st, seen := r.ssrcs[pkt.SSRC]
	if !seen {
		st = &ssrcState{}
		r.ssrcs[pkt.SSRC] = st
		rec.SSRCs++
	} else if pkt.SequenceNumber != st.seq+1 {
		rec.SeqErrors++
	}
	st.seq = pkt.SequenceNumber
	if isAudio {
		if st.audio && !pkt.Marker {
			seqStep := uint32(pkt.SequenceNumber - st.audioSeq)
			if pkt.Timestamp-st.audioTS != seqStep*media.FrameSamples {
				rec.TimestampErrors++
			}
		}
		st.audio, st.audioSeq, st.audioTS = true, pkt.SequenceNumber, pkt.Timestamp
	}

	if !isAudio || len(pkt.Payload) == 0 {
		return
	}
	n := len(rec.PCM)
	rec.PCM = slices.Grow(rec.PCM, len(pkt.Payload))[:n+len(pkt.Payload)]
	codec.Decode(rec.PCM[n:], pkt.Payload)
	if media.RMS(rec.PCM[n:]) > SilenceRMS {
		r.nonSilent += time.Duration(len(pkt.Payload)) * time.Second / media.SampleRate
	}
}

// snapshot copies the recording so the caller can read it without the lock.
func (r *recorder) snapshot() Recording {
	s := r.rec
	s.PayloadTypes = maps.Clone(r.rec.PayloadTypes)
	if s.PayloadTypes == nil {
		s.PayloadTypes = make(map[uint8]int)
	}
	s.PCM = slices.Clone(r.rec.PCM)
	return s
}
