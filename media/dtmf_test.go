package media

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// pkt is one telephone-event packet as the receiver sees it.
type pkt struct {
	at     time.Duration // arrival time from the start of the test
	marker bool
	seq    uint16
	ts     uint32
	ev     uint8
	end    bool
	dur    uint16
	raw    []byte // when not nil, sent as the payload instead of ev/end/dur
}

func (p pkt) payload() []byte {
	if p.raw != nil {
		return p.raw
	}
	b := make([]byte, DTMFEventSize)
	DTMFEvent{Event: p.ev, End: p.end, Volume: 10, Duration: p.dur}.MarshalTo(b)
	return b
}

// burst is one key press the way sipp's dtmf_2833_*.pcap plays it: a marked
// start packet, six continuations 20 ms apart, then the end packet three
// times with the same sequence number, 140 ms after the start.
func burst(at time.Duration, seq uint16, ts uint32, ev uint8) []pkt {
	ps := make([]pkt, 0, 10)
	ps = append(ps, pkt{at: at, marker: true, seq: seq, ts: ts, ev: ev})
	for i := 1; i <= 6; i++ {
		ps = append(ps, pkt{at: at + time.Duration(i)*20*time.Millisecond, seq: seq + uint16(i), ts: ts, ev: ev, dur: uint16(320 * i)})
	}
	for i := 0; i < 3; i++ {
		ps = append(ps, pkt{at: at + 140*time.Millisecond, seq: seq + 7, ts: ts, ev: ev, end: true, dur: 2240})
	}
	return ps
}

// only keeps the packets of ps at the given indexes, in that order.
func only(ps []pkt, idx ...int) []pkt {
	out := make([]pkt, 0, len(idx))
	for _, i := range idx {
		out = append(out, ps[i])
	}
	return out
}

// late is packet i of ps arriving at the given time instead.
func late(ps []pkt, i int, at time.Duration) []pkt {
	p := ps[i]
	p.at = at
	return []pkt{p}
}

