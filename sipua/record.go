package sipua

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/media"
)

// Ended is what the user agent knows of a call once it is over, handed to
// Options.OnEnd for its record: every INVITE that passed the trunk ACL,
// answered or refused, except a 401 digest challenge (the INVITE that
// answers it is the call).
type Ended struct {
	CallID    string
	Caller    string // the calling number (From's user part)
	Called    string // the request URI's user part
	Source    string // the INVITE's source IP
	Transport string // udp, tcp

	Invited  time.Time // the INVITE arrived
	Answered time.Time // the ACK of our 200 came; zero: never answered
	Ended    time.Time
	// Status is our final response to the INVITE (200 when answered; 487
	// when the caller cancelled); Reason why the call ended or was refused.
	Status    int
	Reason    string
	Cancelled bool // the caller gave up before the answer

	Codec string        // PCMU or PCMA; "" before a media session
	DTMF  []string      // the transports keys came by: rfc4733, sip-info, inband
	Lobby time.Duration // time the call spent waiting (SetWaiting)
	Stats media.Stats   // the media session's figures; zero without one
	// Note is what the call's handler left with Call.Note (who the
	// caller was, where they went).
	Note any
	// Join is set for an inter-node call (its claim verified): the
	// caller's own call is on the node that answered them.
	Join *Join
}

// callEnd gathers a call's Ended as onInvite goes.
type callEnd struct {
	Ended
	tx   *recordingTx
	call *Call // set once the call has a media session
}

// newCallEnd starts the record of a new INVITE; tx wraps its transaction
// so that the final response is seen whoever sends it.
func newCallEnd(req *sip.Request, tx sip.ServerTransaction) *callEnd {
	e := &callEnd{tx: &recordingTx{ServerTransaction: tx}}
	e.CallID = callID(req)
	e.Caller = callerNumber(req)
	e.Called = req.Recipient.User
	e.Source = sourceIP(req)
	e.Transport = strings.ToLower(req.Transport())
	e.Invited = time.Now()
	return e
}

// refused notes why the call was refused (the response says how).
func (e *callEnd) refused(reason string) { e.Reason = reason }

// cancelled notes that the caller gave up before the answer.
func (e *callEnd) cancelled(reason string) {
	e.Cancelled = true
	e.Reason = reason
}

// finish completes the record and hands it to OnEnd.
func (s *Server) finish(e *callEnd) {
	if s.opts.OnEnd == nil {
		return
	}
	e.Ended.Ended = time.Now()
	e.Status = e.tx.final()
	if e.Status == 401 {
		return // a challenge: the call is the INVITE that answers it
	}
	if e.Cancelled && (e.Status == 0 || e.Status == 200) {
		e.Status = 487 // sipgo answered the CANCEL itself
	}
	if c := e.call; c != nil {
		e.Codec = c.Codec().String()
		e.DTMF = c.dtmfUsed()
		e.Lobby = c.waited(e.Ended.Ended)
		e.Stats = c.Stats()
		e.Note = c.note
		if !c.started.IsZero() {
			e.Answered = c.started
			if cause := context.Cause(c.ctx); cause != nil && e.Reason == "" {
				e.Reason = cause.Error()
			}
		}
	}
	if e.Reason == "" && e.Status >= 300 {
		e.Reason = "refused"
	}
	s.opts.OnEnd(e.Ended)
}

// recordingTx is the INVITE's server transaction, remembering the first
// final response sent on it.
type recordingTx struct {
	sip.ServerTransaction
	status atomic.Int32
}

func (t *recordingTx) Respond(res *sip.Response) error {
	if res.StatusCode >= 200 {
		t.status.CompareAndSwap(0, int32(res.StatusCode))
	}
	return t.ServerTransaction.Respond(res)
}

func (t *recordingTx) final() int { return int(t.status.Load()) }

// Note keeps v with the call for its record (Ended.Note). The handler
// calls it on the call's goroutine, which also hands the record over.
func (c *Call) Note(v any) { c.note = v }

// SetWaiting is the session's, timed: the call's record says how long the
// caller waited in the lobby.
func (c *Call) SetWaiting(on bool) {
	c.Session.SetWaiting(on)
	now := time.Now().UnixNano()
	if on {
		c.waitingSince.CompareAndSwap(0, now)
		return
	}
	if since := c.waitingSince.Swap(0); since != 0 {
		c.waitedNS.Add(now - since)
	}
}

// waited is the time spent waiting, a wait still going counted to now.
func (c *Call) waited(now time.Time) time.Duration {
	d := c.waitedNS.Load()
	if since := c.waitingSince.Load(); since != 0 {
		d += now.UnixNano() - since
	}
	return time.Duration(d)
}

// DTMF transports as bits of Call.keysBy.
var dtmfSources = []string{sourceRFC4733, sourceINFO, sourceInband}

func (c *Call) keyCameBy(source string) {
	for i, s := range dtmfSources {
		if s == source {
			c.keysBy.Or(1 << i)
		}
	}
}

func (c *Call) dtmfUsed() []string {
	var out []string
	bits := c.keysBy.Load()
	for i, s := range dtmfSources {
		if bits&(1<<i) != 0 {
			out = append(out, s)
		}
	}
	return out
}
