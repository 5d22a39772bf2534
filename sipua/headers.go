package sipua

import (
	"context"
	"net"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// supportedExtensions is the Supported header: the option tags the bridge
// implements (RFC 4028 session timers).
const supportedExtensions = "timer"

// stamp adds the headers that tell a trunk or SBC what the bridge is and
// does (RFC 3261 §20): Server on responses and User-Agent on requests
// (sip.user_agent), Allow and Supported on both (not on ACK and CANCEL,
// RFC 3261 table 3). A header the message has already is left as it is.
// Every response and request the bridge makes passes here: responses
// through stampingTx, in-dialog requests through dialogRequester.
func (s *Server) stamp(msg sip.Message) {
	agent := "Server"
	allowSupported := true
	if req, ok := msg.(*sip.Request); ok {
		agent = "User-Agent"
		allowSupported = !req.IsAck() && !req.IsCancel()
	}
	if ua := s.opts.SIP.UserAgent; ua != "" && len(msg.GetHeaders(agent)) == 0 {
		msg.AppendHeader(sip.NewHeader(agent, ua))
	}
	if !allowSupported {
		return
	}
	if len(msg.GetHeaders("Allow")) == 0 {
		msg.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	}
	if len(msg.GetHeaders("Supported")) == 0 {
		msg.AppendHeader(sip.NewHeader("Supported", supportedExtensions))
	}
}

// stampingTx stamps every response sent on a server transaction, including
// those the dialog sends on the INVITE's (ReadInvite keeps this wrapper).
type stampingTx struct {
	sip.ServerTransaction
	s *Server
}

func (t stampingTx) Respond(res *sip.Response) error {
	t.s.stamp(res)
	return t.ServerTransaction.Respond(res)
}

// stamped makes next answer through a stampingTx.
func (s *Server) stamped(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		next(req, stampingTx{ServerTransaction: tx, s: s})
	}
}

// dialogRequester sends the requests the bridge makes inside its dialogs
// (BYE, session refreshes, probes): the dialogs' client uses it in place of
// sipgo's transaction layer, to stamp them and to pick their connection.
type dialogRequester struct{ s *Server }

func (r dialogRequester) Request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	r.s.stamp(req)
	r.s.pickConnection(req)
	if req.IsAck() {
		return nil, r.s.ua.TransportLayer().WriteMsg(req)
	}
	tx, err := r.s.ua.TransactionLayer().Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return tx, nil
}

// pickConnection makes an in-dialog request leave the way the dialog came
// in. Over UDP: from the listening socket (sipgo would otherwise pick an
// ephemeral port when the caller's Contact differs from the INVITE's
// source, and trunks that filter by source would drop it). Over TCP: on
// the connection the INVITE arrived on while it is open (RFC 3261 §18, RFC
// 5923), not a new one to the Contact, which a caller behind NAT or a
// firewall never receives. With a route set, only when its first hop is
// the host that sent us the INVITE (the proxy nearest to us).
func (s *Server) pickConnection(req *sip.Request) {
	if strings.EqualFold(req.Transport(), "udp") {
		if req.Laddr.IP == nil && len(s.udpConns) > 0 {
			// The address sipgo knows the listener by: its bound address,
			// which is [::]:port when listening on all addresses.
			local := s.udpConns[0].LocalAddr().(*net.UDPAddr)
			req.Laddr = sip.Addr{IP: local.IP, Port: local.Port}
		}
		return
	}
	if !sip.IsReliable(req.Transport()) {
		return
	}
	id, err := sip.DialogIDFromRequestUAC(req)
	if err != nil {
		return
	}
	s.mu.Lock()
	in := s.dialogs[id]
	s.mu.Unlock()
	if in == nil {
		return
	}
	source := in.dialog.InviteRequest.Source()
	if route := req.Route(); route != nil {
		host, _, err := net.SplitHostPort(source)
		if err != nil || !strings.EqualFold(strings.Trim(route.Address.Host, "[]"), host) {
			return
		}
	}
	if _, err := s.ua.TransportLayer().GetConnection(req.Transport(), source); err != nil {
		return // closed: a new connection to the route or the Contact it is
	}
	req.SetDestination(source)
}
