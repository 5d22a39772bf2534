// Package ivr is the dial-in menu. It talks to a call only through the Call
// interface below, so it can be tested with an in-memory call.
package ivr

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
)

// Call is what the IVR needs of a call; sipua.Call provides it.
type Call interface {
	ID() string
	Log() *zerolog.Logger
	// Play starts prompts in order, replacing anything playing; the channel
	// closes when they are done or stopped.
	Play(prompts ...*media.Prompt) <-chan struct{}
	// StopPlay ends playback at once (barge-in).
	StopPlay()
	// Digits delivers the caller's keys from every DTMF transport.
	Digits() <-chan byte
}

// playUntilKey plays prompts and stops them at the caller's first key
// (barge-in). It returns that key, or 0 if the prompts ran to the end.
func playUntilKey(ctx context.Context, call Call, prompts ...*media.Prompt) (byte, error) {
	done := call.Play(prompts...)
	select {
	case <-done:
		return 0, nil
	case key := <-call.Digits():
		call.StopPlay()
		return key, nil
	case <-ctx.Done():
		call.StopPlay()
		return 0, ctx.Err()
	}
}

// play plays prompts to the end; keys pressed meanwhile stay queued.
func play(ctx context.Context, call Call, prompts ...*media.Prompt) error {
	done := call.Play(prompts...)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		call.StopPlay()
		return ctx.Err()
	}
}

// collect reads keys up to the terminator '#' (not included), at most max
// keys, giving up after timeout without a key. first is a key already read
// (the one that barged in), or 0.
func collect(ctx context.Context, call Call, first byte, max int, timeout time.Duration) (string, error) {
	keys := make([]byte, 0, max)
	if first != 0 {
		if first == '#' {
			return "", nil
		}
		keys = append(keys, first)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for len(keys) < max {
		select {
		case key := <-call.Digits():
			if key == '#' {
				return string(keys), nil
			}
			keys = append(keys, key)
			t.Reset(timeout)
		case <-t.C:
			return string(keys), nil
		case <-ctx.Done():
			return string(keys), ctx.Err()
		}
	}
	return string(keys), nil
}
