package sipua

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dialin/dialin/internal/atomichist"
)

// callCounters count what became of new INVITEs, for metrics: atomics
// added once per call, read on scrape.
type callCounters struct {
	answered, unanswered atomic.Uint64
	// refused, by why (the untrusted and auth refusals are the Server's
	// own counters, kept for the status API).
	maxCalls, shutdown, notDialIn, badRequest, noCodec, sessionTimer, noMedia atomic.Uint64
	badJoin                                                                   atomic.Uint64 // inter-node INVITEs refused (cluster.go)
	// answerLatency is from the INVITE's arrival to our 200 OK (the answer
	// delay included).
	answerLatency *atomichist.Histogram
}

// answerLatencyBounds are the answer-latency buckets.
var answerLatencyBounds = []time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

func newCallCounters() callCounters {
	return callCounters{answerLatency: atomichist.New(answerLatencyBounds...)}
}

// CallStats is what became of the new INVITEs so far.
type CallStats struct {
	Active     int    // INVITEs being handled, answered or not
	Answered   uint64 // answered and acknowledged
	Unanswered uint64 // admitted, but cancelled, hung up or never acknowledged before the answer took
	// Refused, by why: requests from untrusted sources (each request and
	// TCP connection counts, not only INVITEs), wrong digest credentials,
	// the call limit (503), shutting down (503), not a dial-in number
	// (404), a bad INVITE or SDP (400), no common codec (488), a session
	// timer too short (422), no RTP port or socket (503).
	RefusedUntrusted, RefusedAuth, RefusedMaxCalls, RefusedShutdown, RefusedNotDialIn uint64
	RefusedBadRequest, RefusedNoCodec, RefusedSessionTimer, RefusedNoMedia            uint64
	PeersGone                                                                         uint64 // hung up by the liveness probes
}

// CallStats reads the call counters.
func (s *Server) CallStats() CallStats {
	c := &s.counts
	return CallStats{
		Active: s.ActiveCalls(), Answered: c.answered.Load(), Unanswered: c.unanswered.Load(),
		RefusedUntrusted: s.refusedUntrusted.Load(), RefusedAuth: s.refusedAuth.Load(),
		RefusedMaxCalls: c.maxCalls.Load(), RefusedShutdown: c.shutdown.Load(), RefusedNotDialIn: c.notDialIn.Load(),
		RefusedBadRequest: c.badRequest.Load(), RefusedNoCodec: c.noCodec.Load(), RefusedSessionTimer: c.sessionTimer.Load(),
		RefusedNoMedia: c.noMedia.Load(), PeersGone: s.peersGone.Load(),
	}
}

// AnswerLatency is the histogram of the time from a new INVITE to our 200.
func (s *Server) AnswerLatency() atomichist.Snapshot { return s.counts.answerLatency.Snapshot() }

// Ready reports why the user agent cannot take calls: not listening yet,
// or shutting down. nil when it can.
func (s *Server) Ready() error {
	total, up := s.listenersTotal.Load(), s.listenersUp.Load()
	switch {
	case s.draining.Load():
		return errors.New("SIP: shutting down, new calls refused")
	case total == 0:
		return errors.New("SIP listeners not up yet")
	case up < total:
		return fmt.Errorf("SIP: %d of %d listeners stopped", total-up, total)
	}
	return nil
}
