package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// FieldError is one problem with one field, named by its YAML path
// (e.g. "sip.listen[1]") so the operator can find it in the file.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// problems collects field errors so Validate reports them all at once.
type problems []error

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks every field and returns all problems found, joined with
// errors.Join; each is a *FieldError. It reads the file system only to check
// that a prompts folder, when set, exists.
func (c *Config) Validate() error {
	var p problems
	c.SIP.validate(&p)
	c.RTP.validate(&p)
	c.Limits.validate(&p)
	c.IVR.validate(&p)
	c.Lobby.validate(&p)
	c.Meeting.validate(&p)
	c.Log.validate(&p)
	c.Admin.validate(&p)
	c.Email.validate(&p)
	c.Metrics.validate(&p)
	c.CallRecords.validate(&p)
	c.Store.validate(&p)
	c.Cluster.validate(&p, c.Store)

	// Each call holds one even RTP port, so more calls than ports would fail
	// at answer time instead of getting a clean 503.
	if n := evenPorts(c.RTP.PortMin, c.RTP.PortMax); n >= 2 && c.Limits.MaxCalls > n {
		p.add("limits.max_calls", "%d is more than the %d even RTP ports in rtp.port_min-rtp.port_max (%d-%d)",
			c.Limits.MaxCalls, n, c.RTP.PortMin, c.RTP.PortMax)
	}

	if c.Prompts != "" {
		if fi, err := os.Stat(c.Prompts); err != nil {
			p.add("prompts", "%q: %v", c.Prompts, unwrapPathError(err))
		} else if !fi.IsDir() {
			p.add("prompts", "%q is not a directory", c.Prompts)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		p.add("data_dir", "is empty")
	}
	c.validatePINSecretFile(&p)
	return errors.Join(p...)
}

func (s *SIP) validate(p *problems) {
	if len(s.Listen) == 0 {
		p.add("sip.listen", "is empty; give at least one address like \"udp:127.0.0.1:5060\"")
	}
	seen := make(map[ListenAddr]int)
	for i, l := range s.Listen {
		path := fmt.Sprintf("sip.listen[%d]", i)
		a, err := parseListen(l)
		if err != nil {
			p.add(path, "%v", err)
			continue
		}
		if j, dup := seen[a]; dup && a.Port != 0 {
			p.add(path, "%q repeats sip.listen[%d]", l, j)
		}
		seen[a] = i
	}

	if len(s.TrustedNetworks) == 0 {
		p.add("sip.trusted_networks", "is empty, so no trunk could call; list the networks your trunks send from (0.0.0.0/0 and ::/0 accept any source)")
	}
	for i, n := range s.TrustedNetworks {
		if _, err := ParseNetwork(n); err != nil {
			p.add(fmt.Sprintf("sip.trusted_networks[%d]", i), "%v", err)
		}
	}

	s.Auth.validate(p)

	if s.PublicAddress != "" {
		ip, err := netip.ParseAddr(s.PublicAddress)
		switch {
		case err != nil || ip.Zone() != "":
			p.add("sip.public_address", "%q is not an IP address", s.PublicAddress)
		case ip.IsUnspecified():
			p.add("sip.public_address", "%s cannot be reached by callers; give the address they should send to", s.PublicAddress)
		}
	}

	for i, n := range s.CalledNumbers {
		path := fmt.Sprintf("sip.called_numbers[%d]", i)
		switch {
		case n == "":
			p.add(path, "is empty")
		case strings.IndexFunc(n, unicode.IsSpace) >= 0:
			p.add(path, "%q contains a space", n)
		}
	}

	if s.AnswerDelay < 0 || s.AnswerDelay > time.Minute {
		p.add("sip.answer_delay", "%v is not between 0s and 1m0s", s.AnswerDelay)
	}
	switch s.DTMF {
	case DTMFAuto, DTMFRFC4733, DTMFInfo, DTMFInband:
	default:
		p.add("sip.dtmf", "%q is not one of auto, rfc4733, info, inband", s.DTMF)
	}
	// The value goes into a header: a line break would inject headers.
	if strings.IndexFunc(s.UserAgent, unicode.IsControl) >= 0 {
		p.add("sip.user_agent", "%q contains a control character", s.UserAgent)
	}
	s.validateSessionTimers(p)
	s.validateEdge(p)
	s.validateCarriers(p)
	s.validateOptionsInterval(p)
}

// validateSessionTimers checks sip.min_se and sip.session_expires (RFC
// 4028 asks 90 s at least on the wire; tests go lower).
func (s *SIP) validateSessionTimers(p *problems) {
	if s.MinSE < time.Second || s.MinSE > time.Hour {
		p.add("sip.min_se", "%v is not between 1s and 1h0m0s", s.MinSE)
	}
	if s.SessionExpires > 24*time.Hour {
		p.add("sip.session_expires", "%v is above 24h0m0s", s.SessionExpires)
	} else if s.SessionExpires < s.MinSE {
		p.add("sip.session_expires", "%v is below sip.min_se (%v)", s.SessionExpires, s.MinSE)
	}
}

// validateEdge checks what guards the listeners: sip.tcp and sip.untrusted.
func (s *SIP) validateEdge(p *problems) {
	if s.TCP.MaxConnections < 0 || s.TCP.MaxConnections > 1_000_000 {
		p.add("sip.tcp.max_connections", "%d is not between 0 (sized from limits.max_calls) and 1000000", s.TCP.MaxConnections)
	}
	if s.TCP.MaxPerSource < 1 || s.TCP.MaxPerSource > 1_000_000 {
		p.add("sip.tcp.max_per_source", "%d is not between 1 and 1000000", s.TCP.MaxPerSource)
	}
	if s.TCP.IdleTimeout < time.Second || s.TCP.IdleTimeout > 24*time.Hour {
		p.add("sip.tcp.idle_timeout", "%v is not between 1s and 24h0m0s", s.TCP.IdleTimeout)
	}
	switch s.Untrusted {
	case UntrustedDrop, UntrustedReject:
	default:
		p.add("sip.untrusted", "%q is not drop or reject", s.Untrusted)
	}
}

// validateOptionsInterval: 0 (off) or 1s to 1h; shorter would flood a
// trunk with probes, longer leaves dead calls up for hours.
func (s *SIP) validateOptionsInterval(p *problems) {
	if d := s.OptionsInterval; d != 0 && (d < time.Second || d > time.Hour) {
		p.add("sip.options_interval", "%v is not 0s (off) or between 1s and 1h0m0s", d)
	}
}

func (r *RTP) validate(p *problems) {
	okMin := checkRTPPort(p, "rtp.port_min", r.PortMin)
	okMax := checkRTPPort(p, "rtp.port_max", r.PortMax)
	if okMin && okMax {
		if r.PortMin >= r.PortMax {
			p.add("rtp.port_min", "%d is not below rtp.port_max (%d)", r.PortMin, r.PortMax)
		} else if n := evenPorts(r.PortMin, r.PortMax); n < 2 {
			p.add("rtp.port_max", "range %d-%d holds %d even port(s); need at least 2", r.PortMin, r.PortMax, n)
		}
	}
	if r.InactivityTimeout < time.Second {
		p.add("rtp.inactivity_timeout", "%v is below 1s", r.InactivityTimeout)
	}
	if r.RTCPInterval != 0 && (r.RTCPInterval < 100*time.Millisecond || r.RTCPInterval > time.Minute) {
		p.add("rtp.rtcp_interval", "%v is not 0 (no reports) or 100ms-1m", r.RTCPInterval)
	}
	r.validateLatch(p)
}

func (r *RTP) validateLatch(p *problems) {
	switch r.Latch {
	case RTPLatchSDP, RTPLatchSignalling, RTPLatchAny:
	default:
		p.add("rtp.latch", "%q is not one of sdp, signalling, any", r.Latch)
	}
}

// checkRTPPort reports whether port is usable for RTP, adding a problem if not.
func checkRTPPort(p *problems, path string, port int) bool {
	switch {
	case port < 1 || port > 65535:
		p.add(path, "%d is not a port (1-65535)", port)
	case port < 1024:
		p.add(path, "%d is a privileged port; RTP uses 1024-65535", port)
	default:
		return true
	}
	return false
}

// evenPorts counts the even ports in [lo, hi]; RTP uses even ports and
// leaves the odd one above each for RTCP.
func evenPorts(lo, hi int) int {
	if lo%2 != 0 {
		lo++
	}
	if hi%2 != 0 {
		hi--
	}
	if hi < lo {
		return 0
	}
	return (hi-lo)/2 + 1
}

func (l *Limits) validate(p *problems) {
	if l.MaxCalls < 1 {
		p.add("limits.max_calls", "%d is below 1", l.MaxCalls)
	}
	if l.RetryAfter < time.Second {
		p.add("limits.retry_after", "%v is below 1s (Retry-After is in whole seconds)", l.RetryAfter)
	}
	if l.ShutdownGrace < 0 {
		p.add("limits.shutdown_grace", "%v is negative", l.ShutdownGrace)
	}
	if l.MaxCallDuration < 0 {
		p.add("limits.max_call_duration", "%v is negative (0s means no limit)", l.MaxCallDuration)
	}
}

func (l *Log) validate(p *problems) {
	switch l.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		p.add("log.level", "%q is not one of trace, debug, info, warn, error", l.Level)
	}
	switch l.Format {
	case "console", "json":
	default:
		p.add("log.format", "%q is not one of console, json", l.Format)
	}
}

