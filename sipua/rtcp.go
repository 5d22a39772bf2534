package sipua

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
)

// parseRTCPAttr reads a=rtcp-mux (RFC 5761) and a=rtcp:PORT [IN IP4 addr]
// (RFC 3605) into the stream m.
func parseRTCPAttr(m *mediaLine, name, value string) error {
	if name == "rtcp-mux" {
		m.rtcpMux = true
		return nil
	}
	f := strings.Fields(value)
	if len(f) != 1 && len(f) != 4 {
		return fmt.Errorf("bad a=rtcp %q", clip(value))
	}
	port, err := strconv.Atoi(f[0])
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("bad a=rtcp port %q", clip(f[0]))
	}
	m.rtcpPort = port
	if len(f) == 4 {
		addr, err := parseConnection(strings.Join(f[1:], " "))
		if err != nil {
			return fmt.Errorf("a=rtcp: %v", err)
		}
		m.rtcpAddr = netip.AddrPortFrom(addr, uint16(port))
	}
	return nil
}

// rtcpRemote is where the stream's RTCP goes without mux: the a=rtcp
// address and port if given, else zero (the RTP port + 1, RFC 3550 §11).
func (m *mediaLine) rtcpRemote() netip.AddrPort {
	switch {
	case m.rtcpAddr.IsValid():
		return m.rtcpAddr
	case m.rtcpPort != 0 && m.addr.IsValid():
		return netip.AddrPortFrom(m.addr, uint16(m.rtcpPort))
	}
	return netip.AddrPort{}
}

// appendRTCP adds a=rtcp-mux to the audio stream: in an answer to an offer
// that had it, and in our own offers (Offer sets it: we read RTCP on either
// port, and send it muxed only when the answer has it too).
func (a Answer) appendRTCP(b []byte) []byte {
	if a.RTCPMux {
		b = append(b, "a=rtcp-mux\r\n"...)
	}
	return b
}

// rtcpConfig sets the session's RTCP: the pair's odd port, the peer's
// RTCP address and mux from the SDP, the configured report interval. The
// peer's RTCP BYE is logged; the call goes on until SIP ends it (a BYE
// on a stream is no hang-up, and a forged one would otherwise end calls).
func (s *Server) rtcpConfig(cfg *media.SessionConfig, pair media.PortPair, neg Negotiated, log zerolog.Logger) {
	cfg.RTCPConn = pair.RTCP
	cfg.OnRTCPBye = func() { log.Info().Msg("caller's RTCP BYE: its media stream ended") }
	cfg.RTCPRemote = neg.RTCPRemote
	cfg.RTCPMux = neg.RTCPMux
	cfg.RTCPInterval = s.opts.RTP.RTCPInterval
	if cfg.RTCPInterval <= 0 {
		cfg.RTCPInterval = -1 // rtp.rtcp_interval 0: no reports
	}
}

// logRTCPStats adds the call's RTCP figures to its "call ended" line.
func logRTCPStats(ev *zerolog.Event, st media.Stats) *zerolog.Event {
	ev = ev.Uint64("rtcp_sent", st.RTCPSent).Uint64("rtcp_received", st.RTCPReceived)
	if st.RTCPBye > 0 {
		ev = ev.Uint64("rtcp_bye", st.RTCPBye)
	}
	if st.RTCPReceived > 0 {
		ev = ev.Float64("peer_loss_pct", media.FractionPercent(st.PeerFractionLost)).
			Int32("peer_lost", st.PeerCumulativeLost).Float64("peer_jitter_ms", jitterMs(st.PeerJitter))
		if st.RTT > 0 {
			ev = ev.Float64("rtt_ms", float64(st.RTT.Microseconds())/1000)
		}
	}
	if st.Received > 0 {
		ev = ev.Float64("loss_pct", media.FractionPercent(st.FractionLost)).
			Int32("lost", st.CumulativeLost).Float64("jitter_ms", jitterMs(st.Jitter))
	}
	return ev
}

// jitterMs is an RTCP jitter (8 kHz timestamp units) in milliseconds.
func jitterMs(units uint32) float64 { return float64(units) / (media.SampleRate / 1000) }
