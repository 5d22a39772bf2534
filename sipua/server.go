// Package sipua is the bridge's SIP user agent on sipgo: it listens on the
// trunk side, answers INVITEs with an SDP answer, runs each answered call's
// RTP session and hands the call to the call flow.
package sipua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/media"
)

// sipSocketBuffer is the kernel buffer asked for on SIP UDP sockets (the
// kernel caps it at net.core.rmem_max / wmem_max).
const sipSocketBuffer = 4 << 20

// Handler runs the call flow of one answered call. It must return when ctx
// is done; the call ends (with a BYE from us) when it returns.
type Handler func(ctx context.Context, call *Call)

// Options configure a Server.
type Options struct {
	Config  config.Config
	Logger  zerolog.Logger
	Clock   *media.Clock // the 20 ms media clock that paces every call's audio
	Handler Handler
}

// Server is the SIP user agent.
type Server struct {
	cfg     config.Config
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
	listening []config.ListenAddr // with real ports once bound
	mediaIP   netip.Addr          // where RTP sockets bind
	publicIP  netip.Addr          // what SDP and Contact advertise

	mu     sync.Mutex
	calls  map[string]*Call // by dialog ID
	active atomic.Int64     // INVITEs being handled, answered or not
	wg     sync.WaitGroup   // one per INVITE handler

	trusted          trustedNetworks // who may send requests (sip.trusted_networks)
	refusedUntrusted atomic.Uint64
	untrustedLog     logLimiter
	auth             *digestAuth // nil: no digest authentication (sip.auth)
	authLog          logLimiter
	refusedAuth      atomic.Uint64

	draining atomic.Bool
	baseCtx  context.Context
	stop     context.CancelCauseFunc
}