// ListenAddr is one parsed sip.listen entry.
type ListenAddr struct {
	Transport string // "udp" or "tcp"
	Host      string // IP literal without brackets; "" listens on all addresses
	Port      int    // 0 picks a free port
}

// Address is the host:port form that net.Listen and sipgo take.
func (a ListenAddr) Address() string {
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}

// String is the form written in the file, e.g. "udp:[::1]:5060".
func (a ListenAddr) String() string {
	return a.Transport + ":" + a.Address()
}

// ListenAddrs parses the listen list. Errors name the entry, as Validate does.
func (s SIP) ListenAddrs() ([]ListenAddr, error) {
	if len(s.Listen) == 0 {
		return nil, &FieldError{Path: "sip.listen", Msg: "is empty"}
	}
	addrs := make([]ListenAddr, 0, len(s.Listen))
	var errs []error
	for i, l := range s.Listen {
		a, err := parseListen(l)
		if err != nil {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("sip.listen[%d]", i), Msg: err.Error()})
			continue
		}
		addrs = append(addrs, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return addrs, nil
}

// parseListen parses "udp:host:port" or "tcp:host:port"; an IPv6 host is
// written in brackets ("udp:[::1]:5060").
func parseListen(s string) (ListenAddr, error) {
	transport, hostport, ok := strings.Cut(s, ":")
	if !ok {
		return ListenAddr{}, fmt.Errorf("%q has no transport; write \"udp:host:port\" or \"tcp:host:port\"", s)
	}
	if transport != "udp" && transport != "tcp" {
		return ListenAddr{}, fmt.Errorf("%q: transport %q is not udp or tcp", s, transport)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		var ae *net.AddrError
		switch {
		case errors.As(err, &ae) && ae.Err == "missing port in address":
			return ListenAddr{}, fmt.Errorf("%q has no port", s)
		case errors.As(err, &ae) && ae.Err == "too many colons in address":
			return ListenAddr{}, fmt.Errorf("%q: write an IPv6 address in brackets, like \"%s:[::1]:5060\"", s, transport)
		}
		return ListenAddr{}, fmt.Errorf("%q: %v", s, err)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return ListenAddr{}, fmt.Errorf("%q: host %q is not an IP address", s, host)
		}
	}
	if port == "" {
		return ListenAddr{}, fmt.Errorf("%q has no port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return ListenAddr{}, fmt.Errorf("%q: %q is not a port (0-65535)", s, port)
	}
	return ListenAddr{Transport: transport, Host: host, Port: n}, nil
}

