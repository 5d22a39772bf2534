package sipua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/testphone"
)

func TestTCPBudget(t *testing.T) {
	for _, tc := range []struct {
		configured, maxCalls int
		fd                   FDLimit
		want                 int
	}{
		{0, 1000, FDLimit{Soft: 1 << 20, Open: 20}, 1064},                  // max_calls + 64
		{5000, 1000, FDLimit{Soft: 1 << 20, Open: 20}, 5000},               // as configured
		{3000, 1000, FDLimit{Soft: 4096, Open: 20}, 4096 - 20 - 64 - 2000}, // media keeps its share
		{0, 1000, FDLimit{Soft: 1024, Open: 20}, minTCPConnections},        // short: still a trunk's few
		{100, 10, FDLimit{}, 100},                                          // limit unknown
		{0, 20, FDLimit{Soft: 256, Open: 12}, 84},                          // max_calls + 64 fits
		{0, 200, FDLimit{Soft: 1<<63 - 1, Open: 12}, 264},                  // unlimited
		{1_000_000, 200, FDLimit{Soft: 1<<63 - 1, Open: 12}, 1_000_000},    // unlimited, configured
		{0, 1, FDLimit{Soft: 70, Open: 10}, minTCPConnections},             // tiny
		{0, 100, FDLimit{Soft: 4096, Open: 4000}, minTCPConnections},       // nearly out at start
		{500, 100, FDLimit{Soft: 400, Open: 10}, 400 - 10 - 64 - 200},      // lowered
		{2000, 1000, FDLimit{Soft: 20000, Open: 30}, 2000},                 // room enough
		{0, 1000, FDLimit{Soft: 20000, Open: 30, Hard: 20000}, 1064},       // the test machine
		{0, 5000, FDLimit{Soft: 10000, Open: 30}, minTCPConnections},       // media alone overflows
		{10, 5000, FDLimit{Soft: 10000, Open: 30}, minTCPConnections},      // ... whatever is asked
		{7, 5000, FDLimit{Soft: 10000, Open: 30}, 7},                       // configured below the floor
		{0, 0, FDLimit{Soft: 100, Open: 10}, 26},                           // no calls
		{0, 10, FDLimit{Soft: 1 << 20, Open: 0}, 74},                       // open unknown
		{0, 10, FDLimit{Soft: 1 << 20, Hard: 1 << 20, Open: 5}, 10 + 64},   // same
	} {
		if got := tcpBudget(tc.configured, tc.maxCalls, tc.fd); got != tc.want {
			t.Errorf("tcpBudget(%d, %d, %+v) = %d, want %d", tc.configured, tc.maxCalls, tc.fd, got, tc.want)
		}
	}
}

func TestFDLimitCalls(t *testing.T) {
	if n := (FDLimit{Soft: 256, Open: 13}).Calls(); n != (256-13-fdHeadroom)/fdsPerCall {
		t.Errorf("Calls = %d", n)
	}
	if n := (FDLimit{Soft: 10, Open: 13}).Calls(); n != 0 {
		t.Errorf("Calls with no room = %d", n)
	}
	var out strings.Builder
	l := RaiseFDLimit(10, zerolog.New(&out))
	if l.Soft == 0 || l.Soft != l.Hard && l.Hard < 1<<20 || l.Open == 0 {
		t.Errorf("RaiseFDLimit: %+v", l)
	}
	want := fmt.Sprintf(`{"level":"info","message":"file descriptors: soft %d hard %d; enough for %d calls"}`, l.Soft, l.Hard, l.Calls())
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("logged %s\nwant   %s", got, want)
	}
	out.Reset()
	RaiseFDLimit(1<<30, zerolog.New(&out))
	if got := out.String(); !strings.Contains(got, `"level":"warn"`) || !strings.Contains(got, `"limits_max_calls":1073741824`) || !strings.Contains(got, "LimitNOFILE") {
		t.Errorf("too few descriptors for max_calls: %s", got)
	}
}

// open is the number of accepted connections open.
func (g *tcpGuard) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

type tcpGuardTest struct {
	guard    *tcpGuard
	addr     string
	accepted atomic.Int64

	mu    sync.Mutex
	conns []net.Conn // accepted, closed at the end
}

// startTCPGuard serves a guarded listener as sipgo does: accept, then read
// each connection until it fails and close it.
func startTCPGuard(t *testing.T, lim tcpLimits, busy func(string) bool) *tcpGuardTest {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := parseTrustedNetworks([]string{"127.0.0.1/32", "127.0.0.3/32"})
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Uint64
	if busy == nil {
		busy = func(string) bool { return false }
	}
	gt := &tcpGuardTest{guard: newTCPGuard(lim, trusted, &refused, busy, zerolog.New(zerolog.NewTestWriter(t))), addr: ln.Addr().String()}
	gl := gt.guard.listen(ln)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := gl.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("Accept: %v", err)
				}
				return
			}
			gt.accepted.Add(1)
			gt.mu.Lock()
			gt.conns = append(gt.conns, c)
			gt.mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		gt.mu.Lock()
		for _, c := range gt.conns {
			_ = c.Close()
		}
		gt.mu.Unlock()
		wg.Wait()
	})
	return gt
}

// dialFrom opens n connections from ip and reports how many are still open
// after a moment (the others were closed by the guard).
func dialFrom(t *testing.T, addr, ip string, n int) (open []net.Conn) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	var conns []net.Conn
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			continue // refused before it was accepted: not open either
		}
		conns = append(conns, c)
		t.Cleanup(func() { _ = c.Close() })
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) {
			continue
		}
		open = append(open, c)
	}
	return open
}

