// Command udpecho is the zero-work floor of scripts/bench-load.sh: a bridge
// that does nothing. It answers just enough SIP for sipp's load scenarios
// (testdata/sipp/load_participant.xml): an INVITE gets a 200 whose SDP points
// at a new RTP socket of its own for that call (PCMU, telephone-event/101),
// any other request (INFO keys, BYE) gets a 200, and a BYE closes the call's
// socket. Every RTP packet a call's socket receives is sent straight back to
// where it came from, so the machine carries the same packet rate in both
// directions as with the bridge, with no decoding, mixing or timers. The CPU
// it uses is what receiving and sending the packets costs on their own.
//
//	udpecho -sip 127.0.0.1:5070
//
// Loopback use only: the RTP sockets bind the SIP address's host. It prints
// "udpecho: ready ..." once listening and, on SIGTERM or SIGINT, how many
// calls and packets it saw.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

func main() {
	addr := flag.String("sip", "127.0.0.1:5070", "UDP address to answer SIP on (host:port)")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpecho: -sip:", err)
		os.Exit(2)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpecho:", err)
		os.Exit(1)
	}
	s := newServer(conn)
	fmt.Printf("udpecho: ready sip udp %s\n", conn.LocalAddr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() { s.serve(); close(done) }()
	<-sig
	conn.Close()
	<-done
	calls, packets := s.close()
	fmt.Printf("udpecho: %d calls, %d RTP packets echoed\n", calls, packets)
}

// server is the SIP side: one UDP socket, calls by Call-ID.
type server struct {
	conn *net.UDPConn
	ip   netip.Addr

	mu     sync.Mutex
	calls  map[string]*call
	total  int
	closed uint64 // packets echoed by calls already gone
}

// call is one answered INVITE: its RTP socket and the 200 sent for it
// (sent again when the INVITE is retransmitted).
type call struct {
	rtp     *net.UDPConn
	ok      []byte
	packets atomic.Uint64
}

func newServer(conn *net.UDPConn) *server {
	return &server{
		conn:  conn,
		ip:    conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(),
		calls: map[string]*call{},
	}
}

// serve answers requests until the SIP socket is closed.
func (s *server) serve() {
	buf := make([]byte, 65536)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if out := s.handle(buf[:n]); out != nil {
			_, _ = s.conn.WriteToUDPAddrPort(out, from)
		}
	}
}

// handle returns the response to one datagram, or nil (responses, ACK,
// anything unreadable).
func (s *server) handle(msg []byte) []byte {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	method, _, _ := strings.Cut(lines[0], " ")
	if method == "" || method == "SIP/2.0" || method == "ACK" {
		return nil
	}
	var callID string
	var copied []string // Via, From, To, Call-ID, CSeq in their order
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "call-id", "i":
			callID = strings.TrimSpace(value)
			copied = append(copied, l)
		case "to", "t":
			if !strings.Contains(strings.ToLower(value), ";tag=") {
				l += ";tag=udpecho"
			}
			copied = append(copied, l)
		case "via", "v", "from", "f", "cseq":
			copied = append(copied, l)
		}
	}
	if callID == "" {
		return nil
	}
	switch method {
	case "INVITE":
		return s.invite(callID, copied)
	case "BYE":
		s.bye(callID)
	}
	return response(copied, "", "")
}

// invite opens the call's RTP socket and starts echoing on it.
func (s *server) invite(callID string, headers []string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[callID]; c != nil {
		return c.ok
	}
	rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.ip, 0)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpecho: RTP socket:", err)
		return response(headers, "", "") // sipp counts the call as failed: no SDP
	}
	port := rtp.LocalAddr().(*net.UDPAddr).Port
	ip := s.ip.String()
	sdp := "v=0\r\no=udpecho 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
	sipPort := s.conn.LocalAddr().(*net.UDPAddr).Port
	c := &call{rtp: rtp, ok: response(headers, "<sip:udpecho@"+ip+":"+strconv.Itoa(sipPort)+">", sdp)}
	s.calls[callID] = c
	s.total++
	go c.echo()
	return c.ok
}

// bye closes the call's socket (its echo goroutine ends).
func (s *server) bye(callID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[callID]; c != nil {
		c.rtp.Close()
		s.closed += c.packets.Load()
		delete(s.calls, callID)
	}
}

// close ends every call and returns the calls answered and packets echoed.
func (s *server) close() (int, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.calls {
		c.rtp.Close()
		s.closed += c.packets.Load()
		delete(s.calls, id)
	}
	return s.total, s.closed
}

// echo sends every packet back to its sender until the socket is closed.
func (c *call) echo() {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		_, _ = c.rtp.WriteToUDPAddrPort(buf[:n], from)
		c.packets.Add(1)
	}
}

// response builds a 200 OK with the request's Via, From, To (tagged),
// Call-ID and CSeq, and a Contact and SDP body when given.
func response(headers []string, contact, sdp string) []byte {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	if contact != "" {
		b.WriteString("Contact: " + contact + "\r\n")
	}
	if sdp != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n")
	b.WriteString(sdp)
	return []byte(b.String())
}