// New builds the user agent; Listen binds it and Serve runs it.
func New(opts Options) (*Server, error) {
	cfg := opts.Config
	ports, err := media.NewPortRange(cfg.RTP.PortMin, cfg.RTP.PortMax)
	if err != nil {
		return nil, err
	}
	trusted, err := parseTrustedNetworks(cfg.SIP.TrustedNetworks)
	if err != nil {
		return nil, err
	}
	auth, err := newDigestAuth(cfg.SIP.Auth)
	if err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(cfg.SIP.UserAgent))
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
		cfg:      cfg,
		log:      opts.Logger,
		clock:    opts.Clock,
		handler:  opts.Handler,
		ports:    ports,
		ua:       ua,
		sip:      srv,
		client:   client,
		dialogUA: make(map[string]*sipgo.DialogUA),
		calls:    make(map[string]*Call),
		trusted:  trusted,
		auth:     auth,
		baseCtx:  baseCtx,
		stop:     stop,
	}
	// Every request passes the trunk ACL first, in or out of a dialog.
	srv.OnInvite(s.fromTrunk(s.onInvite))
	srv.OnAck(s.fromTrunk(s.onAck))
	srv.OnBye(s.fromTrunk(s.onBye))
	srv.OnCancel(s.fromTrunk(s.onCancel))
	srv.OnOptions(s.fromTrunk(s.onOptions))
	srv.OnInfo(s.fromTrunk(s.onInfo))
	srv.OnUpdate(s.fromTrunk(s.onUpdate))
	srv.OnNoRoute(s.fromTrunk(s.onOtherMethod))
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
	addrs, err := s.cfg.SIP.ListenAddrs()
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
	if s.cfg.SIP.PublicAddress != "" {
		s.publicIP, _ = netip.ParseAddr(s.cfg.SIP.PublicAddress)
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
	errc := make(chan error, len(s.udpConns)+len(s.tcpLns))
	for _, c := range s.udpConns {
		go func() { errc <- s.sip.ServeUDP(c) }()
	}
	for _, l := range s.tcpLns {
		go func() { errc <- s.sip.ServeTCP(l) }()
	}
	s.log.Info().Stringer("sip", listenList(s.listening)).Str("public_address", s.publicIP.String()).
		Int("rtp_port_min", s.cfg.RTP.PortMin).Int("rtp_port_max", s.cfg.RTP.PortMax).Msg("sip listening")
	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			serveErr = fmt.Errorf("sip: serve: %w", err)
		}
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
	s.log.Info().Int64("calls", s.active.Load()).Dur("grace", s.cfg.Limits.ShutdownGrace).Msg("shutting down: refusing new calls")
	grace := time.NewTimer(s.cfg.Limits.ShutdownGrace)
	defer grace.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for s.active.Load() > 0 {
		select {
		case <-grace.C:
			s.log.Info().Int64("calls", s.active.Load()).Msg("grace period over: hanging up remaining calls")
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

func (s *Server) lookup(req *sip.Request) *Call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// respond answers a request outside any dialog (or before one exists).
func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, err := sip.DialogIDFromRequestUAS(req); err == nil {
		s.onReinvite(req, tx)
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	n := s.active.Add(1)
	defer s.active.Add(-1)

	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	log := s.log.With().Str("call_id", callID).Logger()
	from := ""
	if h := req.From(); h != nil {
		from = h.Address.String()
	}
	log.Info().Str("from", from).Str("to", req.Recipient.String()).
		Str("source", req.Source()).Str("transport", req.Transport()).Msg("call offered")

	if s.auth != nil && !s.authenticate(req, tx, log) {
		return
	}

	switch {
	case s.draining.Load():
		log.Info().Msg("refused: shutting down")
		respond(tx, req, 503, "Service Unavailable", retryAfter(s.cfg.Limits.RetryAfter))
		return
	case !s.acceptsNumber(req.Recipient.User):
		log.Info().Str("number", req.Recipient.User).Msg("refused: not a dial-in number")
		respond(tx, req, 404, "Not Found")
		return
	case n > int64(s.cfg.Limits.MaxCalls):
		log.Warn().Int("max_calls", s.cfg.Limits.MaxCalls).Msg("refused: too many calls")
		respond(tx, req, 503, "Service Unavailable", retryAfter(s.cfg.Limits.RetryAfter))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))

	// An INVITE without SDP is a delayed offer (some trunks, e.g. Cisco
	// CUBE, send them): we offer in the 200 and the answer comes in the ACK.
	var (
		offer *Offer
		neg   = Negotiated{Codec: media.PCMU, DTMFPayloadType: 101, Direction: SendRecv}
	)
	if len(req.Body()) > 0 {
		var err error
		if offer, err = ParseSDP(req.Body()); err != nil {
			log.Info().Err(err).Msg("refused: bad SDP offer")
			respond(tx, req, 400, "Bad Request", warning(err))
			return
		}
		if neg, err = Negotiate(offer, nil); err != nil {
			log.Info().Err(err).Msg("refused: no common codec")
			respond(tx, req, 488, "Not Acceptable Here", warning(err))
			return
		}
	}
	dialog, err := s.dialogUA[dialogTransport(req)].ReadInvite(req, tx)
	if err != nil {
		log.Info().Err(err).Msg("refused: bad INVITE")
		respond(tx, req, 400, "Bad Request", warning(err))
		return
	}
	defer dialog.Close()

	conn, port, err := s.ports.Listen(s.mediaIP)
	if err != nil {
		log.Error().Err(err).Msg("refused: no RTP port")
		_ = dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.cfg.Limits.RetryAfter))
		return
	}
	defer s.ports.Release(port)

	ctx, cancel := context.WithCancelCause(s.baseCtx)
	defer cancel(nil)
	call := &Call{
		id:     callID,
		log:    log,
		caller: callerNumber(req),
		source: sourceIP(req),
		dialog: dialog,
		digits: make(chan byte, digitQueue),
		ctx:    ctx,
		cancel: cancel,
		answer: Answer{
			Addr:       s.publicIP,
			Port:       port,
			SessionID:  rand.Int64N(1 << 40),
			Version:    1,
			Negotiated: neg,
		},
	}
	session, err := media.NewSession(media.SessionConfig{
		Conn:              conn,
		Remote:            neg.Remote,
		Codec:             neg.Codec,
		DTMFPayloadType:   neg.DTMFPayloadType,
		InactivityTimeout: s.cfg.RTP.InactivityTimeout,
		Receiver:          call,
		OnFailure:         call.Hangup,
	})
	if err != nil {
		log.Error().Err(err).Msg("refused: no RTP socket")
		_ = dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.cfg.Limits.RetryAfter))
		return
	}
	call.session = session
	defer call.session.Close()
	call.session.SetDirection(neg.WeSend(), neg.PeerSends())
	call.player = media.NewPlayer(call.session)
	call.dtmf = newDTMFGate(s.cfg.SIP.DTMF, neg.DTMFPayloadType != 0)
	if call.dtmf.inband {
		call.inband = &inbandKeys{}
		call.inband.emit = func(key byte) { call.pushDigit(key, sourceInband) }
	}

	s.mu.Lock()
	s.calls[dialog.ID] = call
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.calls, dialog.ID)
		s.mu.Unlock()
	}()

	if !s.ring(call) {
		return
	}
	if !s.answer(call, offer) {
		return
	}
	call.started = time.Now()
	call.mu.Lock()
	neg = call.answer.Negotiated // a delayed offer's answer came in the ACK
	call.mu.Unlock()
	log.Info().Bool("delayed_offer", offer == nil).Stringer("codec", neg.Codec).Int("rtp_port", port).Stringer("rtp_remote", neg.Remote).
		Uint8("dtmf_pt", neg.DTMFPayloadType).Msg("call answered")
	s.run(call)
}

