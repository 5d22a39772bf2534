// Package testphone is a SIP phone for end-to-end tests: it dials the bridge
// over loopback, sends RFC 4733 digits, in-band DTMF, tones and silence on
// one RTP stream, or digits as SIP INFO, records and decodes what it hears
// with each packet's arrival time, and answers the bridge's BYE.
//
// Each Dial builds its own sipgo user agent, SIP listener and RTP socket, all
// on LocalIP (127.0.0.1 by default), and Hangup or a BYE from the far end
// releases them all.
package testphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
)

// ErrEnded is returned by calls on a phone whose call is over.
var ErrEnded = errors.New("testphone: call ended")

// cancelGrace bounds how long Dial waits for the CANCEL exchange after its
// context ends; sipgo would otherwise wait up to 32 s for a 487.
const cancelGrace = 2 * time.Second

// StatusError is a non-2xx final response to an INVITE, re-INVITE or INFO.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("testphone: %d %s", e.Code, e.Reason)
}

// Options configure one call. The zero value plus Target dials over UDP,
// offering PCMU, PCMA and telephone-event 101, sendrecv, from 127.0.0.1.
type Options struct {
	Target    string        // request URI, e.g. "sip:conference@127.0.0.1:5060"
	Transport string        // "udp" (default) or "tcp"
	From      string        // user part of From and Contact (the caller ID); default "testphone"
	Codecs    []media.Codec // offered in this order; default PCMU, PCMA

	DTMFPayloadType  uint8 // telephone-event payload type offered; default 101
	NoTelephoneEvent bool  // offer no telephone-event at all

	Direction string // SDP direction attribute; default "sendrecv"
	RawSDP    []byte // if set, sent verbatim as the offer (malformed/no-codec tests)
	LocalIP   string // address for the SIP listener and RTP socket; default 127.0.0.1

	// Username and Password answer a 401 digest challenge to the INVITE;
	// empty: the challenge ends the call attempt (a *StatusError 401).
	Username, Password string

	// NoSilence stops the phone sending a silence frame every 20 ms while it
	// has nothing else to send. By default it sends them, as a phone without
	// silence suppression does, which keeps the bridge's RTP inactivity timer
	// satisfied; set this to test that timer.
	NoSilence bool

	// RTCP (rtcp.go). The phone always reads RTCP and counts it
	// (Call.RTCPStats): on a second socket it names in a=rtcp, or with
	// RTCPMux on the RTP port, offering a=rtcp-mux. With RTCPInterval set
	// it also sends an RR every interval whose report block says that
	// RTCPReportLoss (0-1, e.g. 0.1) of the bridge's packets were lost.
	// Off by default: RTCP is a sign of life, which inactivity tests avoid.
	RTCPMux        bool
	RTCPInterval   time.Duration
	RTCPReportLoss float64

	// DropEvery, when above 0, loses every DropEvery-th RTP packet the
	// phone would send (audio, silence or key events alike): its sequence
	// number is spent, as on a network that lost it (Call.DroppedOut).
	DropEvery int

	Logger zerolog.Logger // sipgo's logs and the phone's own; zero value: silent
}

func (o *Options) setDefaults() error {
	switch strings.ToLower(o.Transport) {
	case "", "udp":
		o.Transport = "UDP"
	case "tcp":
		o.Transport = "TCP"
	default:
		return fmt.Errorf("testphone: unsupported transport %q", o.Transport)
	}
	if o.From == "" {
		o.From = "testphone"
	}
	if len(o.Codecs) == 0 {
		o.Codecs = []media.Codec{media.PCMU, media.PCMA}
	}
	if o.NoTelephoneEvent {
		o.DTMFPayloadType = 0
	} else if o.DTMFPayloadType == 0 {
		o.DTMFPayloadType = 101
	}
	if o.Direction == "" {
		o.Direction = "sendrecv"
	}
	if !validDirection(o.Direction) {
		return fmt.Errorf("testphone: bad direction %q", o.Direction)
	}
	if o.LocalIP == "" {
		o.LocalIP = "127.0.0.1"
	}
	return nil
}

