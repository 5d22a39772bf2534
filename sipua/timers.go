package sipua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// SIP session timers (RFC 4028), as the UAS of each call. The caller (or
// a proxy) proposes an interval in Session-Expires and who refreshes; the
// bridge accepts it, raises it to the caller's Min-SE, or answers 422 when
// it is below sip.min_se. Whoever refreshes sends a re-INVITE or an UPDATE
// within the interval: when the caller refreshes and misses it, the bridge
// hangs up (BYE) before the interval ends; when the bridge refreshes (at
// half the interval) and gets 408, 481 or no answer, it hangs up too. A
// refresh changes nothing in the media: the SDP stays the same, and so does
// its o= version.

// Reasons a call ends, from the session timer.
var (
	ErrSessionExpired       = errors.New("session timer expired: no refresh from the caller")
	ErrSessionRefreshFailed = errors.New("session refresh failed: the caller's side is gone")
)

// errBadSessionTimer is a malformed Session-Expires or Min-SE: 400.
var errBadSessionTimer = errors.New("bad session timer header")

const (
	refresherUAC = "uac"
	refresherUAS = "uas"
	timerTag     = "timer"
	// maxRefreshWait bounds our own refresh transaction (64×T1).
	maxRefreshWait = 32 * time.Second
)

// timerTerms are the session timer of one request and our answer to it.
type timerTerms struct {
	on          bool
	interval    int  // seconds
	weRefresh   bool // the bridge refreshes (refresher=uas in our 2xx)
	uacSupports bool // Supported or Require has timer: Require: timer in our 2xx
}

// readTimerTerms decides the session timer a request asks for. tooShort
// reports a Session-Expires below sip.min_se from a UAC that supports
// timers: it must be answered 422 with Min-SE (minSE()).
func (s *Server) readTimerTerms(req *sip.Request) (terms timerTerms, tooShort bool, err error) {
	terms.uacSupports = hasOptionTag(req, timerTag, "Supported", "k") || hasOptionTag(req, timerTag, "Require")
	se, refresher, hasSE, err := parseSessionExpires(headerValue(req, "Session-Expires", "x"))
	if err != nil {
		return terms, false, err
	}
	peerMin, err := parseMinSE(headerValue(req, "Min-SE"))
	if err != nil {
		return terms, false, err
	}
	ourMin := s.minSE()
	switch {
	case hasSE && se < ourMin && terms.uacSupports:
		return terms, true, nil
	case hasSE:
		// A proxy's proposal we may raise (the UAC never sees a 422), and
		// never below a Min-SE on the way.
		terms.interval = max(se, ourMin, peerMin)
	case terms.uacSupports:
		terms.interval = max(durationSeconds(s.opts.SIP.SessionExpires), peerMin, ourMin)
	default:
		return terms, false, nil // no timers: the liveness probes watch such callers
	}
	terms.on = true
	switch {
	case !terms.uacSupports:
		terms.weRefresh = true // a UAC that knows nothing of timers cannot refresh
	case refresher == "":
		terms.weRefresh = false // the caller supports timers: let it refresh
	default:
		terms.weRefresh = refresher == refresherUAS
	}
	return terms, false, nil
}

// minSE is sip.min_se in whole seconds, as sent in Min-SE.
func (s *Server) minSE() int { return max(1, durationSeconds(s.opts.SIP.MinSE)) }

func durationSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// checkTimer reads the session timer of an INVITE, re-INVITE or UPDATE.
// When the request cannot be accepted it answers it (422 with Min-SE, or
// 400) and reports false.
func (s *Server) checkTimer(req *sip.Request, tx sip.ServerTransaction) (timerTerms, bool) {
	terms, tooShort, err := s.readTimerTerms(req)
	switch {
	case err != nil:
		respond(tx, req, 400, "Bad Request", warning(err))
		return terms, false
	case tooShort:
		respond(tx, req, 422, "Session Interval Too Small", sip.NewHeader("Min-SE", strconv.Itoa(s.minSE())))
		return terms, false
	}
	return terms, true
}

