package sipua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/media"
)

// A call whose meeting lives on another node (its home) keeps its
// signalling here and sends its media there: MoveMedia sends the home an
// inter-node INVITE (the Leg) offering the caller's media address, then
// re-INVITEs the caller with the home's answer. From then on this node
// only relays the dialog: the caller's INFO keys, hold and hang-up go to
// the home on the leg, the home's hang-up comes back as our BYE to the
// caller. Nothing of the media passes through this node.

// Leg timing: the home is probed in the leg's dialog so a dead home is
// noticed within a few seconds and the caller can be taken back.
const (
	legAnswerWait = 5 * time.Second
	// Each home node is pinged once a second for all the legs to it (a
	// probe per call would cost both nodes a SIP transaction per call per
	// second); two unanswered pings in a row and the home is gone.
	legProbeEvery   = time.Second
	legProbeWait    = time.Second
	legProbeFailing = 2
	// Each leg's dialog is probed this often: a home that restarted answers
	// its pings but knows none of the calls it had.
	legDialogProbeEvery = 15 * time.Second
)

// reasonNodeStopping is the Reason of a home's BYE when it stops: the
// caller is not done, the node is (RFC 3326).
const reasonNodeStopping = `SIP;cause=503;text="node stopping"`

// Why a leg ended.
var (
	ErrHomeHungUp = errors.New("the meeting's home node ended the call")
	ErrHomeLost   = errors.New("the meeting's home node stopped answering")
	ErrNotMovable = errors.New("the call has no media address to move")
)

// Leg is the inter-node dialog of a call whose media the meeting's home
// node carries.
type Leg struct {
	s      *Server
	call   *Call
	dialog *sipgo.DialogClientSession
	id     string // the leg's dialog ID, as its UAC
	target string // the home's SIP address
	home   netip.AddrPort
	offer  []byte // our last offer to the home, answered again to its refreshes

	out  sync.Mutex // one of our requests on the leg at a time (CSeq)
	done chan struct{}
	once sync.Once
	err  error
}

// Done is closed when the leg ended; Err says why.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Err is why the leg ended (ErrHomeHungUp, ErrHomeLost), nil before.
func (l *Leg) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}

func (l *Leg) end(err error) {
	l.once.Do(func() {
		l.err = err
		close(l.done)
	})
}

// MoveMedia hands the call's media to the home node at target (its SIP
// host:port, UDP): the home answers an inter-node INVITE claiming j, and
// the caller is re-INVITEd to the home's media address. On an error
// nothing changed for the caller. The caller's keys that still arrive
// here (SIP INFO) come out of Digits as before; SendKey forwards them.
func (c *Call) MoveMedia(ctx context.Context, target string, j Join) (*Leg, error) {
	s, in := c.srv, c.in
	if s.cluster == nil {
		return nil, errNotClusterNode
	}
	in.mu.Lock()
	neg := in.answer.Negotiated
	in.mu.Unlock()
	if !neg.Remote.IsValid() || neg.Remote.Port() == 0 {
		return nil, ErrNotMovable
	}
	j.Origin = c.id
	leg, homeNeg, err := s.dialLeg(ctx, c, target, neg, j)
	if err != nil {
		return nil, err
	}
	if err := in.moveTo(ctx, homeNeg.Remote, leg); err != nil {
		leg.hangup()
		return nil, fmt.Errorf("re-INVITE of the caller to the home's media: %w", err)
	}
	c.log.Info().Str("home", target).Stringer("home_media", homeNeg.Remote).Msg("media moved to the meeting's home node")
	go leg.watch()
	return leg, nil
}