// unwrapPathError drops the path from an *os.PathError, which the caller
// has already quoted.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (a *Admin) validate(p *problems) {
	if a.Listen != "" {
		if _, port, err := net.SplitHostPort(a.Listen); err != nil {
			p.add("admin.listen", "%q is not host:port", a.Listen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			p.add("admin.listen", "%q: port %q is not 0-65535", a.Listen, port)
		}
	}
	if a.Token != "" && len(a.Token) < 16 {
		p.add("admin.token", "is %d characters; use at least 16 (or leave it empty to have one generated)", len(a.Token))
	}
	if strings.IndexFunc(a.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		p.add("admin.token", "contains a space or control character")
	}
	validateTokens(a.Tokens, p)
	if (a.TLSCert == "") != (a.TLSKey == "") {
		p.add("admin.tls_cert", "tls_cert and tls_key go together: give both or neither")
	}
	if a.UserTokenTTL < time.Minute || a.UserTokenTTL > 366*24*time.Hour {
		p.add("admin.user_token_ttl", "%v is not 1m-8784h (a year)", a.UserTokenTTL)
	}
	if a.SessionIdle < time.Second || a.SessionIdle > 24*time.Hour {
		p.add("admin.session_idle", "%v is not 1s-24h", a.SessionIdle)
	}
	if a.SessionMax < a.SessionIdle || a.SessionMax > 7*24*time.Hour {
		p.add("admin.session_max", "%v is not from session_idle (%v) to 168h (a week)", a.SessionMax, a.SessionIdle)
	}
	if a.PublicURL != "" {
		u, err := url.Parse(a.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			p.add("admin.public_url", "%q is not http(s)://host[:port] (no path, query or credentials)", a.PublicURL)
		}
	}
	for _, f := range []struct{ path, file string }{{"admin.tls_cert", a.TLSCert}, {"admin.tls_key", a.TLSKey}} {
		if f.file == "" {
			continue
		}
		if _, err := os.Stat(f.file); err != nil {
			p.add(f.path, "%q: %v", f.file, unwrapPathError(err))
		}
	}
}

