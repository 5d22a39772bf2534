package media

import "net/netip"

// LatchRule says whose RTP a session takes. The session latches onto the
// first packet from an allowed address and sends there (symmetric RTP);
// packets from addresses the rule does not allow are dropped before they
// are parsed and counted (Stats.DroppedForeign), so a host that sprays the
// port range cannot take a call's audio or press its keys.
//
// The rules compare IP addresses only, never ports: a phone behind NAT
// sends from another port than its SDP names, which is what latching is
// for (Asterisk's strictrtp and FreeSWITCH's rtp-autoadjust make the same
// compromise).
type LatchRule uint8

const (
	// LatchSDP allows only the IP address of the SDP (c= line), set again
	// by every SetRemote (a re-INVITE that moves the far end). The zero
	// value.
	LatchSDP LatchRule = iota
	// LatchSignalling allows the SDP's IP address and the address the
	// INVITE came from (SessionConfig.SignallingIP): a caller behind NAT
	// puts its private address in the SDP, while its media, like its SIP,
	// leaves the NAT by the public one.
	LatchSignalling
	// LatchAny latches onto the first packet from anywhere.
	LatchAny
)

// latchAllow is what the rule allows now: up to two IP addresses
// (unmapped; an invalid one allows nothing).
type latchAllow struct {
	sdp, signalling netip.Addr
}

// applyLatch sets the allowed addresses for a new SDP address. An SDP
// without a usable address (a delayed offer not answered yet, or the old
// hold form c=0.0.0.0) keeps the SDP address allowed before. The signalling
// goroutine calls it (SetRemote); the receive path only loads the result.
func (s *Session) applyLatch(remote netip.AddrPort) {
	if s.latchRule == LatchAny {
		s.allowed.Store(nil)
		return
	}
	allow := latchAllow{sdp: remote.Addr().Unmap()}
	if !allow.sdp.IsValid() || allow.sdp.IsUnspecified() {
		allow.sdp = netip.Addr{}
		if prev := s.allowed.Load(); prev != nil {
			allow.sdp = prev.sdp
		}
	}
	if s.latchRule == LatchSignalling {
		allow.signalling = s.signallingIP
	}
	s.allowed.Store(&allow)
}

// foreign reports whether the latch rule refuses a packet from src. It runs
// per packet: one atomic load and two comparisons, no allocation.
func (s *Session) foreign(src netip.AddrPort) bool {
	allow := s.allowed.Load()
	if allow == nil {
		return false // LatchAny
	}
	ip := src.Addr().Unmap()
	if !ip.IsValid() {
		return true
	}
	return ip != allow.sdp && ip != allow.signalling
}
