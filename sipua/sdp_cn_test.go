package sipua

import (
	"strings"
	"testing"

	"net/netip"
)

// TestComfortNoiseAnswered: CN/8000 on PT 13 in the offer is answered
// (it counts as media); PT 13 redefined to something else, or absent, is not.
func TestComfortNoiseAnswered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mline  string
		rtpmap []string
		want   bool
	}{
		{"CN/8000", "m=audio 5000 RTP/AVP 0 101 13", []string{"a=rtpmap:101 telephone-event/8000", "a=rtpmap:13 CN/8000"}, true},
		{"static, no rtpmap", "m=audio 5000 RTP/AVP 8 13", nil, true},
		{"not offered", "m=audio 5000 RTP/AVP 0", nil, false},
		{"PT 13 redefined", "m=audio 5000 RTP/AVP 0 13", []string{"a=rtpmap:13 foo/8000"}, false},
		{"CN at 16 kHz", "m=audio 5000 RTP/AVP 0 13", []string{"a=rtpmap:13 CN/16000"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := append([]string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", tc.mline}, tc.rtpmap...)
			offer, err := ParseSDP(sdpLines(lines...))
			if err != nil {
				t.Fatal(err)
			}
			neg, err := Negotiate(offer, nil)
			if err != nil {
				t.Fatal(err)
			}
			if neg.ComfortNoise != tc.want {
				t.Fatalf("ComfortNoise = %v, want %v", neg.ComfortNoise, tc.want)
			}
			a := Answer{Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000, SessionID: 42, Version: 1, Negotiated: neg}
			got := string(a.Marshal(offer))
			mline, _, _ := strings.Cut(got[strings.Index(got, "m=audio"):], "\r\n")
			hasCN := strings.HasSuffix(mline, " 13") && strings.Contains(got, "\r\na=rtpmap:13 CN/8000\r\n")
			if hasCN != tc.want {
				t.Errorf("answer has CN = %v, want %v:\n%s", hasCN, tc.want, got)
			}
			// The answer is itself a valid offer, and keeps CN.
			again, err := ParseSDP([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if n, err := Negotiate(again, nil); err != nil || n.ComfortNoise != tc.want || n.Codec != neg.Codec {
				t.Errorf("answer re-read: %+v, %v", n, err)
			}
		})
	}
}
