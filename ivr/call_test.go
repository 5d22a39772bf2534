package ivr

import (
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
)

// playedNames flattens what the call played.
func (c *memCall) playedNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, p := range c.played {
		names = append(names, p...)
	}
	return names
}

// memCall is an in-memory Call: prompts "play" instantly unless hold is
// set, keys come from a channel, and everything played is recorded.
type memCall struct {
	log    zerolog.Logger
	digits chan byte
	hold   bool // prompts never finish on their own (a long prompt)
	caller string
	source string

	mu      sync.Mutex
	played  [][]string
	stopped int
	current chan struct{}
}

func newMemCall(logs *safeBuffer) *memCall {
	return &memCall{log: zerolog.New(logs), digits: make(chan byte, 64), caller: "+14255550100", source: "192.0.2.10"}
}

func (c *memCall) ID() string       { return "mem-1" }
func (c *memCall) Caller() string   { return c.caller }
func (c *memCall) SourceIP() string { return c.source }

func (c *memCall) PlayUntilKey(list ...*media.Prompt) <-chan struct{} { return c.Play(list...) }
func (c *memCall) Log() *zerolog.Logger                               { return &c.log }
func (c *memCall) Digits() <-chan byte                                { return c.digits }

func (c *memCall) Play(list ...*media.Prompt) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, len(list))
	for i, p := range list {
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

func loadPrompts(t *testing.T) *prompts.Set {
	t.Helper()
	p, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
