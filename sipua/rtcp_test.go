package sipua

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/media"
)

func offerWith(extra ...string) []byte {
	lines := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
		"m=audio 40000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"}
	return sdpLines(append(lines, extra...)...)
}

func TestNegotiateRTCP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sdp    []byte
		remote string
		mux    bool
	}{
		{"none: RTP port + 1", offerWith(), "", false},
		{"rtcp-mux", offerWith("a=rtcp-mux"), "", true},
		{"a=rtcp port", offerWith("a=rtcp:40011"), "192.0.2.10:40011", false},
		{"a=rtcp port and address", offerWith("a=rtcp:53020 IN IP4 198.51.100.4", "a=rtcp-mux"), "198.51.100.4:53020", true},
		{"a=rtcp IPv6", offerWith("a=rtcp:53020 IN IP6 2001:db8::1"), "[2001:db8::1]:53020", false},
	} {
		o, err := ParseSDP(tc.sdp)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		n, err := Negotiate(o, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var want netip.AddrPort
		if tc.remote != "" {
			want = netip.MustParseAddrPort(tc.remote)
		}
		if n.RTCPRemote != want || n.RTCPMux != tc.mux {
			t.Errorf("%s: RTCP %v mux %v; want %v %v", tc.name, n.RTCPRemote, n.RTCPMux, want, tc.mux)
		}
		a := Answer{Addr: netip.MustParseAddr("192.0.2.1"), Port: 10000, Negotiated: n}
		if got := strings.Contains(string(a.Marshal(o)), "a=rtcp-mux\r\n"); got != tc.mux {
			t.Errorf("%s: answer has a=rtcp-mux %v, offer %v", tc.name, got, tc.mux)
		}
		// Our own offers always propose mux; the answer decides.
		if !strings.Contains(string(a.Offer()), "a=rtcp-mux\r\n") {
			t.Errorf("%s: our offer has no a=rtcp-mux", tc.name)
		}
	}
}

func TestParseSDPBadRTCP(t *testing.T) {
	for _, line := range []string{"a=rtcp:", "a=rtcp:0", "a=rtcp:70000", "a=rtcp:x", "a=rtcp:5000 IN IP4", "a=rtcp:5000 IN IP4 not-an-ip", "a=rtcp:5000 IN IP4 2001:db8::1"} {
		if _, err := ParseSDP(offerWith(line)); !errors.Is(err, ErrMalformedSDP) {
			t.Errorf("%q: err = %v", line, err)
		}
	}
	// Session-level RTCP attributes name no stream: ignored.
	o, err := ParseSDP(sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0", "a=rtcp-mux", "m=audio 40000 RTP/AVP 0"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := Negotiate(o, nil); n.RTCPMux {
		t.Error("session-level a=rtcp-mux taken")
	}
}

// syncBuffer is a log sink the server's goroutines write to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRTCPServer runs a server whose calls wait until hung up, handing
// each call to calls, and logging into log.
func startRTCPServer(t *testing.T, log *syncBuffer, calls chan<- *Call) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.SIP.Listen = []string{"udp:127.0.0.1:0"}
	cfg.RTP.PortMin, cfg.RTP.PortMax = 41000, 41999
	cfg.RTP.RTCPInterval = 200 * time.Millisecond
	cfg.Limits.MaxCalls = 100
	cfg.Limits.ShutdownGrace = 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clock := media.NewClock(1)
	srv, err := New(Options{
		SIP: cfg.SIP, RTP: cfg.RTP, Limits: cfg.Limits,
		Logger: zerolog.New(io.MultiWriter(log, zerolog.NewTestWriter(t))).Level(zerolog.InfoLevel),
		Clock:  clock,
		Handler: func(ctx context.Context, call *Call) {
			calls <- call
			<-ctx.Done()
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
	wg.Go(func() {
		if err := srv.Serve(ctx); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		cancel()
		wg.Wait()
	})
	return &testServer{Server: srv}
}

// The bridge sends reports at rtp.rtcp_interval on the odd port or muxed,
// and a phone that reports 10 % loss shows in the call's statistics and in
// its "call ended" line.
func TestRTCPWithPhone(t *testing.T) {
	var log syncBuffer
	calls := make(chan *Call, 1)
	ts := startRTCPServer(t, &log, calls)
	for _, mux := range []bool{false, true} {
		t.Run(fmt.Sprintf("mux=%v", mux), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			phone, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("udp"),
				RTCPMux: mux, RTCPInterval: 100 * time.Millisecond, RTCPReportLoss: 0.1})
			if err != nil {
				t.Fatal(err)
			}
			defer phone.Hangup(ctx)
			if got := strings.Contains(string(phone.AnswerSDP()), "a=rtcp-mux"); got != mux {
				t.Errorf("answer has a=rtcp-mux %v, offer %v", got, mux)
			}
			call := <-calls

			// 200 ms on average: about 7 in 1.5 s (each 100-300 ms apart).
			time.Sleep(1500 * time.Millisecond)
			st := phone.RTCPStats()
			if n := st.SR + st.RR; n < 3 || n > 16 {
				t.Errorf("phone got %d reports in 1.5 s at a 200 ms interval", n)
			}
			if st.SR == 0 || !st.HasBlock || st.Malformed != 0 {
				t.Errorf("phone's RTCP: %+v", st)
			}
			wantMuxed := 0
			if mux {
				wantMuxed = st.SR + st.RR
			}
			if st.Muxed != wantMuxed {
				t.Errorf("%d of the reports came on the RTP port, want %d", st.Muxed, wantMuxed)
			}
			if st.LastBlock.FractionLost != 0 {
				t.Errorf("bridge reports %d/256 lost on loopback", st.LastBlock.FractionLost)
			}

			cs := call.Stats()
			if cs.RTCPReceived < 3 || cs.PeerFractionLost != 25 || cs.RTCPSent == 0 {
				t.Errorf("call stats: %+v", cs)
			}
			if cs.RTT <= 0 || cs.RTT > time.Second {
				t.Errorf("RTT %v", cs.RTT)
			}
			if err := phone.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			waitCallEnded(t, &log, call.ID())
		})
	}
}

// waitCallEnded finds the call's "call ended" line and checks its RTCP.
func waitCallEnded(t *testing.T, log *syncBuffer, callID string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(log.String(), "\n") {
			if !strings.Contains(line, `"call ended"`) || !strings.Contains(line, callID) {
				continue
			}
			var ended struct {
				RTCPSent     uint64   `json:"rtcp_sent"`
				RTCPReceived uint64   `json:"rtcp_received"`
				PeerLoss     float64  `json:"peer_loss_pct"`
				RTT          *float64 `json:"rtt_ms"`
			}
			if err := json.Unmarshal([]byte(line), &ended); err != nil {
				t.Fatal(err)
			}
			if ended.RTCPSent == 0 || ended.RTCPReceived == 0 || ended.PeerLoss < 9.7 || ended.PeerLoss > 9.8 || ended.RTT == nil {
				t.Errorf("call ended line: %s", line)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no call ended line")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
