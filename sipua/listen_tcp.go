package sipua

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/loglimit"
)

// The accept loop's back-off after a failed accept (EMFILE, ENFILE,
// ECONNABORTED, ENOBUFS...): 5 ms doubling up to 1 s, as net/http's Server.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// tcpWriteTimeout fails a write to a peer that stopped reading, so a
// transaction does not block on it forever.
const tcpWriteTimeout = 30 * time.Second

// minTCPConnections is the least the descriptor budget leaves TCP (unless
// configured lower): a bridge short of descriptors (warned at start) still
// takes its trunk's connections.
const minTCPConnections = 8

// tcpGuard admits the connections of every TCP listener (the caps are the
// bridge's, not each listener's). Its listen wraps each net.Listener handed
// to sipgo's ServeTCP: sipgo ends its accept loop (and used to end the
// bridge) on the first error Accept returns, so Accept returns only
// net.ErrClosed; it closes connections from outside sip.trusted_networks
// before sipgo reads a byte, caps connections in total and per source, and
// wraps the rest so that idle ones close.
type tcpGuard struct {
	log          zerolog.Logger
	trusted      trustedNetworks
	maxTotal     int
	maxPerSource int
	idle         time.Duration
	busy         func(source string) bool // a call's dialog runs over this connection
	fdSoft       int                      // the open-file limit; 0: unknown, not checked
	reserve      func() int               // descriptors the calls still to come need
	refused      *atomic.Uint64           // the server's count of untrusted sources refused

	mu        sync.Mutex
	total     int
	perSource map[netip.Addr]int

	refusedCap atomic.Uint64
	idleClosed atomic.Uint64

	acceptLog, untrustedLog, capLog loglimit.Limiter
}

type tcpLimits struct {
	maxTotal, maxPerSource int
	idle                   time.Duration
	fdSoft                 int        // 0: no descriptor check
	reserve                func() int // with fdSoft
}

func newTCPGuard(lim tcpLimits, trusted trustedNetworks, refused *atomic.Uint64, busy func(string) bool, log zerolog.Logger) *tcpGuard {
	return &tcpGuard{
		log:          log,
		trusted:      trusted,
		maxTotal:     lim.maxTotal,
		maxPerSource: lim.maxPerSource,
		idle:         lim.idle,
		fdSoft:       lim.fdSoft,
		reserve:      lim.reserve,
		busy:         busy,
		refused:      refused,
		perSource:    make(map[netip.Addr]int),
	}
}

// tcpBudget is the cap on accepted connections: the configured one (0:
// max_calls + 64), lowered so that the descriptors left beside what is open
// keep fdsPerCall-1 (RTP and RTCP) free for each of maxCalls calls.
func tcpBudget(configured, maxCalls int, fd FDLimit) int {
	want := configured
	if want == 0 {
		want = maxCalls + fdHeadroom
	}
	if fd.Soft == 0 { // unknown: trust the configuration
		return want
	}
	room := int64(min(fd.Soft, 1<<40)) - int64(fd.Open) - fdHeadroom - int64(maxCalls)*(fdsPerCall-1)
	return int(min(int64(want), max(room, minTCPConnections)))
}

// guardedListener is one listener under its tcpGuard.
type guardedListener struct {
	net.Listener
	g *tcpGuard
}

func (g *tcpGuard) listen(l net.Listener) net.Listener { return &guardedListener{Listener: l, g: g} }

// Accept returns the next connection from a trusted source within the
// caps; it retries every other failure after a back-off, and returns only
// when the listener is closed.
func (l *guardedListener) Accept() (net.Conn, error) {
	g := l.g
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			if ok, suppressed := g.acceptLog.Allow(time.Now()); ok {
				g.log.Warn().Err(err).Dur("retry_in", delay).Int("suppressed", suppressed).
					Msg("sip: accepting a TCP connection failed; retrying")
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		if gc := g.admit(c); gc != nil {
			return gc, nil
		}
	}
}

