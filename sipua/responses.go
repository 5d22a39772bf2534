package sipua

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/internal/loglimit"
)

// respond answers a request outside any dialog (or before one exists).
func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func retryAfter(d time.Duration) sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(int(d.Round(time.Second)/time.Second)))
}

// warning explains a refusal to the far end's engineers (RFC 3261 20.43).
func warning(err error) sip.Header {
	text := strings.ReplaceAll(err.Error(), `"`, "'")
	return sip.NewHeader("Warning", `399 dialin "`+text+`"`)
}

// allowedMethods is the Allow header: the methods the bridge answers.
const allowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"

// onOptions answers a keepalive or capability query. While draining, an
// OPTIONS outside any call (a trunk's or Kamailio dispatcher's ping) gets
// 503, which tells it to send new calls elsewhere; one in a call's dialog
// still gets 200, so the calls in progress are not taken for dead.
//
// An OPTIONS from another cluster node in a dialog this bridge does not
// have gets 481 (RFC 3261 12.2.2): the node probing a call it moved here
// learns that it is gone (a restarted node answers, but has lost its
// calls). Trunks keep getting 200: some send their pings with the To tag
// of an earlier answer.
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	in := s.lookup(req) // an OPTIONS in a call's dialog: the caller is alive
	leg := in == nil && s.legOf(req) != nil
	if to := req.To(); in == nil && !leg && to != nil && to.Params.Has("tag") && s.fromNode(req) {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if in == nil && !leg && s.draining.Load() {
		respond(tx, req, 503, "Service Unavailable", retryAfter(s.opts.Limits.RetryAfter))
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp, application/dtmf-relay, application/dtmf"))
	_ = tx.Respond(res)
}

// onCancel sees only CANCELs that matched no pending INVITE: sipgo answers
// the others itself (200, then 487 to the INVITE).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

// onOtherMethod answers methods the bridge does not handle (REGISTER,
// SUBSCRIBE, MESSAGE...) from a trusted source, as sipgo would by itself.
func (s *Server) onOtherMethod(req *sip.Request, tx sip.ServerTransaction) {
	if ok, suppressed := s.otherMethodLog.Allow(time.Now()); ok {
		s.log.Debug().Str("method", loglimit.Excerpt(req.Method.String())).Str("source", req.Source()).
			Int("suppressed", suppressed).Msg("refused: method not handled")
	}
	respond(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowedMethods))
}
