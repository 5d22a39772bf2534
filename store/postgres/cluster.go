package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/dialin/dialin/store"
)

// The cluster's shared state (store.ClusterBackend, migration 12): the
// meetings' home leases (meeting_homes) and the node registry
// (cluster_nodes). Single statements on the pool, not inTx: these are not
// directory changes, so no audit entry and no change-feed notification.
//
// Every lease time is the database's clock (clock_timestamp(), the time
// the statement reads it), never a node's: nodes whose clocks disagree
// still agree on whether a lease has expired. A lease is held by the node
// its row names, expired or not, until another node takes it over (only
// once expired) or it is released: so a home that missed a renewal keeps
// its meeting unless another node has claimed it meanwhile.

var _ store.ClusterBackend = (*DB)(nil)

// dbNow is the database's clock as Unix nanoseconds, the way every time is
// stored (columns.go); clock_timestamp() has microseconds.
const dbNow = `((extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000)`

// startedKeep is how long after its lease ended a meeting that was on is
// still on for the node that takes it over: long enough for the callers
// on other nodes to rejoin, short enough that a meeting whose callers all
// went with their node does not start by itself days later.
const startedKeep = time.Minute

// claimAttempts bounds ClaimHome's retries when the lease it lost to is
// gone (released, or expired) by the time it reads it.
const claimAttempts = 5

// checkLease refuses a lease no node could hold or that ends before it starts.
func checkLease(node string, ttl time.Duration) error {
	switch {
	case node == "":
		return fmt.Errorf("no node ID: %w", store.ErrInvalidInput)
	case ttl <= 0:
		return fmt.Errorf("lease of %s: %w", ttl, store.ErrInvalidInput)
	}
	return nil
}

// ClaimHome takes or renews the lease in one upsert: the row is inserted,
// or updated when it is node's or expired; either way under the row's lock,
// so of nodes claiming at once exactly one wins. When the upsert returns
// nothing another node holds an unexpired lease: it reads that one, in a
// statement of its own (the upsert's snapshot may predate the winner's).
func (s *DB) ClaimHome(ctx context.Context, conferenceID, node, sipAddr string, ttl time.Duration) (store.Home, error) {
	if conferenceID == "" {
		return store.Home{}, fmt.Errorf("postgres: claim home: no conference ID: %w", store.ErrInvalidInput)
	}
	if err := checkLease(node, ttl); err != nil {
		return store.Home{}, fmt.Errorf("postgres: claim home %s: %w", conferenceID, err)
	}
	h := store.Home{ConferenceID: conferenceID}
	for range claimAttempts {
		var expires int64
		err := s.pool.QueryRow(ctx, `
WITH now AS (SELECT `+dbNow+` AS ns)
INSERT INTO meeting_homes AS h (conference_id, node, sip_addr, expires_at, started)
SELECT $1, $2, $3, now.ns + $4, false FROM now
ON CONFLICT (conference_id) DO UPDATE SET
	node = excluded.node,
	sip_addr = excluded.sip_addr,
	expires_at = excluded.expires_at,
	-- a take-over of a meeting that was on keeps it on (its home died or
	-- stopped), unless the lease ended long ago (its callers are gone)
	started = h.started AND h.expires_at > (SELECT ns FROM now) - $5
WHERE h.node = excluded.node OR h.expires_at <= (SELECT ns FROM now)
RETURNING h.node, h.sip_addr, h.expires_at, h.started`,
			conferenceID, node, sipAddr, int64(ttl), int64(startedKeep)).Scan(&h.Node, &h.SIPAddr, &expires, &h.Started)
		if err == nil {
			h.Expires = timeFromNanos(expires)
			return h, nil
		}
		if !noRows(err) {
			return store.Home{}, fmt.Errorf("postgres: claim home %s: %w", conferenceID, err)
		}
		other, ok, err := s.HomeOf(ctx, conferenceID)
		if err != nil {
			return store.Home{}, err
		}
		if ok {
			return other, nil
		}
		// Released or expired since the upsert: claim again.
	}
	return store.Home{}, fmt.Errorf("postgres: claim home %s: the lease changed hands %d times while claiming",
		conferenceID, claimAttempts)
}

// RenewHomes extends, in one UPDATE, the leases of conferenceIDs that node
// holds; the IDs it did not update are lost.
func (s *DB) RenewHomes(ctx context.Context, node string, conferenceIDs []string, ttl time.Duration) ([]string, error) {
	if len(conferenceIDs) == 0 {
		return nil, nil
	}
	if err := checkLease(node, ttl); err != nil {
		return nil, fmt.Errorf("postgres: renew homes: %w", err)
	}
	rows, err := s.pool.Query(ctx, `UPDATE meeting_homes SET expires_at = `+dbNow+` + $3
		WHERE node = $1 AND conference_id = ANY($2::text[])
		RETURNING conference_id`, node, conferenceIDs, int64(ttl))
	if err != nil {
		return nil, fmt.Errorf("postgres: renew homes of %s: %w", node, err)
	}
	defer rows.Close()
	renewed := make(map[string]bool, len(conferenceIDs))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("postgres: renew homes of %s: %w", node, err)
		}
		renewed[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: renew homes of %s: %w", node, err)
	}
	var lost []string
	for _, id := range conferenceIDs {
		if !renewed[id] {
			lost = append(lost, id)
			renewed[id] = true // listed once
		}
	}
	return lost, nil
}

