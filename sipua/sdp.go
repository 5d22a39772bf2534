package sipua

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/dialin/dialin/media"
)

// Errors from SDP offer/answer. A malformed offer is answered 400, an offer
// with nothing we can speak 488.
var (
	ErrMalformedSDP  = errors.New("malformed SDP")
	ErrNoCommonCodec = errors.New("no common codec (need PCMU or PCMA at 8000 Hz over RTP/AVP)")
)

// Directions of a media stream (RFC 3264 section 5.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// mediaLine is one m= section of an offer.
type mediaLine struct {
	kind      string // audio, video, ...
	port      int
	proto     string
	formats   []string
	addr      netip.Addr // media-level c=, else session-level
	rtpmap    map[string]string
	fmtp      map[string]string // format parameters by payload type
	direction string

	rtcpMux  bool           // a=rtcp-mux (RFC 5761)
	rtcpPort int            // a=rtcp (RFC 3605); 0: none
	rtcpAddr netip.AddrPort // a=rtcp with its own address; else the stream's
}

// Offer is what we need from a remote SDP: where to send audio and what the
// far end can decode, in its order of preference.
type Offer struct {
	media []mediaLine
	audio int // index of the first usable audio m= line, -1 if none
}

// ParseSDP reads an SDP body leniently: any line order that carries the
// fields we need is accepted (some SBCs put c= after t=, which strict
// parsers such as pion/sdp refuse), but every line must be "x=value" and the
// fields we rely on must be well formed.
func ParseSDP(body []byte) (*Offer, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedSDP)
	}
	var (
		o          = &Offer{audio: -1}
		sessAddr   netip.Addr
		sessDir    = SendRecv
		cur        *mediaLine
		sawVersion bool
	)
	text := string(body)
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue // tolerate blank lines, e.g. a trailing CRLF CRLF
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return nil, fmt.Errorf("%w: line %d %q is not type=value", ErrMalformedSDP, n, clip(line))
		}
		typ, val := line[0], line[2:]
		if !sawVersion && typ != 'v' {
			return nil, fmt.Errorf("%w: first line must be v=0", ErrMalformedSDP)
		}
		switch typ {
		case 'v':
			if val != "0" || sawVersion {
				return nil, fmt.Errorf("%w: line %d: bad version %q", ErrMalformedSDP, n, clip(val))
			}
			sawVersion = true
		case 'm':
			ml, err := parseMediaLine(val)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrMalformedSDP, n, err)
			}
			o.media = append(o.media, ml)
			cur = &o.media[len(o.media)-1]
		case 'c':
			addr, err := parseConnection(val)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrMalformedSDP, n, err)
			}
			if cur != nil {
				cur.addr = addr
			} else {
				sessAddr = addr
			}
		case 'a':
			name, value, _ := strings.Cut(val, ":")
			switch name {
			case SendRecv, SendOnly, RecvOnly, Inactive:
				if cur != nil {
					cur.direction = name
				} else {
					sessDir = name
				}
			case "rtpmap":
				if cur == nil {
					continue
				}
				pt, enc, ok := strings.Cut(value, " ")
				if !ok || !isPayloadType(pt) {
					return nil, fmt.Errorf("%w: line %d: bad rtpmap %q", ErrMalformedSDP, n, clip(value))
				}
				if cur.rtpmap == nil {
					cur.rtpmap = make(map[string]string, 4)
				}
				cur.rtpmap[pt] = strings.TrimSpace(enc)
			case "fmtp":
				if cur == nil {
					continue
				}
				if pt, params, ok := strings.Cut(value, " "); ok && isPayloadType(pt) {
					if cur.fmtp == nil {
						cur.fmtp = make(map[string]string, 2)
					}
					cur.fmtp[pt] = strings.TrimSpace(params)
				}
			case "rtcp-mux", "rtcp":
				if cur == nil {
					continue
				}
				if err := parseRTCPAttr(cur, name, value); err != nil {
					return nil, fmt.Errorf("%w: line %d: %v", ErrMalformedSDP, n, err)
				}
			}
		}
	}
	if !sawVersion {
		return nil, fmt.Errorf("%w: no v= line", ErrMalformedSDP)
	}
	if len(o.media) == 0 {
		return nil, fmt.Errorf("%w: no m= line", ErrMalformedSDP)
	}
	for i := range o.media {
		m := &o.media[i]
		if !m.addr.IsValid() {
			m.addr = sessAddr
		}
		if m.direction == "" {
			m.direction = sessDir
		}
		if m.kind == "audio" && m.port != 0 && o.audio < 0 {
			if !m.addr.IsValid() {
				return nil, fmt.Errorf("%w: audio stream has no c= address", ErrMalformedSDP)
			}
			o.audio = i
		}
	}
	return o, nil
}

