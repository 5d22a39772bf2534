package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/cluster"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/ivr"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

// placement is where answer takes an identified caller: this node's
// bridge, or (a cluster node) the meeting's home through the placer.
type placement struct {
	dir  *store.Directory
	join func(ctx context.Context, call *sipua.Call, j bridge.Joining) bridge.Left
	here func(ctx context.Context, call *sipua.Call, j bridge.Joining) bridge.Left // a cluster's inter-node calls
}

// joinMoved joins a caller another node's IVR identified: this node is
// the meeting's home (sipua asked the placer before answering).
func (p *placement) joinMoved(ctx context.Context, call *sipua.Call, j sipua.Join) {
	conf, ok := p.dir.LookupConference(j.ConferenceID)
	note := &flowNote{entry: ivr.Entry{ConferenceID: j.ConferenceID, Conference: conf, Organizer: j.Organizer, Outcome: ivr.OutcomeFound}}
	call.Note(note)
	if !ok || p.here == nil {
		call.Log().Warn().Str("conference_id", j.ConferenceID).Msg("inter-node call for a conference ID this node does not know")
		return
	}
	note.left = p.here(ctx, call, bridge.Joining{ConferenceID: j.ConferenceID, Conference: conf, Organizer: j.Organizer})
	note.joined = true
}

// startCluster makes this bridge a cluster node: the placer with the
// shared database's leases, kept until ctx ends.
func startCluster(ctx context.Context, cfg config.Cluster, dir *store.Directory, ua *sipua.Server, meetings *bridge.Bridge,
	list *prompts.Set, adminURL string, log zerolog.Logger) (*cluster.Placer, error) {
	leases, ok := dir.Cluster()
	if !ok {
		return nil, fmt.Errorf("cluster: the store (%T) is not one nodes share: set store.driver postgres", dir)
	}
	node, err := clusterNodeID(cfg)
	if err != nil {
		return nil, err
	}
	addr := cfg.Address
	if addr == "" {
		for _, a := range ua.Addrs() {
			if a.Transport == "udp" {
				addr = fmt.Sprintf("%s:%d", a.Host, a.Port)
				break
			}
		}
		if addr == "" {
			return nil, fmt.Errorf("cluster: no cluster.address and no UDP address in sip.listen")
		}
	}
	p := cluster.New(cluster.Options{
		Node:     node,
		SIPAddr:  addr,
		AdminURL: adminURL,
		Lease:    cfg.Lease,
		Leases:   leases,
		Bridge:   meetings,
		Prompts:  list,
		Log:      log.With().Str("component", "cluster").Logger(),
	})
	// A node restarted after a crash held leases its new self knows
	// nothing of: free them for the meetings' next callers.
	if err := leases.ReleaseNode(ctx, node); err != nil {
		return nil, fmt.Errorf("cluster: release this node's old leases: %w", err)
	}
	go p.Run(ctx)
	log.Info().Str("node", node).Str("address", addr).Dur("lease", cfg.Lease).Msg("cluster node")
	return p, nil
}
