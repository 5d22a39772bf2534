package config

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"time"
)

// Cluster makes this bridge one node of several sharing a PostgreSQL
// directory, where every meeting has a home node and callers whose IVR ran
// on another node are moved there (docs/ARCHITECTURE.md, "One meeting
// across nodes"). It is on when Secret is set.
type Cluster struct {
	// NodeID names this node in the database and the logs; the host name
	// when empty. Unique in the cluster.
	NodeID string `yaml:"node_id"`
	// Secret authenticates the inter-node INVITEs and the admin requests
	// forwarded between nodes (HMAC-SHA256): the same on every node, 32
	// characters or more; write ${DIALIN_CLUSTER_SECRET}.
	Secret string `yaml:"secret"`
	// Address is the host:port where the other nodes send this node SIP
	// over UDP; the first UDP listener of sip.listen when empty.
	Address string `yaml:"address"`
	// Networks are the nodes' addresses (CIDRs): the only sources an
	// inter-node INVITE or a forwarded admin request is taken from. They
	// are trusted for SIP like sip.trusted_networks.
	Networks []string `yaml:"networks"`
	// Lease is how long a home node's claim on a meeting lasts without
	// renewal: a meeting whose home died is re-homed after it.
	Lease time.Duration `yaml:"lease"`
}

// Enabled reports whether this bridge is a cluster node.
func (c Cluster) Enabled() bool { return c.Secret != "" }

// Prefixes are Networks parsed; Validate has checked them.
func (c Cluster) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.Networks))
	for _, n := range c.Networks {
		if p, err := ParseNetwork(n); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// DefaultClusterLease is the home lease's length when cluster.lease is unset.
const DefaultClusterLease = 5 * time.Second

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (c *Cluster) validate(p *problems, store Store) {
	if c.Lease < time.Second || c.Lease > time.Minute {
		p.add("cluster.lease", "%s: use 1s to 1m", c.Lease)
	}
	if !c.Enabled() {
		if c.NodeID != "" || c.Address != "" || len(c.Networks) > 0 {
			p.add("cluster.secret", "is empty; a cluster node needs the nodes' shared secret (the other cluster keys do nothing without it)")
		}
		return
	}
	if store.Driver != StorePostgres {
		p.add("cluster.secret", "is set, but the nodes of a cluster share a PostgreSQL directory: set store.driver to postgres")
	}
	if len(c.Secret) < 32 {
		p.add("cluster.secret", "is %d characters; use 32 or more (e.g. openssl rand -hex 32)", len(c.Secret))
	}
	if c.NodeID != "" && !nodeIDPattern.MatchString(c.NodeID) {
		p.add("cluster.node_id", "%q: use 1 to 64 letters, digits, '.', '_' or '-'", c.NodeID)
	}
	if c.Address != "" {
		host, port, err := net.SplitHostPort(c.Address)
		if err != nil || port == "" || port == "0" {
			p.add("cluster.address", "%q is not host:port", c.Address)
		} else if _, err := netip.ParseAddr(host); err != nil {
			p.add("cluster.address", "host %q is not an IP address", host)
		}
	}
	if len(c.Networks) == 0 {
		p.add("cluster.networks", "is empty; list the nodes' addresses (CIDRs), the only sources of inter-node calls")
	}
	for i, n := range c.Networks {
		if _, err := ParseNetwork(n); err != nil {
			p.add(fmt.Sprintf("cluster.networks[%d]", i), "%q is not an IP address or CIDR", n)
		}
	}
}
