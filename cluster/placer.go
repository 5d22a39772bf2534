// Package cluster makes the bridges of a cluster one: every meeting has a
// home node, claimed with a lease in the shared database, which holds the
// meeting's state and mixes its media. A caller whose IVR ran on another
// node is moved there (sipua.Call.MoveMedia: the media by a re-INVITE,
// signalling stays where the call arrived). See docs/ARCHITECTURE.md,
// "One meeting across nodes".
package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

// Leases is what the placer needs of the shared database: the home
// leases (store.ClusterBackend has them).
type Leases interface {
	ClaimHome(ctx context.Context, conferenceID, node, sipAddr string, ttl time.Duration) (store.Home, error)
	RenewHomes(ctx context.Context, node string, conferenceIDs []string, ttl time.Duration) (lost []string, err error)
	ReleaseHome(ctx context.Context, conferenceID, node string) error
	ReleaseNode(ctx context.Context, node string) error
	SetHomeStarted(ctx context.Context, conferenceID, node string, started bool) error
	HomeOf(ctx context.Context, conferenceID string) (h store.Home, ok bool, err error)
	Heartbeat(ctx context.Context, n store.Node) error
}

// Call is what the placer needs of a call: what the bridge needs, and a
// way to move its media to another node.
type Call interface {
	bridge.Call
	MoveMedia(ctx context.Context, target string, j sipua.Join) (*sipua.Leg, error)
}

// Options configure a Placer.
type Options struct {
	Node    string // this node's ID
	SIPAddr string // where the other nodes send this node SIP (host:port)
	// AdminURL is this node's admin API, which the others forward a
	// meeting's live requests to; "" without one.
	AdminURL string
	Lease    time.Duration
	Leases   Leases
	Bridge   *bridge.Bridge
	Prompts  *prompts.Set
	Log      zerolog.Logger
}

// Placer takes each identified caller to their meeting's home: into this
// node's bridge when it is the home (or becomes it), otherwise to the
// home by moving the call's media.
type Placer struct {
	opts      Options
	held      heldLeases // the leases this node holds (leases.go)
	startedAt time.Time

	// draining: the node is stopping (SIGTERM); it takes inter-node calls
	// only for the meetings it holds, which finish here. closed: its
	// leases are released, it takes none.
	draining, closed atomic.Bool
}

// New returns a placer; Run keeps its leases.
func New(opts Options) *Placer {
	return &Placer{opts: opts, startedAt: time.Now(), held: heldLeases{since: map[string]time.Time{}, started: map[string]bool{}, resumed: map[string]bool{}}}
}

// homeSearch bounds how long a caller waits for a reachable home: past a
// dead home's lease, which then ends and the next claim wins.
func (p *Placer) homeSearch() time.Duration { return 2*p.opts.Lease + 5*time.Second }

// Join takes an identified caller to the meeting's home and returns when
// their time with it ends, as bridge.Join does. A home that dies under
// the caller is replaced (the caller's media comes back here first, and
// they hear that they are being joined again).
func (p *Placer) Join(ctx context.Context, call Call, j bridge.Joining) bridge.Left {
	log := call.Log()
	deadline := time.Now().Add(p.homeSearch())
	for {
		home, err := p.opts.Leases.ClaimHome(ctx, j.ConferenceID, p.opts.Node, p.opts.SIPAddr, p.opts.Lease)
		if err != nil {
			if ctx.Err() != nil {
				return bridge.Left{}
			}
			// Better one meeting split in two than callers turned away.
			log.Error().Err(err).Msg("cluster: the meeting's home is unknown (database): joining on this node")
			return p.joinHere(ctx, call, j)
		}
		if home.Node == p.opts.Node {
			p.resume(home, j)
			return p.joinHere(ctx, call, j)
		}
		leg, err := call.MoveMedia(ctx, home.SIPAddr, sipua.Join{ConferenceID: j.ConferenceID, Organizer: j.Organizer, Node: p.opts.Node})
		if err == nil {
			log.Info().Str("home", home.Node).Msg("cluster: in the meeting on its home node")
			left, lost := p.follow(ctx, call, leg)
			if !lost {
				return left
			}
			log.Warn().Str("home", home.Node).Msg("cluster: the meeting's home node is gone: joining again")
			if err := leg.MoveBack(ctx); err != nil {
				log.Warn().Err(err).Msg("cluster: the caller's media did not come back")
				return bridge.Left{Reason: "home node lost"}
			}
			<-call.Play(p.opts.Prompts.MustGet(prompts.Joining))
			deadline = time.Now().Add(p.homeSearch())
			continue
		}
		if ctx.Err() != nil {
			return bridge.Left{}
		}
		log.Warn().Err(err).Str("home", home.Node).Msg("cluster: the call could not move to the meeting's home")
		if errors.Is(err, sipua.ErrNotMovable) || time.Now().After(deadline) {
			<-call.Play(p.opts.Prompts.MustGet(prompts.TryLater))
			return bridge.Left{Reason: "home node unreachable"}
		}
		select {
		case <-ctx.Done():
			return bridge.Left{}
		case <-time.After(p.opts.Lease / 5):
		}
	}
}