// Call is one phone with one call. Its methods are safe for concurrent use;
// the calls that send RTP (SendDigits, SendDigitsInband, SendTone and their
// variants) queue behind each other.
type Call struct {
	opts Options
	log  zerolog.Logger

	ua        *sipgo.UserAgent
	dialogUA  *sipgo.DialogUA
	sipCloser io.Closer // the SIP listener (UDP socket or TCP listener)
	sipLaddr  sip.Addr  // set for UDP so every request leaves from the listener

	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn // nil with RTCPMux
	ssrc     uint32
	rtcp     rtcpState
	media    atomic.Pointer[mediaState]
	jobs     chan *job

	sipMu sync.Mutex // serialises Reinvite, INFO and Hangup

	mu       sync.Mutex // guards the fields below
	sess     *sipgo.DialogClientSession
	dialogID string
	target   sip.Uri // remote target for in-dialog requests
	offer    offerParams
	answer   []byte
	callID   string
	ending   bool // no more goroutines may start
	lastINFO *sip.Request

	recMu sync.Mutex
	rec   recorder

	remoteBye  atomic.Bool
	droppedOut atomic.Int64 // packets DropEvery lost
	reinvited  atomic.Int64 // re-INVITEs from the bridge taken (onReinvite)
	wg         sync.WaitGroup
	endOnce    sync.Once
	stop       chan struct{} // closed when teardown begins
	done       chan struct{} // closed when teardown is complete
}

// Dial sends an INVITE to opts.Target and waits for the final response. On
// 2xx it sends the ACK and starts RTP, and the call lives until Hangup or a
// BYE from the far end; ctx bounds only the dialling (cancelling it while
// ringing sends CANCEL). A non-2xx answer is returned as *StatusError.
func Dial(ctx context.Context, opts Options) (*Call, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	var target sip.Uri
	if err := sip.ParseUri(opts.Target, &target); err != nil {
		return nil, fmt.Errorf("testphone: parse target %q: %w", opts.Target, err)
	}

	c := &Call{
		opts: opts,
		log:  opts.Logger.With().Str("component", "testphone").Logger(),
		jobs: make(chan *job),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		ssrc: rand.Uint32(),
	}
	c.media.Store(&mediaState{}) // nothing to send to until answered
	if err := c.setup(); err != nil {
		c.end()
		return nil, err
	}
	if err := c.invite(ctx, target); err != nil {
		c.end()
		return nil, err
	}
	return c, nil
}

// setup opens the RTP socket and the SIP listener and builds the user agent.
func (c *Call) setup() error {
	ip := net.ParseIP(c.opts.LocalIP)
	if ip == nil {
		return fmt.Errorf("testphone: bad LocalIP %q", c.opts.LocalIP)
	}
	var err error
	c.rtpConn, err = net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		return fmt.Errorf("testphone: open RTP socket: %w", err)
	}
	if !c.opts.RTCPMux {
		if c.rtcpConn, err = net.ListenUDP("udp", &net.UDPAddr{IP: ip}); err != nil {
			return fmt.Errorf("testphone: open RTCP socket: %w", err)
		}
		c.goRun(c.rtcpRecvLoop)
	}
	// Record from the start: the bridge may send audio before our ACK lands.
	c.goRun(c.recvLoop)

	slogger := slog.New(zerolog.NewSlogHandler(c.log))
	c.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent("dialin-testphone"),
		sipgo.WithUserAgentHostname(c.opts.LocalIP),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(slogger)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slogger)),
	)
	if err != nil {
		return fmt.Errorf("testphone: new user agent: %w", err)
	}
	srv, err := sipgo.NewServer(c.ua, sipgo.WithServerLogger(slogger))
	if err != nil {
		return fmt.Errorf("testphone: new server: %w", err)
	}
	srv.OnBye(c.onBye)
	srv.OnInvite(c.onReinvite)
	srv.OnOptions(respondOK)
	srv.OnInfo(respondOK)
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {}) // ACKs get no response

	clientOpts := []sipgo.ClientOption{
		sipgo.WithClientHostname(c.opts.LocalIP),
		sipgo.WithClientLogger(slogger),
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: c.opts.From, Host: c.opts.LocalIP}}

	if c.opts.Transport == "TCP" {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip})
		if err != nil {
			return fmt.Errorf("testphone: open SIP listener: %w", err)
		}
		c.sipCloser = ln
		contact.Address.Port = ln.Addr().(*net.TCPAddr).Port
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
		c.goRun(func() { _ = srv.ServeTCP(ln) })
	} else {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			return fmt.Errorf("testphone: open SIP listener: %w", err)
		}
		c.sipCloser = conn
		laddr := conn.LocalAddr().(*net.UDPAddr)
		contact.Address.Port = laddr.Port
		c.sipLaddr = sip.Addr{IP: laddr.IP, Port: laddr.Port}
		c.goRun(func() { _ = srv.ServeUDP(conn) })
		// Send from the listener, like a phone on :5060, so that responses
		// and the bridge's requests all use one socket. sipgo finds that
		// socket in its pool only once ServeUDP has registered it;
		// otherwise it would try to bind the same port again.
		if err := c.waitUDPListener(); err != nil {
			return err
		}
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(laddr.String()))
	}

	client, err := sipgo.NewClient(c.ua, clientOpts...)
	if err != nil {
		return fmt.Errorf("testphone: new client: %w", err)
	}
	c.dialogUA = &sipgo.DialogUA{Client: client, ContactHDR: contact}
	return nil
}

