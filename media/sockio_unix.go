//go:build unix && !linux

package media

import (
	"errors"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysRecv: on Unix systems other than Linux, one recvfrom per datagram (it
// allocates the source address; Linux, where the bridge runs, reads batches
// with recvmmsg and allocates nothing).
type sysRecv struct{}

func (r *sysRecv) init(*recvBuffers) {}

// readBatch reads what is waiting on the non-blocking socket fd, up to
// recvBatch datagrams, without waiting: 0 means the socket is empty.
func readBatch(fd int, b *recvBuffers) (int, error) {
	for i := range recvBatch {
		n, from, err := syscall.Recvfrom(fd, b.data[i][:], 0)
		switch {
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
			return i, nil // empty (or interrupted: read again next tick)
		case err != nil:
			return i, err
		}
		b.lens[i] = min(n, maxPacket)
		b.truncated[i] = false
		b.stamps[i] = 0
		switch sa := from.(type) {
		case *syscall.SockaddrInet4:
			b.from[i] = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
		case *syscall.SockaddrInet6:
			b.from[i] = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
		default:
			b.from[i] = netip.AddrPortFrom(netip.Addr{}, 0)
		}
	}
	return recvBatch, nil
}

// sockaddr: nothing to reuse here.
type sockaddr struct{}

// sendTo sends p to `to` with one sendto.
func sendTo(fd int, p []byte, to netip.AddrPort, _ *sockaddr) error {
	var sa syscall.Sockaddr
	if a := to.Addr(); a.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(to.Port()), Addr: a.As4()}
	} else {
		sa = &syscall.SockaddrInet6{Port: int(to.Port()), Addr: a.As16()}
	}
	for {
		err := syscall.Sendto(fd, p, 0, sa)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		return err
	}
}

// pollNow polls fds without waiting.
func pollNow(fds []unix.PollFd) error {
	if len(fds) == 0 {
		return nil
	}
	for {
		_, err := unix.Poll(fds, 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		return err
	}
}

// enableStamps: arrival stamps are Linux's here; the tick's time stands in.
func enableStamps(int) {}
