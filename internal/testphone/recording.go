package testphone

import (
	"maps"
	"slices"
	"time"

	"github.com/pion/rtp"

	"github.com/dialin/dialin/internal/audiotest"
	"github.com/dialin/dialin/media"
)

// SilenceRMS is the level (in linear 16-bit sample units, about -50 dBFS)
// under which a 20 ms frame counts as silence. G.711 silence decodes to 0 or
// a few units; any prompt, tone or voice is far above it.
const SilenceRMS = 100

// toneWindow is the block ToneRelativePower slides over the recording:
// 100 ms resolves 10 Hz, fine enough to tell DTMF and test tones apart.
const toneWindow = 800

// MaxRecorded is how much received audio a Recording keeps, counted since
// the last ResetReceived: 5 minutes, about 5 MB of PCM plus the packet log.
// Past it, PCM and PacketLog stop growing and Truncated is set; the counters
// and WaitForAudio go on counting.
const MaxRecorded = 5 * time.Minute

// AudioStopHold is how many consecutive silent audio packets (100 ms)
// AudioStopAfter needs before it calls the audio stopped, so that a pause
// between a prompt's words does not count.
const AudioStopHold = 5

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

	// PacketLog has one entry per packet that parsed, in arrival order,
	// with where its audio is in PCM.
	PacketLog []PacketInfo
	// Truncated is set once MaxRecorded of audio has been kept: PCM and
	// PacketLog hold only what came before.
	Truncated bool
}

// PacketInfo is one received RTP packet.
type PacketInfo struct {
	At          time.Time // when the phone read it from its socket
	SSRC        uint32
	Seq         uint16
	Timestamp   uint32
	PayloadType uint8
	Marker      bool

	// The packet's decoded audio is PCM[PCMStart:PCMEnd]; the range is
	// empty for telephone-event and other non-audio packets.
	PCMStart, PCMEnd int
}

// IsAudio reports whether the packet carried audio: a non-empty PCMU or
// PCMA payload.
func (p PacketInfo) IsAudio() bool {
	return p.PCMEnd > p.PCMStart
}

// PacketPCM is the decoded audio of r.PacketLog[i].
func (r Recording) PacketPCM(i int) []int16 {
	p := r.PacketLog[i]
	return r.PCM[p.PCMStart:p.PCMEnd]
}

// AudioStopAfter finds when the received audio went silent after t: for
// barge-in, the time the prompt a key interrupted stopped, as heard.
//
// Exactly: among the audio packets of PacketLog that arrived strictly after
// t, it returns the arrival time of the first silent one (RMS of its decoded
// frame ≤ thresholdRMS; use SilenceRMS unless the test needs otherwise)
// that begins a run of AudioStopHold silent audio packets. Non-audio
// packets (telephone-event) neither break nor extend a run. It returns
// false if there is no such run: the audio never went silent, it went
// silent for fewer than AudioStopHold packets before the recording ends, or
// the far end stopped sending altogether (the bridge sends silence frames,
// so a stopped prompt still shows up as silent packets).
//
// A test measures latency as stop - sent, with sent from SendDigitsMarked:
// both times are from the phone's clock, so the result includes the
// bridge's reaction plus the loopback trip both ways. It includes up to one
// frame of the bridge's own pacing: a prompt stopped on the key's arrival
// shows up in the bridge's next 20 ms tick. AudioStopAfter does not check
// that anything was playing at t; check that with LoudAt, or a prompt that
// had already ended would give a latency of about zero.
func (r Recording) AudioStopAfter(t time.Time, thresholdRMS float64) (time.Time, bool) {
	var start time.Time // arrival of the first packet of the current silent run
	run := 0
	for i, p := range r.PacketLog {
		if !p.At.After(t) || !p.IsAudio() {
			continue
		}
		if audiotest.RMS(r.PacketPCM(i)) > thresholdRMS {
			run = 0
			continue
		}
		if run == 0 {
			start = p.At
		}
		run++
		if run == AudioStopHold {
			return start, true
		}
	}
	return time.Time{}, false
}

