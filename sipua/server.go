// Package sipua is the bridge's SIP user agent on sipgo: it listens on the
// trunk side, answers INVITEs with an SDP answer, runs each answered call's
// RTP session and hands the call to the call flow.
//
// server.go runs the listeners and routes each request by what it is:
// invite.go answers a new INVITE and runs its call, indialog.go and
// reinvite.go answer the requests inside a call's dialog, responses.go the
// others. The SIP state of a dialog (inbound) stays here; the Call the
// flows get is its media session and player plus the keys.
package sipua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/loglimit"
	"github.com/dialin/dialin/media"
)

// sipSocketBuffer is the kernel buffer asked for on SIP UDP sockets (the
// kernel caps it at net.core.rmem_max / wmem_max).
const sipSocketBuffer = 4 << 20

// Handler runs the call flow of one answered call. It must return when ctx
// is done; the call ends (with a BYE from us) when it returns.
type Handler func(ctx context.Context, call *Call)

// Options configure a Server: the parts of the configuration it uses, each
// whole (every field of them is the user agent's), and its collaborators.
type Options struct {
	SIP     config.SIP     // listen addresses, trunk ACL, auth, DTMF, answer delay, dial-in numbers
	RTP     config.RTP     // the port range and the inactivity timeout
	Limits  config.Limits  // max calls and duration, shutdown grace, Retry-After
	Cluster config.Cluster // the inter-node INVITEs' secret and networks (cluster.go, move.go)
	Logger  zerolog.Logger
	Clock   *media.Clock // the 20 ms media clock that paces every call's audio
	Handler Handler
	// AcceptJoin, if set, decides whether this node takes an inter-node
	// call (a caller another node's IVR identified): it is the meeting's
	// home. Refused calls get 410 and their node looks again.
	AcceptJoin func(Join) bool
	// BeforeHangup, if set, runs when Shutdown's grace is over, before
	// the calls still up are hung up (a cluster node frees its meetings
	// for the other nodes, so the callers they moved here can rejoin).
	BeforeHangup func()
	// OnEnd, if set, gets each call's record once it is over (record.go),
	// on the call's goroutine: it must not block.
	OnEnd func(Ended)
}

// Server is the SIP user agent.
type Server struct {
	opts    Options
	log     zerolog.Logger
	clock   *media.Clock
	handler Handler
	ports   *media.PortRange

	ua       *sipgo.UserAgent
	sip      *sipgo.Server
	client   *sipgo.Client
	dialogUA map[string]*sipgo.DialogUA // by transport: the Contact differs

	udpConns  []*net.UDPConn
	tcpLns    []net.Listener
	udpGuards []*udpGuard         // the UDP sockets as sipgo reads them (listen_udp.go)
	tcpGuard  *tcpGuard           // admits every TCP listener's connections (listen_tcp.go)
	listening []config.ListenAddr // with real ports once bound
	mediaIP   netip.Addr          // where RTP sockets bind
	publicIP  netip.Addr          // what SDP and Contact advertise

	mu      sync.Mutex
	dialogs map[string]*inbound // by dialog ID
	active  atomic.Int64        // INVITEs being handled, answered or not
	wg      sync.WaitGroup      // one per INVITE handler

	trusted          trustedNetworks // who may send requests (sip.trusted_networks)
	refusedUntrusted atomic.Uint64
	untrustedLog     loglimit.Limiter
	auth             *digestAuth // nil: no digest authentication (sip.auth)
	authLog          loglimit.Limiter
	refusedAuth      atomic.Uint64
	cluster          *clusterAuth // nil: not a cluster node
	joinLog          loglimit.Limiter
	legs             map[string]*Leg       // by dialog ID: calls whose media a home node took (move.go)
	homes            map[string]*homeWatch // by home address: the pings of the nodes legs go to (homewatch.go)

	draining atomic.Bool
	baseCtx  context.Context
	stop     context.CancelCauseFunc

	// Limits for lines a trusted peer can cause per request (the others
	// are per call).
	otherMethodLog loglimit.Limiter
	peersGone      atomic.Uint64 // calls hung up by the liveness probes (liveness.go)

	// For metrics and readiness (stats.go).
	counts                      callCounters
	listenersTotal, listenersUp atomic.Int64 // while Serve runs
}

