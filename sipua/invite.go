package sipua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/internal/loglimit"
	"github.com/dialin/dialin/media"
)

// onInvite answers a new INVITE, step by step: admit it, read its offer,
// make the dialog, give it a media session, answer, then run the call flow
// on this goroutine until the call ends. An in-dialog INVITE is a
// re-INVITE (reinvite.go).
func (s *Server) onInvite(req *sip.Request, stx sip.ServerTransaction) {
	if _, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if !s.onLegRequest(req, stx) {
			s.onReinvite(req, stx)
		}
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	n := s.active.Add(1)
	defer s.active.Add(-1)
	// The call's record sees every final answer on the transaction; it is
	// handed over before Shutdown stops waiting for this call.
	end := newCallEnd(req, stx)
	defer s.finish(end)
	tx := end.tx

	log := s.log.With().Str("call_id", loglimit.Excerpt(callID(req))).Logger()
	from := ""
	if h := req.From(); h != nil {
		from = h.Address.String()
	}
	log.Info().Str("from", loglimit.Excerpt(from)).Str("to", loglimit.Excerpt(req.Recipient.String())).
		Str("source", req.Source()).Str("transport", req.Transport()).Msg("call offered")

	join, isJoin, ok := s.readJoin(req, tx, log, end)
	if isJoin {
		end.Join = &join
	}
	if !ok || !s.admit(req, tx, log, n, end, isJoin) {
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))
	if isJoin && s.opts.AcceptJoin != nil && !s.opts.AcceptJoin(join) {
		log.Info().Str("conference_id", join.ConferenceID).Msg("refused: inter-node call for a meeting this node is not the home of")
		end.refused("not the meeting's home")
		respond(tx, req, 410, "Not The Meeting's Home")
		return
	}
	offer, neg, ok := s.readOffer(req, tx, log)
	if !ok {
		end.refused("bad or unusable SDP offer")
		return
	}
	terms, ok := s.checkTimer(req, tx)
	if !ok {
		s.counts.sessionTimer.Add(1)
		log.Info().Str("session_expires", headerValue(req, "Session-Expires", "x")).Msg("refused: session timer")
		end.refused("session timer")
		return
	}
	dialog, err := s.dialogUA[dialogTransport(req)].ReadInvite(req, tx)
	if err != nil {
		s.counts.badRequest.Add(1)
		log.Info().Err(err).Msg("refused: bad INVITE")
		end.refused("bad INVITE")
		respond(tx, req, 400, "Bad Request", warning(err))
		return
	}
	defer dialog.Close()

	in, release, ok := s.newInbound(req, dialog, neg, log)
	if !ok {
		end.refused("no RTP port or socket")
		return
	}
	defer release()
	end.call = in.call
	if isJoin {
		in.call.join = &join
	}
	in.timer = s.newSessionTimer(in, terms)
	s.register(in)
	defer s.unregister(in)

	if !s.ring(in, end) || !s.answer(in, offer, end) {
		s.counts.unanswered.Add(1)
		return
	}
	s.counts.answered.Add(1)
	call := in.call
	call.started = time.Now()
	in.mu.Lock()
	neg = in.answer.Negotiated // a delayed offer's answer came in the ACK
	in.mu.Unlock()
	log.Info().Bool("delayed_offer", offer == nil).Stringer("codec", neg.Codec).Int("rtp_port", call.LocalPort()).Stringer("rtp_remote", neg.Remote).
		Uint8("dtmf_pt", neg.DTMFPayloadType).Msg("call answered")
	defer in.timer.start()()
	s.run(in)
}