// TestTCPGuardAdmits: connections from an untrusted address are closed at
// accept (none reaches the server); trusted ones are capped per source and
// in total, and the refused go without harm to the others.
func TestTCPGuardAdmits(t *testing.T) {
	gt := startTCPGuard(t, tcpLimits{maxTotal: 6, maxPerSource: 4, idle: time.Minute}, nil)
	if open := dialFrom(t, gt.addr, "127.0.0.2", 200); len(open) != 0 {
		t.Errorf("%d untrusted connections left open", len(open))
	}
	if n := gt.accepted.Load(); n != 0 {
		t.Errorf("%d untrusted connections reached the server", n)
	}
	if n := gt.guard.refused.Load(); n != 200 {
		t.Errorf("refused = %d, want 200", n)
	}
	if open := dialFrom(t, gt.addr, "127.0.0.3", 6); len(open) != 4 {
		t.Errorf("127.0.0.3: %d open, want 4 (max_per_source)", len(open))
	}
	if open := dialFrom(t, gt.addr, "127.0.0.1", 3); len(open) != 2 {
		t.Errorf("127.0.0.1: %d open, want 2 (max_connections 6)", len(open))
	}
	if n, c := gt.guard.open(), gt.guard.refusedCap.Load(); n != 6 || c != 3 {
		t.Errorf("open %d, refused over a cap %d; want 6, 3", n, c)
	}
}

// TestTCPGuardIdle: a connection that carries nothing for the idle timeout
// is closed and frees its place; keepalive CRLFs, or a call on it, keep one.
func TestTCPGuardIdle(t *testing.T) {
	var busyConn atomic.Value
	busyConn.Store("")
	const idleTimeout = 1500 * time.Millisecond
	gt := startTCPGuard(t, tcpLimits{maxTotal: 10, maxPerSource: 10, idle: idleTimeout},
		func(src string) bool { return src == busyConn.Load().(string) })
	var conns [3]net.Conn // idle, alive (keepalives), call
	for i := range conns {
		c, err := net.Dial("tcp", gt.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	idle, alive, call := conns[0], conns[1], conns[2]
	busyConn.Store(call.LocalAddr().String())
	for range 12 {
		time.Sleep(250 * time.Millisecond)
		if _, err := alive.Write([]byte("\r\n\r\n")); err != nil {
			t.Fatalf("keepalive: %v", err)
		}
	}
	_ = idle.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: %v, want closed", err)
	}
	if n := gt.guard.idleClosed.Load(); n != 1 {
		t.Errorf("idle closed = %d, want 1", n)
	}
	if n := gt.guard.open(); n != 2 {
		t.Errorf("open = %d, want 2 (the keepalive one, the call's)", n)
	}
}

// flakyListener fails its first accepts as a process out of descriptors
// does.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestTCPGuardAcceptErrors: EMFILE from accept is retried after a back-off,
// never returned; only the listener's close ends Accept.
func TestTCPGuardAcceptErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.fails.Store(4)
	trusted, _ := parseTrustedNetworks([]string{"127.0.0.1/32"})
	var refused atomic.Uint64
	g := newTCPGuard(tcpLimits{maxTotal: 1, maxPerSource: 1, idle: time.Minute}, trusted, &refused,
		func(string) bool { return false }, zerolog.New(zerolog.NewTestWriter(t)))
	gl := g.listen(fl)
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := gl.Accept()
	if err != nil {
		t.Fatalf("Accept after EMFILE: %v", err)
	}
	_ = c.Close()
	if g.open() != 0 {
		t.Errorf("open = %d after close", g.open())
	}
	_ = ln.Close()
	if _, err := gl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: %v", err)
	}
}

// TestServerTCPCallNotIdle: a TCP call whose signalling is silent past the
// idle timeout keeps its connection, and hangs up over it.
func TestServerTCPCallNotIdle(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.SIP.TCP.IdleTimeout = time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("tcp"), Transport: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	if n, idle := ts.tcpGuard.open(), ts.tcpGuard.idleClosed.Load(); n != 1 || idle != 0 {
		t.Errorf("during the call: %d open, %d closed idle; want 1, 0", n, idle)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTCPGuardFDReserve: once the descriptor numbers near the limit less
// the media's reserve, trusted connections are refused, not accepted into
// a process that would then fail a call's RTP socket.
func TestTCPGuardFDReserve(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	base := int(f.Fd())
	_ = f.Close()
	const reserve = 4
	gt := startTCPGuard(t, tcpLimits{maxTotal: 100, maxPerSource: 100, idle: time.Minute,
		fdSoft: base + 12 + reserve, reserve: func() int { return reserve }}, nil)
	open := dialFrom(t, gt.addr, "127.0.0.1", 20)
	if len(open) == 0 || len(open) >= 20 || gt.guard.refusedCap.Load() == 0 {
		t.Errorf("%d of 20 open, %d refused; want some of each", len(open), gt.guard.refusedCap.Load())
	}
}

// TestRaiseFDLimit: a soft limit below the hard one is raised to it.
func TestRaiseFDLimit(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	defer func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &lim) }()
	if lim.Max == unix.RLIM_INFINITY || lim.Max < 2048 {
		t.Skipf("hard limit %d", lim.Max)
	}
	low := unix.Rlimit{Cur: lim.Max / 2, Max: lim.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	if l := RaiseFDLimit(10, zerolog.New(zerolog.NewTestWriter(t))); l.Soft != lim.Max || l.Hard != lim.Max {
		t.Errorf("after RaiseFDLimit: %+v, want soft = hard = %d", l, lim.Max)
	}
}
