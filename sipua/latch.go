package sipua

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/media"
)

// latchRule maps rtp.latch to the media session's rule. Validate has
// refused anything else; an unknown value gets the strictest rule.
func latchRule(name string) media.LatchRule {
	switch name {
	case config.RTPLatchSignalling:
		return media.LatchSignalling
	case config.RTPLatchAny:
		return media.LatchAny
	default:
		return media.LatchSDP
	}
}

// signallingIP is the IP address the request came from (the zero Addr if
// sipgo's source is unreadable, which allows nothing).
func signallingIP(req *sip.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