// admit decides whether a new call may start: digest authentication, then
// shutdown, the dial-in number and the call limit. When it may not, admit
// has answered the INVITE. n counts this INVITE among those being handled.
//
// An inter-node INVITE (isJoin, its claim verified) is not a trunk's: no
// digest, no dial-in number; the home node decides whether it is the
// meeting's home (Options.AcceptJoin).
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction, log zerolog.Logger, n int64, end *callEnd, isJoin bool) bool {
	if !isJoin && s.auth != nil && !s.authenticate(req, tx, log) {
		end.refused("digest authentication")
		return false
	}
	switch {
	case s.draining.Load() && !isJoin: // a stopping home still takes callers of its meetings (AcceptJoin)
		s.counts.shutdown.Add(1)
		log.Info().Msg("refused: shutting down")
		end.refused("shutting down")
		respond(tx, req, 503, "Service Unavailable", retryAfter(s.opts.Limits.RetryAfter))
		return false
	case !isJoin && !s.acceptsNumber(req.Recipient.User):
		s.counts.notDialIn.Add(1)
		log.Info().Str("number", loglimit.Excerpt(req.Recipient.User)).Msg("refused: not a dial-in number")
		end.refused("not a dial-in number")
		respond(tx, req, 404, "Not Found")
		return false
	case n > int64(s.opts.Limits.MaxCalls):
		s.counts.maxCalls.Add(1)
		log.Warn().Int("max_calls", s.opts.Limits.MaxCalls).Msg("refused: too many calls")
		end.refused("too many calls")
		respond(tx, req, 503, "Service Unavailable", retryAfter(s.opts.Limits.RetryAfter))
		return false
	}
	return true
}

// readOffer reads the INVITE's SDP offer and negotiates the session. An
// INVITE without SDP is a delayed offer (some trunks, e.g. Cisco CUBE, send
// them): offer is then nil, we offer in the 200 what neg says, and the
// answer comes in the ACK. When the offer is unusable, readOffer has
// answered the INVITE (400, 488) and reports false.
func (s *Server) readOffer(req *sip.Request, tx sip.ServerTransaction, log zerolog.Logger) (offer *Offer, neg Negotiated, ok bool) {
	neg = Negotiated{Codec: media.PCMU, DTMFPayloadType: 101, Direction: SendRecv, ComfortNoise: true}
	if len(req.Body()) == 0 {
		return nil, neg, true
	}
	offer, err := ParseSDP(req.Body())
	if err != nil {
		s.counts.badRequest.Add(1)
		log.Info().Err(err).Msg("refused: bad SDP offer")
		respond(tx, req, 400, "Bad Request", warning(err))
		return nil, neg, false
	}
	if neg, err = Negotiate(offer, nil); err != nil {
		s.counts.noCodec.Add(1)
		log.Info().Err(err).Msg("refused: no common codec")
		respond(tx, req, 488, "Not Acceptable Here", warning(err))
		return nil, neg, false
	}
	return offer, neg, true
}

// newInbound makes the call for a new dialog: an RTP port and a session on
// it negotiated as neg, the player that sends on it, and the DTMF
// transports sip.dtmf allows. release gives the port and the session back
// once the call is over. Without a port or socket, newInbound has refused
// the call (503) and reports false.
func (s *Server) newInbound(req *sip.Request, dialog *sipgo.DialogServerSession, neg Negotiated, log zerolog.Logger) (in *inbound, release func(), ok bool) {
	pair, err := s.ports.ListenPair(s.mediaIP)
	port := pair.Port
	if err != nil {
		s.counts.noMedia.Add(1)
		log.Error().Err(err).Msg("refused: no RTP port")
		_ = dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.opts.Limits.RetryAfter))
		return nil, nil, false
	}
	ctx, cancel := context.WithCancelCause(s.baseCtx)
	call := &Call{
		id:     callID(req),
		log:    log,
		caller: callerNumber(req),
		source: sourceIP(req),
		digits: make(chan byte, digitQueue),
		dtmf:   newDTMFGate(s.opts.SIP.DTMF, neg.DTMFPayloadType != 0),
		ctx:    ctx,
		cancel: cancel,
		hold:   holdState{changed: make(chan struct{}, 1)},
	}
	cfg := media.SessionConfig{
		Conn:              pair.RTP,
		Remote:            neg.Remote,
		Codec:             neg.Codec,
		DTMFPayloadType:   neg.DTMFPayloadType,
		InactivityTimeout: s.sessionInactivity(), // 0 while liveness probes decide
		OnDigit:           call.onRFC4733Key,
		OnFailure:         call.Hangup,
		Latch:             latchRule(s.opts.RTP.Latch),
		SignallingIP:      signallingIP(req),
		Totals:            s.clock.Totals(),
	}
	if call.dtmf.inband {
		cfg.OnInbandDigit = call.onInbandKey
	}
	s.rtcpConfig(&cfg, pair, neg, log)
	session, err := media.NewSession(cfg)
	if err != nil {
		s.counts.noMedia.Add(1)
		log.Error().Err(err).Msg("refused: no RTP socket")
		_ = dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.opts.Limits.RetryAfter))
		cancel(nil)
		s.ports.Release(port)
		return nil, nil, false
	}
	session.SetDirection(neg.WeSend(), neg.PeerSends())
	call.setHeld(!neg.WeSend())
	call.Session = session
	call.Player = media.NewPlayer(session)
	in = &inbound{
		dialog: dialog,
		call:   call,
		answer: Answer{
			Addr:       s.publicIP,
			Port:       port,
			SessionID:  rand.Int64N(1 << 40),
			Version:    1,
			Negotiated: neg,
		},
		ownAddr: s.publicIP,
		ownPort: port,
	}
	call.in, call.srv = in, s
	release = func() {
		_ = session.Close()
		cancel(nil)
		s.ports.Release(port)
	}
	return in, release, true
}

