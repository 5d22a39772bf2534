package media

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRecv holds recvmmsg's headers, which point into recvBuffers' arrays:
// one system call reads up to recvBatch datagrams.
type sysRecv struct {
	hdrs  [recvBatch]unix.Mmsghdr
	iovs  [recvBatch]unix.Iovec
	names [recvBatch]unix.RawSockaddrInet6 // big enough for IPv4 too
	ctrl  [recvBatch][ctrlSpace]byte       // each datagram's arrival stamp (SO_TIMESTAMPNS)
}

// ctrlSpace holds one SCM_TIMESTAMPNS control message (32 bytes on 64-bit
// systems), with room to spare.
const ctrlSpace = 64

func (r *sysRecv) init(b *recvBuffers) {
	for i := range r.hdrs {
		r.iovs[i].Base = &b.data[i][0]
		r.iovs[i].SetLen(maxPacket)
		r.hdrs[i].Hdr.Iov = &r.iovs[i]
		r.hdrs[i].Hdr.SetIovlen(1)
		r.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		r.hdrs[i].Hdr.Control = &r.ctrl[i][0]
	}
}

// The clock's system calls (recvmmsg, sendto, ppoll) never wait
// (MSG_DONTWAIT, a zero timeout), so they are made with RawSyscall6, outside
// the scheduler's syscall state. unix.Syscall6 would enter it, and the first
// such entry after the process was idle wakes the runtime's sysmon thread,
// which then checks every 20 µs for the next millisecond or more: on every
// tick. Measured at 50 participants, sysmon was about 30% of the bridge's CPU.

// readBatch reads what is waiting on the non-blocking socket fd, up to
// recvBatch datagrams, without waiting: 0 means the socket is empty.
func readBatch(fd int, b *recvBuffers) (int, error) {
	r := &b.sys
	for i := range r.hdrs {
		r.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		r.hdrs[i].Hdr.SetControllen(ctrlSpace)
		r.hdrs[i].Hdr.Flags = 0
	}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.hdrs[0])), recvBatch, unix.MSG_DONTWAIT, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN || errno == unix.EWOULDBLOCK:
			return 0, nil
		case errno != 0:
			return 0, errno
		}
		for i := range int(n) {
			h := &r.hdrs[i]
			b.lens[i] = int(min(h.Len, maxPacket))
			b.truncated[i] = h.Hdr.Flags&unix.MSG_TRUNC != 0
			b.from[i] = sockaddrToAddrPort(&r.names[i])
			b.stamps[i] = arrivalStamp(&h.Hdr, &r.ctrl[i])
		}
		return int(n), nil
	}
}

// sockaddrToAddrPort reads a source address the way net.UDPConn does: an
// IPv6 socket reports IPv4 peers as IPv4-mapped addresses.
func sockaddrToAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), portFromNetwork(sa4.Port))
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), portFromNetwork(sa.Port))
	}
	return netip.AddrPort{}
}

// portFromNetwork turns a sockaddr's port (network byte order in memory)
// into a number.
func portFromNetwork(p uint16) uint16 {
	var b [2]byte
	*(*uint16)(unsafe.Pointer(&b[0])) = p
	return binary.BigEndian.Uint16(b[:])
}

// sockaddr is a send's destination in the kernel's form, reused per socket.
type sockaddr struct {
	v4 unix.RawSockaddrInet4
	v6 unix.RawSockaddrInet6
}

// sendTo sends p to `to` with one sendto and no allocation.
func sendTo(fd int, p []byte, to netip.AddrPort, sa *sockaddr) error {
	if len(p) == 0 {
		return nil
	}
	var name unsafe.Pointer
	var size uintptr
	port := portToNetwork(to.Port())
	if a := to.Addr(); a.Is4() {
		sa.v4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: port, Addr: a.As4()}
		name, size = unsafe.Pointer(&sa.v4), unix.SizeofSockaddrInet4
	} else {
		sa.v6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: port, Addr: a.As16()}
		name, size = unsafe.Pointer(&sa.v6), unix.SizeofSockaddrInet6
	}
	for {
		_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, uintptr(name), size)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

// portToNetwork is portFromNetwork's inverse.
func portToNetwork(p uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], p)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

// pollNow polls fds without waiting (ppoll with a zero timeout, which,
// unlike unix.Poll, allocates nothing).
func pollNow(fds []unix.PollFd) error {
	if len(fds) == 0 {
		return nil
	}
	var zero unix.Timespec
	for {
		_, _, errno := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		default:
			return errno
		}
	}
}

// enableStamps asks the kernel to stamp each datagram's arrival on fd
// (SO_TIMESTAMPNS): recvmmsg then returns the stamps with the datagrams,
// for the jitter and the round-trip time, at no extra system call. An
// error leaves the stamps unknown (0): the tick's time stands in.
func enableStamps(fd int) { _ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) }

// arrivalStamp reads the SCM_TIMESTAMPNS control message of one datagram,
// unix ns; 0 if it has none.
func arrivalStamp(h *unix.Msghdr, ctrl *[ctrlSpace]byte) int64 {
	dataOff := unix.CmsgLen(0)
	if int(h.Controllen) < dataOff+int(unsafe.Sizeof(unix.Timespec{})) {
		return 0
	}
	c := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
	if c.Level != unix.SOL_SOCKET || c.Type != unix.SCM_TIMESTAMPNS || int(c.Len) < dataOff+int(unsafe.Sizeof(unix.Timespec{})) {
		return 0
	}
	return (*unix.Timespec)(unsafe.Pointer(&ctrl[dataOff])).Nano()
}
