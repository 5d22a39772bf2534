package media

import (
	"encoding/binary"
	"errors"
	"time"
)

// RTCP packets (RFC 3550 §6), written and read without allocation: the
// bridge builds one compound report (SR or RR, then SDES CNAME) per report
// interval into a reused buffer, and reads the peer's compound packets with
// a small reader that keeps only what the call's statistics need.

// RTCP packet types.
const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203
)

const (
	rtcpHeaderLen  = 4
	reportBlockLen = 24
	srInfoLen      = 20 // NTP (8), RTP timestamp, packet count, octet count
	cnameLen       = 16 // our CNAME: 16 hex digits, random per session
	// rtcpMaxReport is our biggest compound packet: an SR with one report
	// block (8+20+24) and the SDES chunk (4 + 4 + 2+16 + end and padding).
	rtcpMaxReport = 8 + srInfoLen + reportBlockLen + 4 + 4 + 2 + cnameLen + 2
)

var errRTCPMalformed = errors.New("rtcp: malformed packet")

// ntpEpochOffset is the seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime is t as a 64-bit NTP timestamp (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	ns := t.UnixNano()
	sec := uint64(ns/1e9) + ntpEpochOffset
	frac := (uint64(ns%1e9) << 32) / 1e9
	return sec<<32 | frac
}

// ntpMiddle is the middle 32 bits of t's NTP timestamp: the unit of LSR,
// DLSR and the round-trip time (1/65536 s).
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// ntpShortToDuration turns 1/65536 s units into a duration.
func ntpShortToDuration(v uint32) time.Duration {
	return time.Duration(int64(v) * int64(time.Second) >> 16)
}

// durationToNTPShort is ntpShortToDuration's inverse (for DLSR), modulo
// 2^32 like the RTT arithmetic: seconds and fraction apart, so a last SR
// more than 39 hours old does not overflow d << 16.
func durationToNTPShort(d time.Duration) uint32 {
	if d < 0 {
		return 0
	}
	sec, frac := d/time.Second, d%time.Second
	return uint32(sec)<<16 + uint32(frac<<16/time.Second)
}

// ReportBlock is one reception report (RFC 3550 §6.4.1): what a receiver
// says about one source's stream.
type ReportBlock struct {
	SSRC           uint32
	FractionLost   uint8 // of the packets expected since the last report, × 256
	CumulativeLost int32 // 24-bit signed on the wire
	HighestSeq     uint32
	Jitter         uint32 // interarrival jitter, in timestamp units
	LSR, DLSR      uint32 // middle 32 bits of the last SR's NTP time; delay since it, 1/65536 s
}

func (rb *ReportBlock) put(b []byte) {
	binary.BigEndian.PutUint32(b[0:], rb.SSRC)
	lost := min(max(rb.CumulativeLost, -0x800000), 0x7FFFFF)
	binary.BigEndian.PutUint32(b[4:], uint32(rb.FractionLost)<<24|uint32(lost)&0xFFFFFF)
	binary.BigEndian.PutUint32(b[8:], rb.HighestSeq)
	binary.BigEndian.PutUint32(b[12:], rb.Jitter)
	binary.BigEndian.PutUint32(b[16:], rb.LSR)
	binary.BigEndian.PutUint32(b[20:], rb.DLSR)
}

func readReportBlock(b []byte) ReportBlock {
	v := binary.BigEndian.Uint32(b[4:])
	lost := int32(v<<8) >> 8 // sign-extend the 24 bits
	return ReportBlock{
		SSRC:           binary.BigEndian.Uint32(b[0:]),
		FractionLost:   uint8(v >> 24),
		CumulativeLost: lost,
		HighestSeq:     binary.BigEndian.Uint32(b[8:]),
		Jitter:         binary.BigEndian.Uint32(b[12:]),
		LSR:            binary.BigEndian.Uint32(b[16:]),
		DLSR:           binary.BigEndian.Uint32(b[20:]),
	}
}

// senderInfo is an SR's sender information.
type senderInfo struct {
	NTP        uint64
	RTPTime    uint32
	Packets    uint32
	Octets     uint32
	sendsAudio bool // false: build an RR instead
}

