package sipua

import (
	"bytes"
	"errors"
	"hash/fnv"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialin/dialin/internal/loglimit"
	"github.com/rs/zerolog"
)

// The stateless 403s of sip.untrusted: reject. A source gets a burst of
// rejectSourceBurst answers, then one every rejectSourceEvery; all sources
// together at most rejectTotalBurst, then rejectTotalRate a second. A
// request (source, Call-ID, CSeq, branch) is answered once however often it
// is retransmitted, while it is remembered (rejectRemember, Timer B).
const (
	rejectSourceBurst = 5
	rejectSourceEvery = 5 * time.Second
	rejectTotalBurst  = 50
	rejectTotalRate   = 25
	rejectRemember    = 32 * time.Second
	rejectTableMax    = 4096 // sources and requests remembered; full: no answer
)

// udpGuard is the net.PacketConn handed to sipgo's ServeUDP: datagrams from
// outside sip.trusted_networks never reach sipgo. They are dropped, or with
// reject answered once by a 403 built here, without a transaction that
// would retransmit it for 32 s (eleven answers to one INVITE: a reflector
// for spoofed sources). sipgo reads each socket from one goroutine, so
// ReadFrom keeps its source cache without a lock.
type udpGuard struct {
	*net.UDPConn
	log       zerolog.Logger
	trusted   trustedNetworks
	reject    bool
	userAgent string
	refused   *atomic.Uint64

	// The last trusted source and its net.Addr: a trunk sends from one
	// address, so its datagrams cost no allocation here.
	last     netip.AddrPort
	lastAddr *net.UDPAddr

	readErrLog loglimit.Limiter

	mu           sync.Mutex // the untrusted path below
	untrustedLog loglimit.Limiter
	total        tokenBucket
	sources      map[netip.Addr]*tokenBucket
	answered     map[uint64]time.Time // request hash → when
	out          []byte
	rejected     atomic.Uint64
}

func newUDPGuard(c *net.UDPConn, trusted trustedNetworks, reject bool, userAgent string, refused *atomic.Uint64, log zerolog.Logger) *udpGuard {
	return &udpGuard{
		UDPConn:   c,
		log:       log,
		trusted:   trusted,
		reject:    reject,
		userAgent: userAgent,
		refused:   refused,
		sources:   make(map[netip.Addr]*tokenBucket),
		answered:  make(map[uint64]time.Time),
	}
}

// ReadFrom returns the next datagram from a trusted source. A read error
// other than the socket's close is retried after a back-off: sipgo would
// stop serving the socket on it.
func (g *udpGuard) ReadFrom(b []byte) (int, net.Addr, error) {
	var delay time.Duration
	for {
		n, ap, err := g.ReadFromUDPAddrPort(b)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return 0, nil, err
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			if ok, suppressed := g.readErrLog.Allow(time.Now()); ok {
				g.log.Warn().Err(err).Dur("retry_in", delay).Int("suppressed", suppressed).Msg("sip: UDP read failed; retrying")
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		if g.trusted.contains(ap.Addr().Unmap().WithZone("")) {
			if ap != g.last || g.lastAddr == nil {
				g.last, g.lastAddr = ap, net.UDPAddrFromAddrPort(ap)
			}
			return n, g.lastAddr, nil
		}
		g.untrusted(b[:n], ap)
	}
}

// untrusted counts, logs (rate-limited) and drops or answers a datagram
// from outside the trusted networks.
func (g *udpGuard) untrusted(pkt []byte, from netip.AddrPort) {
	if isKeepalive(pkt) {
		return
	}
	m := scanSIP(pkt)
	if m.request && m.method == "ACK" {
		return // the ACK of our 403, or nothing: never answered, not a refusal
	}
	g.refused.Add(1)
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	answer := g.reject && m.request && m.complete() && g.allowAnswer(now, from.Addr(), m)
	if answer {
		g.out = m.forbidden(g.out[:0], g.userAgent)
		// Never more bytes out than in: no amplification, even by one.
		if len(g.out) <= len(pkt) {
			if _, err := g.WriteToUDPAddrPort(g.out, from); err == nil {
				g.rejected.Add(1)
			}
		} else {
			answer = false
		}
	}
	if ok, suppressed := g.untrustedLog.Allow(now); ok {
		action := "dropped"
		if answer {
			action = "answered 403"
		}
		g.log.Warn().Str("call_id", excerpt(m.callID)).Str("method", excerpt(m.methodOrStatus())).
			Str("source", from.String()).Str("transport", "UDP").Str("action", action).Int("suppressed", suppressed).
			Msg("refused: source not in sip.trusted_networks")
	}
}

// allowAnswer applies the once-per-request rule and the rate limits.
func (g *udpGuard) allowAnswer(now time.Time, src netip.Addr, m sipScan) bool {
	key := m.requestKey(src)
	if t, seen := g.answered[key]; seen && now.Sub(t) < rejectRemember {
		return false
	}
	if len(g.answered) >= rejectTableMax {
		for k, t := range g.answered {
			if now.Sub(t) >= rejectRemember {
				delete(g.answered, k)
			}
		}
		if len(g.answered) >= rejectTableMax {
			return false
		}
	}
	b := g.sources[src]
	if b == nil {
		if len(g.sources) >= rejectTableMax {
			for a, sb := range g.sources {
				if sb.full(now, rejectSourceBurst, 1/rejectSourceEvery.Seconds()) {
					delete(g.sources, a)
				}
			}
			if len(g.sources) >= rejectTableMax {
				return false
			}
		}
		b = &tokenBucket{tokens: rejectSourceBurst, last: now}
		g.sources[src] = b
	}
	if !b.peek(now, rejectSourceBurst, 1/rejectSourceEvery.Seconds()) || !g.total.take(now, rejectTotalBurst, rejectTotalRate) {
		return false
	}
	b.take(now, rejectSourceBurst, 1/rejectSourceEvery.Seconds())
	g.answered[key] = now
	return true
}

// tokenBucket: tokens refill at rate a second up to burst; the zero value
// starts full.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (b *tokenBucket) refill(now time.Time, burst, rate float64) {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
}

