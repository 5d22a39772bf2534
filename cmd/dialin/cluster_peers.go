package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
)

// clusterNodeID is this node's ID: cluster.node_id, else the host name.
func clusterNodeID(cfg config.Cluster) (string, error) {
	if cfg.NodeID != "" {
		return cfg.NodeID, nil
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("cluster: no cluster.node_id and no host name: %w", err)
	}
	return h, nil
}

// adminCluster is what the admin API of a cluster node needs: this node's
// ID, the secret that signs the requests it forwards, and the other
// nodes' admin APIs from the shared database.
func adminCluster(cfg config.Cluster, dir *store.Directory) (*admin.Cluster, error) {
	backend, ok := dir.Cluster()
	if !ok {
		return nil, fmt.Errorf("cluster: the store (%T) is not one nodes share: set store.driver postgres", dir)
	}
	node, err := clusterNodeID(cfg)
	if err != nil {
		return nil, err
	}
	return &admin.Cluster{Node: node, Secret: cfg.Secret, Networks: cfg.Prefixes(),
		Peers: &clusterPeers{db: backend, node: node, maxAge: 3 * cfg.Lease}}, nil
}

// clusterPeers is admin.ClusterPeers from the homes' leases and the
// nodes' heartbeats (each node writes its admin URL every lease/5).
type clusterPeers struct {
	db     store.ClusterBackend
	node   string
	maxAge time.Duration // a node seen longer ago is taken for gone
}

func (c *clusterPeers) Home(ctx context.Context, conferenceID string) (admin.Peer, bool, error) {
	h, ok, err := c.db.HomeOf(ctx, conferenceID)
	if err != nil {
		return admin.Peer{}, false, fmt.Errorf("the home of meeting %s: %w", conferenceID, err)
	}
	if !ok || h.Node == c.node {
		return admin.Peer{}, false, nil
	}
	nodes, err := c.db.Nodes(ctx, c.maxAge)
	if err != nil {
		return admin.Peer{Node: h.Node}, true, fmt.Errorf("the cluster's nodes: %w", err)
	}
	for _, n := range nodes {
		if n.ID == h.Node {
			return admin.Peer{Node: n.ID, AdminURL: n.AdminURL}, true, nil
		}
	}
	return admin.Peer{Node: h.Node}, true, nil // no heartbeat lately: no admin URL to reach
}

func (c *clusterPeers) Peers(ctx context.Context) ([]admin.Peer, error) {
	nodes, err := c.db.Nodes(ctx, c.maxAge)
	if err != nil {
		return nil, err
	}
	var out []admin.Peer
	for _, n := range nodes {
		if n.ID != c.node {
			out = append(out, admin.Peer{Node: n.ID, AdminURL: n.AdminURL})
		}
	}
	slices.SortFunc(out, func(x, y admin.Peer) int { return strings.Compare(x.Node, y.Node) })
	return out, nil
}
