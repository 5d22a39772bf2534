package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts means every even port of the RTP range is taken.
var ErrNoPorts = errors.New("rtp: no free port in range")

// PortRange hands out even UDP ports from [min, max] for RTP sockets. It
// starts at a random port and probes upward, as livekit does, so restarts do
// not reuse the ports of calls that just ended (late packets of an old call
// would otherwise land in a new one).
type PortRange struct {
	min, max int // even bounds

	mu    sync.Mutex
	next  int
	inUse map[int]bool
}

// NewPortRange returns the allocator for the even ports in [min, max].
func NewPortRange(min, max int) (*PortRange, error) {
	if min%2 != 0 {
		min++
	}
	if max%2 != 0 {
		max--
	}
	if min < 1 || max > 65535 || min > max {
		return nil, fmt.Errorf("rtp: port range %d-%d has no even port", min, max)
	}
	n := (max-min)/2 + 1
	return &PortRange{min: min, max: max, next: min + 2*rand.IntN(n), inUse: make(map[int]bool)}, nil
}

// Size is the number of even ports in the range.
func (r *PortRange) Size() int { return (r.max-r.min)/2 + 1 }

// Listen binds a UDP socket on ip and the next free even port. Ports taken
// by other programs are skipped. The caller must Release the port after
// closing the socket.
func (r *PortRange) Listen(ip netip.Addr) (*net.UDPConn, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range r.Size() {
		port := r.next
		r.next += 2
		if r.next > r.max {
			r.next = r.min
		}
		if r.inUse[port] {
			continue
		}
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			// In use by someone else; an address we cannot bind at all
			// fails the same way on every port, so give up at once.
			if isAddrInUse(err) {
				continue
			}
			return nil, 0, fmt.Errorf("rtp: listen on %s port %d: %w", ip, port, err)
		}
		r.inUse[port] = true
		return conn, port, nil
	}
	return nil, 0, ErrNoPorts
}

// Release returns a port to the range.
func (r *PortRange) Release(port int) {
	r.mu.Lock()
	delete(r.inUse, port)
	r.mu.Unlock()
}

// InUse is the number of ports currently handed out.
func (r *PortRange) InUse() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inUse)
}