func (b *tokenBucket) peek(now time.Time, burst, rate float64) bool {
	b.refill(now, burst, rate)
	return b.tokens >= 1
}

func (b *tokenBucket) take(now time.Time, burst, rate float64) bool {
	if !b.peek(now, burst, rate) {
		return false
	}
	b.tokens--
	return true
}

func (b *tokenBucket) full(now time.Time, burst, rate float64) bool {
	b.refill(now, burst, rate)
	return b.tokens >= burst
}

func isKeepalive(pkt []byte) bool {
	return len(bytes.Trim(pkt, "\r\n\x00")) == 0
}

// excerpt keeps a logged value short: it comes from a stranger.
func excerpt(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// sipScan is what a stateless answer needs of a message, read without
// sipgo's parser: the request line and the raw lines of the headers a
// response copies (RFC 3261 8.2.6.2).
type sipScan struct {
	request        bool
	method         string
	status         string
	callID         string
	via            [][]byte // each Via line whole, in order
	from, to, cseq []byte   // the whole line
	toHasTag       bool
	branch         []byte
}

func (m sipScan) methodOrStatus() string {
	if m.request {
		return m.method
	}
	return m.status
}

func (m sipScan) complete() bool {
	return len(m.via) > 0 && m.from != nil && m.to != nil && m.callID != "" && m.cseq != nil
}

func (m sipScan) requestKey(src netip.Addr) uint64 {
	h := fnv.New64a()
	b := src.As16()
	_, _ = h.Write(b[:])
	_, _ = h.Write([]byte(m.callID))
	_, _ = h.Write(m.cseq)
	_, _ = h.Write(m.branch)
	return h.Sum64()
}

// maxHeaderLine bounds what is copied from a stranger's header.
const maxHeaderLine = 1024

// scanSIP reads the start line and the headers a 403 needs; anything it
// does not understand leaves the scan incomplete (and unanswered).
func scanSIP(pkt []byte) sipScan {
	var m sipScan
	head, _, _ := bytes.Cut(pkt, []byte("\r\n\r\n"))
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if bytes.HasPrefix(line, []byte("SIP/2.0 ")) {
		m.status = string(line[8:min(len(line), 11)])
		return m
	}
	method, _, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(method) == 0 || len(method) > 16 || !bytes.HasSuffix(line, []byte(" SIP/2.0")) {
		return m
	}
	m.request, m.method = true, string(method)
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		// Folded headers (a line starting with a space) are not copied:
		// the scan stays incomplete rather than cut a header.
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' || len(line) > maxHeaderLine {
			return sipScan{request: true, method: m.method}
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Via")) || bytes.EqualFold(name, []byte("v")):
			if len(m.via) == 0 {
				m.branch = param(value, "branch")
			}
			if len(m.via) < 16 {
				m.via = append(m.via, value)
			}
		case bytes.EqualFold(name, []byte("From")) || bytes.EqualFold(name, []byte("f")):
			m.from = value
		case bytes.EqualFold(name, []byte("To")) || bytes.EqualFold(name, []byte("t")):
			m.to = value
			m.toHasTag = param(value, "tag") != nil
		case bytes.EqualFold(name, []byte("Call-ID")) || bytes.EqualFold(name, []byte("i")):
			m.callID = string(value)
		case bytes.EqualFold(name, []byte("CSeq")):
			m.cseq = value
		}
	}
	return m
}

// param finds ;name=value in a header value (outside <...>).
func param(v []byte, name string) []byte {
	if i := bytes.LastIndexByte(v, '>'); i >= 0 {
		v = v[i+1:]
	}
	for _, p := range bytes.Split(v, []byte(";"))[1:] {
		k, val, _ := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if bytes.EqualFold(k, []byte(name)) {
			return val
		}
	}
	return nil
}

// forbidden appends the stateless 403 to out.
func (m sipScan) forbidden(out []byte, userAgent string) []byte {
	out = append(out, "SIP/2.0 403 Forbidden\r\n"...)
	for _, v := range m.via {
		out = append(append(append(out, "Via: "...), v...), "\r\n"...)
	}
	out = append(append(append(out, "From: "...), m.from...), "\r\n"...)
	out = append(append(out, "To: "...), m.to...)
	if !m.toHasTag {
		// The same tag for every answer to the same request.
		h := fnv.New32a()
		_, _ = h.Write([]byte(m.callID))
		_, _ = h.Write(m.from)
		out = append(out, ";tag="...)
		out = strconv.AppendUint(out, uint64(h.Sum32()), 16)
	}
	out = append(out, "\r\n"...)
	out = append(append(append(out, "Call-ID: "...), m.callID...), "\r\n"...)
	out = append(append(append(out, "CSeq: "...), m.cseq...), "\r\n"...)
	if userAgent != "" {
		out = append(append(append(out, "Server: "...), userAgent...), "\r\n"...)
	}
	return append(out, "Content-Length: 0\r\n\r\n"...)
}
