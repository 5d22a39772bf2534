//go:build unix

package media

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// rtpSocket is a call's RTP socket, kept out of Go's network poller. The
// media clock reads it on its ticks, never waiting; left in the poller,
// every arriving packet would wake the runtime's poller (an epoll event and
// a scheduler round) for nobody, which at low load cost more than the
// reading itself.
type rtpSocket struct {
	// mu is read-held by every read and send, so Close never closes the
	// descriptor under one of them (a reused descriptor number would send
	// one call's audio from another call's port).
	mu     sync.RWMutex
	fd     int
	closed bool
	v6     bool // an IPv6 socket: IPv4 peers are written as IPv4-mapped
	sa     sockaddr
}

// newRTPSocket takes over conn's socket: it keeps a duplicate of the
// descriptor and closes conn, which takes the socket out of the poller.
func newRTPSocket(conn *net.UDPConn) (*rtpSocket, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("rtp: socket: %w", err)
	}
	fd, dupErr := -1, error(nil)
	if err := raw.Control(func(f uintptr) { fd, dupErr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		dupErr = err
	}
	conn.Close()
	if dupErr != nil {
		return nil, fmt.Errorf("rtp: socket: %w", dupErr)
	}
	// A duplicate shares the original's flags: it is already non-blocking.
	// Go binds an unspecified address as a dual-stack IPv6 socket, so ask
	// the socket rather than the address.
	name, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("rtp: socket: %w", err)
	}
	_, v6 := name.(*unix.SockaddrInet6)
	enableStamps(fd)
	return &rtpSocket{fd: fd, v6: v6}, nil
}

// read takes what is waiting, up to recvBatch datagrams, without waiting;
// net.ErrClosed once closed.
func (s *rtpSocket) read(b *recvBuffers) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	return readBatch(s.fd, b)
}

// writeTo sends one datagram. Only the session's single writer calls it
// (it uses the socket's address buffer).
func (s *rtpSocket) writeTo(p []byte, to netip.AddrPort) error { return s.writeWith(p, to, &s.sa) }

// writeWith sends one datagram using sa for the address: a second sender
// (RTCP on a muxed port, from the reading shard) brings its own.
func (s *rtpSocket) writeWith(p []byte, to netip.AddrPort, sa *sockaddr) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return net.ErrClosed
	}
	if s.v6 {
		to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
	} else if to.Addr().Is4In6() {
		to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	}
	return sendTo(s.fd, p, to, sa)
}

// Close closes the socket once no read or send is using it.
func (s *rtpSocket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return unix.Close(s.fd)
}

// readiness asks the kernel in one poll which of a shard's quiet sockets
// (empty at their last read) have something to read now, so a call that
// sends nothing (on hold, a trunk that sends no media) costs a slot in that
// poll instead of an empty read every tick. Sockets that had data last tick
// are read without asking: they almost always have more, and a poll slot
// costs about as much as a read here (~1 µs).
type readiness struct {
	fds   []unix.PollFd
	index []int // the session each fd belongs to
}

// check reports, in ready (reused), whether each session should be read
// this tick. If the poll fails, every socket counts as ready: the reads
// then find out.
func (r *readiness) check(sessions []*Session, ready []bool) []bool {
	r.fds, r.index, ready = r.fds[:0], r.index[:0], ready[:0]
	for i, s := range sessions {
		ready = append(ready, !s.quiet)
		if s.quiet {
			// fd never changes; a socket closed meanwhile is caught by its read.
			r.fds = append(r.fds, unix.PollFd{Fd: int32(s.sock.fd), Events: unix.POLLIN})
			r.index = append(r.index, i)
		}
	}
	err := pollNow(r.fds)
	for k, f := range r.fds {
		ready[r.index[k]] = err != nil || f.Revents != 0
	}
	return ready
}