// ReleaseHome deletes node's lease of the ID.
func (s *DB) ReleaseHome(ctx context.Context, conferenceID, node string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM meeting_homes WHERE conference_id = $1 AND node = $2`,
		conferenceID, node); err != nil {
		return fmt.Errorf("postgres: release home %s: %w", conferenceID, err)
	}
	return nil
}

// ReleaseNode deletes every lease node holds (meeting_homes_node).
func (s *DB) ReleaseNode(ctx context.Context, node string) error {
	// Ended, not deleted: a meeting that was on stays on at the next home
	// for a while (ClaimHome's startedKeep), as when the node had died.
	// The row is nobody's then (node ''), so the old holder cannot renew it.
	if _, err := s.pool.Exec(ctx, `UPDATE meeting_homes SET node = '', sip_addr = '', expires_at = LEAST(expires_at, `+dbNow+`)
WHERE node = $1`, node); err != nil {
		return fmt.Errorf("postgres: release the homes of %s: %w", node, err)
	}
	return nil
}

// SetHomeStarted sets the lease's started flag when node holds it.
func (s *DB) SetHomeStarted(ctx context.Context, conferenceID, node string, started bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE meeting_homes SET started = $3 WHERE conference_id = $1 AND node = $2`,
		conferenceID, node, started)
	if err != nil {
		return fmt.Errorf("postgres: set home %s started: %w", conferenceID, err)
	}
	return noRowNotFound(tag, fmt.Sprintf("postgres: set home started: %s's lease held by %s", conferenceID, node))
}

// HomeOf reads the ID's lease unless it has expired.
func (s *DB) HomeOf(ctx context.Context, conferenceID string) (store.Home, bool, error) {
	h := store.Home{ConferenceID: conferenceID}
	var expires int64
	err := s.pool.QueryRow(ctx, `SELECT node, sip_addr, expires_at, started FROM meeting_homes
		WHERE conference_id = $1 AND expires_at > `+dbNow, conferenceID).
		Scan(&h.Node, &h.SIPAddr, &expires, &h.Started)
	if noRows(err) {
		return store.Home{}, false, nil
	}
	if err != nil {
		return store.Home{}, false, fmt.Errorf("postgres: home of %s: %w", conferenceID, err)
	}
	h.Expires = timeFromNanos(expires)
	return h, true, nil
}

// Heartbeat upserts n's row; n.Seen is ignored, the database's clock is
// stored instead.
func (s *DB) Heartbeat(ctx context.Context, n store.Node) error {
	if n.ID == "" {
		return fmt.Errorf("postgres: heartbeat: no node ID: %w", store.ErrInvalidInput)
	}
	if err := checkTimes(n.Started); err != nil {
		return fmt.Errorf("postgres: heartbeat of %s: %w", n.ID, err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO cluster_nodes (id, sip_addr, admin_url, draining, started_at, seen_at)
		VALUES ($1, $2, $3, $4, $5, `+dbNow+`)
		ON CONFLICT (id) DO UPDATE SET sip_addr = excluded.sip_addr, admin_url = excluded.admin_url,
			draining = excluded.draining, started_at = excluded.started_at, seen_at = excluded.seen_at`,
		n.ID, n.SIPAddr, n.AdminURL, n.Draining, nanos(n.Started))
	if err != nil {
		return fmt.Errorf("postgres: heartbeat of %s: %w", n.ID, err)
	}
	return nil
}

// Nodes lists, by ID, the nodes whose last heartbeat is within maxAge of
// the database's clock.
func (s *DB) Nodes(ctx context.Context, maxAge time.Duration) ([]store.Node, error) {
	if maxAge <= 0 {
		return nil, fmt.Errorf("postgres: nodes: max age %s: %w", maxAge, store.ErrInvalidInput)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, sip_addr, admin_url, draining, started_at, seen_at
		FROM cluster_nodes WHERE seen_at > `+dbNow+` - $1 ORDER BY id`, int64(maxAge))
	if err != nil {
		return nil, fmt.Errorf("postgres: nodes: %w", err)
	}
	defer rows.Close()
	var nodes []store.Node
	for rows.Next() {
		var n store.Node
		var started, seen int64
		if err := rows.Scan(&n.ID, &n.SIPAddr, &n.AdminURL, &n.Draining, &started, &seen); err != nil {
			return nil, fmt.Errorf("postgres: nodes: %w", err)
		}
		n.Started, n.Seen = timeFromNanos(started), timeFromNanos(seen)
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: nodes: %w", err)
	}
	return nodes, nil
}
