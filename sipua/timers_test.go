package sipua

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/config"
)

func TestReadTimerTerms(t *testing.T) {
	s := &Server{opts: Options{SIP: config.SIP{SessionExpires: 1800 * time.Second, MinSE: 90 * time.Second}}}
	tests := []struct {
		name     string
		headers  []string
		want     timerTerms
		tooShort bool
		bad      bool
	}{
		{"no timers", nil, timerTerms{}, false, false},
		{"supported, no interval: ours, the caller refreshes", []string{"Supported: timer"},
			timerTerms{on: true, interval: 1800, uacSupports: true}, false, false},
		{"compact supported in a list", []string{"k: 100rel, TIMER"},
			timerTerms{on: true, interval: 1800, uacSupports: true}, false, false},
		{"caller's Min-SE above ours", []string{"Supported: timer", "Min-SE: 3600"},
			timerTerms{on: true, interval: 3600, uacSupports: true}, false, false},
		{"refresher uac", []string{"Supported: timer", "Session-Expires: 90;refresher=uac"},
			timerTerms{on: true, interval: 90, uacSupports: true}, false, false},
		{"refresher uas", []string{"Supported: timer", "Session-Expires: 120;refresher=uas"},
			timerTerms{on: true, interval: 120, weRefresh: true, uacSupports: true}, false, false},
		{"require timer, compact Session-Expires", []string{"Require: timer", "x: 300"},
			timerTerms{on: true, interval: 300, uacSupports: true}, false, false},
		{"below Min-SE", []string{"Supported: timer", "Session-Expires: 60"}, timerTerms{}, true, false},
		{"proxy's interval, UAC without timers: raised, we refresh", []string{"Session-Expires: 60;refresher=uac"},
			timerTerms{on: true, interval: 90, weRefresh: true}, false, false},
		{"not a number", []string{"Supported: timer", "Session-Expires: soon"}, timerTerms{}, false, true},
		{"bad refresher", []string{"Supported: timer", "Session-Expires: 100;refresher=me"}, timerTerms{}, false, true},
		{"bad Min-SE", []string{"Supported: timer", "Min-SE: -4"}, timerTerms{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{Host: "127.0.0.1"})
			for _, h := range tt.headers {
				name, value, _ := strings.Cut(h, ":")
				req.AppendHeader(sip.NewHeader(name, strings.TrimSpace(value)))
			}
			got, tooShort, err := s.readTimerTerms(req)
			if tt.bad {
				if !errors.Is(err, errBadSessionTimer) {
					t.Fatalf("error %v, want errBadSessionTimer", err)
				}
				return
			}
			if err != nil || tooShort != tt.tooShort || (!tooShort && got.on && got != tt.want) || (!got.on && tt.want.on) {
				t.Fatalf("got %+v tooShort=%v err=%v, want %+v tooShort=%v", got, tooShort, err, tt.want, tt.tooShort)
			}
		})
	}
}

func timerServer(t *testing.T) *testServer {
	return startServer(t, func(c *config.Config) {
		c.SIP.MinSE = 2 * time.Second
		c.SIP.SessionExpires = 4 * time.Second
	})
}

