//go:build !unix

package media

import (
	"errors"
	"net"
	"net/netip"
)

// The bridge reads and sends RTP with Unix socket calls; elsewhere a call's
// media fails at once with a clear error instead of staying silent.
var errNoUnix = errors.New("rtp: sockets need a Unix system (Linux)")

type sysRecv struct{}

func (r *sysRecv) init(*recvBuffers) {}

type rtpSocket struct{}

func newRTPSocket(conn *net.UDPConn) (*rtpSocket, error) {
	conn.Close()
	return nil, errNoUnix
}

func (s *rtpSocket) read(*recvBuffers) (int, error)       { return 0, errNoUnix }
func (s *rtpSocket) writeTo([]byte, netip.AddrPort) error { return errNoUnix }
func (s *rtpSocket) writeWith([]byte, netip.AddrPort, *sockaddr) error {
	return errNoUnix
}
func (s *rtpSocket) Close() error { return nil }

type sockaddr struct{}

type readiness struct{}

func (r *readiness) check(sessions []*Session, ready []bool) []bool {
	ready = ready[:0]
	for range sessions {
		ready = append(ready, true)
	}
	return ready
}