// buildReport writes our compound report into buf (at least rtcpMaxReport
// bytes): an SR when si.sendsAudio, else an RR, with block as its one
// reception report when block is not nil, then an SDES packet with our
// CNAME. It returns the bytes written.
func buildReport(buf []byte, ssrc uint32, si *senderInfo, block *ReportBlock, cname *[cnameLen]byte) int {
	rc := 0
	if block != nil {
		rc = 1
	}
	n := 8
	pt := byte(rtcpRR)
	if si.sendsAudio {
		pt = rtcpSR
		binary.BigEndian.PutUint64(buf[8:], si.NTP)
		binary.BigEndian.PutUint32(buf[16:], si.RTPTime)
		binary.BigEndian.PutUint32(buf[20:], si.Packets)
		binary.BigEndian.PutUint32(buf[24:], si.Octets)
		n += srInfoLen
	}
	if block != nil {
		block.put(buf[n:])
		n += reportBlockLen
	}
	putHeader(buf, rc, pt, n)
	binary.BigEndian.PutUint32(buf[4:], ssrc)

	// SDES: one chunk, our SSRC and CNAME, an end item, padding to 32 bits.
	sdes := buf[n:]
	binary.BigEndian.PutUint32(sdes[4:], ssrc)
	sdes[8], sdes[9] = 1, cnameLen // CNAME
	copy(sdes[10:], cname[:])
	m := 10 + cnameLen
	sdes[m] = 0 // end of items
	m++
	for m%4 != 0 {
		sdes[m] = 0
		m++
	}
	putHeader(sdes, 1, rtcpSDES, m)
	return n + m
}

// putHeader writes an RTCP header: version 2, no padding, count, type and
// the length in 32-bit words minus one.
func putHeader(b []byte, count int, pt byte, size int) {
	b[0] = 2<<6 | byte(count)
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], uint16(size/4-1))
}

// rtcpInfo is what the reader keeps of one compound packet.
type rtcpInfo struct {
	Reports    int    // SR and RR packets
	SenderSSRC uint32 // of the first SR or RR
	HasSR      bool
	SRNTP      uint64 // the SR's NTP timestamp
	HasBlock   bool   // a report block about our SSRC
	Block      ReportBlock
	Bye        bool
}

// parseRTCP reads a compound RTCP packet (RFC 3550 §6.1), keeping the
// reports, the first report block about ours (our SSRC) and whether it has
// a BYE. As A.2 checks, the first packet must be an SR or RR, every packet
// version 2 and fit; padding is allowed only in the last one. Other packet
// types (SDES, APP, XR, feedback) are skipped. It never allocates.
func parseRTCP(data []byte, ours uint32) (rtcpInfo, error) {
	var info rtcpInfo
	if len(data) < rtcpHeaderLen || data[1] != rtcpSR && data[1] != rtcpRR {
		return info, errRTCPMalformed
	}
	for len(data) > 0 {
		if len(data) < rtcpHeaderLen || data[0]>>6 != 2 {
			return info, errRTCPMalformed
		}
		size := (int(binary.BigEndian.Uint16(data[2:])) + 1) * 4
		if size > len(data) {
			return info, errRTCPMalformed
		}
		pkt := data[:size]
		data = data[size:]
		if pkt[0]&0x20 != 0 { // padding: the last octet counts it
			pad := int(pkt[size-1])
			if len(data) != 0 || pad == 0 || pad > size-rtcpHeaderLen {
				return info, errRTCPMalformed
			}
			pkt = pkt[:size-pad]
		}
		count := int(pkt[0] & 0x1F)
		switch pkt[1] {
		case rtcpSR, rtcpRR:
			body := 8
			if pkt[1] == rtcpSR {
				body += srInfoLen
			}
			if len(pkt) < body+count*reportBlockLen {
				return info, errRTCPMalformed
			}
			if info.Reports == 0 {
				info.SenderSSRC = binary.BigEndian.Uint32(pkt[4:])
			}
			info.Reports++
			if pkt[1] == rtcpSR && !info.HasSR {
				info.HasSR = true
				info.SRNTP = binary.BigEndian.Uint64(pkt[8:])
			}
			for i := range count {
				b := pkt[body+i*reportBlockLen:]
				if !info.HasBlock && binary.BigEndian.Uint32(b) == ours {
					info.HasBlock = true
					info.Block = readReportBlock(b)
				}
			}
		case rtcpBYE:
			if len(pkt) < rtcpHeaderLen+4*count {
				return info, errRTCPMalformed
			}
			info.Bye = true
		}
	}
	return info, nil
}

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 §4): the
// second octet, marker bit included, is 192-223 for RTCP (SR 200, RR 201,
// ...), which as an RTP payload type would be 64-95, unused by RTP.
func isRTCP(data []byte) bool {
	return len(data) >= rtcpHeaderLen && data[1] >= 192 && data[1] <= 223
}

