package media

import (
	"net/netip"

	"github.com/pion/rtp"
)

// recvBatch is how many datagrams one read takes from a socket. A call
// sends one packet per 20 ms tick, so one read usually empties it; after a
// scheduling stall a few more are waiting.
const recvBatch = 8

// recvBuffers is a clock shard's receive memory, shared by every session the
// shard reads: one set per shard instead of one per call keeps a call's
// footprint small.
type recvBuffers struct {
	data      [recvBatch][maxPacket]byte
	lens      [recvBatch]int
	from      [recvBatch]netip.AddrPort
	truncated [recvBatch]bool  // the datagram was longer than maxPacket
	stamps    [recvBatch]int64 // the kernel's arrival time, unix ns; 0: unknown
	arrival   int64            // stamps[i] of the datagram being handled
	pkt       rtp.Packet
	pcm       [maxPacket]int16
	sys       sysRecv // the operating system's read (sockio_linux.go, sockio_unix.go, sockio_other.go)
}

func newRecvBuffers() *recvBuffers {
	b := &recvBuffers{}
	b.sys.init(b)
	return b
}