// dialLeg sends the home the inter-node INVITE and ACKs its answer.
func (s *Server) dialLeg(ctx context.Context, c *Call, target string, neg Negotiated, j Join) (*Leg, Negotiated, error) {
	host, port, err := splitHostPort(target)
	if err != nil {
		return nil, Negotiated{}, fmt.Errorf("home address %q: %w", target, err)
	}
	offer := callerOffer(neg)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "conference", Host: host, Port: port})
	req.SetTransport("UDP")
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: c.caller, Host: s.publicIP.String()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&from)
	req.AppendHeader(sip.NewHeader("Call-ID", "leg-"+sip.GenerateTagN(24)))
	req.AppendHeader(sip.NewHeader(JoinHeader, s.cluster.sign(req.CallID().Value(), c.caller, j, time.Now())))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	ctx, cancel := context.WithTimeout(ctx, legAnswerWait)
	defer cancel()
	dialog, err := s.dialogUA["udp"].WriteInvite(ctx, req)
	if err != nil {
		return nil, Negotiated{}, fmt.Errorf("inter-node INVITE: %w", err)
	}
	if err := dialog.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		_ = dialog.Close()
		return nil, Negotiated{}, fmt.Errorf("inter-node INVITE: %w", err)
	}
	res := dialog.InviteResponse
	id, err := sip.DialogIDFromResponse(res)
	if err != nil {
		_ = dialog.Close()
		return nil, Negotiated{}, fmt.Errorf("inter-node 2xx: %w", err)
	}
	leg := &Leg{s: s, call: c, dialog: dialog, id: id, target: target, offer: offer, done: make(chan struct{})}
	s.mu.Lock()
	s.legs[id] = leg // before the ACK: a BYE right behind it must find the leg
	s.mu.Unlock()
	if err := dialog.Ack(ctx); err != nil {
		leg.hangup()
		return nil, Negotiated{}, fmt.Errorf("inter-node ACK: %w", err)
	}
	answer, err := ParseSDP(res.Body())
	if err == nil {
		var n Negotiated
		if n, err = Negotiate(answer, &neg.Codec); err == nil && n.Codec == neg.Codec {
			leg.home = n.Remote
			return leg, n, nil
		}
		if err == nil {
			err = fmt.Errorf("the home answered %s, the caller speaks %s", n.Codec, neg.Codec)
		}
	}
	leg.hangup()
	return nil, Negotiated{}, fmt.Errorf("inter-node answer: %w", err)
}

// callerOffer is the offer the home gets: the caller's media address and
// the codec and events this node agreed with the caller, in the caller's
// direction, so the home negotiates the very same session.
func callerOffer(neg Negotiated) []byte {
	a := Answer{Addr: neg.Remote.Addr(), Port: int(neg.Remote.Port()), SessionID: rand.Int64N(1 << 40), Version: 1, Negotiated: neg}
	b := a.appendSession(make([]byte, 0, 320))
	return a.appendAudio(b, []media.Codec{neg.Codec}, neg.DTMFPayloadType, neg.DTMFEvents, mirror(neg.Direction))
}

func splitHostPort(target string) (string, int, error) {
	ap, err := netip.ParseAddrPort(target)
	if err != nil {
		return "", 0, err
	}
	return ap.Addr().String(), int(ap.Port()), nil
}

// moveTo points the caller's media at addr: our description gets the
// home's address and port, the local session stops sending and reading,
// and the caller gets a re-INVITE with it. On failure all is as before.
func (in *inbound) moveTo(ctx context.Context, addr netip.AddrPort, leg *Leg) error {
	in.mu.Lock()
	prevAddr, prevPort, prevLeg := in.answer.Addr, in.answer.Port, in.leg
	in.answer.Addr, in.answer.Port, in.leg = addr.Addr(), int(addr.Port()), leg
	sdp := in.answer.movedOffer()
	in.mu.Unlock()
	in.call.Session.SetDirection(false, false)
	res, err := in.reoffer(ctx, sdp)
	if err == nil && !res.IsSuccess() {
		err = fmt.Errorf("the caller answered %d %s", res.StatusCode, res.Reason)
	}
	if err != nil {
		in.mu.Lock()
		in.answer.Addr, in.answer.Port, in.leg = prevAddr, prevPort, prevLeg
		neg := in.answer.Negotiated
		in.mu.Unlock()
		in.call.Session.SetDirection(neg.WeSend(), neg.PeerSends())
		return err
	}
	// Nothing comes here any more: the clock stops reading and ticking
	// the session, so a moved call costs this node no work per tick.
	in.call.srv.clock.RemoveSession(in.call.Session, in.call.Player)
	return nil
}