func parseMediaLine(val string) (mediaLine, error) {
	f := strings.Fields(val)
	if len(f) < 4 {
		return mediaLine{}, fmt.Errorf("m= needs media, port, proto and formats: %q", clip(val))
	}
	portStr, _, _ := strings.Cut(f[1], "/") // "49170/2" is a port count
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return mediaLine{}, fmt.Errorf("bad port %q", clip(f[1]))
	}
	for _, pt := range f[3:] {
		if f[2] == "RTP/AVP" && !isPayloadType(pt) {
			return mediaLine{}, fmt.Errorf("bad payload type %q", clip(pt))
		}
	}
	return mediaLine{kind: f[0], port: port, proto: f[2], formats: f[3:]}, nil
}

func parseConnection(val string) (netip.Addr, error) {
	f := strings.Fields(val)
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return netip.Addr{}, fmt.Errorf("bad c= %q", clip(val))
	}
	host, _, _ := strings.Cut(f[2], "/") // multicast TTL
	addr, err := netip.ParseAddr(host)
	if err != nil || (f[1] == "IP4") != addr.Is4() {
		return netip.Addr{}, fmt.Errorf("bad c= address %q", clip(f[2]))
	}
	return addr, nil
}

func isPayloadType(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 127
}

// clip keeps error messages short when the input is hostile.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Negotiated is the outcome of an offer/answer exchange for the audio stream.
type Negotiated struct {
	Remote          netip.AddrPort
	Codec           media.Codec
	DTMFPayloadType uint8  // 0: none offered
	Direction       string // our side: the offer's direction mirrored
	// DTMFEvents are the telephone-events both sides take, bit n for
	// event n (0-15: the keys); 0 means all of them (0-15).
	DTMFEvents uint16

	// RTCP: where the peer wants it (a=rtcp; zero: RTP port + 1) and
	// whether it goes on the RTP port (a=rtcp-mux, answered when offered).
	RTCPRemote netip.AddrPort
	RTCPMux    bool

	// ComfortNoise: the offer had RFC 3389 comfort noise on its static
	// payload type 13 (CN/8000), which we answer: a VAD phone sends it
	// when its caller goes quiet. It counts as media, never as audio.
	ComfortNoise bool
}

// WeSend reports whether we may send audio under this direction.
func (n Negotiated) WeSend() bool { return n.Direction == SendRecv || n.Direction == SendOnly }

// PeerSends reports whether the far end will send audio to us.
func (n Negotiated) PeerSends() bool { return n.Direction == SendRecv || n.Direction == RecvOnly }