// answer sends the 200 OK with our SDP and waits for the ACK. It reports
// false, having cleaned up the dialog, when the call did not get going.
func (s *Server) answer(call *Call, offer *Offer) bool {
	acked := make(chan error, 1)
	var sdp []byte
	if offer != nil {
		sdp = call.answer.Marshal(offer)
	} else {
		call.lateOffer.Store(true)
		sdp = call.answer.Offer()
	}
	if call.ctx.Err() != nil { // shutting down: don't answer at all
		_ = call.dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.cfg.Limits.RetryAfter))
		return false
	}
	// RespondSDP retransmits the 200 until the ACK and blocks meanwhile (up
	// to 64×T1 = 32 s without one).
	go func() { acked <- call.dialog.RespondSDP(sdp) }()
	err := <-acked
	if err == nil && offer == nil {
		err = s.applyAnswerInACK(call)
		if err != nil {
			call.log.Warn().Err(err).Msg("delayed offer: no usable SDP answer in the ACK: hanging up")
			s.bye(call)
			return false
		}
	}
	if err == nil {
		return true
	}
	if cause := context.Cause(call.dialog.Context()); cause != nil && errors.Is(cause, sip.ErrTransactionCanceled) {
		call.log.Info().Msg("call cancelled before answer")
		return false
	}
	if call.dialog.LoadState() == sip.DialogStateEnded {
		// The caller's BYE arrived though its ACK was lost: it hung up.
		call.log.Info().Msg("caller hung up before the ACK arrived")
		return false
	}
	call.log.Warn().Err(err).Msg("no ACK for our 200 OK: hanging up")
	s.bye(call)
	return false
}

// applyAnswerInACK completes a delayed-offer call: the ACK carried the
// SDP answer to the offer we sent in our 200.
func (s *Server) applyAnswerInACK(call *Call) error {
	call.mu.Lock()
	body := call.ackSDP
	call.mu.Unlock()
	return s.applyAnswer(call, body)
}

// applyAnswer applies an SDP answer to the offer we made.
func (s *Server) applyAnswer(call *Call, body []byte) error {
	answer, err := ParseSDP(body)
	if err != nil {
		return err
	}
	neg, err := Negotiate(answer, nil)
	if err != nil {
		return err
	}
	call.mu.Lock()
	defer call.mu.Unlock()
	call.applyLocked(neg)
	return nil
}

// ring sends 180 Ringing and waits out the configured answer delay. It
// reports false if the caller cancelled meanwhile (sipgo has then answered
// the CANCEL and sent 487 itself).
func (s *Server) ring(call *Call) bool {
	delay := s.cfg.SIP.AnswerDelay
	if delay <= 0 {
		return true
	}
	if err := call.dialog.Respond(180, "Ringing", nil); err != nil {
		call.log.Info().Err(err).Msg("call ended before answer")
		return false
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-call.dialog.Context().Done():
		call.log.Info().Msg("call cancelled before answer")
		return false
	case <-call.ctx.Done():
		if errors.Is(context.Cause(call.ctx), ErrRemoteHangup) {
			// A BYE in the early dialog (onBye): the INVITE ends with 487.
			call.log.Info().Msg("call hung up (BYE) before answer")
			_ = call.dialog.Respond(487, "Request Terminated", nil)
			return false
		}
		_ = call.dialog.Respond(503, "Service Unavailable", nil, retryAfter(s.cfg.Limits.RetryAfter))
		return false
	}
}