// MoveBack takes the call's media back from a home that is gone: the
// caller is re-INVITEd to this node's own address, where its session
// sends and listens again.
func (l *Leg) MoveBack(ctx context.Context) error {
	l.hangup()
	in := l.call.in
	in.mu.Lock()
	in.answer.Addr, in.answer.Port, in.leg = in.ownAddr, in.ownPort, nil
	neg := in.answer.Negotiated
	sdp := in.answer.movedOffer()
	in.mu.Unlock()
	in.call.Session.SetDirection(neg.WeSend(), neg.PeerSends())
	if in.call.ctx.Err() == nil { // the teardown removes it for good
		l.s.clock.AddSession(in.call.Session, in.call.Player)
	}
	res, err := in.reoffer(ctx, sdp)
	if err == nil && !res.IsSuccess() {
		err = fmt.Errorf("the caller answered %d %s", res.StatusCode, res.Reason)
	}
	if err != nil {
		return fmt.Errorf("re-INVITE of the caller back to this node: %w", err)
	}
	l.call.log.Info().Msg("media back on this node")
	return nil
}

// movedOffer is our offer when the media moves: the session as agreed
// (one codec, the events), at the address now in a. Its o= version goes up.
func (a *Answer) movedOffer() []byte {
	return a.versioned(func() []byte {
		b := a.appendSession(make([]byte, 0, 320))
		return a.appendAudio(b, []media.Codec{a.Codec}, a.DTMFPayloadType, a.DTMFEvents, a.Direction)
	})
}

// reoffer sends the caller a re-INVITE with sdp, with the session timer
// as it stands (a re-INVITE refreshes it), and ACKs a 2xx.
func (in *inbound) reoffer(ctx context.Context, sdp []byte) (*sip.Response, error) {
	s := in.call.srv
	inv := in.dialog.InviteRequest
	req := sip.NewRequest(sip.INVITE, inv.Contact().Address)
	req.SetTransport(inv.Transport())
	var terms timerTerms
	if in.timer != nil {
		terms = in.timer.currentTerms()
	}
	if terms.on {
		refresher := refresherUAS // they refresh: the UAS of this request
		if terms.weRefresh {
			refresher = refresherUAC
		}
		req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(terms.interval)+";refresher="+refresher))
		req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(s.minSE())))
	}
	req.AppendHeader(sip.HeaderClone(&s.dialogUA[dialogTransport(inv)].ContactHDR))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdp)
	ctx, cancel := context.WithTimeout(ctx, legAnswerWait)
	defer cancel()
	in.out.Lock() // to the ACK, which takes the re-INVITE's CSeq (inbound.out)
	defer in.out.Unlock()
	res, err := in.dialog.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, inv.Contact().Address)
		ack.SetTransport(inv.Transport())
		if err := in.dialog.WriteRequest(ack); err != nil {
			return nil, fmt.Errorf("ACK: %w", err)
		}
		if terms.on && in.timer != nil {
			in.timer.refreshed(in.timer.answeredTerms(res, terms))
		}
	}
	return res, nil
}

// SendKey forwards a key the caller sent here (SIP INFO) to the home.
func (l *Leg) SendKey(ctx context.Context, key byte) error {
	req := l.request(sip.INFO)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=" + string(key) + "\r\nDuration=160\r\n"))
	ctx, cancel := context.WithTimeout(ctx, legProbeWait*2)
	defer cancel()
	l.out.Lock()
	defer l.out.Unlock()
	res, err := l.dialog.Do(ctx, req)
	if err == nil && !res.IsSuccess() {
		err = fmt.Errorf("INFO answered %d", res.StatusCode)
	}
	return err
}

// update tells the home the caller's direction changed (hold,
// resume) with a re-INVITE on the leg.
func (l *Leg) update(neg Negotiated) {
	offer := callerOffer(neg)
	req := l.request(sip.INVITE)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	ctx, cancel := context.WithTimeout(context.Background(), legAnswerWait)
	defer cancel()
	l.out.Lock()
	defer l.out.Unlock()
	res, err := l.dialog.Do(ctx, req)
	if err != nil {
		l.call.log.Warn().Err(err).Msg("leg: re-INVITE of the home failed")
		return
	}
	if res.IsSuccess() {
		l.offer = offer
		_ = l.dialog.WriteRequest(l.request(sip.ACK))
	}
}