// Negotiate picks the first PCMU or PCMA in the offer's order, keeping
// prefer if it is still offered (a re-INVITE must not switch codecs for
// nothing), and the offer's telephone-event payload type, whatever it is.
func Negotiate(o *Offer, prefer *media.Codec) (Negotiated, error) {
	if o.audio < 0 {
		return Negotiated{}, ErrNoCommonCodec
	}
	m := o.media[o.audio]
	if m.proto != "RTP/AVP" {
		return Negotiated{}, fmt.Errorf("%w: transport %s", ErrNoCommonCodec, m.proto)
	}
	var (
		n     = Negotiated{Remote: netip.AddrPortFrom(m.addr, uint16(m.port)), Direction: mirror(m.direction)}
		found bool
	)
	if m.addr.IsUnspecified() {
		n.Direction = Inactive // c=0.0.0.0 is RFC 2543 hold: no media either way
	}
	n.RTCPRemote, n.RTCPMux = m.rtcpRemote(), m.rtcpMux
	for _, f := range m.formats {
		pt, _ := strconv.Atoi(f)
		enc := m.rtpmap[f]
		if isComfortNoise(pt, enc) {
			n.ComfortNoise = true
			continue
		}
		if name, rate, ok := strings.Cut(enc, "/"); ok && strings.EqualFold(name, "telephone-event") {
			if r, _, _ := strings.Cut(rate, "/"); r == "8000" && n.DTMFPayloadType == 0 && pt != 0 {
				if events, ok := offeredEvents(m.fmtp, f); ok {
					n.DTMFPayloadType = uint8(pt)
					if events != allEvents {
						n.DTMFEvents = events
					}
				}
			}
			continue
		}
		c, ok := media.CodecByPayloadType(uint8(pt))
		if !ok || (enc != "" && !strings.EqualFold(enc, c.String()+"/8000") && !strings.EqualFold(enc, c.String()+"/8000/1")) {
			continue // a static PT redefined to something else is not G.711
		}
		if !found || (prefer != nil && c == *prefer) {
			n.Codec, found = c, true
		}
	}
	if !found {
		return Negotiated{}, ErrNoCommonCodec
	}
	return n, nil
}

// payloadTypeCN is RFC 3389 comfort noise's static payload type (RFC 3551).
const payloadTypeCN = 13

// isComfortNoise: PT 13 with no rtpmap or CN/8000 (a redefined static PT
// is something else).
func isComfortNoise(pt int, enc string) bool {
	return pt == payloadTypeCN && (enc == "" || strings.EqualFold(enc, "CN/8000") || strings.EqualFold(enc, "CN/8000/1"))
}