// New builds the user agent; Listen binds it and Serve runs it.
func New(opts Options) (*Server, error) {
	ports, err := media.NewPortRange(opts.RTP.PortMin, opts.RTP.PortMax)
	if err != nil {
		return nil, err
	}
	trusted, err := parseTrustedNetworks(opts.SIP.TrustedNetworks)
	if err != nil {
		return nil, err
	}
	if opts.Cluster.Enabled() {
		// The other nodes send inter-node INVITEs and their dialogs' requests.
		trusted = append(trusted, opts.Cluster.Prefixes()...)
	}
	auth, err := newDigestAuth(opts.SIP.Auth)
	if err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(opts.SIP.UserAgent))
	if err != nil {
		return nil, fmt.Errorf("sip: new user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		return nil, fmt.Errorf("sip: new server: %w", err)
	}
	client, err := sipgo.NewClient(ua)
	if err != nil {
		return nil, fmt.Errorf("sip: new client: %w", err)
	}
	baseCtx, stop := context.WithCancelCause(context.Background())
	s := &Server{
		counts:   newCallCounters(),
		opts:     opts,
		log:      opts.Logger,
		clock:    opts.Clock,
		handler:  opts.Handler,
		ports:    ports,
		ua:       ua,
		sip:      srv,
		client:   client,
		dialogUA: make(map[string]*sipgo.DialogUA),
		dialogs:  make(map[string]*inbound),
		trusted:  trusted,
		auth:     auth,
		cluster:  newClusterAuth(opts.Cluster),
		legs:     make(map[string]*Leg),
		homes:    make(map[string]*homeWatch),
		baseCtx:  baseCtx,
		stop:     stop,
	}
	// Every request passes the trunk ACL first, in or out of a dialog;
	// every response gets Server, Allow and Supported (headers.go).
	srv.OnInvite(s.stamped(s.fromTrunk(s.onInvite)))
	srv.OnAck(s.stamped(s.fromTrunk(s.onAck)))
	srv.OnBye(s.stamped(s.fromTrunk(s.onBye)))
	srv.OnCancel(s.stamped(s.fromTrunk(s.onCancel)))
	srv.OnOptions(s.stamped(s.fromTrunk(s.onOptions)))
	srv.OnInfo(s.stamped(s.fromTrunk(s.onInfo)))
	srv.OnUpdate(s.stamped(s.fromTrunk(s.onUpdate)))
	srv.OnNoRoute(s.stamped(s.fromTrunk(s.onOtherMethod)))
	// The dialogs' own requests are stamped and keep the dialog's connection.
	client.TxRequester = dialogRequester{s}
	return s, nil
}

// bind opens a listener for each address; port-0 entries of one host
// share the port the first of them got.
func (s *Server) bind(addrs []config.ListenAddr) error {
	picked := map[string]int{} // host → port chosen for a port-0 entry
	for _, a := range addrs {
		if a.Port == 0 && picked[a.Host] != 0 {
			a.Port = picked[a.Host]
		}
		var local net.Addr
		switch a.Transport {
		case "udp":
			conn, err := net.ListenPacket("udp", a.Address())
			if err != nil {
				return fmt.Errorf("sip: listen %s: %w", a, err)
			}
			udp := conn.(*net.UDPConn)
			// A burst of INVITEs (a trunk failing over to us) overflows the
			// default ~200 KB buffer and costs a 500 ms retransmission each.
			_ = udp.SetReadBuffer(sipSocketBuffer)
			_ = udp.SetWriteBuffer(sipSocketBuffer)
			s.udpConns = append(s.udpConns, udp)
			local = conn.LocalAddr()
		case "tcp":
			ln, err := net.Listen("tcp", a.Address())
			if err != nil {
				return fmt.Errorf("sip: listen %s: %w", a, err)
			}
			s.tcpLns = append(s.tcpLns, ln)
			local = ln.Addr()
		}
		ap, _ := netip.ParseAddrPort(local.String())
		if a.Port == 0 {
			picked[a.Host] = int(ap.Port())
		}
		a.Port = int(ap.Port())
		s.listening = append(s.listening, a)
	}
	return nil
}

func hasPortZero(addrs []config.ListenAddr) bool {
	for _, a := range addrs {
		if a.Port == 0 {
			return true
		}
	}
	return false
}