func (c *Call) waitUDPListener() error {
	deadline := time.Now().Add(time.Second)
	for c.ua.TransportLayer().Pool("udp").Size() == 0 {
		if time.Now().After(deadline) {
			return errors.New("testphone: SIP UDP listener did not start")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// invite runs the INVITE transaction and, on 2xx, the ACK and media start.
func (c *Call) invite(ctx context.Context, target sip.Uri) error {
	rtpPort := c.rtpConn.LocalAddr().(*net.UDPAddr).Port
	c.offer = offerParams{
		ip:        c.opts.LocalIP,
		port:      rtpPort,
		codecs:    c.opts.Codecs,
		eventPT:   c.opts.DTMFPayloadType,
		direction: c.opts.Direction,
		sessionID: rand.Uint64N(1 << 62),
		version:   1,
		rtcpMux:   c.opts.RTCPMux,
	}
	if c.rtcpConn != nil {
		c.offer.rtcpPort = c.rtcpConn.LocalAddr().(*net.UDPAddr).Port
	}
	body := c.opts.RawSDP
	if len(body) == 0 {
		body = buildSDP(c.offer)
	}

	req := sip.NewRequest(sip.INVITE, target)
	req.SetTransport(c.opts.Transport)
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: c.opts.From, Host: c.opts.LocalIP}}
	from.Params = sip.NewParams()
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&from)
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(body)

	sess, err := c.dialogUA.WriteInvite(ctx, req)
	if err != nil {
		return fmt.Errorf("testphone: send INVITE: %w", err)
	}
	c.mu.Lock()
	c.callID = req.CallID().Value()
	c.mu.Unlock()

	if err := c.waitAnswer(ctx, sess); err != nil {
		if se := statusError(err); se != nil {
			return se
		}
		return fmt.Errorf("testphone: INVITE: %w", err)
	}

	res := sess.InviteResponse
	id, err := sip.DialogIDFromResponse(res)
	if err != nil {
		return fmt.Errorf("testphone: 2xx without dialog: %w", err)
	}
	tgt := target
	if contact := res.Contact(); contact != nil {
		tgt = *contact.Address.Clone()
	}
	// Publish the dialog before the ACK so a BYE right behind it is matched.
	c.mu.Lock()
	c.sess, c.dialogID, c.target = sess, id, tgt
	c.answer = slices.Clone(res.Body())
	c.mu.Unlock()

	if err := sess.Ack(ctx); err != nil {
		return fmt.Errorf("testphone: send ACK: %w", err)
	}
	info, err := c.checkAnswer(res.Body())
	if err != nil {
		// The bridge thinks the call is up: end it, even if ctx is done.
		byeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = c.sendBye(byeCtx)
		return err
	}
	c.applyMedia(info, c.opts.Direction)
	c.goRun(c.sendLoop)
	if c.opts.RTCPInterval > 0 {
		c.goRun(c.rtcpSendLoop)
	}
	return nil
}