// addTimerHeaders puts the session timer into a 2xx (RFC 4028 section 9).
func addTimerHeaders(res *sip.Response, terms timerTerms) {
	if !terms.on {
		return
	}
	refresher := refresherUAC
	if terms.weRefresh {
		refresher = refresherUAS
	}
	res.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(terms.interval)+";refresher="+refresher))
	if terms.uacSupports {
		res.AppendHeader(sip.NewHeader("Require", timerTag))
	}
}

// sessionTimer runs one call's session timer: it ends the call when the
// caller misses a refresh, or refreshes itself when the bridge is the
// refresher. Every successful refresh (ours or the caller's) re-arms it.
type sessionTimer struct {
	s  *Server
	in *inbound

	mu      sync.Mutex
	terms   timerTerms
	timer   *time.Timer
	stopped bool
	// useUpdate: the caller allows UPDATE, so our refreshes need no SDP
	// and no ACK; otherwise they are re-INVITEs with our current SDP.
	useUpdate bool
}

func (s *Server) newSessionTimer(in *inbound, terms timerTerms) *sessionTimer {
	return &sessionTimer{s: s, in: in, terms: terms,
		useUpdate: hasOptionTag(in.dialog.InviteRequest, "UPDATE", "Allow")}
}

// start arms the timer once the call is answered; the returned function
// stops it for good.
func (st *sessionTimer) start() (stop func()) {
	st.refreshed(st.currentTerms())
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.stopped = true
		if st.timer != nil {
			st.timer.Stop()
		}
	}
}

func (st *sessionTimer) currentTerms() timerTerms {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.terms
}

// refreshed re-arms the timer after a refresh with these terms (an off
// timer stays off until a request turns it on).
func (st *sessionTimer) refreshed(terms timerTerms) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stopped {
		return
	}
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	st.terms = terms
	if !terms.on {
		return
	}
	interval := time.Duration(terms.interval) * time.Second
	if terms.weRefresh {
		st.timer = time.AfterFunc(interval/2, st.refresh)
		return
	}
	// RFC 4028 section 10: BYE at the expiry minus min(32 s, interval/3).
	st.timer = time.AfterFunc(interval-min(32*time.Second, interval/3), st.expire)
}

func (st *sessionTimer) expire() {
	call := st.in.call
	call.log.Warn().Int("session_expires", st.currentTerms().interval).Msg("session timer expired: hanging up")
	call.Hangup(ErrSessionExpired)
}

// refresh sends our session refresh and re-arms, or ends the call when
// the caller is gone (408, 481, no answer: RFC 4028 section 10). Other
// refusals (491 glare, 500) come from a caller that is alive: try again at
// the next half interval. A 422 raises the interval to its Min-SE once.
func (st *sessionTimer) refresh() {
	call := st.in.call
	terms := st.currentTerms()
	for attempt := 0; attempt < 2; attempt++ {
		res, err := st.sendRefresh(terms)
		switch {
		case call.ctx.Err() != nil:
			return
		case err != nil || res.StatusCode == 408 || res.StatusCode == 481:
			reason := "no answer"
			if err == nil {
				reason = strconv.Itoa(res.StatusCode)
			}
			call.log.Warn().Str("answer", reason).Msg("session refresh failed: hanging up")
			call.Hangup(ErrSessionRefreshFailed)
			return
		case res.StatusCode == 422 && attempt == 0:
			if peerMin, err := parseMinSE(headerValue(res, "Min-SE")); err == nil && peerMin > terms.interval {
				terms.interval = peerMin
				continue
			}
		case res.IsSuccess():
			st.in.sawSignOfLife() // no liveness probe needed for a while
			call.log.Debug().Int("session_expires", terms.interval).Msg("session refreshed")
			st.refreshed(st.answeredTerms(res, terms))
			return
		}
		break
	}
	call.log.Info().Msg("session refresh refused by a live caller: trying again later")
	st.refreshed(terms)
}

// answeredTerms reads the 2xx to our refresh: the caller may have changed
// the interval or taken the refresher role (refresher=uas there means
// them, the UAS of our request).
func (st *sessionTimer) answeredTerms(res *sip.Response, terms timerTerms) timerTerms {
	se, refresher, ok, err := parseSessionExpires(headerValue(res, "Session-Expires", "x"))
	if err != nil || !ok {
		return terms
	}
	terms.interval = max(se, 1)
	terms.weRefresh = refresher != refresherUAS
	return terms
}

