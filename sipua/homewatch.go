package sipua

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// homeWatch pings one home node (an OPTIONS outside any dialog) every
// legProbeEvery while legs to it exist, and ends them all when it stops
// answering. Any answer counts, 503 too: a draining node still carries
// its calls.
type homeWatch struct {
	s      *Server
	target string
	mu     sync.Mutex
	legs   map[*Leg]struct{}
	stop   chan struct{}
}

// watchHome adds l to its home's watch, starting one when it is the
// first; stop takes it out.
func (s *Server) watchHome(l *Leg) (stop func()) {
	s.mu.Lock()
	w := s.homes[l.target]
	if w == nil {
		w = &homeWatch{s: s, target: l.target, legs: map[*Leg]struct{}{}, stop: make(chan struct{})}
		s.homes[l.target] = w
		go w.run()
	}
	w.mu.Lock()
	w.legs[l] = struct{}{}
	w.mu.Unlock()
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.legs, l)
		if len(w.legs) == 0 && s.homes[w.target] == w {
			delete(s.homes, w.target)
			close(w.stop)
		}
	}
}

func (w *homeWatch) run() {
	t := time.NewTicker(legProbeEvery)
	defer t.Stop()
	failed := 0
	for {
		select {
		case <-w.stop:
			return
		case <-w.s.baseCtx.Done():
			return
		case <-t.C:
		}
		if w.ping() {
			failed = 0
			continue
		}
		if failed++; failed < legProbeFailing {
			continue
		}
		w.s.mu.Lock()
		if w.s.homes[w.target] == w {
			delete(w.s.homes, w.target)
		}
		w.s.mu.Unlock()
		w.mu.Lock()
		legs := make([]*Leg, 0, len(w.legs))
		for l := range w.legs {
			legs = append(legs, l)
		}
		w.mu.Unlock()
		w.s.log.Warn().Str("home", w.target).Int("calls", len(legs)).Int("pings", failed).
			Msg("cluster: a home node does not answer: taking its calls back")
		for _, l := range legs {
			l.call.log.Warn().Str("home", w.target).Msg("leg: the meeting's home node does not answer")
			l.lost()
		}
		return
	}
}

// ping sends one OPTIONS to the home and reports whether any answer came.
func (w *homeWatch) ping() bool {
	host, port, err := splitHostPort(w.target)
	if err != nil {
		return false
	}
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: host, Port: port})
	req.SetTransport("UDP")
	ctx, cancel := context.WithTimeout(w.s.baseCtx, legProbeWait)
	defer cancel()
	res, err := w.s.client.Do(ctx, req)
	return err == nil && res != nil
}
