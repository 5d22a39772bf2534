package store

import (
	"context"
	"time"
)

// The cluster's shared state (issue 17, part 3): which node is each
// meeting's home, and which nodes there are. Only a backend several nodes
// share has it; it is no part of the directory (no audit, no change feed).

// Home is the node that holds a meeting's media and state (issue 17, part 3).
type Home struct {
	ConferenceID string
	Node         string    // node ID
	SIPAddr      string    // host:port where other nodes send the inter-node INVITE
	Expires      time.Time // the lease's end, by the database's clock
	// Started: the meeting has started on its home (the IVR of other nodes
	// reads it). A node that takes over an expired lease gets it as it
	// was: a meeting that was on when its home died goes on at the new one.
	Started bool
}

// Node is one bridge process of a cluster, as it last told the database.
type Node struct {
	ID, SIPAddr, AdminURL string
	Draining              bool
	Started, Seen         time.Time // Seen: its last heartbeat, by the database's clock
}

// ClusterBackend is the optional interface of a backend several nodes share
// (PostgreSQL). Every time it compares or sets is the database's clock, so
// nodes whose clocks disagree still agree on who holds a lease.
type ClusterBackend interface {
	// ClaimHome makes node the home of the conference ID when it has none or its lease
	// expired (or renews it when node holds it already), and returns the home it has then
	// (maybe another node's). ttl is the lease's length from now.
	ClaimHome(ctx context.Context, conferenceID, node, sipAddr string, ttl time.Duration) (Home, error)
	// RenewHomes extends node's leases of these IDs by ttl from now in one statement and
	// returns the IDs whose lease node no longer holds (another node took it, or it is gone).
	RenewHomes(ctx context.Context, node string, conferenceIDs []string, ttl time.Duration) (lost []string, err error)
	// ReleaseHome ends node's lease of the ID (nothing when another node holds it).
	ReleaseHome(ctx context.Context, conferenceID, node string) error
	// ReleaseNode ends every lease node holds (a draining node's last act; a restarted node's first).
	// The rows stay, nobody's and ended, so a meeting that was on is on for the node that claims
	// it next (within a minute).
	ReleaseNode(ctx context.Context, node string) error
	// SetHomeStarted records that node's meeting started or ended (only when node holds the
	// lease: otherwise an error wrapping ErrNotFound, and nothing changes).
	SetHomeStarted(ctx context.Context, conferenceID, node string, started bool) error
	// HomeOf returns the current, unexpired home of an ID (ok false when none).
	HomeOf(ctx context.Context, conferenceID string) (h Home, ok bool, err error)
	// Heartbeat upserts the node's row and its Seen time.
	Heartbeat(ctx context.Context, n Node) error
	// Nodes lists the nodes seen within maxAge.
	Nodes(ctx context.Context, maxAge time.Duration) ([]Node, error)
}

// Cluster returns the directory's backend as a ClusterBackend when it is
// one (store/postgres); false for a backend of one node (store/sqlite).
func (d *Directory) Cluster() (ClusterBackend, bool) {
	c, ok := d.backend.(ClusterBackend)
	return c, ok
}
