package sipua

import (
	"errors"
	"time"

	"github.com/emiago/sipgo/sip"
)

// onReinvite answers an in-dialog INVITE: hold and resume (sendonly /
// inactive / sendrecv), a new media address, or a session refresh. Trunks
// tear calls down when re-INVITEs go unanswered, so every path responds.
func (s *Server) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	in := s.lookup(req)
	if in == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if in.dialog.LoadState() < sip.DialogStateConfirmed {
		// Our 200 to the INVITE is not ACKed yet (RFC 3261 14.2).
		respond(tx, req, 491, "Request Pending")
		return
	}
	terms, ok := s.checkTimer(req, tx)
	if !ok {
		return
	}
	res, ok := s.renegotiate(in, req, tx)
	if !ok {
		return
	}
	addTimerHeaders(res, terms)
	// A 2xx to a re-INVITE is retransmitted by us, not by the transaction
	// layer, until the ACK arrives (RFC 3261 13.3.1.4).
	acked := in.expectAck(req.CSeq().SeqNo)
	defer in.dropAckWaiter(acked)
	if err := tx.Respond(res); err != nil {
		in.call.log.Warn().Err(err).Msg("re-INVITE: sending 200 failed")
		return
	}
	in.onRefresh(terms)
	interval := sip.T1
	deadline := time.NewTimer(64 * sip.T1)
	defer deadline.Stop()
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	for {
		select {
		case <-acked:
			return
		case <-in.call.ctx.Done():
			return
		case <-deadline.C:
			in.call.log.Warn().Msg("re-INVITE: no ACK for our 200")
			return
		case <-retransmit.C:
			if err := tx.Respond(res); err != nil {
				return
			}
			interval = min(2*interval, sip.T2)
			retransmit.Reset(interval)
		}
	}
}

// onUpdate handles RFC 3311 UPDATE: the same offer/answer as a re-INVITE,
// but answered in one transaction with no ACK.
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	in := s.lookup(req)
	if in == nil && s.onLegRequest(req, tx) {
		return
	}
	if in == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	terms, ok := s.checkTimer(req, tx)
	if !ok {
		return
	}
	var res *sip.Response
	if len(req.Body()) == 0 {
		// A session refresh without an offer is answered without SDP.
		if err := readInDialog(in, req, tx); err != nil {
			respond(tx, req, 500, "Server Internal Error", retryAfter(time.Second))
			return
		}
		res = sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.HeaderClone(&s.dialogUA[dialogTransport(req)].ContactHDR))
	} else if res, ok = s.renegotiate(in, req, tx); !ok {
		return
	}
	addTimerHeaders(res, terms)
	if tx.Respond(res) == nil {
		in.onRefresh(terms)
	}
}

// renegotiate applies an in-dialog offer and builds the 200 with our answer.
// When it cannot, it responds itself (400, 488, 500) and reports false; the
// session then goes on unchanged.
func (s *Server) renegotiate(in *inbound, req *sip.Request, tx sip.ServerTransaction) (*sip.Response, bool) {
	if err := readInDialog(in, req, tx); err != nil {
		respond(tx, req, 500, "Server Internal Error", retryAfter(time.Second))
		return nil, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(req.Body()) == 0 {
		// No offer: we make one; the answer comes in the ACK (onAck).
		if req.IsInvite() {
			in.reofferCSeq.Store(req.CSeq().SeqNo)
		}
		return s.okWithSDP(req, in.answer.Offer()), true
	}
	offer, err := ParseSDP(req.Body())
	if err != nil {
		in.call.log.Info().Err(err).Msg("re-INVITE: bad SDP, session unchanged")
		respond(tx, req, 400, "Bad Request", warning(err))
		return nil, false
	}
	current := in.answer.Codec
	neg, err := Negotiate(offer, &current)
	if err != nil {
		if errors.Is(err, ErrNoCommonCodec) {
			in.call.log.Info().Err(err).Msg("re-INVITE: no common codec, session unchanged")
			respond(tx, req, 488, "Not Acceptable Here", warning(err))
			return nil, false
		}
		respond(tx, req, 400, "Bad Request", warning(err))
		return nil, false
	}
	in.applyLocked(neg)
	return s.okWithSDP(req, in.answer.Marshal(offer)), true
}

func (s *Server) okWithSDP(req *sip.Request, sdp []byte) *sip.Response {
	res := sip.NewSDPResponseFromRequest(req, sdp)
	res.AppendHeader(sip.HeaderClone(&s.dialogUA[dialogTransport(req)].ContactHDR))
	return res
}
