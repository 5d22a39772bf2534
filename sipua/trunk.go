package sipua

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/loglimit"
)

// trustedNetworks is the trunk ACL: the source networks allowed to send SIP
// requests (sip.trusted_networks).
type trustedNetworks []netip.Prefix

func parseTrustedNetworks(list []string) (trustedNetworks, error) {
	if len(list) == 0 {
		return nil, errors.New("sip: sip.trusted_networks is empty, so no trunk could call")
	}
	nets := make(trustedNetworks, 0, len(list))
	for i, s := range list {
		p, err := config.ParseNetwork(s)
		if err != nil {
			return nil, fmt.Errorf("sip: sip.trusted_networks[%d]: %w", i, err)
		}
		nets = append(nets, p)
	}
	return nets, nil
}

// allows reports whether a request from source ("ip:port", as the transport
// saw it, not as the Via claims) may be served. An IPv4 peer on a dual-stack
// socket shows as ::ffff:a.b.c.d and is matched as IPv4.
func (t trustedNetworks) allows(source string) bool {
	ip, ok := sourceAddr(source)
	return ok && t.contains(ip)
}

// contains reports whether ip (unmapped, without a zone) is in a trusted
// network; the listeners ask it of every datagram and connection.
func (t trustedNetworks) contains(ip netip.Addr) bool {
	for _, p := range t {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// sourceAddr is the address of a request's source ("ip:port" as the
// transport saw it), an IPv4 peer of a dual-stack socket as IPv4, without
// a zone: the form the ACL and the digest nonces compare.
func sourceAddr(source string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(source)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap().WithZone(""), true
}

// fromTrunk serves requests from the trusted networks with next and answers
// any other with 403 Forbidden (an ACK, which has no answer, is dropped), so
// a stranger can neither start a call nor touch one. The listeners already
// keep strangers out (listen_udp.go, listen_tcp.go); this stays as defence
// in depth, should a path ever reach sipgo without them.
func (s *Server) fromTrunk(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if s.trusted.allows(req.Source()) {
			next(req, tx)
			return
		}
		s.refusedUntrusted.Add(1)
		if ok, suppressed := s.untrustedLog.Allow(time.Now()); ok {
			callID := ""
			if h := req.CallID(); h != nil {
				callID = h.Value()
			}
			s.log.Warn().Str("call_id", loglimit.Excerpt(callID)).Str("method", loglimit.Excerpt(req.Method.String())).
				Str("source", req.Source()).Str("transport", req.Transport()).Int("suppressed", suppressed).
				Msg("refused: source not in sip.trusted_networks")
		}
		if req.IsAck() {
			return
		}
		respond(tx, req, 403, "Forbidden")
	}
}

// RefusedUntrusted counts what was refused for its source: requests (each
// UDP retransmission counts, ACKs do not) and TCP connections.
func (s *Server) RefusedUntrusted() uint64 { return s.refusedUntrusted.Load() }
