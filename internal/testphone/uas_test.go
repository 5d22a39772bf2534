package testphone

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/dialin/dialin/media"
)

// uasConfig shapes the far end the phone talks to in these tests.
type uasConfig struct {
	transport string        // "udp" (default) or "tcp"
	reject    int           // answer the INVITE with this status instead of 200
	ringOnly  bool          // send 180 and never answer
	byeAfter  time.Duration // if set, send BYE this long after the ACK

	infoStatus int // answer in-dialog INFO with this status; default 200
}

// testUAS is a minimal bridge stand-in: it answers the INVITE with an SDP
// choosing the offer's first codec and telephone-event PT, echoes every RTP
// packet back to its sender, keeps a copy of each, and answers re-INVITE,
// ACK and BYE.
type testUAS struct {
	t      *testing.T
	cfg    uasConfig
	ua     *sipgo.UserAgent
	dua    *sipgo.DialogUA
	target string
	rtp    *net.UDPConn
	closed chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	sess    *sipgo.DialogServerSession
	offers  [][]byte
	packets []rtp.Packet
	infos   []*sip.Request // in-dialog INFOs, as received
	byeSeen bool
	gotBye  chan struct{} // closed when the phone's BYE arrives

	byeResult   chan error    // result of our own BYE (cfg.byeAfter)
	cancelCause chan error    // why a ringing dialog ended (cfg.ringOnly)
	answered    chan struct{} // closed once RespondSDP has returned (the ACK is in)
}

func startUAS(t *testing.T, cfg uasConfig) *testUAS {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("test-uas"),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &testUAS{
		t: t, cfg: cfg, ua: ua, rtp: rtpConn,
		closed: make(chan struct{}),
		gotBye: make(chan struct{}),

		byeResult:   make(chan error, 1),
		cancelCause: make(chan error, 1),
		answered:    make(chan struct{}),
	}

	// Listen first to learn the port, then set everything the handlers
	// read, then serve: handlers run on sipgo's goroutines.
	var (
		port   int
		closer func() error
		serve  func()
	)
	if cfg.transport == "tcp" {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port, closer = ln.Addr().(*net.TCPAddr).Port, ln.Close
		serve = func() { _ = srv.ServeTCP(ln) }
		u.target = fmt.Sprintf("sip:conference@127.0.0.1:%d;transport=tcp", port)
	} else {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port, closer = conn.LocalAddr().(*net.UDPAddr).Port, conn.Close
		serve = func() { _ = srv.ServeUDP(conn) }
		u.target = fmt.Sprintf("sip:conference@127.0.0.1:%d", port)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "conference", Host: "127.0.0.1", Port: port}}
	if cfg.transport == "tcp" {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
	}
	u.dua = &sipgo.DialogUA{Client: cli, ContactHDR: contact}

	srv.OnInvite(u.onInvite)
	srv.OnAck(u.onAck)
	srv.OnBye(u.onBye)
	srv.OnInfo(u.onInfo)
	u.goRun(serve)
	u.goRun(u.echo)

	t.Cleanup(func() {
		close(u.closed)
		rtpConn.Close()
		ua.Close()
		closer()
		u.wg.Wait()
	})
	return u
}

func (u *testUAS) goRun(f func()) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		f()
	}()
}

func (u *testUAS) answerSDP(offer sessionInfo, direction string) []byte {
	return buildSDP(offerParams{
		ip:        "127.0.0.1",
		port:      u.rtp.LocalAddr().(*net.UDPAddr).Port,
		codecs:    []media.Codec{offer.codec},
		eventPT:   offer.eventPT,
		direction: direction,
		sessionID: 42,
		version:   uint64(len(u.offers)),
	})
}

