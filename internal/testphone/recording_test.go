package testphone

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialin/dialin/media"
)

func TestRecorderCountsSequenceAndTimestampErrors(t *testing.T) {
	payload := make([]byte, 160)
	pkt := func(ssrc uint32, seq uint16, ts uint32, pt uint8, marker bool) *rtp.Packet {
		return &rtp.Packet{
			Header:  rtp.Header{Version: 2, SSRC: ssrc, SequenceNumber: seq, Timestamp: ts, PayloadType: pt, Marker: marker},
			Payload: payload,
		}
	}
	var r recorder
	at := time.Now()
	for _, p := range []*rtp.Packet{
		pkt(1, 65535, 1000, 0, true), // first packet of SSRC 1
		pkt(1, 0, 1160, 0, false),    // wraps: fine
		pkt(1, 1, 1160, 101, true),   // event: its timestamp is not checked
		pkt(1, 2, 1160, 101, false),
		pkt(1, 3, 1640, 0, false), // 3 steps × 160 after the last audio: fine
		pkt(1, 5, 1960, 0, false), // seq gap (loss) but timestamp consistent
		pkt(1, 6, 9999, 0, false), // timestamp error
		pkt(1, 7, 50000, 0, true), // marker: resync, not an error
		pkt(2, 100, 5, 8, false),  // second SSRC starts fresh
		pkt(2, 100, 5, 8, false),  // duplicate: a seq error; 0 × 160 timestamp step is consistent
	} {
		r.add(p, at)
		at = at.Add(20 * time.Millisecond)
	}
	rec := r.snapshot()
	if rec.Packets != 10 || rec.SSRCs != 2 {
		t.Errorf("packets %d, SSRCs %d", rec.Packets, rec.SSRCs)
	}
	if rec.SeqErrors != 2 {
		t.Errorf("SeqErrors = %d, want 2", rec.SeqErrors)
	}
	if rec.TimestampErrors != 1 {
		t.Errorf("TimestampErrors = %d, want 1", rec.TimestampErrors)
	}
	if rec.PayloadTypes[101] != 2 || rec.PayloadTypes[0] != 6 || rec.PayloadTypes[8] != 2 {
		t.Errorf("PayloadTypes = %v", rec.PayloadTypes)
	}
	if len(rec.PCM) != 8*160 {
		t.Errorf("PCM has %d samples, want %d", len(rec.PCM), 8*160)
	}
	if pps := rec.PacketsPerSecond(); pps < 49.9 || pps > 50.1 {
		t.Errorf("PacketsPerSecond = %.2f", pps)
	}
}

func TestParseSDPReadsBuiltOffer(t *testing.T) {
	body := buildSDP(offerParams{ip: "127.0.0.1", port: 4000, codecs: nil, eventPT: 101, direction: "sendonly", sessionID: 1, version: 1})
	if _, err := parseSDP(body); err == nil {
		t.Error("offer without codecs parsed")
	}
	body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4002 RTP/AVP 8 0 97\r\na=rtpmap:97 telephone-event/8000\r\na=recvonly\r\n")
	info, err := parseSDP(body)
	if err != nil {
		t.Fatal(err)
	}
	if info.port != 4002 || info.codec.PayloadType() != 8 || info.eventPT != 97 || info.direction != "recvonly" || !info.ip.IsLoopback() {
		t.Errorf("parsed %+v", info)
	}
}

// syntheticRecording feeds the recorder one PCMU packet every 20 ms from
// base: 'L' a loud 1 kHz frame, 's' a silent one, 'e' a telephone-event.
func syntheticRecording(t *testing.T, base time.Time, script string) Recording {
	t.Helper()
	loud := make([]int16, media.FrameSamples)
	for i := range loud {
		loud[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/media.SampleRate))
	}
	loudPayload := make([]byte, media.FrameBytes)
	media.PCMU.Encode(loudPayload, loud)
	silentPayload := slices.Clone(media.SilenceFrame(media.PCMU))

	var r recorder
	for i := range len(script) {
		p := &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1, SequenceNumber: uint16(i), Timestamp: uint32(i * 160)}}
		switch script[i] {
		case 'L':
			p.Payload = loudPayload
		case 's':
			p.Payload = silentPayload
		case 'e':
			p.PayloadType = 101
			p.Payload = []byte{5, 10, 0, 160}
		default:
			t.Fatalf("bad script byte %q", script[i])
		}
		r.add(p, base.Add(time.Duration(i)*media.FrameDuration))
	}
	return r.snapshot()
}