// run drives an answered call until it ends, then tears it down. The call
// flow runs on this goroutine (sipgo's, for the INVITE): the media clock
// reads and sends the call's RTP, and the teardown waits on the call's
// context, so a call costs one goroutine for its whole life.
func (s *Server) run(call *Call) {
	log := call.Log()
	// Whatever ends the call (the caller's BYE, the maximum duration, the
	// flow finishing, silence on the RTP, shutdown) cancels call.ctx; the
	// teardown starts right then, even while the flow is still returning.
	stopRemote := context.AfterFunc(call.dialog.Context(), func() { call.Hangup(ErrRemoteHangup) })
	defer stopRemote()
	if d := s.cfg.Limits.MaxCallDuration; d > 0 {
		t := time.AfterFunc(d, func() { call.Hangup(ErrMaxDuration) })
		defer t.Stop()
	}
	tornDown := make(chan struct{})
	context.AfterFunc(call.ctx, func() {
		defer close(tornDown)
		s.clock.RemoveSession(call.session, call.player)
		if !errors.Is(context.Cause(call.ctx), ErrRemoteHangup) {
			s.bye(call)
		}
		_ = call.session.Close()
	})
	s.clock.AddSession(call.session, call.player)

	func() {
		defer func() {
			// A bug in one call flow must not take every other call down.
			if v := recover(); v != nil {
				log.Error().Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Msg("call flow panicked")
				call.Hangup(ErrFlowPanic)
			}
		}()
		s.handler(call.ctx, call)
	}()
	call.Hangup(ErrFlowDone) // no-op when something else ended the call first
	<-tornDown
	st := call.session.Stats()
	log.Info().Str("reason", context.Cause(call.ctx).Error()).Int64("duration_ms", time.Since(call.started).Milliseconds()).
		Uint64("rtp_sent", st.Sent).Uint64("rtp_received", st.Received).Uint64("rtp_dropped", st.Dropped).
		Msg("call ended")
}

// bye hangs up from our side. The BYE leaves from our listening socket:
// sipgo would otherwise pick an ephemeral port when the caller's Contact
// differs from the address the INVITE came from, and trunks that filter by
// source would drop it.
func (s *Server) bye(call *Call) {
	inv := call.dialog.InviteRequest
	bye := sip.NewRequest(sip.BYE, inv.Contact().Address)
	bye.SetTransport(inv.Transport())
	if strings.EqualFold(inv.Transport(), "udp") && len(s.udpConns) > 0 {
		// The address sipgo knows the listener by: its bound address, which
		// is [::]:port when listening on all addresses.
		local := s.udpConns[0].LocalAddr().(*net.UDPAddr)
		bye.Laddr = sip.Addr{IP: local.IP, Port: local.Port}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := call.dialog.WriteBye(ctx, bye); err != nil {
		call.log.Warn().Err(err).Msg("BYE not confirmed")
	}
}

// dialogTransport is the transport whose Contact we give in this dialog.
func dialogTransport(req *sip.Request) string {
	if strings.EqualFold(req.Transport(), "tcp") {
		return "tcp"
	}
	return "udp"
}

func (s *Server) acceptsNumber(user string) bool {
	if len(s.cfg.SIP.DialInNumbers) == 0 {
		return true
	}
	for _, n := range s.cfg.SIP.DialInNumbers {
		if n == user {
			return true
		}
	}
	return false
}

func retryAfter(d time.Duration) sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(int(d.Round(time.Second)/time.Second)))
}

// warning explains a refusal to the far end's engineers (RFC 3261 20.43).
func warning(err error) sip.Header {
	text := strings.ReplaceAll(err.Error(), `"`, "'")
	return sip.NewHeader("Warning", `399 dialin "`+text+`"`)
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	call := s.lookup(req)
	if call == nil {
		return // an ACK for a failed INVITE's final response, or stray: never answered
	}
	if call.lateOffer.CompareAndSwap(true, false) {
		// Keep the SDP answer before ReadAck wakes up the INVITE handler.
		call.mu.Lock()
		call.ackSDP = req.Body()
		call.mu.Unlock()
	}
	if err := call.dialog.ReadAck(req, tx); err != nil {
		call.log.Debug().Err(err).Msg("ACK does not match")
	}
	if cseq := req.CSeq().SeqNo; call.reofferCSeq.CompareAndSwap(cseq, 0) && len(req.Body()) > 0 {
		// We offered in the 200 to an offerless re-INVITE: this is the answer.
		if err := s.applyAnswer(call, req.Body()); err != nil {
			call.log.Warn().Err(err).Msg("re-INVITE: unusable SDP answer in the ACK, session unchanged")
		}
	}
	call.gotAck(req.CSeq().SeqNo)
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	call := s.lookup(req)
	if call == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if call.dialog.LoadState() < sip.DialogStateEstablished {
		// RFC 3261 §15.1.2: a caller may hang up with a BYE in the early
		// dialog (after our 180). The BYE gets its 200 here, and ring
		// answers the INVITE with 487 on its own goroutine, where the
		// transaction can wait for the ACK. sipgo's ReadBye would end the
		// INVITE transaction with no final response at all.
		if req.CSeq().SeqNo <= call.dialog.InviteRequest.CSeq().SeqNo {
			respond(tx, req, 400, "Bad Request", warning(sipgo.ErrDialogInvalidCseq))
			return
		}
		respond(tx, req, 200, "OK")
		call.Hangup(ErrRemoteHangup)
		return
	}
	if err := call.dialog.ReadBye(req, tx); err != nil {
		call.log.Info().Err(err).Msg("bad BYE")
		respond(tx, req, 400, "Bad Request", warning(err))
		return
	}
	call.Hangup(ErrRemoteHangup)
}