func (u *testUAS) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	u.mu.Lock()
	u.offers = append(u.offers, slices.Clone(req.Body()))
	u.mu.Unlock()
	if _, err := sip.DialogIDFromRequestUAS(req); err == nil {
		u.onReinvite(req, tx)
		return
	}
	if u.cfg.reject != 0 {
		respond(tx, req, u.cfg.reject, "Rejected")
		return
	}
	offer, err := parseSDP(req.Body())
	if err != nil {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	sess, err := u.dua.ReadInvite(req, tx)
	if err != nil {
		u.t.Errorf("uas: read invite: %v", err)
		return
	}
	u.mu.Lock()
	u.sess = sess
	answer := u.answerSDP(offer, "sendrecv")
	u.mu.Unlock()
	if u.cfg.ringOnly {
		if err := sess.Respond(sip.StatusRinging, "Ringing", nil); err != nil {
			u.t.Errorf("uas: 180: %v", err)
		}
		select {
		case <-sess.Context().Done(): // CANCEL ends the dialog
			u.cancelCause <- context.Cause(sess.Context())
		case <-u.closed:
		}
		return
	}
	if err := sess.RespondSDP(answer); err != nil { // blocks until the ACK
		// A BYE right behind the ACK can end the dialog before sipgo's wait
		// sees it confirmed (on one CPU, it does); the ACK did arrive.
		u.mu.Lock()
		bye := u.byeSeen
		u.mu.Unlock()
		if !bye {
			u.t.Errorf("uas: respond: %v", err)
		}
		return
	}
	close(u.answered)
	if u.cfg.byeAfter > 0 {
		u.goRun(func() {
			select {
			case <-time.After(u.cfg.byeAfter):
			case <-u.closed:
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			u.byeResult <- sess.Bye(ctx)
		})
	}
}

// onReinvite answers with the mirror of the offered direction.
func (u *testUAS) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	u.mu.Lock()
	sess := u.sess
	u.mu.Unlock()
	if sess == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "No Dialog")
		return
	}
	if err := sess.ReadRequest(req, tx); err != nil {
		respond(tx, req, sip.StatusInternalServerError, "Bad CSeq")
		return
	}
	offer, err := parseSDP(req.Body())
	if err != nil {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	mirror := map[string]string{"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}
	u.mu.Lock()
	answer := u.answerSDP(offer, mirror[offer.direction])
	u.mu.Unlock()
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(sip.HeaderClone(&u.dua.ContactHDR))
	if err := tx.Respond(res); err != nil {
		u.t.Errorf("uas: respond re-INVITE: %v", err)
	}
}

func (u *testUAS) onAck(req *sip.Request, tx sip.ServerTransaction) {
	u.mu.Lock()
	sess := u.sess
	u.mu.Unlock()
	if sess != nil {
		_ = sess.ReadAck(req, tx)
	}
}

func (u *testUAS) onBye(req *sip.Request, tx sip.ServerTransaction) {
	u.mu.Lock()
	sess := u.sess
	first := !u.byeSeen
	u.byeSeen = true
	u.mu.Unlock()
	if sess == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "No Dialog")
		return
	}
	if err := sess.ReadBye(req, tx); err != nil {
		u.t.Errorf("uas: read bye: %v", err)
	}
	if first {
		close(u.gotBye)
	}
}

// onInfo keeps INFOs that belong to the dialog and answers them with
// cfg.infoStatus; the test checks their headers and bodies.
func (u *testUAS) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	u.mu.Lock()
	sess := u.sess
	u.mu.Unlock()
	if sess == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "No Dialog")
		return
	}
	if id, err := sip.DialogIDFromRequestUAS(req); err != nil || id != sess.ID {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Wrong Dialog")
		return
	}
	if err := sess.ReadRequest(req, tx); err != nil {
		respond(tx, req, sip.StatusInternalServerError, "Bad CSeq")
		return
	}
	u.mu.Lock()
	u.infos = append(u.infos, req.Clone())
	u.mu.Unlock()
	code := u.cfg.infoStatus
	if code == 0 {
		code = sip.StatusOK
	}
	respond(tx, req, code, "Test")
}

func (u *testUAS) receivedInfos() []*sip.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.infos)
}

// echo keeps a copy of every RTP packet and sends it straight back.
func (u *testUAS) echo() {
	buf := make([]byte, 1500)
	for {
		n, from, err := u.rtp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var p rtp.Packet
		if err := p.Unmarshal(slices.Clone(buf[:n])); err != nil {
			u.t.Errorf("uas: bad rtp: %v", err)
			continue
		}
		u.mu.Lock()
		u.packets = append(u.packets, p)
		u.mu.Unlock()
		_, _ = u.rtp.WriteToUDP(buf[:n], from)
	}
}

// session waits until the call is answered and ACKed, and returns it.
func (u *testUAS) session(ctx context.Context) *sipgo.DialogServerSession {
	select {
	case <-u.answered:
	case <-ctx.Done():
		u.t.Fatal("uas: call never confirmed")
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sess
}

func (u *testUAS) receivedPackets() []rtp.Packet {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.packets)
}

func (u *testUAS) receivedOffers() [][]byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.offers)
}