// sendRefresh sends one UPDATE (or re-INVITE) in the dialog.
func (st *sessionTimer) sendRefresh(terms timerTerms) (*sip.Response, error) {
	in := st.in
	inv := in.dialog.InviteRequest
	method := sip.UPDATE
	if !st.useUpdate {
		method = sip.INVITE
	}
	req := sip.NewRequest(method, inv.Contact().Address)
	req.SetTransport(inv.Transport())
	// We are the UAC of this request and the refresher: refresher=uac.
	req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(terms.interval)+";refresher="+refresherUAC))
	req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(st.s.minSE())))
	req.AppendHeader(sip.HeaderClone(&st.s.dialogUA[dialogTransport(inv)].ContactHDR))
	if method == sip.INVITE {
		in.mu.Lock()
		sdp := in.answer.sent // the same description, the same o= version
		in.mu.Unlock()
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(sdp)
	}
	// The refresh must be over before the interval is (short ones in tests).
	wait := min(maxRefreshWait, time.Duration(terms.interval)*time.Second/2)
	ctx, cancel := context.WithTimeout(in.call.ctx, wait)
	defer cancel()
	in.out.Lock() // to the ACK, which takes the re-INVITE's CSeq (inbound.out)
	defer in.out.Unlock()
	res, err := in.dialog.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("session refresh %s: %w", method, err)
	}
	if method == sip.INVITE && res.IsSuccess() {
		if len(res.Body()) > 0 {
			if err := in.applyAnswer(res.Body()); err != nil {
				in.call.log.Warn().Err(err).Msg("session refresh: unusable SDP answer, session unchanged")
			}
		}
		ack := sip.NewRequest(sip.ACK, inv.Contact().Address)
		ack.SetTransport(inv.Transport())
		if err := in.dialog.WriteRequest(ack); err != nil {
			return nil, fmt.Errorf("session refresh ACK: %w", err)
		}
	}
	return res, nil
}

// okResponse is the 2xx to the INVITE, with our SDP and the session timer.
func (in *inbound) okResponse(sdp []byte) *sip.Response {
	res := sip.NewSDPResponseFromRequest(in.dialog.InviteRequest, sdp)
	if in.timer != nil {
		addTimerHeaders(res, in.timer.currentTerms())
	}
	return res
}

// onRefresh is called for a re-INVITE or UPDATE that the bridge answered
// 2xx with these terms: it is a session refresh.
func (in *inbound) onRefresh(terms timerTerms) {
	if in.timer != nil {
		in.timer.refreshed(terms)
	}
}

// parseSessionExpires reads "1800;refresher=uac" (RFC 4028 section 4).
func parseSessionExpires(v string) (seconds int, refresher string, ok bool, err error) {
	if v == "" {
		return 0, "", false, nil
	}
	delta, params, _ := strings.Cut(v, ";")
	seconds, err = strconv.Atoi(strings.TrimSpace(delta))
	if err != nil || seconds < 1 {
		return 0, "", false, fmt.Errorf("%w: Session-Expires %q", errBadSessionTimer, clip(v))
	}
	for _, p := range strings.Split(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(name, "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(value))
			if refresher != refresherUAC && refresher != refresherUAS {
				return 0, "", false, fmt.Errorf("%w: refresher %q", errBadSessionTimer, clip(value))
			}
		}
	}
	return seconds, refresher, true, nil
}

// parseMinSE reads "90" (params, if any, are ignored); 0 when absent.
func parseMinSE(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	delta, _, _ := strings.Cut(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(delta))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: Min-SE %q", errBadSessionTimer, clip(v))
	}
	return n, nil
}

// headerValue is the first header of these names (full and compact form).
func headerValue(msg sip.Message, names ...string) string {
	for _, name := range names {
		if hs := msg.GetHeaders(name); len(hs) > 0 {
			return strings.TrimSpace(hs[0].Value())
		}
	}
	return ""
}

// hasOptionTag reports whether any header of these names lists tag (case
// insensitive; a header may be repeated and hold a comma-separated list).
func hasOptionTag(msg sip.Message, tag string, names ...string) bool {
	for _, name := range names {
		for _, h := range msg.GetHeaders(name) {
			for _, t := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(t), tag) {
					return true
				}
			}
		}
	}
	return false
}
