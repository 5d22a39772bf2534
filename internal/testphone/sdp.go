package testphone

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/dialin/dialin/media"
)

// offerParams is what goes into one of our SDP offers.
type offerParams struct {
	ip        string
	port      int
	codecs    []media.Codec
	eventPT   uint8 // 0: telephone-event not offered
	direction string
	sessionID uint64
	version   uint64 // o= version, bumped on every re-INVITE
	rtcpPort  int    // a=rtcp (RFC 3605); 0: none
	rtcpMux   bool   // a=rtcp-mux (RFC 5761)
}

// buildSDP writes the offer by hand: it is short, and a literal layout makes
// the bytes on the wire obvious when a test fails.
func buildSDP(p offerParams) []byte {
	addrType := "IP4"
	if strings.Contains(p.ip, ":") {
		addrType = "IP6"
	}
	fmts := make([]string, 0, len(p.codecs)+1)
	for _, c := range p.codecs {
		fmts = append(fmts, strconv.Itoa(int(c.PayloadType())))
	}
	if p.eventPT != 0 {
		fmts = append(fmts, strconv.Itoa(int(p.eventPT)))
	}

	var b strings.Builder
	b.WriteString("v=0\r\n")
	fmt.Fprintf(&b, "o=testphone %d %d IN %s %s\r\n", p.sessionID, p.version, addrType, p.ip)
	b.WriteString("s=testphone\r\n")
	fmt.Fprintf(&b, "c=IN %s %s\r\n", addrType, p.ip)
	b.WriteString("t=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", p.port, strings.Join(fmts, " "))
	for _, c := range p.codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c.PayloadType(), c)
	}
	if p.eventPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\n", p.eventPT)
		fmt.Fprintf(&b, "a=fmtp:%d 0-16\r\n", p.eventPT)
	}
	b.WriteString("a=ptime:20\r\n")
	fmt.Fprintf(&b, "a=%s\r\n", p.direction)
	if p.rtcpPort != 0 {
		fmt.Fprintf(&b, "a=rtcp:%d\r\n", p.rtcpPort)
	}
	if p.rtcpMux {
		b.WriteString("a=rtcp-mux\r\n")
	}
	return []byte(b.String())
}

// sessionInfo is what we read back from an SDP body (the bridge's answer,
// or in tests the phone's offer).
type sessionInfo struct {
	ip        net.IP // unspecified (0.0.0.0) means "don't send" (old-style hold)
	port      int
	codec     media.Codec // first G.711 format on the m= line
	eventPT   uint8       // 0: no telephone-event
	direction string
	rtcpMux   bool // a=rtcp-mux
}

// parseSDP reads the first active audio stream of an SDP body.
func parseSDP(body []byte) (sessionInfo, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return sessionInfo{}, fmt.Errorf("parse sdp: %w", err)
	}
	var md *sdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 {
			md = m
			break
		}
	}
	if md == nil {
		return sessionInfo{}, fmt.Errorf("parse sdp: no active audio stream")
	}

	info := sessionInfo{port: md.MediaName.Port.Value, direction: "sendrecv"}

	conn := md.ConnectionInformation
	if conn == nil {
		conn = sd.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return sessionInfo{}, fmt.Errorf("parse sdp: no c= line")
	}
	info.ip = net.ParseIP(conn.Address.Address)
	if info.ip == nil {
		return sessionInfo{}, fmt.Errorf("parse sdp: bad connection address %q", conn.Address.Address)
	}

	names := make(map[string]string) // payload type -> encoding name, from rtpmap
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		names[pt] = name
	}

	haveCodec := false
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 8)
		if err != nil {
			continue
		}
		name, ok := names[f]
		if !ok {
			// Static payload types may come without an rtpmap.
			if c, ok := media.CodecByPayloadType(uint8(pt)); ok {
				name = c.String()
			}
		}
		if strings.EqualFold(name, "telephone-event") {
			if info.eventPT == 0 {
				info.eventPT = uint8(pt)
			}
			continue
		}
		if !haveCodec {
			switch {
			case strings.EqualFold(name, "PCMU"):
				info.codec, haveCodec = media.PCMU, true
			case strings.EqualFold(name, "PCMA"):
				info.codec, haveCodec = media.PCMA, true
			}
		}
	}
	if !haveCodec {
		return sessionInfo{}, fmt.Errorf("parse sdp: no PCMU or PCMA in m=%s", strings.Join(md.MediaName.Formats, " "))
	}

	// A media-level direction overrides the session-level one.
	for _, attrs := range [][]sdp.Attribute{sd.Attributes, md.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				info.direction = a.Key
			case "rtcp-mux":
				info.rtcpMux = true
			}
		}
	}
	return info, nil
}

// validDirection reports whether d is an SDP direction attribute.
func validDirection(d string) bool {
	switch d {
	case "sendrecv", "sendonly", "recvonly", "inactive":
		return true
	}
	return false
}