// request starts a request in the leg's dialog, to the home's Contact.
func (l *Leg) request(method sip.RequestMethod) *sip.Request {
	target := l.dialog.InviteRequest.Recipient
	if c := l.dialog.InviteResponse.Contact(); c != nil {
		target = *c.Address.Clone()
	}
	req := sip.NewRequest(method, target)
	req.SetTransport("UDP")
	return req
}

// watch follows the leg until it or the call ends: the home node is
// pinged for all its legs at once (homeWatch), and the leg's own dialog
// is probed now and then, for a home that restarted and forgot it (481).
func (l *Leg) watch() {
	stopWatch := l.s.watchHome(l)
	defer stopWatch()
	t := time.NewTicker(legDialogProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-l.call.ctx.Done():
			l.hangup()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(l.call.ctx, legProbeWait)
		l.out.Lock()
		res, err := l.dialog.Do(ctx, l.request(sip.OPTIONS))
		l.out.Unlock()
		cancel()
		if err == nil && (res.StatusCode == 481 || res.StatusCode == 408) {
			l.call.log.Warn().Int("status", res.StatusCode).Msg("leg: the home does not know the call")
			l.lost()
			return
		}
	}
}

// lost ends a leg whose home is gone or forgot it.
func (l *Leg) lost() {
	l.forget()
	_ = l.dialog.Close()
	l.end(ErrHomeLost)
}

// hangup ends the leg from our side (BYE), once.
func (l *Leg) hangup() {
	select {
	case <-l.done:
		return
	default:
	}
	l.forget()
	ctx, cancel := context.WithTimeout(context.Background(), legProbeWait*2)
	defer cancel()
	l.out.Lock()
	err := l.dialog.Bye(ctx)
	l.out.Unlock()
	if err != nil {
		l.call.log.Debug().Err(err).Msg("leg: BYE to the home not confirmed")
	}
	_ = l.dialog.Close()
	l.end(ErrFlowDone)
}

func (l *Leg) forget() {
	l.s.mu.Lock()
	if l.s.legs[l.id] == l {
		delete(l.s.legs, l.id)
	}
	l.s.mu.Unlock()
}

// Close hangs the leg up (the call ended here, or is taken back).
func (l *Leg) Close() { l.hangup() }

// legOf finds the leg an in-dialog request from a home belongs to.
func (s *Server) legOf(req *sip.Request) *Leg {
	id, err := sip.DialogIDFromRequestUAC(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legs[id]
}

// onLegRequest answers what a home sends in a leg's dialog: BYE (the
// meeting is over for the caller), OPTIONS (its liveness probe), and
// re-INVITE or UPDATE (its session refresh, answered with our offer as
// it stands). It reports false for a request of no leg.
func (s *Server) onLegRequest(req *sip.Request, tx sip.ServerTransaction) bool {
	l := s.legOf(req)
	if l == nil {
		return false
	}
	switch req.Method {
	case sip.BYE:
		if err := l.dialog.ReadBye(req, tx); err != nil {
			respond(tx, req, 400, "Bad Request", warning(err))
			return true
		}
		l.forget()
		if r := req.GetHeader("Reason"); r != nil && strings.Contains(r.Value(), "cause=503") {
			l.call.log.Info().Msg("leg: the meeting's home node is stopping")
			l.end(ErrHomeLost) // placed anew, like a dead home's callers
			return true
		}
		l.end(ErrHomeHungUp)
	case sip.INVITE, sip.UPDATE:
		var body []byte
		if len(req.Body()) > 0 || req.IsInvite() {
			body = l.offer
		}
		res := sip.NewSDPResponseFromRequest(req, body)
		res.AppendHeader(sip.HeaderClone(&s.dialogUA["udp"].ContactHDR))
		_ = tx.Respond(res)
	default:
		respond(tx, req, 200, "OK")
	}
	return true
}