// Receive statistics of the peer's stream (RFC 3550 A.1, A.3, A.8).
const (
	rtcpMaxDropout  = 3000
	rtcpMaxMisorder = 100
	seqMod          = 1 << 16
)

// rxStats follows the peer's sequence numbers and arrival jitter. It is
// owned by the clock shard that reads the session: plain fields, no lock.
type rxStats struct {
	started  bool
	ssrc     uint32
	maxSeq   uint16
	cycles   uint32 // sequence number wraps, × 65536
	baseSeq  uint32
	badSeq   uint32
	received uint32

	expectedPrior, receivedPrior uint32

	transit     int32
	haveTransit bool
	jitter      uint32 // × 16 (A.8)
}

func (r *rxStats) restart(ssrc uint32, seq uint16) {
	*r = rxStats{started: true, ssrc: ssrc, maxSeq: seq, baseSeq: uint32(seq), badSeq: seqMod + 1}
}

// update counts one packet (A.1, without the probation of a new source:
// the session has latched onto it already). arrival is the receive time
// in timestamp units; withJitter false leaves the jitter alone (events,
// whose timestamps do not follow the clock, or a batch read late).
func (r *rxStats) update(ssrc uint32, seq uint16, ts, arrival uint32, withJitter bool) {
	if !r.started || ssrc != r.ssrc {
		r.restart(ssrc, seq)
	} else {
		udelta := seq - r.maxSeq
		switch {
		case udelta < rtcpMaxDropout:
			if seq < r.maxSeq {
				r.cycles += seqMod
			}
			r.maxSeq = seq
		case int(udelta) <= seqMod-rtcpMaxMisorder:
			// A big jump: the source restarted, or a stray packet. Two in a
			// row starting at the new place restart the count.
			if uint32(seq) != r.badSeq {
				r.badSeq = (uint32(seq) + 1) & (seqMod - 1)
				return
			}
			r.restart(ssrc, seq)
		default:
			// duplicate or reordered: counted, nothing moves
		}
	}
	r.received++
	if !withJitter {
		r.haveTransit = false
		return
	}
	transit := int32(arrival - ts)
	if r.haveTransit {
		d := transit - r.transit
		if d < 0 {
			d = -d
		}
		r.jitter += uint32(d) - (r.jitter+8)>>4
	}
	r.transit, r.haveTransit = transit, true
}

// block makes the reception report about the peer's stream for now (A.3)
// and moves the interval counters on.
func (r *rxStats) block() ReportBlock {
	extMax := r.cycles + uint32(r.maxSeq)
	expected := extMax - r.baseSeq + 1
	lost := int64(expected) - int64(r.received)
	expInterval := expected - r.expectedPrior
	r.expectedPrior = expected
	recInterval := r.received - r.receivedPrior
	r.receivedPrior = r.received
	lostInterval := int64(expInterval) - int64(recInterval)
	var fraction uint8
	if expInterval != 0 && lostInterval > 0 {
		fraction = uint8(min(lostInterval<<8/int64(expInterval), 255))
	}
	return ReportBlock{
		SSRC:           r.ssrc,
		FractionLost:   fraction,
		CumulativeLost: int32(min(max(lost, -0x800000), 0x7FFFFF)),
		HighestSeq:     extMax,
		Jitter:         r.jitter >> 4,
	}
}

// arrivalUnits is t on an 8 kHz clock (G.711 and telephone-event), for the
// jitter: its origin does not matter, only differences do.
func arrivalUnits(t time.Time) uint32 {
	return uint32(t.UnixNano() / (int64(time.Second) / SampleRate))
}
