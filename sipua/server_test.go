package sipua

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
)

// These tests run the user agent in-process, so the race detector watches
// the server's own goroutines (the binary's end-to-end tests cannot).

type testServer struct {
	*Server
	list *prompts.Set
	keys chan string // what each call's handler collected
}

func startServer(t *testing.T, mutate func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.SIP.Listen = []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}
	cfg.RTP.PortMin, cfg.RTP.PortMax = 40000, 40999
	cfg.Limits.MaxCalls = 100
	cfg.Limits.ShutdownGrace = 0
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	list, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{list: list, keys: make(chan string, 16)}
	clock := media.NewClock(1)
	srv, err := New(Options{
		SIP:    cfg.SIP,
		RTP:    cfg.RTP,
		Limits: cfg.Limits,
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
		Clock:  clock,
		Handler: func(ctx context.Context, call *Call) {
			// Play the welcome, gather keys until '#', report them.
			call.Play(list.MustGet(prompts.Welcome))
			var keys []byte
			for {
				select {
				case k := <-call.Digits():
					if k == '#' {
						ts.keys <- string(keys)
						<-ctx.Done()
						return
					}
					keys = append(keys, k)
				case <-ctx.Done():
					return
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
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
	return ts
}

func (ts *testServer) target(transport string) string {
	for _, a := range ts.Addrs() {
		if a.Transport == transport {
			return fmt.Sprintf("sip:conference@127.0.0.1:%d", a.Port)
		}
	}
	panic("no " + transport + " listener")
}

func TestServerCallDigitsAndHangup(t *testing.T) {
	ts := startServer(t, nil)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			call, err := testphone.Dial(ctx, testphone.Options{Target: ts.target(transport), Transport: transport})
			if err != nil {
				t.Fatal(err)
			}
			defer call.Hangup(ctx)
			if err := call.WaitForAudio(ctx, 500*time.Millisecond); err != nil {
				t.Fatalf("no welcome: %v", err)
			}
			if err := call.SendDigits(ctx, "55#", 40*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			select {
			case keys := <-ts.keys:
				if keys != "55" {
					t.Fatalf("handler got %q, want 55", keys)
				}
			case <-ctx.Done():
				t.Fatal("no keys reached the handler")
			}
			if err := call.Reinvite(ctx, "inactive"); err != nil {
				t.Fatalf("re-INVITE inactive: %v", err)
			}
			if err := call.Reinvite(ctx, "sendrecv"); err != nil {
				t.Fatalf("re-INVITE sendrecv: %v", err)
			}
			if err := call.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for ts.ActiveCalls() != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d calls still active after hangup", ts.ActiveCalls())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n := ts.ports.InUse(); n != 0 {
				t.Fatalf("%d RTP ports still in use", n)
			}
		})
	}
}

func TestServerCancelBeforeAnswer(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.SIP.AnswerDelay = 5 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	// The phone sends CANCEL when its context ends while ringing.
	_, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("udp")})
	if err == nil {
		t.Fatal("call answered despite the answer delay")
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.ActiveCalls() != 0 || ts.ports.InUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after CANCEL: %d calls, %d ports in use", ts.ActiveCalls(), ts.ports.InUse())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerShutdownHangsUpCalls(t *testing.T) {
	ts := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("udp")})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("no BYE after shutdown")
	}
	if !call.HungUpByRemote() {
		t.Fatal("call ended without our BYE")
	}
}

// An INFO whose 200 was lost comes again with the same CSeq, after the
// bridge has already ended its transaction: it is answered, and its key is
// not taken twice.
func TestServerINFORetransmissionTakesTheKeyOnce(t *testing.T) {
	ts := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("udp")})
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(ctx)
	if err := call.SendDigitsINFO(ctx, "5", testphone.INFODTMFRelay, 0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := call.RetransmitLastINFO(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := call.SendDigitsINFO(ctx, "6#", testphone.INFODTMFRelay, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case keys := <-ts.keys:
		if keys != "56" {
			t.Fatalf("handler got %q, want 56 (the retransmitted 5 taken once)", keys)
		}
	case <-ctx.Done():
		t.Fatal("no keys reached the handler")
	}
}

// callFlowMethods is what the IVR, the lobby and the bridge use of a call:
// it must keep compiling for *Call, whose media methods are promoted from
// its session and player.
type callFlowMethods interface {
	ID() string
	Log() *zerolog.Logger
	Play(...*media.Prompt) <-chan struct{}
	PlayUntilKey(...*media.Prompt) <-chan struct{}
	StopPlay()
	Digits() <-chan byte
	Caller() string
	SourceIP() string
	Codec() media.Codec
	SetFeed(bool)
	WriteFrame(payload []byte) error
	SetAudioInput(*media.JitterBuffer)
	SetWaiting(bool)
}

var _ callFlowMethods = (*Call)(nil)