func (e *Email) validate(p *problems) {
	if e.SMTPHost != "" && strings.IndexFunc(e.SMTPHost, func(r rune) bool { return r <= ' ' || r == '/' }) >= 0 {
		p.add("email.smtp_host", "%q is not a host name", e.SMTPHost)
	}
	if e.SMTPPort < 1 || e.SMTPPort > 65535 {
		p.add("email.smtp_port", "%d is not a port (1-65535)", e.SMTPPort)
	}
	switch e.Security {
	case "starttls", "tls", "none":
	default:
		p.add("email.security", "%q is not starttls, tls or none", e.Security)
	}
	if e.Password != "" && e.Username == "" {
		p.add("email.username", "is empty but a password is set")
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		p.add("email.from", "%q is not an address like \"Name <user@example.com>\"", e.From)
	}
	if e.Timeout < time.Second || e.Timeout > 5*time.Minute {
		p.add("email.timeout", "%v is not between 1s and 5m0s", e.Timeout)
	}
	if e.RetryMin < 100*time.Millisecond {
		p.add("email.retry_min", "%v is below 100ms", e.RetryMin)
	}
	if e.RetryMax < e.RetryMin {
		p.add("email.retry_max", "%v is below email.retry_min (%v)", e.RetryMax, e.RetryMin)
	}
	if e.MaxAttempts < 1 || e.MaxAttempts > 1000 {
		p.add("email.max_attempts", "%d is not 1-1000", e.MaxAttempts)
	}
	if e.Retention < time.Minute {
		p.add("email.retention", "%v is below 1m0s", e.Retention)
	}
}

func (v *IVR) validate(p *problems) {
	between := func(path string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			p.add(path, "%v is not between %v and %v", d, lo, hi)
		}
	}
	between("ivr.first_digit_timeout", v.FirstDigitTimeout, time.Second, 2*time.Minute)
	between("ivr.inter_digit_timeout", v.InterDigitTimeout, time.Second, time.Minute)
	between("ivr.organizer_wait", v.OrganizerWait, time.Second, time.Minute)
	if v.MaxAttempts < 1 || v.MaxAttempts > 10 {
		p.add("ivr.max_attempts", "%d is not 1-10", v.MaxAttempts)
	}
	if v.GuessLimit < 0 {
		p.add("ivr.guess_limit", "%d is negative (0 turns the limit off)", v.GuessLimit)
	}
	if v.GuessLimit > 0 {
		between("ivr.guess_window", v.GuessWindow, time.Second, 24*time.Hour)
		between("ivr.guess_cooloff", v.GuessCooloff, time.Second, 24*time.Hour)
	}
	v.validateCarrierGuess(p)
}