// refresher=uac: the caller's refreshes (UPDATE without SDP, re-INVITE
// with the same SDP) keep the call, each answered with the timer and, for
// the re-INVITE, the same o= version; when they stop, the bridge hangs up
// at the expiry minus a third.
func TestSessionTimerCallerRefreshes(t *testing.T) {
	ts := timerServer(t)
	p := newRawPeer(t, ts, "udp")
	cseq := p.invite("Supported: timer", "Session-Expires: 3;refresher=uac")
	ok := p.response(200, 5*time.Second)
	p.ack(cseq)
	if got := header(ok, "Session-Expires"); got != "3;refresher=uac" {
		t.Fatalf("200 Session-Expires %q, want 3;refresher=uac", got)
	}
	if got := header(ok, "Require"); got != "timer" {
		t.Fatalf("200 Require %q, want timer", got)
	}
	origin := sdpOrigin(t, ok.Body())
	for i := range 3 {
		time.Sleep(1500 * time.Millisecond) // before the 2 s deadline (3 - 1)
		p.cseq++
		if i%2 == 0 {
			p.send(p.request("UPDATE", p.cseq, []string{"Supported: timer", "Session-Expires: 3;refresher=uac"}, ""))
			res := p.response(200, 2*time.Second)
			if got := header(res, "Session-Expires"); got != "3;refresher=uac" {
				t.Fatalf("200 to UPDATE: Session-Expires %q", got)
			}
			continue
		}
		p.send(p.request("INVITE", p.cseq, []string{"Supported: timer", "Session-Expires: 3;refresher=uac"}, p.offer()))
		res := p.response(200, 2*time.Second)
		p.ack(p.cseq)
		if got := sdpOrigin(t, res.Body()); got != origin {
			t.Fatalf("refresh changed our o= line: %q, was %q", got, origin)
		}
	}
	last := time.Now()
	bye := p.awaitRequest(sip.BYE, 5*time.Second)
	if bye == nil {
		t.Fatal("no BYE after the refreshes stopped")
	}
	p.reply(bye, 200, "OK")
	if d := time.Since(last); d < 1800*time.Millisecond {
		t.Fatalf("BYE %v after the last refresh, before the session expired (3 s minus 1 s)", d)
	}
}

// A Session-Expires below sip.min_se is answered 422 with Min-SE.
func TestSessionTimerTooSmall(t *testing.T) {
	ts := timerServer(t)
	p := newRawPeer(t, ts, "udp")
	cseq := p.invite("Supported: timer", "Session-Expires: 1")
	res := p.response(422, 5*time.Second)
	p.ack(cseq)
	if got := header(res, "Min-SE"); got != "2" {
		t.Fatalf("422 Min-SE %q, want 2", got)
	}
}

// refresher=uas: the bridge refreshes at half the interval, by UPDATE when
// the caller allows it and by re-INVITE with the same SDP otherwise; a 481
// ends the call.
func TestSessionTimerBridgeRefreshes(t *testing.T) {
	for _, method := range []sip.RequestMethod{sip.UPDATE, sip.INVITE} {
		t.Run(string(method), func(t *testing.T) {
			ts := timerServer(t)
			p := newRawPeer(t, ts, "udp")
			allow := "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"
			if method == sip.INVITE {
				allow = "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS"
			}
			cseq := p.invite("Supported: timer", "Session-Expires: 2;refresher=uas", allow)
			ok := p.response(200, 5*time.Second)
			p.ack(cseq)
			if got := header(ok, "Session-Expires"); got != "2;refresher=uas" {
				t.Fatalf("200 Session-Expires %q", got)
			}
			for i := range 2 {
				refresh := p.awaitRequest(method, 3*time.Second)
				if refresh == nil {
					t.Fatalf("no %s refresh %d from the bridge", method, i+1)
				}
				if got := header(refresh, "Session-Expires"); got != "2;refresher=uac" {
					t.Fatalf("refresh Session-Expires %q, want 2;refresher=uac", got)
				}
				if method == sip.INVITE && sdpOrigin(t, refresh.Body()) != sdpOrigin(t, ok.Body()) {
					t.Fatalf("re-INVITE refresh changed the o= line: %q", refresh.Body())
				}
				if i == 1 {
					p.reply(refresh, 481, "Call/Transaction Does Not Exist")
					break
				}
				res := sip.NewResponseFromRequest(refresh, 200, "OK", nil)
				if method == sip.INVITE {
					res.SetBody([]byte(p.offer()))
					res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				}
				res.AppendHeader(sip.NewHeader("Session-Expires", "2;refresher=uac"))
				p.send(res.String())
				if method == sip.INVITE && p.awaitRequest(sip.ACK, 2*time.Second) == nil {
					t.Fatal("no ACK for the 200 to the bridge's re-INVITE")
				}
			}
			bye := p.awaitRequest(sip.BYE, 3*time.Second)
			if bye == nil {
				t.Fatal("no BYE after the refresh got 481")
			}
			p.reply(bye, 200, "OK")
		})
	}
}

func sdpOrigin(t *testing.T, body []byte) string {
	t.Helper()
	for _, line := range strings.Split(string(body), "\r\n") {
		if strings.HasPrefix(line, "o=") {
			return line
		}
	}
	t.Fatalf("no o= line in %q", body)
	return ""
}