// register makes the call's dialog known to the in-dialog requests.
func (s *Server) register(in *inbound) {
	s.mu.Lock()
	s.dialogs[in.dialog.ID] = in
	s.mu.Unlock()
}

func (s *Server) unregister(in *inbound) {
	s.mu.Lock()
	delete(s.dialogs, in.dialog.ID)
	s.mu.Unlock()
}

// ring sends 180 Ringing and waits out the configured answer delay. It
// reports false if the caller cancelled meanwhile (sipgo has then answered
// the CANCEL and sent 487 itself).
func (s *Server) ring(in *inbound, end *callEnd) bool {
	delay := s.opts.SIP.AnswerDelay
	if delay <= 0 {
		return true
	}
	call := in.call
	if err := in.dialog.Respond(180, "Ringing", nil); err != nil {
		call.log.Info().Err(err).Msg("call ended before answer")
		end.cancelled("call ended before answer")
		return false
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-in.dialog.Context().Done():
		call.log.Info().Msg("call cancelled before answer")
		end.cancelled("caller cancelled before answer")
		return false
	case <-call.ctx.Done():
		if errors.Is(context.Cause(call.ctx), ErrRemoteHangup) {
			// A BYE in the early dialog (onBye): the INVITE ends with 487.
			call.log.Info().Msg("call hung up (BYE) before answer")
			end.cancelled("caller hung up before answer")
			_ = in.dialog.Respond(487, "Request Terminated", nil)
			return false
		}
		end.refused("shutting down")
		_ = in.dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.opts.Limits.RetryAfter))
		return false
	}
}

// answer sends the 200 OK with our SDP and waits for the ACK. It reports
// false, having cleaned up the dialog, when the call did not get going.
func (s *Server) answer(in *inbound, offer *Offer, end *callEnd) bool {
	call := in.call
	acked := make(chan error, 1)
	var sdp []byte
	if offer != nil {
		sdp = in.answer.Marshal(offer)
	} else {
		in.lateOffer.Store(true)
		sdp = in.answer.Offer()
	}
	if call.ctx.Err() != nil { // shutting down: don't answer at all
		end.refused("shutting down")
		_ = in.dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.opts.Limits.RetryAfter))
		return false
	}
	// WriteResponse (as RespondSDP) retransmits the 200 until the ACK and
	// blocks meanwhile (up to 64×T1 = 32 s without one). The 200 carries
	// the session timer (okResponse).
	res := in.okResponse(sdp)
	s.counts.answerLatency.Observe(time.Since(end.Invited))
	go func() { acked <- in.dialog.WriteResponse(res) }()
	err := <-acked
	if err == nil && offer == nil {
		err = applyAnswerInACK(in)
		if err != nil {
			call.log.Warn().Err(err).Msg("delayed offer: no usable SDP answer in the ACK: hanging up")
			end.refused("no usable SDP answer in the ACK")
			s.bye(in)
			return false
		}
	}
	if err == nil {
		return true
	}
	if cause := context.Cause(in.dialog.Context()); cause != nil && errors.Is(cause, sip.ErrTransactionCanceled) {
		call.log.Info().Msg("call cancelled before answer")
		end.cancelled("caller cancelled before answer")
		return false
	}
	if in.dialog.LoadState() == sip.DialogStateEnded {
		// The caller's BYE arrived though its ACK was lost: it hung up.
		call.log.Info().Msg("caller hung up before the ACK arrived")
		end.cancelled("caller hung up before the ACK arrived")
		return false
	}
	call.log.Warn().Err(err).Msg("no ACK for our 200 OK: hanging up")
	end.refused("no ACK for our 200 OK")
	s.bye(in)
	return false
}