// admit wraps c, or closes it (with a reset: no TIME_WAIT kept for a
// stranger) when its source is untrusted or over a cap.
func (g *tcpGuard) admit(c net.Conn) net.Conn {
	var src netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		src = ta.AddrPort().Addr().Unmap().WithZone("")
	}
	if !g.trusted.contains(src) {
		g.refused.Add(1)
		reset(c)
		if ok, suppressed := g.untrustedLog.Allow(time.Now()); ok {
			g.log.Warn().Str("source", c.RemoteAddr().String()).Str("transport", "TCP").Int("suppressed", suppressed).
				Msg("refused: source not in sip.trusted_networks")
		}
		return nil
	}
	over := ""
	// Descriptors are numbered lowest free first, so the new one's number
	// is a count of those open: past the limit less the media's share of
	// the calls still to come, TCP must wait (a cheap, exact test that
	// also sees descriptors the caps do not, such as the API's).
	if g.fdSoft > 0 {
		if fd, ok := fdNumber(c); ok && fd+1 > g.fdSoft-g.reserve() {
			over = "file descriptors kept for media"
		}
	}
	g.mu.Lock()
	switch {
	case over != "":
	case g.total >= g.maxTotal:
		over = "sip.tcp.max_connections"
	case g.perSource[src] >= g.maxPerSource:
		over = "sip.tcp.max_per_source"
	default:
		g.total++
		g.perSource[src]++
	}
	g.mu.Unlock()
	if over != "" {
		g.refusedCap.Add(1)
		reset(c)
		if ok, suppressed := g.capLog.Allow(time.Now()); ok {
			g.log.Warn().Str("source", c.RemoteAddr().String()).Str("limit", over).
				Int("max_connections", g.maxTotal).Int("max_per_source", g.maxPerSource).Int("suppressed", suppressed).
				Msg("refused TCP connection: too many open")
		}
		return nil
	}
	gc := &guardedConn{Conn: c, g: g, src: src, remote: c.RemoteAddr().String()}
	gc.lastWrite.Store(time.Now().UnixNano())
	return gc
}

func (g *tcpGuard) release(src netip.Addr) {
	g.mu.Lock()
	g.total--
	if n := g.perSource[src] - 1; n > 0 {
		g.perSource[src] = n
	} else {
		delete(g.perSource, src)
	}
	g.mu.Unlock()
}

// fdNumber is c's descriptor.
func fdNumber(c net.Conn) (int, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	n := -1
	_ = rc.Control(func(fd uintptr) { n = int(fd) })
	return n, n >= 0
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// guardedConn is an accepted connection: every read waits at most the idle
// timeout; when it passes with nothing written either and no call on the
// connection, the read ends as a clean close (sipgo then closes it).
type guardedConn struct {
	net.Conn
	g         *tcpGuard
	src       netip.Addr
	remote    string // as sipgo names the connection (the requests' Source)
	lastWrite atomic.Int64
	closeOnce sync.Once
}

func (c *guardedConn) Read(b []byte) (int, error) {
	for {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.g.idle))
		n, err := c.Conn.Read(b)
		if n > 0 || err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if time.Since(time.Unix(0, c.lastWrite.Load())) < c.g.idle || c.g.busy(c.remote) {
			continue
		}
		c.g.idleClosed.Add(1)
		c.g.log.Debug().Str("source", c.remote).Dur("idle", c.g.idle).Msg("sip: closing an idle TCP connection")
		return 0, io.EOF
	}
}

func (c *guardedConn) Write(b []byte) (int, error) {
	now := time.Now()
	c.lastWrite.Store(now.UnixNano())
	_ = c.Conn.SetWriteDeadline(now.Add(tcpWriteTimeout))
	return c.Conn.Write(b)
}

func (c *guardedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.g.release(c.src) })
	return err
}

// hasTCPCall reports whether a call's dialog came in over the TCP
// connection named source: such a connection is not idle while the call
// lasts, however quiet its signalling.
func (s *Server) hasTCPCall(source string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.dialogs {
		if r := in.dialog.InviteRequest; r != nil && r.Transport() == "TCP" && r.Source() == source {
			return true
		}
	}
	return false
}

// guardListeners builds the guards Serve hands sipgo: the UDP sockets keep
// strangers out, the TCP connections are capped within the descriptors
// left once the calls' media has its share.
func (s *Server) guardListeners() {
	fd := currentFDLimit()
	tcp := s.opts.SIP.TCP
	lim := tcpLimits{
		maxTotal:     tcpBudget(tcp.MaxConnections, s.opts.Limits.MaxCalls, fd),
		maxPerSource: tcp.MaxPerSource,
		idle:         tcp.IdleTimeout,
		fdSoft:       int(min(fd.Soft, 1<<30)),
		reserve: func() int {
			return max(s.opts.Limits.MaxCalls-int(s.active.Load()), 0) * (fdsPerCall - 1)
		},
	}
	if lim.maxPerSource <= 0 { // options built without config.Default
		lim.maxPerSource = lim.maxTotal
	}
	if lim.idle <= 0 {
		lim.idle = 5 * time.Minute
	}
	s.tcpGuard = newTCPGuard(lim, s.trusted, &s.refusedUntrusted, s.hasTCPCall, s.log)
	reject := s.opts.SIP.Untrusted == config.UntrustedReject
	s.udpGuards = s.udpGuards[:0]
	for _, c := range s.udpConns {
		s.udpGuards = append(s.udpGuards, newUDPGuard(c, s.trusted, reject, s.opts.SIP.UserAgent, &s.refusedUntrusted, s.log))
	}
}