// Listen binds every configured SIP address. A port of 0 picks a free one;
// UDP and TCP on the same host with port 0 share the port the first of them
// got, as trunks expect one SIP port for both.
func (s *Server) Listen() error {
	addrs, err := s.opts.SIP.ListenAddrs()
	if err != nil {
		return err
	}
	// With port 0, UDP picks a port and TCP must then get the same one,
	// which another socket (even one in TIME_WAIT) may hold: pick again.
	for attempt := 1; ; attempt++ {
		err = s.bind(addrs)
		if err == nil {
			break
		}
		s.closeListeners()
		s.udpConns, s.tcpLns, s.listening = nil, nil, nil
		if !errors.Is(err, syscall.EADDRINUSE) || !hasPortZero(addrs) || attempt == 20 {
			return err
		}
	}
	first := s.listening[0]
	s.mediaIP = netip.IPv4Unspecified()
	if ip, err := netip.ParseAddr(first.Host); err == nil {
		s.mediaIP = ip
	}
	s.publicIP = s.mediaIP
	if s.opts.SIP.PublicAddress != "" {
		s.publicIP, _ = netip.ParseAddr(s.opts.SIP.PublicAddress)
	}
	if s.publicIP.IsUnspecified() {
		return errors.New("sip: listening on all addresses needs sip.public_address for SDP and Contact")
	}
	for _, a := range s.listening {
		if s.dialogUA[a.Transport] != nil {
			continue
		}
		contact := sip.ContactHeader{Address: sip.Uri{User: "dialin", Host: s.publicIP.String(), Port: a.Port}}
		if a.Transport == "tcp" {
			contact.Address.UriParams = sip.NewParams()
			contact.Address.UriParams.Add("transport", "tcp")
		}
		s.dialogUA[a.Transport] = &sipgo.DialogUA{Client: s.client, ContactHDR: contact}
	}
	return nil
}

// Addrs are the bound SIP addresses, with the ports picked for port 0.
func (s *Server) Addrs() []config.ListenAddr { return s.listening }

// Serve handles SIP until ctx is done, then returns; call Shutdown first for
// a graceful stop.
func (s *Server) Serve(ctx context.Context) error {
	running := len(s.udpConns) + len(s.tcpLns)
	errc := make(chan error, running)
	s.listenersUp.Store(int64(running))
	s.listenersTotal.Store(int64(running))
	defer s.listenersUp.Store(0)
	s.guardListeners()
	for _, g := range s.udpGuards {
		go func() { errc <- s.sip.ServeUDP(g) }()
	}
	for _, l := range s.tcpLns {
		go func() { errc <- s.sip.ServeTCP(s.tcpGuard.listen(l)) }()
	}
	s.log.Info().Stringer("sip", listenList(s.listening)).Str("public_address", s.publicIP.String()).
		Int("rtp_port_min", s.opts.RTP.PortMin).Int("rtp_port_max", s.opts.RTP.PortMax).Str("rtp_latch", s.opts.RTP.Latch).
		Int("tcp_max_connections", s.tcpGuard.maxTotal).Str("untrusted", s.opts.SIP.Untrusted).Msg("sip listening")
	// The guarded listeners end only when closed, which Serve does below:
	// one that stops before is a bug, and the others go on serving.
	var serveErr error
wait:
	for running > 0 {
		select {
		case <-ctx.Done():
			break wait
		case err := <-errc:
			running--
			s.listenersUp.Add(-1)
			s.log.Error().Err(err).Int("listeners_left", running).Msg("sip: a listener stopped")
		}
	}
	if running == 0 {
		serveErr = errors.New("sip: serve: every listener stopped")
	}
	// Calls hang up (BYE) through the listeners: close them only after.
	s.stop(ErrShutdown)
	s.wg.Wait()
	s.closeListeners()
	if err := s.ua.Close(); serveErr == nil {
		serveErr = err
	}
	return serveErr
}

type listenList []config.ListenAddr

func (l listenList) String() string {
	parts := make([]string, len(l))
	for i, a := range l {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

func (s *Server) closeListeners() {
	for _, c := range s.udpConns {
		_ = c.Close()
	}
	for _, l := range s.tcpLns {
		_ = l.Close()
	}
}

// Shutdown refuses new calls at once (503), lets the calls in progress go on
// for the configured grace period, then hangs up the rest with BYE and waits
// for them to finish (or for ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.log.Info().Int64("calls", s.active.Load()).Dur("grace", s.opts.Limits.ShutdownGrace).Msg("shutting down: refusing new calls")
	grace := time.NewTimer(s.opts.Limits.ShutdownGrace)
	defer grace.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for s.active.Load() > 0 {
		select {
		case <-grace.C:
			s.log.Info().Int64("calls", s.active.Load()).Msg("grace period over: hanging up remaining calls")
			if s.opts.BeforeHangup != nil {
				s.opts.BeforeHangup()
			}
			s.stop(ErrShutdown)
		case <-poll.C:
		case <-ctx.Done():
			s.stop(ErrShutdown)
			return ctx.Err()
		}
	}
	return nil
}

// ActiveCalls is the number of calls being set up or in progress.
func (s *Server) ActiveCalls() int { return int(s.active.Load()) }

// RTPPortsInUse is the number of RTP ports the calls hold.
func (s *Server) RTPPortsInUse() int { return s.ports.InUse() }
