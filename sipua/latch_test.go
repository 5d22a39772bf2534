package sipua

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/media"
)

func TestLatchRule(t *testing.T) {
	for name, want := range map[string]media.LatchRule{
		config.RTPLatchSDP:        media.LatchSDP,
		config.RTPLatchSignalling: media.LatchSignalling,
		config.RTPLatchAny:        media.LatchAny,
		"":                        media.LatchSDP, // never valid; the strictest
	} {
		if got := latchRule(name); got != want {
			t.Errorf("latchRule(%q) = %v, want %v", name, got, want)
		}
	}
	if got := latchRule(config.Default().RTP.Latch); got != media.LatchSignalling {
		t.Errorf("default rule %v, want signalling", got)
	}
}

func TestSignallingIP(t *testing.T) {
	for source, want := range map[string]netip.Addr{
		"192.0.2.7:5060":          netip.MustParseAddr("192.0.2.7"),
		"[::ffff:192.0.2.7]:5060": netip.MustParseAddr("192.0.2.7"),
		"[2001:db8::1]:5070":      netip.MustParseAddr("2001:db8::1"),
		"not an address":          {},
		"":                        {},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{User: "conference", Host: "127.0.0.1"})
		req.SetSource(source)
		if got := signallingIP(req); got != want {
			t.Errorf("signallingIP(%q) = %v, want %v", source, got, want)
		}
	}
}
