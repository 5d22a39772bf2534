package sipua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/media"
)

// liveServer is a user agent whose handler only waits for the call to end
// and reports why, with rtp.inactivity_timeout and sip.options_interval
// shortened to 1 s.
func liveServer(t *testing.T, interval time.Duration) (srv *Server, ended chan error) {
	t.Helper()
	srv, ended, _ = liveServerCalls(t, interval)
	return srv, ended
}

// liveServerCalls is liveServer that also hands over each call.
func liveServerCalls(t *testing.T, interval time.Duration) (srv *Server, ended chan error, calls chan *Call) {
	t.Helper()
	cfg := config.Default()
	cfg.SIP.Listen = []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}
	cfg.SIP.OptionsInterval = interval
	cfg.RTP.PortMin, cfg.RTP.PortMax = 41000, 41999
	cfg.RTP.InactivityTimeout = time.Second
	cfg.Limits.MaxCalls = 100
	cfg.Limits.ShutdownGrace = 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ended = make(chan error, 4)
	calls = make(chan *Call, 4)
	clock := media.NewClock(1)
	srv, err := New(Options{
		SIP: cfg.SIP, RTP: cfg.RTP, Limits: cfg.Limits,
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
		Clock:  clock,
		Handler: func(ctx context.Context, call *Call) {
			calls <- call
			<-ctx.Done()
			ended <- context.Cause(ctx)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { clock.Run(ctx) })
	wg.Go(func() { _ = srv.Serve(ctx) })
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		cancel()
		wg.Wait()
	})
	return srv, ended, calls
}

func udpPort(srv *Server) int {
	for _, a := range srv.Addrs() {
		if a.Transport == "udp" {
			return a.Port
		}
	}
	panic("no udp listener")
}

// TestLivenessSilentCallerStays: a phone that sends no RTP at all (as with
// silence suppression) and one that holds the bridge in each direction
// answer the probes (the test phone answers OPTIONS 200) and stay up past
// several inactivity timeouts.
func TestLivenessSilentCallerStays(t *testing.T) {
	srv, ended := liveServer(t, time.Second)
	for _, dir := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		t.Run(dir, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			call, err := testphone.Dial(ctx, testphone.Options{
				Target:    fmt.Sprintf("sip:conference@127.0.0.1:%d", udpPort(srv)),
				NoSilence: true, Direction: dir,
			})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-ended:
				t.Fatalf("silent caller hung up: %v", err)
			case <-call.Done():
				t.Fatal("the bridge hung up the silent caller")
			case <-time.After(3500 * time.Millisecond):
			}
			if err := call.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-ended; !errors.Is(err, ErrRemoteHangup) {
				t.Errorf("call ended with %v, want the caller's hangup", err)
			}
		})
	}
}

// TestLivenessDeadPeer: a peer that sends no media and does not answer the
// OPTIONS (or answers 481, or 408) is hung up, with a reason that says so.
func TestLivenessDeadPeer(t *testing.T) {
	srv, ended := liveServer(t, time.Second)
	for _, tc := range []struct {
		name   string
		answer int // 0: never answers
		want   string
	}{
		{"silent", 0, "no answer to OPTIONS within 1s"},
		{"481", 481, "OPTIONS answered 481"},
		{"408", 408, "OPTIONS answered 408"},
		{"405 is alive", 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dialProbed(t, udpPort(srv), tc.answer)
			start := time.Now()
			select {
			case err := <-ended:
				if tc.want == "" {
					t.Fatalf("a peer that answers %d was hung up: %v", tc.answer, err)
				}
				if !errors.Is(err, ErrPeerGone) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("call ended with %q, want ErrPeerGone with %q", err, tc.want)
				}
				// 1 s without media, then one probe (at most 1 s), checked
				// at 10 ms after the timeout: well inside 5 s.
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("dead peer hung up after %v", d)
				}
				if p.optionsSeen() == 0 {
					t.Error("hung up without an OPTIONS probe")
				}
			case <-time.After(4 * time.Second):
				if tc.want != "" {
					t.Fatal("dead peer not hung up within 4 s")
				}
				if p.optionsSeen() < 2 {
					t.Errorf("%d probes in 4 s, want at least 2", p.optionsSeen())
				}
				p.bye(t)
				<-ended
			}
		})
	}
}

