package testphone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/media"
)

// INFOFormat is how SendDigitsINFO encodes a key in a SIP INFO body.
type INFOFormat int

const (
	// INFODTMFRelay is Content-Type application/dtmf-relay with the body
	// "Signal=5\r\nDuration=160\r\n" (Cisco style, the most common).
	INFODTMFRelay INFOFormat = iota
	// INFODTMF is Content-Type application/dtmf with the key alone as the
	// body: "5".
	INFODTMF
)

// infoDuration is the Duration field of a dtmf-relay body, in milliseconds:
// what a phone reports for a short press.
const infoDuration = 160

func (f INFOFormat) contentType() string {
	if f == INFODTMF {
		return "application/dtmf"
	}
	return "application/dtmf-relay"
}

// body is the INFO body for key. Keys go as they are written, '*' and '#'
// included, rather than as event numbers (10, 11), which fewer parsers read.
func (f INFOFormat) body(key byte) []byte {
	if f == INFODTMF {
		return []byte{key}
	}
	return fmt.Appendf(nil, "Signal=%c\r\nDuration=%d\r\n", key, infoDuration)
}

// SendDigitsINFO sends each key as its own SIP INFO in the call's dialog
// (the dialog's From and To tags and Call-ID, the next CSeq), waits for its
// final response, then waits gap before the next key; it returns after the
// last key's gap, like SendDigits. A non-2xx response stops it and is
// returned as *StatusError. RTP keeps flowing meanwhile (silence, or a
// queued SendTone), and no telephone-event is sent.
func (c *Call) SendDigitsINFO(ctx context.Context, keys string, format INFOFormat, gap time.Duration) error {
	if format != INFODTMFRelay && format != INFODTMF {
		return fmt.Errorf("testphone: unknown INFO format %d", format)
	}
	norm := make([]byte, len(keys))
	for i := range len(keys) {
		ev, ok := media.EventForDigit(keys[i])
		if !ok {
			return fmt.Errorf("testphone: no DTMF key %q", keys[i])
		}
		norm[i], _ = media.DigitForEvent(ev) // 'a' becomes 'A'
	}
	for _, key := range norm {
		if err := c.sendINFO(ctx, format.contentType(), format.body(key)); err != nil {
			return err
		}
		if gap <= 0 {
			continue
		}
		t := time.NewTimer(gap)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.stop:
			t.Stop()
			return ErrEnded
		}
	}
	return nil
}

// sendINFO runs one INFO transaction. It holds sipMu so that the INFO's
// CSeq cannot interleave with a re-INVITE's or the BYE's.
func (c *Call) sendINFO(ctx context.Context, contentType string, body []byte) error {
	c.sipMu.Lock()
	defer c.sipMu.Unlock()
	select {
	case <-c.stop:
		return ErrEnded
	default:
	}
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess == nil {
		return errors.New("testphone: no dialog")
	}

	req := c.inDialogRequest(sip.INFO)
	ct := sip.ContentTypeHeader(contentType)
	req.AppendHeader(&ct)
	req.SetBody(body)
	res, err := sess.Do(ctx, req)
	c.mu.Lock()
	c.lastINFO = req
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("testphone: INFO: %w", err)
	}
	if !res.IsSuccess() {
		return &StatusError{Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// RetransmitLastINFO sends the last INFO again unchanged (same CSeq, same
// Via branch), as a phone does when the 200 for it was lost. It does not
// wait for the answer.
func (c *Call) RetransmitLastINFO() error {
	c.sipMu.Lock()
	defer c.sipMu.Unlock()
	c.mu.Lock()
	sess, req := c.sess, c.lastINFO
	c.mu.Unlock()
	if sess == nil || req == nil {
		return errors.New("testphone: no INFO to retransmit")
	}
	if err := sess.UA.Client.WriteRequest(req); err != nil {
		return fmt.Errorf("testphone: INFO retransmission: %w", err)
	}
	return nil
}