// LoudAt reports whether the last audio packet that arrived at or before t
// was above thresholdRMS: whether something was playing at t, give or take
// a pause between words.
func (r Recording) LoudAt(t time.Time, thresholdRMS float64) bool {
	for i := len(r.PacketLog) - 1; i >= 0; i-- {
		p := r.PacketLog[i]
		if p.At.After(t) || !p.IsAudio() {
			continue
		}
		return audiotest.RMS(r.PacketPCM(i)) > thresholdRMS
	}
	return false
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
	return audiotest.RMS(r.PCM)
}

// ToneRelativePower is the strongest presence of freq in any 100 ms window of
// the audio (sliding by 20 ms): ≈1 when some window holds a pure tone at
// freq, ≈0 when none does. Windows under SilenceRMS are skipped so that faint
// noise between prompts cannot score. Using the best window, not the whole
// recording, keeps a short tone detectable inside a long call.
func (r Recording) ToneRelativePower(freq float64) float64 {
	g := audiotest.NewGoertzel(freq, media.SampleRate)
	if len(r.PCM) <= toneWindow {
		if audiotest.RMS(r.PCM) < SilenceRMS {
			return 0
		}
		return g.RelativePower(r.PCM)
	}
	best := 0.0
	for start := 0; start+toneWindow <= len(r.PCM); start += media.FrameSamples {
		w := r.PCM[start : start+toneWindow]
		if audiotest.RMS(w) < SilenceRMS {
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
		if audiotest.RMS(r.PCM[start:start+media.FrameSamples]) > thresholdRMS {
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
	scratch   []int16       // decoded audio once the recording is truncated
	limit     int           // samples to keep; 0 means MaxRecorded (tests set less)
}

func (r *recorder) reset() {
	*r = recorder{limit: r.limit}
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

	limit := r.limit
	if limit == 0 {
		limit = int(MaxRecorded * media.SampleRate / time.Second)
	}
	// The log has room for twice the packets of limit in 20 ms frames, so
	// that a stream of events or of 10 ms frames is bounded too.
	if len(rec.PacketLog) >= 2*limit/media.FrameSamples {
		rec.Truncated = true
	}
	n, size := len(rec.PCM), len(pkt.Payload)
	if !isAudio || size == 0 {
		if !rec.Truncated {
			r.log(pkt, at, n, n)
		}
		return
	}
	var pcm []int16
	if !rec.Truncated && n+size <= limit {
		rec.PCM = slices.Grow(rec.PCM, size)[:n+size]
		pcm = rec.PCM[n:]
		r.log(pkt, at, n, n+size)
	} else {
		rec.Truncated = true
		r.scratch = slices.Grow(r.scratch[:0], size)[:size]
		pcm = r.scratch
	}
	codec.Decode(pcm, pkt.Payload)
	if audiotest.RMS(pcm) > SilenceRMS {
		r.nonSilent += time.Duration(size) * time.Second / media.SampleRate
	}
}

func (r *recorder) log(pkt *rtp.Packet, at time.Time, start, end int) {
	r.rec.PacketLog = append(r.rec.PacketLog, PacketInfo{
		At:          at,
		SSRC:        pkt.SSRC,
		Seq:         pkt.SequenceNumber,
		Timestamp:   pkt.Timestamp,
		PayloadType: pkt.PayloadType,
		Marker:      pkt.Marker,
		PCMStart:    start,
		PCMEnd:      end,
	})
}

// snapshot copies the recording so the caller can read it without the lock.
func (r *recorder) snapshot() Recording {
	s := r.rec
	s.PayloadTypes = maps.Clone(r.rec.PayloadTypes)
	if s.PayloadTypes == nil {
		s.PayloadTypes = make(map[uint8]int)
	}
	s.PCM = slices.Clone(r.rec.PCM)
	s.PacketLog = slices.Clone(r.rec.PacketLog)
	return s
}
