package sipua

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawPeer is a SIP peer written by hand, for tests that need to see every
// header the bridge sends and every connection it makes: one socket (UDP,
// or a TCP connection to the bridge) plus, for TCP, a listener for the
// Contact that counts the connections the bridge opens to it.
type rawPeer struct {
	t         *testing.T
	transport string // "UDP" or "TCP"
	conn      net.Conn
	stream    *bufio.Reader // TCP
	contact   string        // host:port of our Contact
	ln        net.Listener  // TCP: our Contact's listener
	accepted  chan net.Conn // connections the bridge opened to ln
	fromTag   string
	toTag     string // the bridge's tag, from its first tagged response
	callID    string
	cseq      int
}

func newRawPeer(t *testing.T, ts *testServer, transport string) *rawPeer {
	t.Helper()
	p := &rawPeer{t: t, transport: strings.ToUpper(transport), fromTag: sip.GenerateTagN(8),
		callID: sip.GenerateTagN(16) + "@rawpeer", accepted: make(chan net.Conn, 8)}
	var port int
	for _, a := range ts.Addrs() {
		if strings.EqualFold(a.Transport, transport) {
			port = a.Port
		}
	}
	target := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var err error
	if p.transport == "TCP" {
		p.ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := p.ln.Accept()
				if err != nil {
					return
				}
				p.accepted <- c
			}
		}()
		p.contact = p.ln.Addr().String()
		p.conn, err = net.Dial("tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		p.stream = bufio.NewReader(p.conn)
	} else {
		p.conn, err = net.Dial("udp", target)
		if err != nil {
			t.Fatal(err)
		}
		p.contact = p.conn.LocalAddr().String()
	}
	t.Cleanup(func() {
		_ = p.conn.Close()
		if p.ln != nil {
			_ = p.ln.Close()
		}
	})
	return p
}

// request builds an in-dialog (once toTag is known) or initial request.
func (p *rawPeer) request(method string, cseq int, headers []string, body string) string {
	via := p.conn.LocalAddr().String()
	to := "<sip:conference@127.0.0.1>"
	if p.toTag != "" {
		to += ";tag=" + p.toTag
	}
	contact := "<sip:raw@" + p.contact
	if p.transport == "TCP" {
		contact += ";transport=tcp"
	}
	contact += ">"
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:conference@%s SIP/2.0\r\n", method, p.conn.RemoteAddr())
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n", p.transport, via, sip.GenerateTagN(10))
	fmt.Fprintf(&b, "From: <sip:caller@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\n", p.fromTag, to, p.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\nContact: %s\r\nMax-Forwards: 70\r\n", cseq, method, contact)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

func (p *rawPeer) send(msg string) {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(msg)); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// invite sends an INVITE with an offer and returns its CSeq.
func (p *rawPeer) invite(headers ...string) int {
	return p.inviteWith(p.offer(), headers...)
}

// inviteWith sends an INVITE with this body and returns its CSeq.
func (p *rawPeer) inviteWith(body string, headers ...string) int {
	p.cseq++
	p.send(p.request("INVITE", p.cseq, headers, body))
	return p.cseq
}

func (p *rawPeer) offer() string {
	return string(sdpLines("v=0", "o=raw 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 40998 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"))
}

// ack acknowledges a 2xx to the INVITE with this CSeq.
func (p *rawPeer) ack(cseq int) {
	p.send(p.request("ACK", cseq, nil, ""))
}

// read returns the next message from the bridge on our socket, or nil
// after timeout.
func (p *rawPeer) read(timeout time.Duration) sip.Message {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(timeout))
	var data []byte
	if p.stream != nil {
		var err error
		data, err = readStreamMessage(p.stream)
		if err != nil {
			return nil
		}
	} else {
		buf := make([]byte, 65535)
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil
		}
		data = buf[:n]
	}
	msg, err := sip.ParseMessage(data)
	if err != nil {
		p.t.Fatalf("bridge sent an unparsable message: %v\n%s", err, data)
	}
	if res, ok := msg.(*sip.Response); ok && p.toTag == "" {
		if tag, ok := res.To().Params.Get("tag"); ok {
			p.toTag = tag
		}
	}
	return msg
}

// response waits for the response with this code (skipping others).
func (p *rawPeer) response(code int, timeout time.Duration) *sip.Response {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msg := p.read(time.Until(deadline))
		res, ok := msg.(*sip.Response)
		if !ok {
			continue
		}
		if res.StatusCode == code {
			return res
		}
		if res.StatusCode >= 200 && res.StatusCode != 200 {
			p.t.Fatalf("got %d %s from the bridge, want %d", res.StatusCode, res.Reason, code)
		}
	}
	p.t.Fatalf("no %d from the bridge within %v", code, timeout)
	return nil
}

// request waits for a request with this method from the bridge on our
// socket, answering nothing meanwhile.
func (p *rawPeer) awaitRequest(method sip.RequestMethod, timeout time.Duration) *sip.Request {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msg := p.read(time.Until(deadline))
		if req, ok := msg.(*sip.Request); ok && req.Method == method {
			return req
		}
	}
	return nil
}

// reply answers a request from the bridge.
func (p *rawPeer) reply(req *sip.Request, code int, reason string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	p.send(res.String())
}

// readStreamMessage reads one SIP message from a TCP stream.
func readStreamMessage(r *bufio.Reader) ([]byte, error) {
	var head bytes.Buffer
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if head.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // keepalive CRLF
		}
		head.WriteString(line)
		name, value, ok := strings.Cut(line, ":")
		if ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(head.Bytes(), body...), nil
}

// header is a message's header value, "" if it has none.
func header(msg sip.Message, name string) string {
	if hs := msg.GetHeaders(name); len(hs) > 0 {
		return hs[0].Value()
	}
	return ""
}
