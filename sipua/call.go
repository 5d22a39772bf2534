package sipua

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
)

// Reasons a call ends, reported as the context cause and in the log.
var (
	ErrRemoteHangup = errors.New("caller hung up")
	ErrFlowDone     = errors.New("call flow finished")
	ErrFlowPanic    = errors.New("call flow failed")
	ErrShutdown     = errors.New("bridge shutting down")
	ErrMaxDuration  = errors.New("maximum call duration reached")
)

// digitQueue bounds the keys waiting for the flow; a caller mashing keys
// faster than the IVR reads them loses the excess, never blocks media.
const digitQueue = 64

// Call is an answered call as the call flows see it: play prompts, read
// keys, hang up. The flows reach it through their own small interfaces, so
// the IVR, lobby and bridge can be tested with an in-memory call; the SIP
// dialog stays with the server (inbound).
//
// The media is the call's own session and player, embedded: the session
// routes the caller's audio itself (Codec, SetAudioInput, SetWaiting) and
// the player sends (SetFeed, WriteFrame), so no packet or frame passes
// through sipua.
type Call struct {
	*media.Session // the RTP stream, both ways
	*media.Player  // its only sender: prompts, silence or the feed

	id      string // SIP Call-ID
	log     zerolog.Logger
	caller  string // the calling number (From user part)
	source  string // the INVITE's source IP
	started time.Time

	digits  chan byte
	dtmf    *dtmfGate
	bargeIn atomic.Bool // the playing prompts stop at the next key

	ctx    context.Context
	cancel context.CancelCauseFunc

	hold holdState // the caller holds the bridge (hold.go)

	join *Join    // an inter-node call: who the other node's IVR found (cluster.go)
	srv  *Server  // for MoveMedia (move.go)
	in   *inbound // its dialog

	// For the call's record (record.go).
	note                   any
	waitingSince, waitedNS atomic.Int64
	keysBy                 atomic.Uint32
}

// ID is the SIP Call-ID, which every log line of the call carries.
func (c *Call) ID() string { return c.id }

// Log is the call's logger (with call_id).
func (c *Call) Log() *zerolog.Logger { return &c.log }

// Context ends when the call does; context.Cause says why.
func (c *Call) Context() context.Context { return c.ctx }

// Play starts playing prompts in order, replacing anything playing. The
// channel closes when they have all been sent or Stop is called. Keys
// pressed meanwhile wait in Digits.
func (c *Call) Play(prompts ...*media.Prompt) <-chan struct{} {
	c.bargeIn.Store(false)
	return c.Player.Play(prompts...)
}

// PlayUntilKey is Play, but the caller's next key stops the prompts
// (barge-in) on the goroutine that reads it, so their audio ends within
// one frame; the key itself waits in Digits.
func (c *Call) PlayUntilKey(prompts ...*media.Prompt) <-chan struct{} {
	c.bargeIn.Store(true)
	return c.Player.Play(prompts...)
}

// Caller is the calling number (the user part of From), "" if none.
func (c *Call) Caller() string { return c.caller }

// SourceIP is the address the INVITE came from.
func (c *Call) SourceIP() string { return c.source }

// StopPlay ends the current playback at once.
func (c *Call) StopPlay() {
	c.bargeIn.Store(false)
	c.Player.Stop()
}

// Digits delivers keys from the DTMF transports sip.dtmf allows (RFC 4733,
// SIP INFO, in-band tones), each press once.
func (c *Call) Digits() <-chan byte { return c.digits }

// Joined reports an inter-node call: another node's IVR identified the
// caller, whose media this node (the meeting's home) now carries.
func (c *Call) Joined() (Join, bool) {
	if c.join == nil {
		return Join{}, false
	}
	return *c.join, true
}

// Hangup ends the call from our side; the bridge sends BYE.
func (c *Call) Hangup(reason error) { c.cancel(reason) }

// onRFC4733Key and onInbandKey take the session's keys, on the media
// clock goroutine that reads it.
func (c *Call) onRFC4733Key(key byte) { c.pushDigit(key, sourceRFC4733) }
func (c *Call) onInbandKey(key byte)  { c.pushDigit(key, sourceInband) }

// pushDigit hands a key to the flow, stopping a barge-in prompt first.
// Keys are not logged: they may be a PIN.
func (c *Call) pushDigit(key byte, source string) {
	if c.dtmf != nil && !c.dtmf.accept(key, source, time.Now()) {
		return
	}
	c.keyCameBy(source)
	if c.bargeIn.Swap(false) {
		c.Player.Stop()
	}
	select {
	case c.digits <- key:
		c.logKey(source)
	default:
		c.logDroppedKey(source)
	}
}
