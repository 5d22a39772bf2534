package testphone

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// RTCPStats is what the phone heard and sent of RTCP.
type RTCPStats struct {
	SR, RR, Bye int // packets received, by type (a compound counts each)
	Malformed   int
	Muxed       int // compound packets that came on the RTP port
	// LastBlock is the last report block about the phone's own stream (its
	// SSRC); HasBlock is false until one came.
	LastBlock ReportBlock
	HasBlock  bool
	Sent      int // compound reports the phone sent
}

// ReportBlock is one reception report (RFC 3550 §6.4.1).
type ReportBlock = rtcp.ReceptionReport

// rtcpState is the phone's RTCP memory, under mu.
type rtcpState struct {
	mu       sync.Mutex
	stats    RTCPStats
	lsr      uint32    // middle of the bridge's last SR's NTP time
	lsrAt    time.Time // when it came
	peerSSRC uint32    // from the bridge's RTP or reports
	havePeer bool
	to       *net.UDPAddr // where the phone's reports go; nil: nowhere yet
	muxed    bool         // reports go on the RTP socket
}

// RTCPStats returns the phone's RTCP counts.
func (c *Call) RTCPStats() RTCPStats {
	c.rtcp.mu.Lock()
	defer c.rtcp.mu.Unlock()
	return c.rtcp.stats
}

// isRTCP tells RTCP from RTP on one port (RFC 5761 §4).
func isRTCP(b []byte) bool { return len(b) >= 4 && b[1] >= 192 && b[1] <= 223 }

// heardRTP notes the bridge's SSRC for the phone's report blocks.
func (c *Call) heardRTP(ssrc uint32) {
	c.rtcp.mu.Lock()
	c.rtcp.peerSSRC, c.rtcp.havePeer = ssrc, true
	c.rtcp.mu.Unlock()
}

// onRTCP counts one compound packet from the bridge.
func (c *Call) onRTCP(b []byte, muxed bool, now time.Time) {
	pkts, err := rtcp.Unmarshal(b)
	r := &c.rtcp
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.Malformed++
		return
	}
	if muxed {
		r.stats.Muxed++
	}
	var blocks []rtcp.ReceptionReport
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			r.stats.SR++
			r.lsr, r.lsrAt = uint32(p.NTPTime>>16), now
			r.peerSSRC, r.havePeer = p.SSRC, true
			blocks = append(blocks, p.Reports...)
		case *rtcp.ReceiverReport:
			r.stats.RR++
			r.peerSSRC, r.havePeer = p.SSRC, true
			blocks = append(blocks, p.Reports...)
		case *rtcp.Goodbye:
			r.stats.Bye++
		}
	}
	for _, bl := range blocks {
		if bl.SSRC == c.ssrc {
			r.stats.LastBlock, r.stats.HasBlock = bl, true
		}
	}
}

// rtcpRecvLoop reads the phone's RTCP socket (without rtcp-mux).
func (c *Call) rtcpRecvLoop() {
	buf := make([]byte, 1500)
	for {
		n, _, err := c.rtcpConn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-c.stop:
				return
			default:
				continue
			}
		}
		c.onRTCP(buf[:n], false, time.Now())
	}
}

// setRTCPRemote sets where reports go from the answer: the RTP address
// with mux, else the port above it (the bridge sends no a=rtcp).
func (c *Call) setRTCPRemote(info sessionInfo) {
	r := &c.rtcp
	r.mu.Lock()
	defer r.mu.Unlock()
	r.muxed = c.opts.RTCPMux && info.rtcpMux
	if info.ip.IsUnspecified() || info.port == 0 {
		r.to = nil
		return
	}
	port := info.port
	if !r.muxed {
		port++
	}
	r.to = &net.UDPAddr{IP: info.ip, Port: port}
}

// rtcpSendLoop sends an RR (and SDES) every Options.RTCPInterval.
func (c *Call) rtcpSendLoop() {
	t := time.NewTicker(c.opts.RTCPInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.sendRR()
	}
}

func (c *Call) sendRR() {
	r := &c.rtcp
	r.mu.Lock()
	to, muxed := r.to, r.muxed
	rr := &rtcp.ReceiverReport{SSRC: c.ssrc}
	if r.havePeer {
		bl := rtcp.ReceptionReport{SSRC: r.peerSSRC, FractionLost: uint8(min(c.opts.RTCPReportLoss*256, 255))}
		if !r.lsrAt.IsZero() {
			bl.LastSenderReport = r.lsr
			bl.Delay = uint32(time.Since(r.lsrAt) * 65536 / time.Second)
		}
		rr.Reports = []rtcp.ReceptionReport{bl}
	}
	r.mu.Unlock()
	if to == nil {
		return
	}
	b, err := rtcp.Marshal([]rtcp.Packet{rr, rtcp.NewCNAMESourceDescription(c.ssrc, "testphone@"+c.opts.LocalIP)})
	if err != nil {
		return
	}
	conn := c.rtcpConn
	if muxed || conn == nil {
		conn = c.rtpConn
	}
	if _, err := conn.WriteToUDP(b, to); err == nil {
		r.mu.Lock()
		r.stats.Sent++
		r.mu.Unlock()
	}
}
