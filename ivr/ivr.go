// Package ivr is the dial-in menu. It talks to a call only through the Call
// interface below, so it can be tested with an in-memory call.
package ivr

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
)

// Call is what the IVR needs of a call; sipua.Call provides it.
type Call interface {
	ID() string
	Log() *zerolog.Logger
	// Play starts prompts in order, replacing anything playing; the channel
	// closes when they are done or stopped. Keys pressed meanwhile wait.
	Play(list ...*media.Prompt) <-chan struct{}
	// PlayUntilKey is Play, but the caller's next key stops the prompts
	// within one frame (barge-in); the key waits in Digits.
	PlayUntilKey(list ...*media.Prompt) <-chan struct{}
	// StopPlay ends playback at once.
	StopPlay()
	// Digits delivers the caller's keys from every DTMF transport.
	Digits() <-chan byte
	// Caller is the calling number; SourceIP where the call came from.
	Caller() string
	SourceIP() string
}

// play plays prompts to the end; keys pressed meanwhile stay queued.
func play(ctx context.Context, call Call, list ...*media.Prompt) error {
	done := call.Play(list...)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		call.StopPlay()
		return ctx.Err()
	}
}
