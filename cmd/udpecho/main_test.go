package main

import (
	"bytes"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCall: INVITE gets a 200 with SDP (and the same 200 again when
// retransmitted), RTP sent to the SDP's port comes back, INFO and BYE get a
// 200, and the BYE closes the RTP socket.
func TestCall(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(conn)
	done := make(chan struct{})
	go func() { s.serve(); close(done) }()
	defer func() {
		conn.Close()
		<-done
		s.close()
	}()

	ua, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	request := func(method string, cseq int, body string) string {
		t.Helper()
		msg := method + " sip:conference@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-" + method + "\r\n" +
			"From: <sip:sipp@127.0.0.1>;tag=1\r\nTo: <sip:conference@127.0.0.1>\r\n" +
			"Call-ID: test-1\r\nCSeq: " + string(rune('0'+cseq)) + " " + method + "\r\n" +
			"Content-Length: " + string(rune('0'+len(body))) + "\r\n\r\n" + body
		if _, err := ua.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		_ = ua.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := ua.Read(buf)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		resp := string(buf[:n])
		if !strings.HasPrefix(resp, "SIP/2.0 200 OK\r\n") || !strings.Contains(resp, "CSeq: "+string(rune('0'+cseq))+" "+method) ||
			!strings.Contains(resp, "Call-ID: test-1\r\n") || !strings.Contains(resp, ";tag=udpecho") {
			t.Fatalf("%s: response:\n%s", method, resp)
		}
		return resp
	}

	ok := request("INVITE", 1, "")
	if again := request("INVITE", 1, ""); again != ok {
		t.Fatalf("retransmitted INVITE: different 200:\n%s\n%s", ok, again)
	}
	m := regexp.MustCompile(`m=audio (\d+) RTP/AVP 0 101`).FindStringSubmatch(ok)
	if m == nil {
		t.Fatalf("no m= line:\n%s", ok)
	}
	rtpAddr, _ := net.ResolveUDPAddr("udp", "127.0.0.1:"+m[1])
	media, err := net.DialUDP("udp", nil, rtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	packet := append([]byte{0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4}, bytes.Repeat([]byte{0xff}, 160)...)
	if _, err := media.Write(packet); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = media.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := media.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], packet) {
		t.Fatalf("echo: %v, %d bytes", err, n)
	}

	request("INFO", 2, "5")
	request("BYE", 3, "")
	if calls, packets := s.close(); calls != 1 || packets != 1 {
		t.Fatalf("calls %d, packets %d; want 1, 1", calls, packets)
	}
	_, _ = media.Write(packet)
	_ = media.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := media.Read(buf); err == nil {
		t.Fatal("echo after BYE")
	}
}