// follow relays what still reaches this node of a moved call: the keys
// sent as SIP INFO. It returns when the leg or the call ends; lost
// reports a home that stopped answering.
func (p *Placer) follow(ctx context.Context, call Call, leg *sipua.Leg) (left bridge.Left, lost bool) {
	left.Admitted = true // the home decides; its record has the details
	for {
		select {
		case <-ctx.Done():
			leg.Close()
			return left, false
		case <-leg.Done():
			return left, errors.Is(leg.Err(), sipua.ErrHomeLost)
		case key := <-call.Digits():
			if err := leg.SendKey(ctx, key); err != nil {
				call.Log().Debug().Err(err).Msg("cluster: key not forwarded to the home")
			}
		}
	}
}

// joinHere joins the caller on this node, the meeting's home.
func (p *Placer) joinHere(ctx context.Context, call bridge.Call, j bridge.Joining) bridge.Left {
	p.held.claimed(j.ConferenceID)
	return p.opts.Bridge.Join(ctx, call, j)
}

// AcceptJoin is sipua's Options.AcceptJoin: an inter-node call is taken
// when this node is (or becomes) the meeting's home.
func (p *Placer) AcceptJoin(j sipua.Join) bool {
	switch {
	case p.closed.Load():
		return false
	case p.draining.Load():
		// A meeting this node holds finishes here; no new one starts.
		if !p.opts.Bridge.Holds(j.ConferenceID) {
			return false
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	home, err := p.opts.Leases.ClaimHome(ctx, j.ConferenceID, p.opts.Node, p.opts.SIPAddr, p.opts.Lease)
	if err != nil {
		p.opts.Log.Error().Err(err).Str("conference_id", j.ConferenceID).Msg("cluster: cannot check the meeting's home: taking the call")
		return true
	}
	if home.Node != p.opts.Node {
		return false
	}
	p.held.claimed(j.ConferenceID)
	if home.Started {
		p.held.mu.Lock()
		p.held.resumed[j.ConferenceID] = true
		p.held.mu.Unlock()
	}
	return true
}

// Drain marks the node as stopping: no meeting gets its home here any
// more, those it holds go on until Close.
func (p *Placer) Drain() { p.draining.Store(true) }

// Close releases every lease of this node, before its remaining calls are
// hung up: the inter-node calls it ends are placed anew by their nodes,
// which then find the meetings free to claim (a meeting that was on
// goes on at the next home).
func (p *Placer) Close() {
	p.draining.Store(true)
	p.closed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.opts.Leases.ReleaseNode(ctx, p.opts.Node); err != nil {
		p.opts.Log.Warn().Err(err).Msg("cluster: leases not released")
		return
	}
	p.opts.Log.Info().Msg("cluster: this node's meetings are free for other nodes")
}

// JoinMoved joins a caller another node's IVR identified (an inter-node
// call) into this node's meeting.
func (p *Placer) JoinMoved(ctx context.Context, call bridge.Call, j bridge.Joining) bridge.Left {
	p.held.mu.Lock()
	resumed := p.held.resumed[j.ConferenceID]
	delete(p.held.resumed, j.ConferenceID)
	p.held.mu.Unlock()
	p.resume(store.Home{Started: resumed}, j)
	return p.joinHere(ctx, call, j)
}

// resume starts a meeting that was on at a home that died: this node
// took its lease over, started, so its callers rejoin a meeting that goes
// on instead of waiting for an organizer who may be gone.
func (p *Placer) resume(home store.Home, j bridge.Joining) {
	if !home.Started || p.opts.Bridge.Started(j.ConferenceID) {
		return
	}
	p.opts.Log.Info().Str("conference_id", j.ConferenceID).Msg("cluster: the meeting was on at a home that is gone: it goes on here")
	p.opts.Bridge.Start(j.ConferenceID, j.Conference)
}

// Started is the IVR's question (ivr.Meetings): whether the meeting is
// on, on this node or on its home.
func (p *Placer) Started(conferenceID string) bool {
	if p.opts.Bridge.Started(conferenceID) {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	home, ok, err := p.opts.Leases.HomeOf(ctx, conferenceID)
	return err == nil && ok && home.Node != p.opts.Node && home.Started
}