// waitAnswer waits for the final response. When ctx ends, sipgo's
// WaitAnswer sends CANCEL, but a CANCEL needs a provisional response first
// (RFC 3261 §9.1) and sipgo would wait for one, or for the 487, for the
// whole transaction timeout. So: with no provisional yet we give up at once;
// otherwise we let the CANCEL run for cancelGrace and then close the user
// agent, which ends the transaction and so the wait.
func (c *Call) waitAnswer(ctx context.Context, sess *sipgo.DialogClientSession) error {
	var provisional atomic.Bool
	opts := sipgo.AnswerOptions{
		OnResponse: func(res *sip.Response) error {
			if res.IsProvisional() {
				provisional.Store(true)
			}
			return nil
		},
		Username: c.opts.Username,
		Password: c.opts.Password,
	}
	waitCtx, stopWait := context.WithCancelCause(context.Background())
	defer stopWait(nil)
	errc := make(chan error, 1)
	go func() { errc <- sess.WaitAnswer(waitCtx, opts) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if provisional.Load() {
		stopWait(ctx.Err())
	} else {
		stopWait(sipgo.WaitAnswerForceCancelErr)
	}
	select {
	case <-errc:
	case <-time.After(cancelGrace):
		c.ua.Close()
		<-errc
	}
	return ctx.Err() // the caller gave up; whatever the wait said matters less
}

// statusError turns sipgo's non-2xx error into ours, or returns nil.
func statusError(err error) *StatusError {
	var p *sipgo.ErrDialogResponse
	if errors.As(err, &p) && p.Res != nil {
		return &StatusError{Code: p.Res.StatusCode, Reason: p.Res.Reason}
	}
	var v sipgo.ErrDialogResponse
	if errors.As(err, &v) && v.Res != nil {
		return &StatusError{Code: v.Res.StatusCode, Reason: v.Res.Reason}
	}
	return nil
}

// checkAnswer parses an SDP answer and refuses media addresses the RTP
// socket could not (and must not) reach.
func (c *Call) checkAnswer(body []byte) (sessionInfo, error) {
	info, err := parseSDP(body)
	if err != nil {
		return sessionInfo{}, fmt.Errorf("testphone: answer: %w", err)
	}
	local := c.rtpConn.LocalAddr().(*net.UDPAddr).IP
	if local.IsLoopback() && !info.ip.IsLoopback() && !info.ip.IsUnspecified() {
		return sessionInfo{}, fmt.Errorf("testphone: answer media address %s is not loopback", info.ip)
	}
	return info, nil
}

// applyMedia switches the sender to the negotiated stream. We send only when
// both our direction and the answer's allow it.
func (c *Call) applyMedia(info sessionInfo, localDir string) {
	ms := &mediaState{codec: info.codec, eventPT: info.eventPT}
	weSend := localDir == "sendrecv" || localDir == "sendonly"
	theyReceive := info.direction == "sendrecv" || info.direction == "recvonly"
	if weSend && theyReceive && !info.ip.IsUnspecified() {
		ms.remote = &net.UDPAddr{IP: info.ip, Port: info.port}
	}
	c.media.Store(ms)
	c.setRTCPRemote(info)
}

// inDialogRequest starts a request to the remote target; the dialog fills in
// From, To, Call-ID, CSeq, Contact and Via.
func (c *Call) inDialogRequest(method sip.RequestMethod) *sip.Request {
	c.mu.Lock()
	tgt := c.target
	c.mu.Unlock()
	req := sip.NewRequest(method, *tgt.Clone())
	req.Laddr = c.sipLaddr // leave from the listener, not an ephemeral port (UDP)
	return req
}

// onReinvite answers the bridge's re-INVITE in our dialog, as a phone
// does: the media goes where the offer says (another node of a cluster
// moves a call's media this way, issue 17), answered with our address
// and the offer's first codec. A new INVITE is refused: the phone only
// dials.
func (c *Call) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	id, offer := c.dialogID, c.offer
	c.mu.Unlock()
	reqID, err := sip.DialogIDFromRequestUAC(req)
	if err != nil || reqID != id {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	info, err := c.checkAnswer(req.Body())
	if err != nil {
		respond(tx, req, 488, "Not Acceptable Here")
		return
	}
	offer.version++
	offer.codecs = []media.Codec{info.codec}
	if info.eventPT == 0 {
		offer.eventPT = 0
	} else if offer.eventPT != 0 {
		offer.eventPT = info.eventPT
	}
	res := sip.NewSDPResponseFromRequest(req, buildSDP(offer))
	c.mu.Lock()
	contact := c.dialogUA.ContactHDR
	c.mu.Unlock()
	res.AppendHeader(&contact)
	if err := tx.Respond(res); err != nil {
		c.log.Warn().Err(err).Msg("answer re-INVITE")
		return
	}
	c.mu.Lock()
	c.offer.version = offer.version
	c.mu.Unlock()
	c.reinvited.Add(1)
	c.applyMedia(info, offer.direction)
}

// Reinvited is how many re-INVITEs from the bridge the phone took.
func (c *Call) Reinvited() int64 { return c.reinvited.Load() }

// onBye answers the far end's BYE and tears the call down.
func (c *Call) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	sess, id := c.sess, c.dialogID
	c.mu.Unlock()
	reqID, err := sip.DialogIDFromRequestUAC(req)
	if sess == nil || err != nil || reqID != id {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if err := sess.ReadBye(req, tx); err != nil {
		c.log.Warn().Err(err).Msg("answer BYE")
	}
	c.remoteBye.Store(true)
	go c.end() // not from the handler: end closes the user agent running it
}

func respondOK(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, sip.StatusOK, "OK")
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

// goRun starts a goroutine that end waits for, unless teardown has begun.
func (c *Call) goRun(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ending {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// end releases everything: RTP goroutines and socket, the user agent and
// the SIP listener. It is idempotent and returns once all are gone.
func (c *Call) end() {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.ending = true
		c.mu.Unlock()
		close(c.stop)
		if c.rtpConn != nil {
			c.rtpConn.Close()
		}
		if c.rtcpConn != nil {
			c.rtcpConn.Close()
		}
		if c.ua != nil {
			c.ua.Close()
		}
		if c.sipCloser != nil {
			c.sipCloser.Close()
		}
		c.wg.Wait()
		close(c.done)
	})
}

// sendBye sends BYE if the dialog is still up and waits for the response.
func (c *Call) sendBye(ctx context.Context) error {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess == nil || sess.LoadState() == sip.DialogStateEnded {
		return nil
	}
	if err := sess.WriteBye(ctx, c.inDialogRequest(sip.BYE)); err != nil {
		return fmt.Errorf("testphone: BYE: %w", err)
	}
	return nil
}

// Hangup sends BYE (if the call is still up), waits for its response, and
// releases the phone's sockets and goroutines whatever the outcome.
func (c *Call) Hangup(ctx context.Context) error {
	c.sipMu.Lock()
	var err error
	select {
	case <-c.stop:
	default:
		err = c.sendBye(ctx)
	}
	c.sipMu.Unlock()
	c.end()
	return err
}

// Reinvite sends a re-INVITE with a fresh offer using direction ("sendonly"
// or "inactive" to hold, "sendrecv" to resume) and ACKs a 2xx. A non-2xx
// answer is returned as *StatusError and leaves the session as it was.
func (c *Call) Reinvite(ctx context.Context, direction string) error {
	if !validDirection(direction) {
		return fmt.Errorf("testphone: bad direction %q", direction)
	}
	c.sipMu.Lock()
	defer c.sipMu.Unlock()
	select {
	case <-c.stop:
		return ErrEnded
	default:
	}

	c.mu.Lock()
	sess := c.sess
	offer := c.offer
	c.mu.Unlock()
	offer.direction = direction
	offer.version++

	req := c.inDialogRequest(sip.INVITE)
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(buildSDP(offer))
	res, err := sess.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("testphone: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return &StatusError{Code: res.StatusCode, Reason: res.Reason}
	}
	// The 2xx is ACKed by us, outside the transaction (RFC 3261 §13.2.2.4).
	if err := sess.WriteRequest(c.inDialogRequest(sip.ACK)); err != nil {
		return fmt.Errorf("testphone: ACK re-INVITE: %w", err)
	}
	info, err := c.checkAnswer(res.Body())
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.offer = offer
	c.answer = slices.Clone(res.Body())
	c.mu.Unlock()
	c.applyMedia(info, direction)
	return nil
}

// DroppedOut is how many packets Options.DropEvery lost so far.
func (c *Call) DroppedOut() int64 { return c.droppedOut.Load() }

// CallID is the SIP Call-ID of the call.
func (c *Call) CallID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callID
}