func TestAudioStopAfter(t *testing.T) {
	base := time.Now()
	at := func(i int) time.Time { return base.Add(time.Duration(i) * media.FrameDuration) }
	// Packets 0-9 loud, a two-frame pause (10, 11), loud again (12-19), then
	// silence from 20 with an event at 22 inside it.
	const script = "LLLLLLLLLLssLLLLLLLLssesss"
	rec := syntheticRecording(t, base, script)
	if len(rec.PacketLog) != len(script) {
		t.Fatalf("PacketLog has %d entries, want %d", len(rec.PacketLog), len(script))
	}
	if p := rec.PacketLog[22]; p.IsAudio() || p.PayloadType != 101 {
		t.Errorf("event packet logged as %+v", p)
	}
	if p := rec.PacketLog[3]; !p.IsAudio() || p.PCMStart != 3*160 || p.PCMEnd != 4*160 || !p.At.Equal(at(3)) {
		t.Errorf("packet 3 logged as %+v", p)
	}

	for _, tc := range []struct {
		name   string
		after  time.Time
		want   time.Time
		wantOK bool
	}{
		// The pause is too short; the event neither breaks nor extends the
		// final run (20, 21, 23, 24, 25).
		{"before everything", base.Add(-time.Millisecond), at(20), true},
		{"while loud", at(5), at(20), true},
		// Strictly after: from 21 on there are only four silent audio packets.
		{"at the first silent packet", at(20), time.Time{}, false},
		{"in the silence", at(23), time.Time{}, false},
	} {
		got, ok := rec.AudioStopAfter(tc.after, SilenceRMS)
		if ok != tc.wantOK || !got.Equal(tc.want) {
			t.Errorf("%s: AudioStopAfter = %v, %v; want %v, %v", tc.name, got.Sub(base), ok, tc.want.Sub(base), tc.wantOK)
		}
	}
	if _, ok := syntheticRecording(t, base, "LLLLLssssLLL").AudioStopAfter(base, SilenceRMS); ok {
		t.Error("stopped in a recording that never stays silent")
	}

	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{base.Add(-time.Millisecond), false}, // nothing yet
		{at(5), true},
		{at(10), false}, // the pause
		{at(11).Add(10 * time.Millisecond), false},
		{at(12), true},
		{at(22), false}, // the event is skipped: packet 21 is silent
	} {
		if got := rec.LoudAt(tc.t, SilenceRMS); got != tc.want {
			t.Errorf("LoudAt(%v) = %v, want %v", tc.t.Sub(base), got, tc.want)
		}
	}
}

func TestRecorderTruncates(t *testing.T) {
	loud := make([]int16, media.FrameSamples)
	for i := range loud {
		loud[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	payload := make([]byte, media.FrameBytes)
	media.PCMA.Encode(payload, loud)

	r := recorder{limit: 2 * media.FrameSamples}
	at := time.Now()
	for i := range 5 {
		r.add(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), PayloadType: 8}, Payload: payload}, at)
	}
	rec := r.snapshot()
	if rec.Packets != 5 || !rec.Truncated || len(rec.PCM) != 2*media.FrameSamples || len(rec.PacketLog) != 2 {
		t.Errorf("packets %d, truncated %v, PCM %d samples, log %d; want 5, true, 320, 2",
			rec.Packets, rec.Truncated, len(rec.PCM), len(rec.PacketLog))
	}
	if r.nonSilent != 5*media.FrameDuration {
		t.Errorf("non-silent %v after truncation, want 100ms: WaitForAudio goes on counting", r.nonSilent)
	}
	r.reset()
	if r.limit != 2*media.FrameSamples || r.rec.Truncated {
		t.Error("reset lost the limit or kept Truncated")
	}
}