func concat(parts ...[]pkt) []pkt {
	var out []pkt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// arriving returns copies of ps that all arrive at the given time, as when
// the network holds them back.
func arriving(at time.Duration, ps []pkt) []pkt {
	out := make([]pkt, len(ps))
	for i, p := range ps {
		p.at = at
		out[i] = p
	}
	return out
}

// doubled sends every packet twice, as a duplicating network would.
func doubled(ps []pkt) []pkt {
	out := make([]pkt, 0, 2*len(ps))
	for _, p := range ps {
		out = append(out, p, p)
	}
	return out
}

// heldKey is a press held for d, refreshed every 50 ms, with three end
// packets 20 ms apart, as a typical RFC 4733 sender does.
func heldKey(at time.Duration, ts uint32, ev uint8, d time.Duration) []pkt {
	var ps []pkt
	step := 50 * time.Millisecond
	for t := time.Duration(0); t < d; t += step {
		ps = append(ps, pkt{at: at + t, marker: t == 0, ts: ts, ev: ev, dur: uint16(t / time.Millisecond * 8)})
	}
	for i := 0; i < 3; i++ {
		ps = append(ps, pkt{at: at + d + time.Duration(i)*20*time.Millisecond, ts: ts, ev: ev, end: true, dur: uint16(d / time.Millisecond * 8)})
	}
	return ps
}

// feed plays ps into r and returns the keys it reported.
func feed(t *testing.T, r *DTMFReceiver, start time.Time, ps []pkt) string {
	t.Helper()
	var got []byte
	for i, p := range ps {
		d, ok := r.Receive(p.marker, p.seq, p.ts, p.payload(), start.Add(p.at))
		if !ok {
			continue
		}
		if _, valid := EventForDigit(d); !valid {
			t.Fatalf("packet %d: reported invalid key %q", i, d)
		}
		got = append(got, d)
	}
	return string(got)
}

const ms = time.Millisecond

func TestDTMFReceiver(t *testing.T) {
	one := burst(0, 1000, 8000, 1)
	swapped := append([]pkt(nil), one...)
	swapped[0], swapped[1] = swapped[1], swapped[0]

	// An RFC 4733 sender retransmitting its end packet 20 ms apart.
	spacedEnds := only(one, 0, 1, 2, 3, 4, 5, 6, 7)
	spacedEnds = append(spacedEnds, pkt{at: 160 * ms, seq: 1007, ts: 8000, ev: 1, end: true, dur: 2240})
	spacedEnds = append(spacedEnds, pkt{at: 180 * ms, seq: 1007, ts: 8000, ev: 1, end: true, dur: 2240})

	// A long press split into segments (RFC 4733 2.5.1.3): 0xFFFF units is
	// 8.19 s, so the first segment is refreshed every 50 ms up to 0xFFFF
	// and the second starts at timestamp 8000+0xFFFF.
	var segmented []pkt
	for d := 0; d < 0xFFFF; d += 400 {
		segmented = append(segmented, pkt{at: time.Duration(d/8) * ms, marker: d == 0, ts: 8000, ev: 7, dur: uint16(d)})
	}
	segmented = append(segmented, pkt{at: 8192 * ms, ts: 8000, ev: 7, dur: 0xFFFF})
	segmented = append(segmented, heldKey(8242*ms, 8000+0xFFFF, 7, 500*ms)[1:]...) // no marker on a segment

	garbage := []pkt{
		{at: 0, raw: []byte{}},
		{at: 1 * ms, raw: []byte{1}},
		{at: 2 * ms, raw: []byte{1, 0x8a, 0}},
		{at: 3 * ms, ts: 8000, ev: 16},                    // first event code above the keys
		{at: 4 * ms, ts: 8000, ev: 255, end: true},        // largest event code
		{at: 5 * ms, raw: []byte{0xff, 0xff, 0xff, 0xff}}, // all bits set
	}

	tests := []struct {
		name string
		pkts []pkt
		want string
	}{
		{"start, continuations, end three times", one, "1"},
		{"every packet duplicated", doubled(one), "1"},
		{"start and first continuation swapped", swapped, "1"},
		{"end retransmitted 20 ms apart", spacedEnds, "1"},
		{"first packets lost", only(one, 3, 4, 5, 6, 7, 8, 9), "1"},
		{"only the end packets arrive", only(one, 7, 8, 9), "1"},
		{"only one continuation arrives", only(one, 4), "1"},
		{"late continuation after the end, within the reorder window",
			concat(one, []pkt{{at: 160 * ms, seq: 1006, ts: 8000, ev: 1, dur: 1920}}), "1"},
		{"continuation overtaken by the end",
			concat(only(one, 0, 1, 2, 3, 4, 5, 7), arriving(145*ms, only(one, 6, 8, 9))), "1"},
		{"key held for three seconds", heldKey(0, 8000, 5, 3*time.Second), "5"},
		{"event longer than the duration field, in two segments", segmented, "7"},

		{"two keys", concat(burst(0, 1000, 8000, 1), burst(300*ms, 1010, 12000, 2)), "12"},
		{"same key twice with new timestamps", concat(heldKey(0, 8000, 1, 100*ms), heldKey(200*ms, 9600, 1, 100*ms)), "11"},
		{"different event with the same timestamp", concat(burst(0, 1000, 8000, 1), burst(200*ms, 1010, 8000, 2)), "12"},
		{"late end of the previous key after the next one started",
			concat(only(one, 0, 1, 2, 3, 4, 5, 6, 7), burst(150*ms, 1010, 12000, 2)[:1],
				arriving(155*ms, only(one, 8, 9)), burst(150*ms, 1010, 12000, 2)[1:]), "12"},
		{"key, other key, first key replayed with its old timestamp",
			concat(burst(0, 1000, 8000, 1), burst(200*ms, 1010, 12000, 2), burst(400*ms, 1000, 8000, 1)), "121"},

		// sipp's pcaps: the same seq and timestamp for every press of a digit.
		{"replay of the same digit 50 ms after the end", concat(one, burst(190*ms, 1000, 8000, 1)), "11"},
		{"replay of the same digit 500 ms after the end", concat(one, burst(640*ms, 1000, 8000, 1)), "11"},
		{"replay three times", concat(one, burst(200*ms, 1000, 8000, 1), burst(400*ms, 1000, 8000, 1)), "111"},
		{"replay whose first packets were lost",
			concat(one, only(burst(190*ms, 1000, 8000, 1), 2, 3, 4, 5, 6, 7, 8, 9)), "11"},
		{"replay after the end packets of the first press were lost",
			concat(only(one, 0, 1, 2, 3, 4, 5, 6), burst(190*ms, 1000, 8000, 1)), "11"},
		{"replay seen only through its end packets after a long silence",
			concat(one, only(burst(1500*ms, 1000, 8000, 1), 7, 8, 9)), "11"},
		// The documented limit: within dtmfSilenceGap, end packets alone
		// look exactly like a late retransmission of the first press's end.
		{"replay seen only through its end packets within a second",
			concat(one, only(burst(300*ms, 1000, 8000, 1), 7, 8, 9)), "1"},

		// Jitter: packets of an ended press held back past its end.
		{"late continuation 80 ms after the end", concat(one, late(one, 3, 220*ms)), "1"},
		{"late continuation 150 ms after the end", concat(one, late(one, 3, 290*ms)), "1"},
		{"late continuation 300 ms after the end", concat(one, late(one, 3, 440*ms)), "1"},
		{"late start packet 80 ms after the end", concat(only(one, 1, 2, 3, 4, 5, 6, 7, 8, 9), late(one, 0, 220*ms)), "1"},
		{"late continuations out of order", concat(one, late(one, 5, 220*ms), late(one, 4, 240*ms)), "1"},
		{"late continuations far apart", concat(one, late(one, 3, 220*ms), late(one, 4, 400*ms)), "1"},
		{"late continuation of the previous key during the next",
			concat(one, burst(160*ms, 1010, 12000, 2)[:3], late(one, 4, 230*ms), burst(160*ms, 1010, 12000, 2)[3:]), "12"},
		{"late continuation of the previous key after the next",
			concat(one, burst(160*ms, 1010, 12000, 2), late(one, 4, 600*ms)), "12"},
		{"late continuation, then a replay", concat(one, late(one, 3, 220*ms), burst(400*ms, 1000, 8000, 1)), "11"},
		{"same timestamp, sequence numbers going on: a new press at once",
			concat(one, []pkt{{at: 300 * ms, marker: true, seq: 1008, ts: 8000, ev: 1}}), "11"},

		{"garbage only", garbage, ""},
		{"garbage inside a press", concat(only(one, 0, 1, 2), arriving(50*ms, garbage), only(one, 3, 4, 5, 6, 7, 8, 9)), "1"},
		{"clock going backwards", []pkt{
			{at: 100 * ms, marker: true, ts: 8000, ev: 3},
			{at: 50 * ms, ts: 8000, ev: 3, dur: 160},
			{at: 0, ts: 8000, ev: 3, end: true, dur: 320},
		}, "3"},
		{"timestamp wrapping", concat(burst(0, 65530, 0xFFFFFF00, 9), burst(300*ms, 4, 0x00000100, 9)), "99"},
	}
	start := time.Unix(1700000000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r DTMFReceiver
			if got := feed(t, &r, start, tt.pkts); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDTMFReceiverEveryKey(t *testing.T) {
	var r DTMFReceiver
	start := time.Unix(1700000000, 0)
	var ps []pkt
	for ev := uint8(0); ev < 16; ev++ {
		ps = append(ps, burst(time.Duration(ev)*300*ms, uint16(ev)*10, uint32(ev)*4000, ev)...)
	}
	if got, want := feed(t, &r, start, ps), "0123456789*#ABCD"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDTMFReceiverReset(t *testing.T) {
	var r DTMFReceiver
	start := time.Unix(1700000000, 0)
	one := burst(0, 1000, 8000, 1)
	if got := feed(t, &r, start, only(one, 0, 1, 2)); got != "1" {
		t.Fatalf("before reset: got %q, want %q", got, "1")
	}
	// A new SSRC may reuse the timestamp; without Reset its packets would
	// read as continuations of the old stream's press.
	r.Reset()
	if got := feed(t, &r, start, only(one, 3, 4, 5, 6, 7, 8, 9)); got != "1" {
		t.Errorf("after reset: got %q, want %q", got, "1")
	}
}

// sippDir holds sipp's stock RFC 4733 pcaps (Debian package sip-tester).
const sippDir = "/usr/share/sip-tester"

// pcapPacket is one RTP packet read from a pcap file.
type pcapPacket struct {
	at  time.Duration // capture time from the file's first packet
	rtp []byte
}

// readPcap reads the UDP payloads of a classic little-endian pcap file of
// Ethernet/IPv4/UDP frames.
func readPcap(t *testing.T, name string) []pcapPacket {
	t.Helper()
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%v: install sip-tester for sipp's DTMF pcaps (apt-get install -y sip-tester; make test installs it)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian microsecond pcap file", name)
	}
	if linkType := binary.LittleEndian.Uint32(b[20:]); linkType != 1 {
		t.Fatalf("%s: link type %d, want 1 (Ethernet)", name, linkType)
	}
	b = b[24:]
	var out []pcapPacket
	var first time.Duration
	for len(b) > 0 {
		if len(b) < 16 {
			t.Fatalf("%s: truncated record header", name)
		}
		sec := binary.LittleEndian.Uint32(b[0:])
		usec := binary.LittleEndian.Uint32(b[4:])
		n := int(binary.LittleEndian.Uint32(b[8:]))
		if len(b) < 16+n {
			t.Fatalf("%s: truncated record", name)
		}
		frame := b[16 : 16+n]
		b = b[16+n:]

		// Ethernet (14 bytes), IPv4 (IHL words, 20 bytes here), UDP (8 bytes).
		if len(frame) < 14+20+8 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 || frame[23] != 17 {
			t.Fatalf("%s: record is not Ethernet/IPv4/UDP", name)
		}
		udp := 14 + int(frame[14]&0x0f)*4
		at := time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		if out == nil {
			first = at
		}
		out = append(out, pcapPacket{at: at - first, rtp: frame[udp+8:]})
	}
	return out
}

// TestDTMFReceiverSippPcaps replays sipp's own pcaps for 1123345#, the way a
// sipp scenario plays a conference ID, and expects exactly those keys
// although both 1s (and both 3s) carry identical sequence numbers and
// timestamps.
func TestDTMFReceiverSippPcaps(t *testing.T) {
	const keys = "1123345#"
	files := map[byte][]pcapPacket{}
	for _, k := range []byte("12345#") {
		name := string(k)
		if k == '#' {
			name = "pound"
		}
		files[k] = readPcap(t, sippDir+"/dtmf_2833_"+name+".pcap")
	}

	// Check the premise: one SSRC for every file, so nothing but time tells
	// the two presses of 1 apart.
	var packet rtp.Packet
	var ssrc uint32
	for k, f := range files {
		for _, p := range f {
			if err := packet.Unmarshal(p.rtp); err != nil {
				t.Fatalf("pcap for %c: %v", k, err)
			}
			if ssrc == 0 {
				ssrc = packet.SSRC
			}
			if packet.SSRC != ssrc {
				t.Fatalf("pcap for %c: SSRC %#x, others use %#x", k, packet.SSRC, ssrc)
			}
		}
		if len(f) != 10 {
			t.Fatalf("pcap for %c: %d packets, want 10", k, len(f))
		}
	}

	start := time.Unix(1700000000, 0)
	// The pause from the last packet of one file to the first of the next.
	for _, gap := range []time.Duration{50 * ms, 80 * ms, 200 * ms, 500 * ms, 1500 * ms} {
		t.Run(gap.String(), func(t *testing.T) {
			var r DTMFReceiver
			var got []byte
			var base, last time.Duration
			for i := 0; i < len(keys); i++ {
				for _, p := range files[keys[i]] {
					if err := packet.Unmarshal(p.rtp); err != nil {
						t.Fatal(err)
					}
					last = base + p.at
					if d, ok := r.Receive(packet.Marker, packet.SequenceNumber, packet.Timestamp, packet.Payload, start.Add(last)); ok {
						got = append(got, d)
					}
				}
				base = last + gap
			}
			if string(got) != keys {
				t.Errorf("got %q, want %q", got, keys)
			}
		})
	}
}

// FuzzDTMFReceiver feeds arbitrary packet sequences. Each 8-byte record of
// the input is one packet:
//
//	0: flags: 1 marker, 2 E bit, 4 truncate payload to flags>>5 bytes,
//	   8 deliver twice at the same instant, 16 clock steps back
//	1: time step: < 200 in ms, else (n-199) × 100 ms
//	2: timestamp = n × 0xFFFF (so timestamps collide and segments occur)
//	3: event code, any value
//	4-5: duration, 6-7: sequence number
//
// Every reported key must be valid, and a packet delivered again at the same
// instant must never be reported twice.
func FuzzDTMFReceiver(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var r DTMFReceiver
		now := time.Unix(1700000000, 0)
		var payload [DTMFEventSize]byte
		for ; len(data) >= 8; data = data[8:] {
			flags := data[0]
			step := time.Duration(data[1]) * ms
			if data[1] >= 200 {
				step = time.Duration(data[1]-199) * 100 * ms
			}
			if flags&16 != 0 {
				step = -step
			}
			now = now.Add(step)
			ts := uint32(data[2]) * 0xFFFF
			payload[0] = data[3]
			payload[1] = 10
			if flags&2 != 0 {
				payload[1] |= 0x80
			}
			payload[2], payload[3] = data[4], data[5]
			p := payload[:]
			if flags&4 != 0 {
				p = p[:min(int(flags>>5), len(p))]
			}
			seq := binary.BigEndian.Uint16(data[6:])

			d, ok := r.Receive(flags&1 != 0, seq, ts, p, now)
			if ok {
				if _, valid := EventForDigit(d); !valid {
					t.Fatalf("reported invalid key %q", d)
				}
			}
			if flags&8 != 0 {
				if d, ok := r.Receive(flags&1 != 0, seq, ts, p, now); ok {
					t.Fatalf("duplicate at the same instant reported %q", d)
				}
			}
		}
	})
}

// FuzzDTMFEventUnmarshal checks that any payload either fails cleanly or
// round-trips through MarshalTo (minus the reserved R bit, which is dropped).
func FuzzDTMFEventUnmarshal(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var e DTMFEvent
		err := e.Unmarshal(data)
		if len(data) < DTMFEventSize {
			if err == nil {
				t.Fatalf("%d-byte payload accepted", len(data))
			}
			return
		}
		if err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if e.Volume > 63 {
			t.Fatalf("volume %d out of range", e.Volume)
		}
		var out [DTMFEventSize]byte
		if n, err := e.MarshalTo(out[:]); err != nil || n != DTMFEventSize {
			t.Fatalf("MarshalTo = %d, %v", n, err)
		}
		want := [DTMFEventSize]byte{data[0], data[1] &^ 0x40, data[2], data[3]}
		if out != want {
			t.Fatalf("round trip of % x gave % x, want % x", data[:4], out, want)
		}
		var back DTMFEvent
		if err := back.Unmarshal(out[:]); err != nil || back != e {
			t.Fatalf("re-Unmarshal gave %+v, %v; want %+v", back, err, e)
		}
		_, isKey := DigitForEvent(e.Event)
		if isKey != (e.Event < 16) {
			t.Fatalf("DigitForEvent(%d) ok=%v", e.Event, isKey)
		}
	})
}

// BenchmarkDTMFReceiver measures one packet of sipp's 1123345# sequence.
func BenchmarkDTMFReceiver(b *testing.B) {
	var ps []pkt
	for i, k := range []byte("1123345#") {
		ev, _ := EventForDigit(k)
		ps = append(ps, burst(time.Duration(i)*200*ms, uint16(ev)*10, uint32(ev)*4000, ev)...)
	}
	payloads := make([][]byte, len(ps))
	for i, p := range ps {
		payloads[i] = p.payload()
	}
	round := time.Duration(len("1123345#")) * 200 * ms
	start := time.Unix(1700000000, 0)

	var r DTMFReceiver
	keys := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(ps)
		p := ps[j]
		now := start.Add(time.Duration(i/len(ps))*round + p.at)
		if _, ok := r.Receive(p.marker, p.seq, p.ts, payloads[j], now); ok {
			keys++
		}
	}
	b.StopTimer()
	if b.N >= len(ps) && keys < 8*(b.N/len(ps)) {
		b.Fatalf("%d keys from %d rounds", keys, b.N/len(ps))
	}
}