// Codec is the audio codec of the latest answer.
func (c *Call) Codec() media.Codec {
	return c.media.Load().codec
}

// AnswerSDP is the body of the latest SDP answer.
func (c *Call) AnswerSDP() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.answer)
}

// Done is closed when the call is over and the phone released: after
// Hangup, or after the far end's BYE was answered.
func (c *Call) Done() <-chan struct{} {
	return c.done
}

// HungUpByRemote reports whether the far end ended the call with a BYE.
func (c *Call) HungUpByRemote() bool {
	return c.remoteBye.Load()
}

// SendDigits sends keys as RFC 4733 events on the negotiated payload type:
// per key 100 ms of events at 20 ms pacing (marker on the first packet, one
// timestamp, rising duration), the end packet three times, then gap of
// silence. It returns when the last gap has passed.
func (c *Call) SendDigits(ctx context.Context, keys string, gap time.Duration) error {
	src, err := c.digitSource(keys, gap)
	if err != nil {
		return err
	}
	return c.run(ctx, src)
}

// SendDigitsMarked is SendDigits that also returns, for each key, the time
// the phone wrote that key's first RFC 4733 packet (the one with the marker
// bit) to its RTP socket. The time is taken just before the write, so it is
// never later than the packet's arrival at the far end: a latency measured
// from it can only come out too long, never too short. A key whose first
// packet was not sent (the call on hold, or ctx ended first) has the zero
// time. On error the times of the keys sent so far are still returned.
//
// With Recording.AudioStopAfter this measures barge-in: the time from a key
// to the end of the prompt it interrupts, as the caller hears it.
func (c *Call) SendDigitsMarked(ctx context.Context, keys string, gap time.Duration) ([]time.Time, error) {
	src, err := c.digitSource(keys, gap)
	if err != nil {
		return nil, err
	}
	return c.runMarked(ctx, src, len(keys))
}

