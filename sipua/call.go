package sipua

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
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
// keys, hang up. It hides SIP and RTP behind that small surface, so the
// IVR, lobby and bridge can be tested with an in-memory call.
type Call struct {
	id      string // SIP Call-ID
	log     zerolog.Logger
	dialog  *sipgo.DialogServerSession
	session *media.Session
	player  *media.Player
	digits  chan byte
	started time.Time
	caller  string // the calling number (From user part)
	source  string // the INVITE's source IP

	dtmf   *dtmfGate
	inband *inbandKeys // nil unless in-band detection runs

	// audioIn takes the caller's audio while in a meeting (its jitter
	// buffer); nil in the IVR and the lobby, where nobody listens.
	audioIn  atomic.Pointer[media.JitterBuffer]
	reframer media.Reframer // RTP goroutine only
	bargeIn  atomic.Bool    // the playing prompts stop at the next key

	ctx    context.Context
	cancel context.CancelCauseFunc

	infoCSeq    atomic.Uint32 // CSeq of the last INFO taken (see onInfo)
	lateOffer   atomic.Bool   // we offered in our 200: the ACK carries the answer
	reofferCSeq atomic.Uint32 // CSeq of an offerless re-INVITE whose ACK carries the answer

	mu         sync.Mutex
	answer     Answer      // our current SDP
	ackSDP     []byte      // the SDP answer of a delayed-offer call's ACK
	ackWaiters []ackWaiter // re-INVITE 2xx awaiting ACK
}

type ackWaiter struct {
	cseq uint32
	ch   chan struct{}
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
	return c.player.Play(prompts...)
}

// PlayUntilKey is Play, but the caller's next key stops the prompts
// (barge-in) on the goroutine that reads it, so their audio ends within
// one frame; the key itself waits in Digits.
func (c *Call) PlayUntilKey(prompts ...*media.Prompt) <-chan struct{} {
	c.bargeIn.Store(true)
	return c.player.Play(prompts...)
}

// Caller is the calling number (the user part of From), "" if none.
func (c *Call) Caller() string { return c.caller }

// SourceIP is the address the INVITE came from.
func (c *Call) SourceIP() string { return c.source }

// StopPlay ends the current playback at once.
func (c *Call) StopPlay() {
	c.bargeIn.Store(false)
	c.player.Stop()
}

// Digits delivers keys from the DTMF transports sip.dtmf allows (RFC 4733,
// SIP INFO, in-band tones), each press once.
func (c *Call) Digits() <-chan byte { return c.digits }

// Hangup ends the call from our side; the bridge sends BYE.
func (c *Call) Hangup(reason error) { c.cancel(reason) }

// Codec is the negotiated audio codec.
func (c *Call) Codec() media.Codec { return c.session.Codec() }

// OnDigit implements media.Receiver; it runs on the RTP goroutine.
func (c *Call) OnDigit(key byte) { c.pushDigit(key, sourceRFC4733) }

// OnAudio implements media.Receiver; it runs on the RTP goroutine. The
// in-band detector listens here when the call has it, and in a meeting the
// audio goes on to the participant's jitter buffer.
func (c *Call) OnAudio(seq uint16, ts uint32, pcm []int16) {
	if c.inband != nil && len(pcm) > 0 {
		c.inband.detector.Feed(pcm, c.inband.emit)
	}
	if in := c.audioIn.Load(); in != nil {
		c.reframer.Push(in, seq, ts, pcm)
	}
}

// SetAudioInput sends the caller's audio to in (a meeting's jitter buffer
// for this participant) from the next packet on; nil stops it.
func (c *Call) SetAudioInput(in *media.JitterBuffer) { c.audioIn.Store(in) }

// waitingReadEvery is how often a waiting caller's RTP is read: every
// fifth tick, five packets a read (see SetWaiting).
const waitingReadEvery = 5

// SetWaiting tells the call that the caller is only waiting (the lobby):
// nobody hears their audio and no key is read, so their RTP is read every
// fifth tick, which saves four reads in five. Off again, every tick.
func (c *Call) SetWaiting(on bool) {
	if on {
		c.session.SetReadEvery(waitingReadEvery)
	} else {
		c.session.SetReadEvery(1)
	}
}

// SetFeed makes the time between prompts play what WriteFrame gets (the
// lobby's music, the meeting's mix) instead of silence, or stops that.
func (c *Call) SetFeed(on bool) { c.player.SetFeed(on) }

// WriteFrame sends one frame of the feed, encoded in Codec(); a prompt
// playing on the call takes its place. It runs on the feed's clock tick.
func (c *Call) WriteFrame(payload []byte) error { return c.player.WriteFrame(payload) }

// pushDigit hands a key to the flow, stopping a barge-in prompt first.
// Keys are not logged: they may be a PIN.
func (c *Call) pushDigit(key byte, source string) {
	if c.dtmf != nil && !c.dtmf.accept(key, source, time.Now()) {
		return
	}
	if c.bargeIn.Swap(false) {
		c.player.Stop()
	}
	select {
	case c.digits <- key:
		c.log.Debug().Str("source", source).Msg("dtmf key")
	default:
		c.log.Warn().Str("source", source).Msg("dtmf queue full, key dropped")
	}
}

// seenINFO reports whether an INFO with this CSeq was taken already: it is
// a retransmission (or an older one arriving late).
func (c *Call) seenINFO(cseq uint32) bool { return cseq <= c.infoCSeq.Load() }

// tookINFO records an INFO taken. While it is being answered its own
// transaction absorbs retransmissions, so only distinct INFOs get here.
func (c *Call) tookINFO(cseq uint32) {
	for {
		last := c.infoCSeq.Load()
		if cseq <= last || c.infoCSeq.CompareAndSwap(last, cseq) {
			return
		}
	}
}

// expectAck registers interest in the ACK for a re-INVITE's 2xx.
func (c *Call) expectAck(cseq uint32) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	c.ackWaiters = append(c.ackWaiters, ackWaiter{cseq, ch})
	c.mu.Unlock()
	return ch
}

// gotAck releases whoever waits for the ACK with this CSeq.
func (c *Call) gotAck(cseq uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.ackWaiters[:0]
	for _, w := range c.ackWaiters {
		if w.cseq == cseq {
			close(w.ch)
			continue
		}
		kept = append(kept, w)
	}
	c.ackWaiters = kept
}

func (c *Call) dropAckWaiter(ch <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range c.ackWaiters {
		if w.ch == ch {
			c.ackWaiters = append(c.ackWaiters[:i], c.ackWaiters[i+1:]...)
			return
		}
	}
}
