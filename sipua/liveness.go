package sipua

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ErrPeerGone ends a call whose far end stopped answering: no media and no
// answer (or 408, 481) to our in-dialog OPTIONS. The cause wraps it with
// what happened, for the "call ended" line.
var ErrPeerGone = errors.New("caller's side is gone")

// liveness finds callers whose side is gone without a BYE, the SIP way.
// Silence on the RTP is no proof: a caller with silence suppression (VAD)
// sends nothing, or one comfort-noise packet, while quiet, and a caller
// holding the bridge may send nothing at all. So when no media has come
// for rtp.inactivity_timeout, or the far end said it sends none, the
// caller is asked with an in-dialog OPTIONS, every sip.options_interval
// while no media flows: any final answer but 408 or 481 means alive; 408,
// 481 or no answer ends the call. Any request of the far end in the dialog
// (sawSignOfLife) counts as an answer, so a peer that refreshes its session
// (re-INVITE, UPDATE) or sends INFO or OPTIONS itself is not probed; so
// does its 2xx to our own refresh, and while that refresh is in flight no
// probe is sent (inbound.out): its failure hangs up (timers.go).
//
// It costs a timer per call, no goroutine: the check runs on the timer's
// goroutine, once every inactivity_timeout while media flows.
type liveness struct {
	signal atomic.Int64 // unix ns of the far end's last request in the dialog

	mu      sync.Mutex
	timer   *time.Timer // nil until watchLiveness
	stopped bool
	probing atomic.Bool // in a spell without media: the first probe was logged
}

// PeersGone counts the calls hung up because the caller's side was gone.
func (s *Server) PeersGone() uint64 { return s.peersGone.Load() }

// sawSignOfLife records that the far end sent a request in the dialog: its
// SIP side is alive, whatever its media does.
func (in *inbound) sawSignOfLife() { in.live.signal.Store(time.Now().UnixNano()) }

// probeInterval is sip.options_interval; 0: no probing (the media session
// then hangs up after its own inactivity timeout, as it always did).
func (s *Server) probeInterval() time.Duration {
	if s.opts.RTP.InactivityTimeout <= 0 {
		return 0
	}
	return s.opts.SIP.OptionsInterval
}

// sessionInactivity is the inactivity timeout the media session applies
// itself: none when liveness probes decide instead.
func (s *Server) sessionInactivity() time.Duration {
	if s.probeInterval() > 0 {
		return 0
	}
	return s.opts.RTP.InactivityTimeout
}

// watchLiveness starts probing the call's peer as needed; stop ends it.
func (s *Server) watchLiveness(in *inbound) (stop func()) {
	if s.probeInterval() <= 0 {
		return func() {}
	}
	in.live.mu.Lock()
	in.live.timer = time.AfterFunc(s.opts.RTP.InactivityTimeout, func() { s.checkLiveness(in) })
	in.live.mu.Unlock()
	return func() {
		in.live.mu.Lock()
		defer in.live.mu.Unlock()
		in.live.stopped = true
		in.live.timer.Stop()
	}
}

// checkLiveness runs on the timer: it probes the peer if no media flows and
// its SIP side has said nothing lately, then sets the timer for the next
// check.
func (s *Server) checkLiveness(in *inbound) {
	call := in.call
	if call.ctx.Err() != nil {
		return
	}
	next := s.livenessStep(in, time.Now())
	in.live.mu.Lock()
	defer in.live.mu.Unlock()
	if !in.live.stopped && call.ctx.Err() == nil {
		in.live.timer.Reset(next)
	}
}

// livenessStep decides and, if need be, probes; it returns when to look
// again.
func (s *Server) livenessStep(in *inbound, now time.Time) time.Duration {
	call := in.call
	quietFor, interval := s.opts.RTP.InactivityTimeout, s.probeInterval()
	heard := call.Session.LastHeard()
	if call.Session.PeerSends() && now.Sub(heard) < quietFor {
		if in.live.probing.Swap(false) {
			call.log.Info().Msg("media again: probing stops")
		}
		// Media flows: look again when it would have been quiet too long.
		return heard.Add(quietFor).Sub(now) + 10*time.Millisecond
	}
	if signal := time.Unix(0, in.live.signal.Load()); now.Sub(signal) < interval {
		return signal.Add(interval).Sub(now) // the peer spoke SIP lately
	}
	if !in.live.probing.Swap(true) {
		call.log.Info().Dur("no_media_for", now.Sub(heard).Round(time.Millisecond)).Bool("peer_sends", call.Session.PeerSends()).
			Dur("options_interval", interval).Msg("no media: probing the caller with OPTIONS")
	}
	wait := min(interval, 64*sip.T1) // 64*T1: the transaction's own timeout
	code, err := s.probe(call.ctx, in, wait)
	if call.ctx.Err() != nil {
		return interval // the call ended meanwhile
	}
	if errors.Is(err, errRefreshing) {
		return interval // its answer counts (sawSignOfLife), its failure hangs up
	}
	var gone error
	switch {
	case err != nil:
		gone = fmt.Errorf("%w: no answer to OPTIONS within %v (no media for %v)", ErrPeerGone, wait,
			time.Since(heard).Round(time.Second))
	case code == 408 || code == 481:
		gone = fmt.Errorf("%w: OPTIONS answered %d (no media for %v)", ErrPeerGone, code,
			time.Since(heard).Round(time.Second))
	default:
		call.log.Debug().Int("status", code).Msg("OPTIONS answered: caller is there")
		return max(interval-time.Since(now), 10*time.Millisecond)
	}
	call.log.Warn().Err(gone).Msg("caller's side is gone: hanging up")
	s.peersGone.Add(1)
	call.Hangup(gone)
	return max(interval-time.Since(now), 10*time.Millisecond)
}

// errRefreshing: a session refresh of ours is in flight, and it tells
// whether the peer is there (timers.go hangs up on 408, 481 or silence).
var errRefreshing = errors.New("a session refresh is in flight")

// probe sends an OPTIONS in the call's dialog and waits up to wait for the
// final response; err is non-nil when none came (timeout, transport error),
// errRefreshing when it was not sent. dialogRequester stamps it and sends
// it the way the dialog came in, as our BYE.
func (s *Server) probe(ctx context.Context, in *inbound, wait time.Duration) (code int, err error) {
	inv := in.dialog.InviteRequest
	req := sip.NewRequest(sip.OPTIONS, inv.Contact().Address)
	req.SetTransport(inv.Transport())
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if !in.out.TryLock() {
		return 0, errRefreshing
	}
	tx, err := in.dialog.TransactionRequest(ctx, req)
	in.out.Unlock()
	if err != nil {
		return 0, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return res.StatusCode, nil
			}
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return 0, err
			}
			return 0, errors.New("OPTIONS transaction ended without a final response")
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
