package sipua

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/dialin/dialin/media"
)

func sdpLines(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

var basicOffer = sdpLines(
	"v=0",
	"o=- 1 1 IN IP4 192.0.2.10",
	"s=-",
	"c=IN IP4 192.0.2.10",
	"t=0 0",
	"m=audio 40000 RTP/AVP 8 0 101",
	"a=rtpmap:8 PCMA/8000",
	"a=rtpmap:0 PCMU/8000",
	"a=rtpmap:101 telephone-event/8000",
	"a=fmtp:101 0-16",
	"a=ptime:20",
)

func TestNegotiate(t *testing.T) {
	pcmu := media.PCMU
	tests := []struct {
		name    string
		sdp     []byte
		prefer  *media.Codec
		want    Negotiated
		wantErr error
	}{
		{
			name: "offer order decides: PCMA first",
			sdp:  basicOffer,
			want: Negotiated{Remote: netip.MustParseAddrPort("192.0.2.10:40000"), Codec: media.PCMA, DTMFPayloadType: 101, Direction: SendRecv},
		},
		{
			name:   "re-INVITE keeps the codec in use when still offered",
			sdp:    basicOffer,
			prefer: &pcmu,
			want:   Negotiated{Remote: netip.MustParseAddrPort("192.0.2.10:40000"), Codec: media.PCMU, DTMFPayloadType: 101, Direction: SendRecv},
		},
		{
			name: "static payload types need no rtpmap; telephone-event on 96",
			sdp: sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0",
				"m=audio 5000 RTP/AVP 18 0 96", "c=IN IP4 192.0.2.1", "a=rtpmap:96 telephone-event/8000"),
			want: Negotiated{Remote: netip.MustParseAddrPort("192.0.2.1:5000"), Codec: media.PCMU, DTMFPayloadType: 96, Direction: SendRecv},
		},
		{
			name: "c= after t= at session level (some SBCs) is accepted",
			sdp:  sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "c=IN IP4 192.0.2.7", "m=audio 5000 RTP/AVP 0"),
			want: Negotiated{Remote: netip.MustParseAddrPort("192.0.2.7:5000"), Codec: media.PCMU, Direction: SendRecv},
		},
		{
			name: "hold: sendonly offer is answered recvonly",
			sdp:  sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly", "m=audio 5000 RTP/AVP 0"),
			want: Negotiated{Remote: netip.MustParseAddrPort("192.0.2.1:5000"), Codec: media.PCMU, Direction: RecvOnly},
		},
		{
			name: "media-level direction overrides session level",
			sdp:  sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly", "m=audio 5000 RTP/AVP 0", "a=inactive"),
			want: Negotiated{Remote: netip.MustParseAddrPort("192.0.2.1:5000"), Codec: media.PCMU, Direction: Inactive},
		},
		{
			name: "LF line endings and IPv6",
			sdp:  []byte("v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\nm=audio 5000 RTP/AVP 8\n"),
			want: Negotiated{Remote: netip.MustParseAddrPort("[2001:db8::1]:5000"), Codec: media.PCMA, Direction: SendRecv},
		},
		{
			name: "c=0.0.0.0 is the old style of hold: inactive",
			sdp:  sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 5000 RTP/AVP 0"),
			want: Negotiated{Remote: netip.MustParseAddrPort("0.0.0.0:5000"), Codec: media.PCMU, Direction: Inactive},
		},
		{
			name:    "only G.729",
			sdp:     sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5000 RTP/AVP 18", "a=rtpmap:18 G729/8000"),
			wantErr: ErrNoCommonCodec,
		},
		{
			name:    "PT 0 redefined as something else is not PCMU",
			sdp:     sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5000 RTP/AVP 0", "a=rtpmap:0 opus/48000/2"),
			wantErr: ErrNoCommonCodec,
		},
		{
			name:    "SRTP only",
			sdp:     sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5000 RTP/SAVP 0"),
			wantErr: ErrNoCommonCodec,
		},
		{
			name:    "audio rejected with port 0, video only",
			sdp:     sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 0 RTP/AVP 0", "m=video 5002 RTP/AVP 96"),
			wantErr: ErrNoCommonCodec,
		},
		{name: "empty", sdp: nil, wantErr: ErrMalformedSDP},
		{name: "not SDP", sdp: []byte("hello world"), wantErr: ErrMalformedSDP},
		{name: "no v= first", sdp: sdpLines("o=- 1 1 IN IP4 192.0.2.1", "v=0"), wantErr: ErrMalformedSDP},
		{name: "no m= line", sdp: sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"), wantErr: ErrMalformedSDP},
		{name: "bad port", sdp: sdpLines("v=0", "c=IN IP4 192.0.2.1", "m=audio 99999 RTP/AVP 0"), wantErr: ErrMalformedSDP},
		{name: "bad payload type", sdp: sdpLines("v=0", "c=IN IP4 192.0.2.1", "m=audio 5000 RTP/AVP zero"), wantErr: ErrMalformedSDP},
		{name: "bad address", sdp: sdpLines("v=0", "c=IN IP4 999.1.1.1", "m=audio 5000 RTP/AVP 0"), wantErr: ErrMalformedSDP},
		{name: "IP6 tag with IPv4 address", sdp: sdpLines("v=0", "c=IN IP6 192.0.2.1", "m=audio 5000 RTP/AVP 0"), wantErr: ErrMalformedSDP},
		{name: "no address for audio", sdp: sdpLines("v=0", "m=audio 5000 RTP/AVP 0"), wantErr: ErrMalformedSDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := ParseSDP(tt.sdp)
			var got Negotiated
			if err == nil {
				got, err = Negotiate(offer, tt.prefer)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAnswerMirrorsOffer(t *testing.T) {
	offer, err := ParseSDP(sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
		"m=video 5002 RTP/AVP 96", "m=audio 5000 RTP/AVP 0 126", "a=rtpmap:126 telephone-event/8000", "a=sendonly"))
	if err != nil {
		t.Fatal(err)
	}
	neg, err := Negotiate(offer, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := Answer{Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000, SessionID: 42, Version: 1, Negotiated: neg}
	got := string(a.Marshal(offer))
	want := "v=0\r\no=dialin 42 1 IN IP4 127.0.0.1\r\ns=dialin\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=video 0 RTP/AVP 96\r\n" +
		"m=audio 10000 RTP/AVP 0 126\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-15\r\n" +
		"a=ptime:20\r\na=recvonly\r\n"
	if got != want {
		t.Fatalf("answer:\n%s\nwant:\n%s", got, want)
	}
	// Our answer must itself parse as a valid offer (it is one in re-INVITEs).
	if _, err := ParseSDP([]byte(got)); err != nil {
		t.Fatalf("answer does not parse: %v", err)
	}
	ours, err := ParseSDP(a.Offer())
	if err != nil {
		t.Fatalf("our offer does not parse: %v", err)
	}
	n, err := Negotiate(ours, nil)
	if err != nil || n.Codec != media.PCMU || n.DTMFPayloadType != 126 || n.Direction != SendRecv {
		t.Fatalf("our offer negotiates to %+v, %v", n, err)
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add(basicOffer)
	f.Add([]byte("v=0\nc=IN IP4 1.2.3.4\nm=audio 1 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n"))
	f.Add([]byte("v=0\r\nm=audio 5000/2 RTP/AVP 8\r\nc=IN IP6 ::1\r\na=inactive\r\n"))
	f.Add([]byte("v=0\nm=video 0 RTP/AVP 96\nm=audio 0 RTP/SAVP 0\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		offer, err := ParseSDP(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedSDP) {
				t.Fatalf("parse error not ErrMalformedSDP: %v", err)
			}
			return
		}
		neg, err := Negotiate(offer, nil)
		if err != nil {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("negotiate error not ErrNoCommonCodec: %v", err)
			}
			return
		}
		if !neg.Remote.Addr().IsValid() || (neg.Codec != media.PCMU && neg.Codec != media.PCMA) {
			t.Fatalf("bad negotiation %+v", neg)
		}
		a := Answer{Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000, Negotiated: neg}
		if _, err := ParseSDP(a.Marshal(offer)); err != nil {
			t.Fatalf("our answer to %q does not parse: %v", body, err)
		}
	})
}

func TestParseINFODigit(t *testing.T) {
	tests := []struct {
		ct, body string
		want     byte
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"application/dtmf-relay", "Signal= #\nDuration=100", '#', true},
		{"application/dtmf-relay", "Signal=11\r\n", '#', true},
		{"application/dtmf-relay", "Signal=10\r\n", '*', true},
		{"application/dtmf", "7", '7', true},
		{"application/dtmf", "a", 'A', true},
		{"application/dtmf-relay", "Signal=X\r\n", 0, false},
		{"application/dtmf-relay", "", 0, false},
		{"text/plain", "5", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseINFODigit(tt.ct, []byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseINFODigit(%q, %q) = %q, %v; want %q, %v", tt.ct, tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

// The o= version goes up exactly when our description changes (RFC 3264
// §8): a refresh with the same offer keeps it; our own new offer to an
// offerless re-INVITE (other codecs) bumps it, as does a hold.
func TestAnswerVersionFollowsChanges(t *testing.T) {
	offer, err := ParseSDP(basicOffer)
	if err != nil {
		t.Fatal(err)
	}
	neg, err := Negotiate(offer, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := Answer{Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000, SessionID: 7, Version: 1, Negotiated: neg}
	version := func(sdp []byte) string {
		t.Helper()
		for _, line := range strings.Split(string(sdp), "\r\n") {
			if f := strings.Fields(line); len(f) > 2 && strings.HasPrefix(line, "o=") {
				return f[2]
			}
		}
		t.Fatalf("no o= line in %q", sdp)
		return ""
	}
	steps := []struct {
		what string
		sdp  func() []byte
		want string
	}{
		{"first answer", func() []byte { return a.Marshal(offer) }, "1"},
		{"same offer again (refresh)", func() []byte { return a.Marshal(offer) }, "1"},
		{"our offer (both laws)", a.Offer, "2"},
		{"our offer again", a.Offer, "2"},
		{"answer with one codec", func() []byte { return a.Marshal(offer) }, "3"},
		{"hold", func() []byte { a.Direction = RecvOnly; return a.Marshal(offer) }, "4"},
		{"hold refreshed", func() []byte { return a.Marshal(offer) }, "4"},
	}
	for _, st := range steps {
		if got := version(st.sdp()); got != st.want {
			t.Fatalf("%s: o= version %s, want %s", st.what, got, st.want)
		}
	}
}

// The answer's telephone-event fmtp echoes the offer's events, limited to
// the keys (0-15).
func TestAnswerEchoesTelephoneEvents(t *testing.T) {
	tests := []struct {
		fmtp string // "" for no fmtp line
		want string // the answer's fmtp, "" for no telephone-event
	}{
		{"0-15", "0-15"},
		{"0-16", "0-15"},
		{"0-11", "0-11"},
		{"0-9,11,12-15", "0-9,11-15"},
		{"", "0-15"},
		{"16", ""}, // flash only: nothing we take, no telephone-event
		{"x-y, 3", "3"},
	}
	for _, tt := range tests {
		lines := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
			"m=audio 5000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"}
		if tt.fmtp != "" {
			lines = append(lines, "a=fmtp:101 "+tt.fmtp)
		}
		offer, err := ParseSDP(sdpLines(lines...))
		if err != nil {
			t.Fatal(err)
		}
		neg, err := Negotiate(offer, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := Answer{Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000, Negotiated: neg}
		got := ""
		for _, line := range strings.Split(string(a.Marshal(offer)), "\r\n") {
			if p, ok := strings.CutPrefix(line, "a=fmtp:101 "); ok {
				got = p
			}
		}
		if got != tt.want {
			t.Errorf("offer fmtp %q: answer fmtp %q, want %q", tt.fmtp, got, tt.want)
		}
		if (tt.want == "") != (neg.DTMFPayloadType == 0) {
			t.Errorf("offer fmtp %q: DTMF payload type %d", tt.fmtp, neg.DTMFPayloadType)
		}
	}
}
