package sipua

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
)

// lookup finds the call whose dialog an in-dialog request belongs to. A
// request in the dialog is a sign the far end's SIP side is alive, which
// spares it a liveness probe (liveness.go).
func (s *Server) lookup(req *sip.Request) *inbound {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	in := s.dialogs[id]
	s.mu.Unlock()
	if in != nil {
		in.sawSignOfLife()
	}
	return in
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	in := s.lookup(req)
	if in == nil {
		return // an ACK for a failed INVITE's final response, or stray: never answered
	}
	if in.lateOffer.CompareAndSwap(true, false) {
		// Keep the SDP answer before ReadAck wakes up the INVITE handler.
		in.mu.Lock()
		in.ackSDP = req.Body()
		in.mu.Unlock()
	}
	if err := in.dialog.ReadAck(req, tx); err != nil {
		in.inDialogLog(zerolog.DebugLevel).Err(err).Msg("ACK does not match")
	}
	if cseq := req.CSeq().SeqNo; in.reofferCSeq.CompareAndSwap(cseq, 0) && len(req.Body()) > 0 {
		// We offered in the 200 to an offerless re-INVITE: this is the answer.
		if err := in.applyAnswer(req.Body()); err != nil {
			in.inDialogLog(zerolog.WarnLevel).Err(err).Msg("re-INVITE: unusable SDP answer in the ACK, session unchanged")
		}
	}
	in.gotAck(req.CSeq().SeqNo)
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	in := s.lookup(req)
	if in == nil && s.onLegRequest(req, tx) {
		return
	}
	if in == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if in.dialog.LoadState() < sip.DialogStateEstablished {
		// RFC 3261 §15.1.2: a caller may hang up with a BYE in the early
		// dialog (after our 180). The BYE gets its 200 here, and ring
		// answers the INVITE with 487 on its own goroutine, where the
		// transaction can wait for the ACK. sipgo's ReadBye would end the
		// INVITE transaction with no final response at all.
		if req.CSeq().SeqNo <= in.dialog.InviteRequest.CSeq().SeqNo {
			respond(tx, req, 400, "Bad Request", warning(sipgo.ErrDialogInvalidCseq))
			return
		}
		respond(tx, req, 200, "OK")
		in.call.Hangup(ErrRemoteHangup)
		return
	}
	if err := in.dialog.ReadBye(req, tx); err != nil {
		in.inDialogLog(zerolog.InfoLevel).Err(err).Msg("bad BYE")
		respond(tx, req, 400, "Bad Request", warning(err))
		return
	}
	in.call.Hangup(ErrRemoteHangup)
}

// readInDialog checks the CSeq of a request inside a call's dialog. Until
// the ACK of our 200 has confirmed the dialog, sipgo's ReadRequest must not
// run: it moves the dialog's CSeq past the INVITE's, and ReadAck then
// refuses the ACK (an INFO handled just before the ACK it followed would
// leave the call unanswered). Then only check the CSeq is above the
// INVITE's.
func readInDialog(in *inbound, req *sip.Request, tx sip.ServerTransaction) error {
	if in.dialog.LoadState() < sip.DialogStateConfirmed {
		if req.CSeq().SeqNo <= in.dialog.InviteRequest.CSeq().SeqNo {
			return sipgo.ErrDialogInvalidCseq
		}
		return nil
	}
	return in.dialog.ReadRequest(req, tx)
}

// onInfo accepts DTMF sent as SIP INFO (application/dtmf-relay "Signal=5",
// or application/dtmf "5"), which some trunks use instead of RFC 4733.
//
// The INFO's transaction ends as soon as it is answered. SIP would keep it
// 32 s (Timer J) to answer retransmissions; a call keying a conference ID
// and PIN sends a dozen INFOs, so at a high call rate those transactions
// were most of the bridge's memory. The call remembers the last INFO it
// took instead: a retransmission (our 200 was lost) gets its 200 again and
// its key is not taken twice.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	defer tx.Terminate()
	in := s.lookup(req)
	if in == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	cseq := req.CSeq().SeqNo
	if in.seenINFO(cseq) {
		respond(tx, req, 200, "OK")
		return
	}
	if err := readInDialog(in, req, tx); err != nil {
		respond(tx, req, 500, "Server Internal Error", retryAfter(time.Second))
		return
	}
	in.tookINFO(cseq)
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	if key, ok := parseINFODigit(ct, req.Body()); ok {
		in.call.pushDigit(key, sourceINFO)
	}
	respond(tx, req, 200, "OK")
}

func parseINFODigit(contentType string, body []byte) (byte, bool) {
	var sig string
	switch {
	case strings.HasPrefix(contentType, "application/dtmf-relay"):
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "Signal") {
				sig = strings.TrimSpace(v)
			}
		}
	case strings.HasPrefix(contentType, "application/dtmf"):
		sig = strings.TrimSpace(string(body))
	default:
		return 0, false
	}
	if len(sig) == 1 {
		if _, ok := media.EventForDigit(sig[0]); ok {
			return strings.ToUpper(sig)[0], true
		}
	}
	// Some gateways send the event number: 10 for *, 11 for #.
	if n, err := strconv.Atoi(sig); err == nil && n >= 0 && n < 16 {
		return media.DigitForEvent(uint8(n))
	}
	return 0, false
}
