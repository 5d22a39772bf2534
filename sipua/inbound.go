package sipua

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/internal/loglimit"
)

// inbound is the SIP side of one incoming call: sipgo's dialog and what
// the in-dialog requests need besides (the INFO CSeq, the late offer, the
// ACK waiters, our current SDP). It is kept apart from the Call the flows
// get, as livekit/sip keeps sipInbound apart from inboundCall: the flows
// see no SIP, and the SIP handlers reach the call only to hand it keys,
// hang it up or change its session.
type inbound struct {
	dialog *sipgo.DialogServerSession
	call   *Call

	infoCSeq    atomic.Uint32 // CSeq of the last INFO taken (see onInfo)
	lateOffer   atomic.Bool   // we offered in our 200: the ACK carries the answer
	reofferCSeq atomic.Uint32 // CSeq of an offerless re-INVITE whose ACK carries the answer

	mu         sync.Mutex
	answer     Answer      // our current SDP
	ackSDP     []byte      // the SDP answer of a delayed-offer call's ACK
	ackWaiters []ackWaiter // re-INVITE 2xx awaiting ACK

	// reqLog limits the lines the peer can cause per in-dialog request
	// (mismatched ACKs, bad BYEs); see inDialogLog.
	reqLog loglimit.Limiter

	timer *sessionTimer // RFC 4028 (timers.go); set before the dialog is registered

	// leg, with mu: the inter-node dialog of a call whose media the
	// meeting's home carries (move.go); nil while it is here, at ownAddr
	// and ownPort.
	leg     *Leg
	ownAddr netip.Addr
	ownPort int
	live    liveness // probes of a peer that sends no media (liveness.go)

	// out lets one of our own requests in the dialog be built at a time:
	// sipgo numbers them (CSeq) with a load and a store, and the ACK of
	// our re-INVITE takes the dialog's last number, so a probe built
	// between a session refresh and its ACK would steal the ACK's CSeq.
	// A refresh holds it to its ACK, a BYE to its answer; a probe only
	// while it is built and sent, and skips its turn when a refresh has it.
	out sync.Mutex
}

// inDialogLog returns the call's event at level when reqLog lets a line
// through (with the count it left out), nil otherwise: zerolog ignores
// everything done with a nil event.
func (in *inbound) inDialogLog(level zerolog.Level) *zerolog.Event {
	ok, suppressed := in.reqLog.Allow(time.Now())
	if !ok {
		return nil
	}
	e := in.call.log.WithLevel(level)
	if suppressed > 0 {
		e = e.Int("suppressed", suppressed)
	}
	return e
}

type ackWaiter struct {
	cseq uint32
	ch   chan struct{}
}

// seenINFO reports whether an INFO with this CSeq was taken already: it is
// a retransmission (or an older one arriving late).
func (in *inbound) seenINFO(cseq uint32) bool { return cseq <= in.infoCSeq.Load() }

// tookINFO records an INFO taken. While it is being answered its own
// transaction absorbs retransmissions, so only distinct INFOs get here.
func (in *inbound) tookINFO(cseq uint32) {
	for {
		last := in.infoCSeq.Load()
		if cseq <= last || in.infoCSeq.CompareAndSwap(last, cseq) {
			return
		}
	}
}

// expectAck registers interest in the ACK for a re-INVITE's 2xx.
func (in *inbound) expectAck(cseq uint32) <-chan struct{} {
	ch := make(chan struct{})
	in.mu.Lock()
	in.ackWaiters = append(in.ackWaiters, ackWaiter{cseq, ch})
	in.mu.Unlock()
	return ch
}

// gotAck releases whoever waits for the ACK with this CSeq.
func (in *inbound) gotAck(cseq uint32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	kept := in.ackWaiters[:0]
	for _, w := range in.ackWaiters {
		if w.cseq == cseq {
			close(w.ch)
			continue
		}
		kept = append(kept, w)
	}
	in.ackWaiters = kept
}

func (in *inbound) dropAckWaiter(ch <-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, w := range in.ackWaiters {
		if w.ch == ch {
			in.ackWaiters = append(in.ackWaiters[:i], in.ackWaiters[i+1:]...)
			return
		}
	}
}

// applyLocked makes neg the session's parameters; with in.mu held.
func (in *inbound) applyLocked(neg Negotiated) {
	if neg == in.answer.Negotiated {
		return
	}
	if in.leg != nil {
		// The media is on the home: it gets the change; ours stays silent.
		in.answer.Negotiated = neg
		in.call.setHeld(!neg.WeSend())
		go in.leg.update(neg)
		return
	}
	session := in.call.Session
	// Relatch only when the far end's SDP address moved: comparing with the
	// latched source would reopen the latch on every hold of a NATed caller.
	if neg.Remote != in.answer.Remote {
		session.SetRemote(neg.Remote)
	}
	if neg.RTCPRemote != in.answer.RTCPRemote || neg.RTCPMux != in.answer.RTCPMux {
		session.SetRTCP(neg.RTCPRemote, neg.RTCPMux)
	}
	in.answer.Negotiated = neg // the o= version follows when we next send SDP (Answer.versioned)
	session.SetCodec(neg.Codec, neg.DTMFPayloadType)
	session.SetDirection(neg.WeSend(), neg.PeerSends())
	in.call.setHeld(!neg.WeSend())
	in.call.log.Info().Str("direction", neg.Direction).Stringer("codec", neg.Codec).
		Stringer("rtp_remote", neg.Remote).Msg("session modified")
}

// applyAnswer applies an SDP answer to the offer we made.
func (in *inbound) applyAnswer(body []byte) error {
	answer, err := ParseSDP(body)
	if err != nil {
		return err
	}
	neg, err := Negotiate(answer, nil)
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.applyLocked(neg)
	return nil
}