func mirror(dir string) string {
	switch dir {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// allEvents is the telephone-events the bridge takes: the 16 keys (RFC
// 4733 0-15). Flash (16) and the rest mean nothing to a conference bridge.
const allEvents = 0xffff

// offeredEvents reads the events of a telephone-event format's fmtp
// ("0-15", "0-11,16"), leniently: unreadable parts are skipped. With no
// fmtp the events are 0-15 (RFC 4733 section 7.1.1). It reports false when
// none of the offered events is one we take.
func offeredEvents(fmtp map[string]string, pt string) (uint16, bool) {
	params, ok := fmtp[pt]
	if !ok {
		return allEvents, true
	}
	var mask uint16
	for _, part := range strings.Split(params, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		first, err1 := strconv.Atoi(lo)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || first < 0 || last < first {
			continue
		}
		for e := first; e <= min(last, 15); e++ {
			mask |= 1 << e
		}
	}
	return mask, mask != 0
}

// appendEvents writes an event mask as RFC 4733 ranges: "0-15", "0-9,11".
func appendEvents(b []byte, mask uint16) []byte {
	if mask == 0 {
		mask = allEvents
	}
	first := true
	for e := 0; e < 16; e++ {
		if mask&(1<<e) == 0 {
			continue
		}
		end := e
		for end+1 < 16 && mask&(1<<(end+1)) != 0 {
			end++
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendInt(b, int64(e), 10)
		if end > e {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(end), 10)
		}
		e = end
	}
	return b
}

// Answer is our side of the session description.
type Answer struct {
	Addr      netip.Addr // our RTP address (the public address)
	Port      int
	SessionID int64 // o= fields, kept inside int64 (some peers reject larger)
	Version   int64
	Negotiated

	sent []byte // the last description marshalled, for the o= version
}

// Marshal writes the SDP answer, and for every non-audio stream of the
// offer a rejected stream (port 0), since an answer must mirror the offer's
// m= lines one for one (RFC 3264 section 6). The o= version goes up when
// the description differs from the last one marshalled (versioned).
func (a *Answer) Marshal(o *Offer) []byte {
	return a.versioned(func() []byte { return a.marshalAnswer(o) })
}

// Offer marshals our own offer, for a re-INVITE that came without SDP:
// the current codec first, the other law, and telephone-event. Its o=
// version is kept as Marshal's.
func (a *Answer) Offer() []byte {
	return a.versioned(func() []byte { return a.marshalOffer() })
}

// versioned marshals with build and bumps the o= version first when the
// result differs, o= line aside, from the last description we sent: the
// version must increase whenever our description changes and stay when it
// does not, so that a session refresh disturbs nothing (RFC 3264 section 8).
func (a *Answer) versioned(build func() []byte) []byte {
	b := build()
	if a.sent != nil && !sameDescription(a.sent, b) {
		a.Version++
		b = build()
	}
	a.sent = b
	return b
}

// sameDescription compares two of our descriptions without their o= lines.
func sameDescription(x, y []byte) bool {
	return bytes.Equal(withoutOrigin(x), withoutOrigin(y))
}

func withoutOrigin(b []byte) []byte {
	i := bytes.Index(b, []byte("\r\no="))
	if i < 0 {
		return b
	}
	j := bytes.Index(b[i+2:], []byte("\r\n"))
	if j < 0 {
		return b[:i]
	}
	return append(b[:i:i], b[i+2+j:]...)
}

func (a Answer) marshalAnswer(o *Offer) []byte {
	b := a.appendSession(make([]byte, 0, 320))
	for i, m := range o.media {
		if i != o.audio {
			b = append(b, "m="+m.kind+" 0 "+m.proto+" "+m.formats[0]+"\r\n"...)
			continue
		}
		b = a.appendAudio(b, []media.Codec{a.Codec}, a.DTMFPayloadType, a.DTMFEvents, a.Direction)
	}
	return b
}

func (a Answer) marshalOffer() []byte {
	other := media.PCMA
	if a.Codec == media.PCMA {
		other = media.PCMU
	}
	dtmf := a.DTMFPayloadType
	if dtmf == 0 {
		dtmf = 101
	}
	a.RTCPMux = true // offered; the answer decides
	b := a.appendSession(make([]byte, 0, 384))
	return a.appendAudio(b, []media.Codec{a.Codec, other}, dtmf, allEvents, SendRecv)
}

func (a Answer) appendSession(b []byte) []byte {
	ipv := "IP4"
	if a.Addr.Is6() && !a.Addr.Is4In6() {
		ipv = "IP6"
	}
	ip := a.Addr.Unmap().String()
	b = append(b, "v=0\r\no=dialin "...)
	b = strconv.AppendInt(b, a.SessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, a.Version, 10)
	return append(b, " IN "+ipv+" "+ip+"\r\ns=dialin\r\nc=IN "+ipv+" "+ip+"\r\nt=0 0\r\n"...)
}

func (a Answer) appendAudio(b []byte, codecs []media.Codec, dtmfPT uint8, events uint16, direction string) []byte {
	b = append(b, "m=audio "...)
	b = strconv.AppendInt(b, int64(a.Port), 10)
	b = append(b, " RTP/AVP"...)
	for _, c := range codecs {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(c.PayloadType()), 10)
	}
	if dtmfPT != 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(dtmfPT), 10)
	}
	if a.ComfortNoise {
		b = append(b, " 13"...)
	}
	b = append(b, "\r\n"...)
	for _, c := range codecs {
		b = append(b, "a=rtpmap:"...)
		b = strconv.AppendInt(b, int64(c.PayloadType()), 10)
		b = append(b, " "+c.String()+"/8000\r\n"...)
	}
	if dtmfPT != 0 {
		dt := strconv.Itoa(int(dtmfPT))
		b = append(b, "a=rtpmap:"+dt+" telephone-event/8000\r\na=fmtp:"+dt+" "...)
		b = append(appendEvents(b, events), "\r\n"...)
	}
	if a.ComfortNoise {
		b = append(b, "a=rtpmap:13 CN/8000\r\n"...)
	}
	b = append(b, "a=ptime:20\r\na="+direction+"\r\n"...)
	return a.appendRTCP(b)
}
