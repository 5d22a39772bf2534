package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts means every port pair of the RTP range is taken.
var ErrNoPorts = errors.New("rtp: no free port pair in range")

// randomTries is how many random pairs Listen tries before it scans the
// range in order: with the range less than about 90 % full, eight tries
// almost always find a free pair, and the scan then finds the last ones.
const randomTries = 8

// PortRange hands out RTP/RTCP port pairs from [min, max]: an even port for
// RTP and the odd one above it for RTCP (RFC 3550 §11), both bound. Each
// pair is picked at random, so one's own call does not reveal the port the
// next caller will get (sequential ports let a host spray the next ones and
// be latched before the victim), and a restart does not reuse the ports of
// calls that just ended.
type PortRange struct {
	min, max int // even bounds; max+1 is the last RTCP port

	mu    sync.Mutex
	inUse map[int]bool // by RTP port
}

// NewPortRange returns the allocator for the pairs whose even port is in
// [min, max] (the odd port above max is used too, up to 65535).
func NewPortRange(min, max int) (*PortRange, error) {
	if min%2 != 0 {
		min++
	}
	if max%2 != 0 {
		max--
	}
	if min < 1 || max > 65534 || min > max {
		return nil, fmt.Errorf("rtp: port range %d-%d has no even port with an odd one above it", min, max)
	}
	return &PortRange{min: min, max: max, inUse: make(map[int]bool)}, nil
}

// Size is the number of port pairs in the range.
func (r *PortRange) Size() int { return (r.max-r.min)/2 + 1 }

// PortPair is one call's bound sockets: RTP on Port, RTCP on Port+1.
type PortPair struct {
	RTP, RTCP *net.UDPConn
	Port      int // the RTP port (even)
}

// ListenPair binds a free pair on ip: random pairs first, then a scan from
// a random start. Pairs with a port taken by another program are skipped.
// The caller must Release(pair.Port) after closing the sockets.
func (r *PortRange) ListenPair(ip netip.Addr) (PortPair, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := r.Size()
	for range min(randomTries, size) {
		p, ok, err := r.tryLocked(ip, r.min+2*rand.IntN(size))
		if ok || err != nil {
			return p, err
		}
	}
	start := rand.IntN(size)
	for i := range size {
		p, ok, err := r.tryLocked(ip, r.min+2*((start+i)%size))
		if ok || err != nil {
			return p, err
		}
	}
	return PortPair{}, ErrNoPorts
}

// tryLocked binds port and port+1 unless the pair is handed out or either
// is in use elsewhere (ok false, no error). An address that cannot be bound
// at all fails the same way on every port: that is an error.
func (r *PortRange) tryLocked(ip netip.Addr, port int) (PortPair, bool, error) {
	if r.inUse[port] {
		return PortPair{}, false, nil
	}
	rtpConn, err := listenUDP(ip, port)
	if err != nil {
		if isAddrInUse(err) {
			return PortPair{}, false, nil
		}
		return PortPair{}, false, fmt.Errorf("rtp: listen on %s port %d: %w", ip, port, err)
	}
	rtcpConn, err := listenUDP(ip, port+1)
	if err != nil {
		rtpConn.Close()
		if isAddrInUse(err) {
			return PortPair{}, false, nil
		}
		return PortPair{}, false, fmt.Errorf("rtp: listen on %s port %d (RTCP): %w", ip, port+1, err)
	}
	r.inUse[port] = true
	return PortPair{RTP: rtpConn, RTCP: rtcpConn, Port: port}, true, nil
}

func listenUDP(ip netip.Addr, port int) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
}

// Release returns a pair (by its RTP port) to the range.
func (r *PortRange) Release(port int) {
	r.mu.Lock()
	delete(r.inUse, port)
	r.mu.Unlock()
}

// InUse is the number of pairs currently handed out.
func (r *PortRange) InUse() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inUse)
}