func (l *Lobby) validate(p *problems) {
	if l.Music != "" {
		if fi, err := os.Stat(l.Music); err != nil {
			p.add("lobby.music", "%q: %v", l.Music, unwrapPathError(err))
		} else if fi.IsDir() {
			p.add("lobby.music", "%q is a directory, not a WAV file", l.Music)
		}
	}
	if l.NoticeInterval < 10*time.Second || l.NoticeInterval > time.Hour {
		p.add("lobby.notice_interval", "%v is not between 10s and 1h0m0s", l.NoticeInterval)
	}
	if l.Timeout < time.Minute || l.Timeout > 24*time.Hour {
		p.add("lobby.timeout", "%v is not between 1m0s and 24h0m0s", l.Timeout)
	}
}

// maxJitterDepth matches media.MaxJitterDepth (config does not import media).
const maxJitterDepth = 50

func (m *Meeting) validate(p *problems) {
	if m.MaxParticipants < 2 || m.MaxParticipants > 10000 {
		p.add("meeting.max_participants", "%d is not 2-10000", m.MaxParticipants)
	}
	if m.JitterDepth < 1 || m.JitterDepth > maxJitterDepth {
		p.add("meeting.jitter_depth", "%d is not 1-%d (frames of 20 ms)", m.JitterDepth, maxJitterDepth)
	}
	if m.KeyTimeout < 500*time.Millisecond || m.KeyTimeout > 10*time.Second {
		p.add("meeting.key_timeout", "%v is not between 500ms and 10s", m.KeyTimeout)
	}
	keys := m.Keys.List()
	for i, k := range keys {
		path := "meeting.keys." + k.Name
		if len(k.Keys) < 2 || len(k.Keys) > 4 || k.Keys[0] != '*' || strings.Trim(k.Keys[1:], "0123456789") != "" {
			p.add(path, "%q is not a star and 1-3 digits, like *6", k.Keys)
			continue
		}
		for _, o := range keys[:i] {
			switch {
			case o.Keys == k.Keys:
				p.add(path, "%q is also meeting.keys.%s", k.Keys, o.Name)
			case strings.HasPrefix(o.Keys, k.Keys):
				p.add(path, "%q is the start of meeting.keys.%s (%q), so that one could never be pressed", k.Keys, o.Name, o.Keys)
			case strings.HasPrefix(k.Keys, o.Keys):
				p.add(path, "%q starts with meeting.keys.%s (%q), so it could never be pressed", k.Keys, o.Name, o.Keys)
			}
		}
	}
}

// ParseNetwork reads one sip.trusted_networks entry: a CIDR prefix
// ("192.0.2.0/24", "2001:db8::/32") or a single address ("192.0.2.7",
// which means /32). A prefix with host bits set ("10.1.2.3/8") is refused
// rather than guessed at: it is usually a typo for an address or a network.
func ParseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or a network (CIDR, e.g. 192.0.2.0/24)", s)
		}
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a network (CIDR, e.g. 192.0.2.0/24)", s)
	}
	if pfx.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q: write IPv4 networks as IPv4 (e.g. 192.0.2.0/24)", s)
	}
	if m := pfx.Masked(); m != pfx {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: the network is %s", s, m)
	}
	return pfx, nil
}

// minSIPPassword is the shortest trunk password taken: the digest is
// computed with MD5, which only a long password keeps from being guessed
// off a captured exchange.
const minSIPPassword = 12

func (a SIPAuth) validate(p *problems) {
	// The three go between double quotes in the challenge and answer.
	quoted := func(path, v string) {
		if strings.ContainsAny(v, "\"\\") || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			p.add(path, "may not contain a double quote, a backslash or a control character")
		}
	}
	quoted("sip.auth.username", a.Username)
	quoted("sip.auth.realm", a.Realm)
	if a.Username == "" {
		if a.Password != "" {
			p.add("sip.auth.password", "is set but sip.auth.username is empty, which turns authentication off; set both or neither")
		}
		return
	}
	if a.Realm == "" {
		p.add("sip.auth.realm", "is empty; name the bridge (e.g. \"dialin\")")
	}
	if n := len([]rune(a.Password)); n < minSIPPassword {
		p.add("sip.auth.password", "is %d characters; use at least %d (e.g. ${DIALIN_SIP_PASSWORD} from the environment)", n, minSIPPassword)
	}
}
