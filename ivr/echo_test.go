package ivr

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
)

// memCall is an in-memory Call: prompts "play" instantly unless hold is
// set, keys come from a channel, and everything played is recorded.
type memCall struct {
	log    zerolog.Logger
	digits chan byte
	hold   bool // prompts never finish on their own (a long prompt)

	mu      sync.Mutex
	played  [][]string
	stopped int
	current chan struct{}
}

func newMemCall(logs *safeBuffer) *memCall {
	return &memCall{log: zerolog.New(logs), digits: make(chan byte, 64)}
}

func (c *memCall) ID() string           { return "mem-1" }
func (c *memCall) Log() *zerolog.Logger { return &c.log }
func (c *memCall) Digits() <-chan byte  { return c.digits }

func (c *memCall) Play(prompts ...*media.Prompt) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, len(prompts))
	for i, p := range prompts {
		names[i] = p.Name
	}
	c.played = append(c.played, names)
	done := make(chan struct{})
	if c.hold {
		c.current = done
	} else {
		close(done)
	}
	return done
}

func (c *memCall) StopPlay() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped++
	if c.current != nil {
		close(c.current)
		c.current = nil
	}
}

type safeBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func loadPrompts(t *testing.T) *media.Prompts {
	t.Helper()
	p, err := media.LoadPrompts("")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEchoSaysDigitsBack(t *testing.T) {
	var logs safeBuffer
	call := newMemCall(&logs)
	for _, k := range []byte("1123345#") {
		call.digits <- k
	}
	e := &Echo{Prompts: loadPrompts(t), DigitTimeout: time.Second}
	e.Run(context.Background(), call)

	if want := `"digits":"1123345"`; !strings.Contains(logs.String(), want) {
		t.Fatalf("log %q lacks %s", logs.String(), want)
	}
	last := call.played[len(call.played)-1]
	want := []string{"you_entered", "digit_1", "digit_1", "digit_2", "digit_3", "digit_3", "digit_4", "digit_5", "goodbye"}
	if len(last) != len(want) {
		t.Fatalf("said %v, want %v", last, want)
	}
	for i := range want {
		if last[i] != want[i] {
			t.Fatalf("said %v, want %v", last, want)
		}
	}
}

func TestEchoBargeIn(t *testing.T) {
	var logs safeBuffer
	call := newMemCall(&logs)
	call.hold = true // the welcome would play forever
	e := &Echo{Prompts: loadPrompts(t), DigitTimeout: time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(context.Background(), call)
	}()
	call.digits <- '4' // interrupts the welcome
	call.digits <- '2'
	call.digits <- '#'
	// The reply also holds; stop it to let Run finish.
	deadline := time.After(3 * time.Second)
	for {
		call.mu.Lock()
		n := len(call.played)
		call.mu.Unlock()
		if n == 2 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("reply never played")
		case <-time.After(5 * time.Millisecond):
		}
	}
	call.StopPlay()
	<-done
	if call.stopped < 1 {
		t.Fatal("the welcome was not stopped by the first key")
	}
	if !strings.Contains(logs.String(), `"digits":"42"`) {
		t.Fatalf("log %q lacks digits 42", logs.String())
	}
}

func TestEchoTimeoutAndHangup(t *testing.T) {
	var logs safeBuffer
	call := newMemCall(&logs)
	e := &Echo{Prompts: loadPrompts(t), DigitTimeout: 50 * time.Millisecond}
	e.Run(context.Background(), call) // no keys: times out
	if !strings.Contains(logs.String(), `"digits":""`) {
		t.Fatalf("log %q lacks empty digits", logs.String())
	}
	if last := call.played[len(call.played)-1]; last[0] != "no_digits" {
		t.Fatalf("said %v, want no_digits first", last)
	}

	// Caller hangs up mid-collection: Run returns promptly, logging nothing.
	var logs2 safeBuffer
	call2 := newMemCall(&logs2)
	ctx, cancel := context.WithCancel(context.Background())
	call2.digits <- '7'
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	(&Echo{Prompts: loadPrompts(t), DigitTimeout: time.Hour}).Run(ctx, call2)
	if strings.Contains(logs2.String(), "digits collected") {
		t.Fatal("digits logged for a call that hung up")
	}
}
