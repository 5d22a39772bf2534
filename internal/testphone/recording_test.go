package testphone

import (
	"testing"
	"time"

	"github.com/pion/rtp"
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