// TestLivenessComfortNoiseThenSilence: a VAD phone sends one RFC 3389
// comfort-noise packet when its caller goes quiet, then nothing; answering
// the probes, it stays up past several inactivity timeouts. The answer
// took CN.
func TestLivenessComfortNoiseThenSilence(t *testing.T) {
	srv, ended := liveServer(t, time.Second)
	p := dialProbed(t, udpPort(srv), 200)
	if !strings.Contains(p.sdp, "a=rtpmap:13 CN/8000") {
		t.Fatalf("the answer did not take comfort noise:\n%s", p.sdp)
	}
	var port int
	for _, line := range strings.Split(p.sdp, "\r\n") {
		if _, err := fmt.Sscanf(line, "m=audio %d ", &port); err == nil {
			break
		}
	}
	rtpConn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer rtpConn.Close()
	// V=2, PT 13, seq 1, ts 160, SSRC 7; payload: noise level 64 dBov.
	cn := []byte{0x80, 13, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 64}
	if _, err := rtpConn.Write(cn); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		t.Fatalf("the VAD caller was hung up: %v", err)
	case <-time.After(3500 * time.Millisecond):
	}
	if p.optionsSeen() == 0 {
		t.Error("no probe of a caller silent for 3.5 s")
	}
	p.bye(t)
	if err := <-ended; !errors.Is(err, ErrRemoteHangup) {
		t.Errorf("call ended with %v, want the caller's hangup", err)
	}
}

// TestLivenessOff: with sip.options_interval 0 the media session's own
// timeout hangs up a silent caller, as before probes existed.
func TestLivenessOff(t *testing.T) {
	srv, ended := liveServer(t, 0)
	p := dialProbed(t, udpPort(srv), 200)
	select {
	case err := <-ended:
		if !errors.Is(err, media.ErrInactive) {
			t.Errorf("call ended with %v, want media.ErrInactive", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("silent caller not hung up with probing off")
	}
	if n := p.optionsSeen(); n != 0 {
		t.Errorf("%d OPTIONS sent with probing off", n)
	}
}

// TestLivenessSignOfLife: a peer that sends INFO (any request in the
// dialog) more often than the interval is not probed.
func TestLivenessSignOfLife(t *testing.T) {
	srv, ended := liveServer(t, 2*time.Second)
	p := dialProbed(t, udpPort(srv), 0) // would not answer a probe
	for range 8 {
		time.Sleep(500 * time.Millisecond)
		p.info(t)
	}
	select {
	case err := <-ended:
		t.Fatalf("a peer sending INFO was hung up: %v", err)
	default:
	}
	if n := p.optionsSeen(); n != 0 {
		t.Errorf("%d OPTIONS sent to a peer that keeps sending requests", n)
	}
	p.bye(t)
	<-ended
}

// probedPeer is a minimal SIP caller on a UDP socket: it sends an INVITE,
// ACKs the 200 and then answers the bridge's OPTIONS with answer (0: never),
// and the BYE with 200. It sends no RTP.
type probedPeer struct {
	conn   *net.UDPConn
	bridge *net.UDPAddr
	callID string
	toTag  string
	answer int
	sdp    string // the bridge's SDP answer

	mu      sync.Mutex
	cseq    int
	options int
	wg      sync.WaitGroup
}

func dialProbed(t *testing.T, port int, answer int) *probedPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &probedPeer{conn: conn, bridge: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port},
		callID: fmt.Sprintf("raw-%d@test", time.Now().UnixNano()), answer: answer, cseq: 1}
	sdp := "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 9 RTP/AVP 0 13\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:13 CN/8000\r\na=sendrecv\r\n"
	p.send(t, p.request("INVITE", 1, "z9hG4bK-inv", "", sdp))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8192)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no 200 to the INVITE: %v", err)
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, "SIP/2.0 200") {
			to := rawHeader(msg, "To")
			_, p.toTag, _ = strings.Cut(to, "tag=")
			_, p.sdp, _ = strings.Cut(msg, "\r\n\r\n")
			break
		}
	}
	p.send(t, p.request("ACK", 1, "z9hG4bK-ack", p.toTag, ""))
	_ = conn.SetReadDeadline(time.Time{})
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		_ = conn.Close()
		p.wg.Wait()
	})
	return p
}

func (p *probedPeer) request(method string, cseq int, branch, toTag, body string) string {
	port := p.conn.LocalAddr().(*net.UDPAddr).Port
	to := fmt.Sprintf("<sip:conference@127.0.0.1:%d>", p.bridge.Port)
	if toTag != "" {
		to += ";tag=" + toTag
	}
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return fmt.Sprintf("%s sip:conference@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"+
		"From: <sip:raw@127.0.0.1:%d>;tag=rawtag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
		"Contact: <sip:raw@127.0.0.1:%d>\r\nMax-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
		method, p.bridge.Port, port, branch, port, to, p.callID, cseq, method, port, ct, len(body), body)
}

func (p *probedPeer) send(t *testing.T, msg string) {
	t.Helper()
	if _, err := p.conn.WriteToUDP([]byte(msg), p.bridge); err != nil {
		t.Fatal(err)
	}
}