// onCancel sees only CANCELs that matched no pending INVITE: sipgo answers
// the others itself (200, then 487 to the INVITE).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

// onOtherMethod answers methods the bridge does not handle (REGISTER,
// SUBSCRIBE, MESSAGE...) from a trusted source, as sipgo would by itself.
func (s *Server) onOtherMethod(req *sip.Request, tx sip.ServerTransaction) {
	s.log.Debug().Str("method", req.Method.String()).Str("source", req.Source()).Msg("refused: method not handled")
	respond(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowedMethods))
}

// allowedMethods is the Allow header: the methods the bridge answers.
const allowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp, application/dtmf-relay, application/dtmf"))
	if s.draining.Load() {
		res = sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
	}
	_ = tx.Respond(res)
}

// readInDialog checks the CSeq of a request inside a call's dialog. Until
// the ACK of our 200 has confirmed the dialog, sipgo's ReadRequest must not
// run: it moves the dialog's CSeq past the INVITE's, and ReadAck then
// refuses the ACK (an INFO handled just before the ACK it followed would
// leave the call unanswered). Then only check the CSeq is above the
// INVITE's.
func readInDialog(call *Call, req *sip.Request, tx sip.ServerTransaction) error {
	if call.dialog.LoadState() < sip.DialogStateConfirmed {
		if req.CSeq().SeqNo <= call.dialog.InviteRequest.CSeq().SeqNo {
			return sipgo.ErrDialogInvalidCseq
		}
		return nil
	}
	return call.dialog.ReadRequest(req, tx)
}

// onInfo accepts DTMF sent as SIP INFO (application/dtmf-relay "Signal=5",
// or application/dtmf "5"), which some trunks use instead of RFC 4733.
//
// The INFO's transaction ends as soon as it is answered. SIP would keep it
// 32 s (Timer J) to answer retransmissions; a call keying a conference ID
// and PIN sends a dozen INFOs, so at a high call rate those transactions
// were most of the bridge's memory. The call remembers the last INFO it
// took instead: a retransmission (our 200 was lost) gets its 200 again and
// its key is not taken twice.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	defer tx.Terminate()
	call := s.lookup(req)
	if call == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	cseq := req.CSeq().SeqNo
	if call.seenINFO(cseq) {
		respond(tx, req, 200, "OK")
		return
	}
	if err := readInDialog(call, req, tx); err != nil {
		respond(tx, req, 500, "Server Internal Error", retryAfter(time.Second))
		return
	}
	call.tookINFO(cseq)
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	if key, ok := parseINFODigit(ct, req.Body()); ok {
		call.pushDigit(key, sourceINFO)
	}
	respond(tx, req, 200, "OK")
}

func parseINFODigit(contentType string, body []byte) (byte, bool) {
	var sig string
	switch {
	case strings.HasPrefix(contentType, "application/dtmf-relay"):
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "Signal") {
				sig = strings.TrimSpace(v)
			}
		}
	case strings.HasPrefix(contentType, "application/dtmf"):
		sig = strings.TrimSpace(string(body))
	default:
		return 0, false
	}
	if len(sig) == 1 {
		if _, ok := media.EventForDigit(sig[0]); ok {
			return strings.ToUpper(sig)[0], true
		}
	}
	// Some gateways send the event number: 10 for *, 11 for #.
	if n, err := strconv.Atoi(sig); err == nil && n >= 0 && n < 16 {
		return media.DigitForEvent(uint8(n))
	}
	return 0, false
}

// callerNumber is the user part of From: the calling number on a trunk.
func callerNumber(req *sip.Request) string {
	if h := req.From(); h != nil {
		return h.Address.User
	}
	return ""
}

// sourceIP is the host of the INVITE's source address.
func sourceIP(req *sip.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}