// applyAnswerInACK completes a delayed-offer call: the ACK carried the
// SDP answer to the offer we sent in our 200.
func applyAnswerInACK(in *inbound) error {
	in.mu.Lock()
	body := in.ackSDP
	in.mu.Unlock()
	return in.applyAnswer(body)
}

// run drives an answered call until it ends, then tears it down. The call
// flow runs on this goroutine (sipgo's, for the INVITE): the media clock
// reads and sends the call's RTP, and the teardown waits on the call's
// context, so a call costs one goroutine for its whole life.
func (s *Server) run(in *inbound) {
	call := in.call
	log := call.Log()
	// Whatever ends the call (the caller's BYE, the maximum duration, the
	// flow finishing, silence on the RTP, shutdown) cancels call.ctx; the
	// teardown starts right then, even while the flow is still returning.
	stopRemote := context.AfterFunc(in.dialog.Context(), func() { call.Hangup(ErrRemoteHangup) })
	defer stopRemote()
	if d := s.opts.Limits.MaxCallDuration; d > 0 {
		t := time.AfterFunc(d, func() { call.Hangup(ErrMaxDuration) })
		defer t.Stop()
	}
	tornDown := make(chan struct{})
	context.AfterFunc(call.ctx, func() {
		defer close(tornDown)
		s.clock.RemoveSession(call.Session, call.Player)
		if !errors.Is(context.Cause(call.ctx), ErrRemoteHangup) {
			s.bye(in)
		}
		_ = call.Session.Close()
	})
	s.clock.AddSession(call.Session, call.Player)
	defer s.watchLiveness(in)()

	func() {
		defer func() {
			// A bug in one call flow must not take every other call down.
			if v := recover(); v != nil {
				log.Error().Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Msg("call flow panicked")
				call.Hangup(ErrFlowPanic)
			}
		}()
		s.handler(call.ctx, call)
	}()
	call.Hangup(ErrFlowDone) // no-op when something else ended the call first
	<-tornDown
	st := call.Stats()
	ev := log.Info().Str("reason", context.Cause(call.ctx).Error()).Int64("duration_ms", time.Since(call.started).Milliseconds()).
		Uint64("rtp_sent", st.Sent).Uint64("rtp_received", st.Received).Uint64("rtp_dropped", st.Dropped).
		Uint64("rtp_foreign", st.DroppedForeign)
	logRTCPStats(ev, st).Msg("call ended")
}

// bye hangs up from our side. The BYE leaves the way the INVITE came in
// (dialogRequester: the listening UDP socket, or the caller's own TCP
// connection while it is open).
func (s *Server) bye(in *inbound) {
	inv := in.dialog.InviteRequest
	bye := sip.NewRequest(sip.BYE, inv.Contact().Address)
	bye.SetTransport(inv.Transport())
	if in.call.join != nil && errors.Is(context.Cause(in.call.ctx), ErrShutdown) {
		// The node that moved the caller here places them anew (move.go).
		bye.AppendHeader(sip.NewHeader("Reason", reasonNodeStopping))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in.out.Lock() // after a refresh's ACK, never beside a probe (inbound.out)
	defer in.out.Unlock()
	if err := in.dialog.WriteBye(ctx, bye); err != nil {
		in.call.log.Warn().Err(err).Msg("BYE not confirmed")
	}
}

// dialogTransport is the transport whose Contact we give in this dialog.
func dialogTransport(req *sip.Request) string {
	if strings.EqualFold(req.Transport(), "tcp") {
		return "tcp"
	}
	return "udp"
}

func (s *Server) acceptsNumber(user string) bool {
	if len(s.opts.SIP.CalledNumbers) == 0 {
		return true
	}
	for _, n := range s.opts.SIP.CalledNumbers {
		if n == user {
			return true
		}
	}
	return false
}

// callID is the request's Call-ID, "" if it has none.
func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// callerNumber is the user part of From: the calling number on a trunk.
func callerNumber(req *sip.Request) string {
	if h := req.From(); h != nil {
		return h.Address.User
	}
	return ""
}

// sourceIP is the host of the INVITE's source address.
func sourceIP(req *sip.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}