// serve answers what the bridge sends until the socket closes.
func (p *probedPeer) serve() {
	buf := make([]byte, 8192)
	for {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		code := 0
		switch {
		case strings.HasPrefix(msg, "OPTIONS "):
			p.mu.Lock()
			p.options++
			p.mu.Unlock()
			code = p.answer
		case strings.HasPrefix(msg, "BYE "):
			code = 200
		}
		if code == 0 {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "SIP/2.0 %d Whatever\r\n", code)
		for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
			fmt.Fprintf(&b, "%s: %s\r\n", h, rawHeader(msg, h))
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
		_, _ = p.conn.WriteToUDP([]byte(b.String()), from)
	}
}

func (p *probedPeer) optionsSeen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.options
}

func (p *probedPeer) next() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cseq++
	return p.cseq
}

func (p *probedPeer) info(t *testing.T) {
	n := p.next()
	p.send(t, p.request("INFO", n, fmt.Sprintf("z9hG4bK-info%d", n), p.toTag, ""))
}

func (p *probedPeer) bye(t *testing.T) {
	n := p.next()
	p.send(t, p.request("BYE", n, fmt.Sprintf("z9hG4bK-bye%d", n), p.toTag, ""))
}

// header is the value of the first header name in msg, "" if none.
func rawHeader(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestLivenessProbesAndRefreshesDoNotFight: a silent caller whose session
// the bridge refreshes by re-INVITE (no UPDATE in its Allow), answering each
// after a while, is probed too; every request of the bridge in the dialog
// gets a CSeq of its own, in order, and every ACK the CSeq of its
// re-INVITE: a probe built while a refresh waited for its answer took the
// ACK's number, and the caller would have hung up for want of an ACK.
func TestLivenessProbesAndRefreshesDoNotFight(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.SIP.MinSE, c.SIP.SessionExpires = 2*time.Second, 4*time.Second
		c.SIP.OptionsInterval = time.Second
		c.RTP.InactivityTimeout = time.Second
	})
	p := newRawPeer(t, ts, "udp")
	cseq := p.invite("Supported: timer", "Session-Expires: 2;refresher=uas", "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS")
	p.response(200, 5*time.Second)
	p.ack(cseq)

	var last, invites, probes uint32
	var invite uint32 // the CSeq of the re-INVITE awaiting its ACK
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		req, ok := p.read(time.Until(end)).(*sip.Request)
		if !ok {
			continue
		}
		n := req.CSeq().SeqNo
		switch req.Method {
		case sip.ACK:
			if n != invite {
				t.Errorf("ACK with CSeq %d, want %d (its re-INVITE's)", n, invite)
			}
			invite = 0
			continue
		case sip.INVITE:
			invites++
			invite = n
			time.Sleep(300 * time.Millisecond) // before Timer A retransmits
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			res.SetBody([]byte(p.offer()))
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			res.AppendHeader(sip.NewHeader("Session-Expires", "2;refresher=uac"))
			p.send(res.String())
		case sip.OPTIONS:
			probes++
			p.reply(req, 200, "OK")
		default:
			t.Fatalf("unexpected %s from the bridge", req.Method)
		}
		if n <= last {
			t.Errorf("%s with CSeq %d after CSeq %d", req.Method, n, last)
		}
		last = n
	}
	t.Logf("%d refreshes, %d probes", invites, probes)
	if invites < 2 {
		t.Errorf("%d refreshes in 5 s, want at least 2", invites)
	}
	p.cseq++
	p.send(p.request("BYE", p.cseq, nil, ""))
	p.response(200, 5*time.Second)
}

// TestLivenessProbeOnTheCallersTCPConnection: the probe of a silent TCP
// caller comes on the caller's own connection (as our BYE), stamped like
// every request of ours; once the call has ended no probe follows.
func TestLivenessProbeOnTheCallersTCPConnection(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.SIP.UserAgent = "dialin-test"
		c.SIP.OptionsInterval = time.Second
		c.RTP.InactivityTimeout = time.Second
	})
	p := newRawPeer(t, ts, "tcp")
	cseq := p.invite()
	p.response(200, 5*time.Second)
	p.ack(cseq)
	for i := range 2 {
		probe := p.awaitRequest(sip.OPTIONS, 5*time.Second)
		if probe == nil {
			t.Fatalf("no OPTIONS %d on our connection", i+1)
		}
		checkStamped(t, "OPTIONS probe", probe, "User-Agent")
		if got := header(probe, "Accept"); got != "application/sdp" {
			t.Errorf("OPTIONS Accept %q, want application/sdp", got)
		}
		p.reply(probe, 200, "OK")
	}
	select {
	case c := <-p.accepted:
		_ = c.Close()
		t.Fatal("the bridge opened a connection to our Contact")
	default:
	}
	p.cseq++
	p.send(p.request("BYE", p.cseq, nil, ""))
	p.response(200, 5*time.Second)
	// Timer's check, probe interval and a margin: nothing more comes.
	if msg := p.read(2500 * time.Millisecond); msg != nil {
		t.Fatalf("after the call ended the bridge sent:\n%s", msg)
	}
}
