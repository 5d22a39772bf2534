package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/dialin/dialin/store"
)

// releaseAfter keeps a fresh claim from being released before its caller
// is in the bridge (the claim comes first, bridge.Join a moment later).
const releaseAfter = 3 * time.Second

// heldLeases are the meetings this node claimed and what it last wrote of
// each (started or not).
type heldLeases struct {
	mu      sync.Mutex
	since   map[string]time.Time // claimed at
	started map[string]bool
	resumed map[string]bool // taken over started, until its first inter-node caller joins
}

func (h *heldLeases) claimed(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.since[id]; !ok {
		h.since[id] = time.Now()
	}
}

// Run keeps this node's leases until ctx ends: every fifth of the lease
// it renews the meetings the bridge holds, writes which of them started,
// and releases those it no longer holds. At the end it releases them all
// (a draining node's meetings are free for the next caller's node).
func (p *Placer) Run(ctx context.Context) {
	t := time.NewTicker(p.opts.Lease / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := p.opts.Leases.ReleaseNode(stop, p.opts.Node); err != nil {
				p.opts.Log.Warn().Err(err).Msg("cluster: leases not released at stop")
			}
			cancel()
			return
		case <-t.C:
		}
		p.keepLeases(ctx)
	}
}

func (p *Placer) keepLeases(ctx context.Context) {
	if p.closed.Load() {
		return // released for good (Close): renewing would claim them back
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Lease/2)
	defer cancel()
	if err := p.opts.Leases.Heartbeat(ctx, store.Node{ID: p.opts.Node, SIPAddr: p.opts.SIPAddr, AdminURL: p.opts.AdminURL,
		Started: p.startedAt}); err != nil {
		p.opts.Log.Warn().Err(err).Msg("cluster: heartbeat not written")
	}
	live := p.opts.Bridge.LiveIDs()
	holds := make(map[string]bool, len(live))
	for _, id := range live {
		holds[id] = true
	}
	now := time.Now()
	p.held.mu.Lock()
	var renew, release []string
	for _, id := range live {
		if _, ok := p.held.since[id]; !ok {
			p.held.since[id] = now // started here (API) or joined before a restart of the loop
		}
	}
	for id, since := range p.held.since {
		switch {
		case holds[id]:
			renew = append(renew, id)
		case now.Sub(since) > releaseAfter:
			release = append(release, id)
			delete(p.held.since, id)
			delete(p.held.started, id)
		default:
			renew = append(renew, id) // claimed, its caller not in yet
		}
	}
	p.held.mu.Unlock()

	if len(renew) > 0 {
		lost, err := p.opts.Leases.RenewHomes(ctx, p.opts.Node, renew, p.opts.Lease)
		if err != nil {
			p.opts.Log.Warn().Err(err).Int("meetings", len(renew)).Msg("cluster: leases not renewed")
		}
		for _, id := range lost {
			// Another node took it (this node was cut off longer than the
			// lease): its callers here go on; new ones go to the new home.
			p.opts.Log.Error().Str("conference_id", id).Msg("cluster: lost the lease of a meeting this node holds")
		}
	}
	for _, id := range release {
		if err := p.opts.Leases.ReleaseHome(ctx, id, p.opts.Node); err != nil {
			p.opts.Log.Warn().Err(err).Str("conference_id", id).Msg("cluster: lease not released")
		}
	}
	for _, id := range live {
		on := p.opts.Bridge.Started(id)
		p.held.mu.Lock()
		was, known := p.held.started[id]
		p.held.mu.Unlock()
		if known && was == on {
			continue
		}
		if err := p.opts.Leases.SetHomeStarted(ctx, id, p.opts.Node, on); err != nil {
			p.opts.Log.Warn().Err(err).Str("conference_id", id).Msg("cluster: meeting state not written")
			continue
		}
		p.held.mu.Lock()
		p.held.started[id] = on
		p.held.mu.Unlock()
	}
}