func (c *Call) digitSource(keys string, gap time.Duration) (*digitSource, error) {
	if c.media.Load().eventPT == 0 {
		return nil, errors.New("testphone: telephone-event was not negotiated")
	}
	events := make([]uint8, 0, len(keys))
	for i := range len(keys) {
		ev, ok := media.EventForDigit(keys[i])
		if !ok {
			return nil, fmt.Errorf("testphone: no DTMF event for key %q", keys[i])
		}
		events = append(events, ev)
	}
	gapTicks := int((gap + media.FrameDuration - 1) / media.FrameDuration)
	return &digitSource{events: events, gapTicks: gapTicks}, nil
}

// SendTone sends the sum of sines at freqs (each about -12 dBFS) for d,
// encoded with the answered codec, and returns when it has been sent.
func (c *Call) SendTone(ctx context.Context, freqs []float64, d time.Duration) error {
	if len(freqs) == 0 || d <= 0 {
		return errors.New("testphone: SendTone needs frequencies and a duration")
	}
	for _, f := range freqs {
		if f <= 0 || f >= media.SampleRate/2 {
			return fmt.Errorf("testphone: tone frequency %v Hz out of range", f)
		}
	}
	total := int(d * media.SampleRate / time.Second)
	return c.run(ctx, &toneSource{freqs: slices.Clone(freqs), total: total})
}

// Received returns a snapshot of everything heard so far.
func (c *Call) Received() Recording {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	return c.rec.snapshot()
}

// ResetReceived forgets what was heard so far, so a test can wait for the
// next thing (say, the meeting audio after the prompts).
func (c *Call) ResetReceived() {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	c.rec.reset()
}

// WaitForAudio waits until at least min of audio above SilenceRMS has been
// received (counted since the last ResetReceived).
func (c *Call) WaitForAudio(ctx context.Context, min time.Duration) error {
	heard := func() time.Duration {
		c.recMu.Lock()
		defer c.recMu.Unlock()
		return c.rec.nonSilent
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if h := heard(); h >= min {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testphone: heard %v of audio, want %v: %w", heard(), min, ctx.Err())
		case <-c.done:
			if h := heard(); h >= min {
				return nil
			}
			return fmt.Errorf("testphone: heard %v of audio, want %v: %w", heard(), min, ErrEnded)
		case <-tick.C:
		}
	}
}
