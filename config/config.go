// Package config reads the bridge's YAML configuration, fills in defaults
// that work on loopback with no file at all, and validates every field.
//
// Load reads a file over Default, expands ${NAME} in its string values from
// the environment (secrets stay out of the file), applies the DIALIN_*
// overrides (see ApplyEnv) and validates the result. Durations are written
// with a unit, like "30s" or "500ms"; dialin.example.yaml documents every
// field.
package config

import (
	"strings"
	"time"
)

// Config is the whole configuration file. Every field has a default (see
// Default), so an empty or missing file yields a working loopback bridge.
type Config struct {
	SIP     SIP     `yaml:"sip"`
	RTP     RTP     `yaml:"rtp"`
	Limits  Limits  `yaml:"limits"`
	IVR     IVR     `yaml:"ivr"`
	Lobby   Lobby   `yaml:"lobby"`
	Meeting Meeting `yaml:"meeting"`
	Log     Log     `yaml:"log"`
	Admin   Admin   `yaml:"admin"`
	Email   Email   `yaml:"email"`
	Metrics Metrics `yaml:"metrics"` // metrics.go
	// CallRecords are the call detail records (callrecords.go).
	CallRecords CallRecords `yaml:"call_records"`
	// Prompts is a folder of WAV files (8 kHz, mono, 16-bit) whose names
	// override the embedded prompts of the same name; empty keeps them all.
	Prompts string `yaml:"prompts"`
	// Store is the directory's database engine (store.go): SQLite in
	// data_dir, or a PostgreSQL server.
	Store Store `yaml:"store"`
	// Cluster makes the bridge one node of several (cluster.go).
	Cluster Cluster `yaml:"cluster"`
	// DataDir holds the database (dialin.db, with the sqlite store) and
	// the PIN secret (pin-secret).
	DataDir string `yaml:"data_dir"`
	// Warnings are what Load found worth telling but not refusing (a
	// renamed key); serve logs them, check-config prints them.
	Warnings []string `yaml:"-"`

	// DemoOrganizer creates a demo organizer (demo@example.com) on first
	// start with an empty directory and prints its conference ID and PIN
	// once, so the demo can be called at once. Off unless asked for: Load
	// turns it on only when there is no configuration file at all (make
	// run), so a deployment never gets it silently.
	DemoOrganizer bool `yaml:"demo_organizer"`

	// PINSecretFile is where the PIN secret lives when it is kept out of
	// data_dir (so that a backup of the data folder does not carry it);
	// DIALIN_PIN_SECRET, when set, wins over it. Empty: DIALIN_PIN_SECRET,
	// else $CREDENTIALS_DIRECTORY/pin-secret (systemd), else
	// data_dir/pin-secret.
	PINSecretFile string `yaml:"pin_secret_file"`
}

// SIP is the signalling side: where to listen and what to answer.
type SIP struct {
	// Listen is a list of transport+address pairs, e.g. "udp:127.0.0.1:5060",
	// "tcp:127.0.0.1:5060". Port 0 picks a free port (tests).
	Listen []string `yaml:"listen"`
	// TrustedNetworks are the source networks allowed to send SIP requests
	// (the trunks, SBCs or PBXs), as CIDR prefixes or single addresses.
	// Requests from anywhere else get 403 Forbidden and start nothing.
	TrustedNetworks []string `yaml:"trusted_networks"`
	// Auth, when it has a username, challenges every new call's INVITE
	// for HTTP digest credentials (RFC 3261 §22).
	Auth SIPAuth `yaml:"auth"`
	// PublicAddress is the IP written into SDP c= and the Contact header;
	// empty means the listen address.
	PublicAddress string `yaml:"public_address"`
	// CalledNumbers, when not empty, is the list of called user parts we
	// answer ("+14255550100", "conference"); any other gets 404. (Not the
	// dial-in numbers printed in emails: those are the directory's
	// dial_in_numbers setting, `dialin settings set dial-in-numbers`.)
	CalledNumbers []string `yaml:"called_numbers"`
	// OldDialInNumbers is the key called_numbers had before: still read,
	// with a warning (Config.Warnings), into CalledNumbers.
	OldDialInNumbers []string `yaml:"dial_in_numbers"`
	// AnswerDelay waits this long (sending 180 Ringing) before answering,
	// which makes CANCEL-before-answer testable and mimics a real IVR.
	AnswerDelay time.Duration `yaml:"answer_delay"`
	// UserAgent is the User-Agent / Server header value.
	UserAgent string `yaml:"user_agent"`
	// DTMF is how the trunk sends keys: auto (RFC 4733 events and SIP
	// INFO, and in-band tones when the offer has no telephone-event),
	// rfc4733, info or inband (only that one).
	DTMF string `yaml:"dtmf"`

	// SIP session timers (RFC 4028), how the bridge learns a caller's SIP
	// side is gone: SessionExpires is the interval it asks for when the
	// caller supports timers but proposes none; MinSE is the shortest it
	// accepts (shorter is answered 422 with Min-SE). Sent in whole seconds.
	SessionExpires time.Duration `yaml:"session_expires"`
	MinSE          time.Duration `yaml:"min_se"`
	// TCP bounds the SIP-over-TCP connections peers open to the bridge.
	TCP SIPTCP `yaml:"tcp"`
	// Untrusted is what a UDP datagram from outside TrustedNetworks gets:
	// drop (nothing: no reflection, nothing for a scanner) or reject (one
	// stateless 403 per request, rate-limited). TCP connections from
	// outside are closed at accept either way.
	Untrusted string `yaml:"untrusted"`
	// CarrierNetworks are the trusted networks that are carriers' SBCs or
	// proxies in front of the bridge (Kamailio): one source address there
	// carries many callers, so the guessing guard never refuses such an
	// address, it only meters its wrong entries (ivr.carrier_guess_*).
	// Each entry must lie inside sip.trusted_networks. Empty: no carrier.
	CarrierNetworks []string `yaml:"carrier_networks"`
	// OptionsInterval is how often a call whose media stopped (a silent
	// VAD caller, a hold, or a peer that is gone) is probed with an
	// in-dialog OPTIONS; no answer, 408 or 481 ends the call. 0 turns the
	// probes off: a call then ends after rtp.inactivity_timeout without
	// media, as before.
	OptionsInterval time.Duration `yaml:"options_interval"`
}

// SIPTCP are the limits on accepted SIP-over-TCP connections (connections
// from outside sip.trusted_networks are closed at accept and never count).
type SIPTCP struct {
	// MaxConnections caps the open accepted connections; 0 sizes it from
	// limits.max_calls (max_calls + 64). Either way the bridge lowers it so
	// that the descriptors the calls' media needs stay free.
	MaxConnections int `yaml:"max_connections"`
	// MaxPerSource caps the connections of one source address. An SBC or
	// Kamailio in front reuses one or a few connections for all its calls
	// (RFC 5923); TCP phones behind one NAT address need one each.
	MaxPerSource int `yaml:"max_per_source"`
	// IdleTimeout closes a connection that carried nothing (no message, no
	// CRLF keepalive) this long and has no call on it.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// What untrusted UDP sources get (SIP.Untrusted).
const (
	UntrustedDrop   = "drop"
	UntrustedReject = "reject"
)

// SIPAuth is the digest authentication a trunk must pass to place a call.
type SIPAuth struct {
	// Username and Password are the credentials the trunk is configured
	// with; an empty Username turns authentication off.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Realm names this bridge in the challenge.
	Realm string `yaml:"realm"`
}

// DTMF transports (SIP.DTMF).
const (
	DTMFAuto    = "auto"
	DTMFRFC4733 = "rfc4733"
	DTMFInfo    = "info"
	DTMFInband  = "inband"
)

// IVR is the dial-in menu: its timeouts, attempts, and the limits on
// callers who guess conference IDs and PINs.
type IVR struct {
	// FirstDigitTimeout waits this long for the first key of an entry
	// (re-prompting once, then saying goodbye).
	FirstDigitTimeout time.Duration `yaml:"first_digit_timeout"`
	// InterDigitTimeout ends an entry this long after its last key.
	InterDigitTimeout time.Duration `yaml:"inter_digit_timeout"`
	// OrganizerWait is how long callers may press star to give the
	// organizer's PIN before they go on as attendees.
	OrganizerWait time.Duration `yaml:"organizer_wait"`
	// MaxAttempts is the number of tries at the conference ID (then
	// goodbye) and at the PIN (then the caller goes on as an attendee).
	MaxAttempts int `yaml:"max_attempts"`
	// GuessLimit failed conference IDs and PINs from one calling number or
	// one source address within GuessWindow make the bridge refuse its
	// calls for GuessCooloff (its calls in progress end at their next
	// entry). Anonymous numbers and sip.carrier_networks addresses are not
	// refused this way. 0 turns the limit off. A window ends only
	// GuessWindow after it started, not with a refusal; at least the PIN
	// lockout's window, so that one caller cannot lock a PIN alone.
	GuessLimit   int           `yaml:"guess_limit"`
	GuessWindow  time.Duration `yaml:"guess_window"`
	GuessCooloff time.Duration `yaml:"guess_cooloff"`

	// The guessing budget of each sip.carrier_networks entry: one wrong
	// well-formed conference ID or PIN per CarrierGuessInterval on average,
	// CarrierGuessBurst at once. Past it every entry from that carrier
	// waits its turn (at most CarrierGuessMaxWait; beyond, it is not
	// checked and the call ends with "try later"). New calls are never
	// refused by a carrier's address.
	CarrierGuessInterval time.Duration `yaml:"carrier_guess_interval"`
	CarrierGuessBurst    int           `yaml:"carrier_guess_burst"`
	CarrierGuessMaxWait  time.Duration `yaml:"carrier_guess_max_wait"`
}

// Lobby is where callers wait for the meeting to start or for the
// organizer to admit them.
type Lobby struct {
	// Music is a WAV file (8 kHz, mono, 16-bit) played on a loop instead
	// of the built-in music-on-hold; empty keeps the built-in one.
	Music string `yaml:"music"`
	// NoticeInterval is how often a waiting caller hears why they wait.
	NoticeInterval time.Duration `yaml:"notice_interval"`
	// Timeout hangs up a caller who waited this long (after saying why).
	Timeout time.Duration `yaml:"timeout"`
}

// Meeting is the conference itself: its size, its sounds and its keys.
type Meeting struct {
	// MaxParticipants caps the callers in one meeting, lobby included;
	// the next one hears that the meeting is full.
	MaxParticipants int `yaml:"max_participants"`
	// EndWhenOrganizerLeaves ends the meeting for everyone when its
	// organizer hangs up; otherwise it ends when the last caller leaves.
	EndWhenOrganizerLeaves bool `yaml:"end_when_organizer_leaves"`
	// JoinLeaveTones plays a tone to the meeting when someone joins or
	// leaves, as the directory's entry_exit_announcements setting says at
	// the meeting's start (false: never at the start, whatever it says);
	// the organizer can turn them on or off for a meeting with *23.
	JoinLeaveTones bool `yaml:"join_leave_tones"`
	// JitterDepth is how many 20 ms frames each caller's audio is held
	// before mixing, to ride out network jitter: more is smoother and later.
	JitterDepth int `yaml:"jitter_depth"`
	// KeyTimeout is how long the bridge waits for the next key of an
	// in-meeting command such as *21.
	KeyTimeout time.Duration `yaml:"key_timeout"`
	// Keys are the in-meeting commands (Teams' key map by default).
	Keys MeetingKeys `yaml:"keys"`
}

// MeetingKeys maps each in-meeting command to its keys: a star, then one
// or more digits. No command may be the start of another.
type MeetingKeys struct {
	Help          string `yaml:"help"`          // reads the keys the caller can use
	Count         string `yaml:"count"`         // says how many are in the meeting
	Hand          string `yaml:"hand"`          // raises or lowers the caller's hand
	Mute          string `yaml:"mute"`          // mutes or unmutes the caller
	Lock          string `yaml:"lock"`          // organizer: locks or unlocks the meeting
	Admit         string `yaml:"admit"`         // organizer: admits everyone in the lobby
	MuteAll       string `yaml:"mute_all"`      // organizer: mutes or unmutes every attendee
	Announcements string `yaml:"announcements"` // organizer: join/leave tones on or off
}

// RTP is the media side.
type RTP struct {
	// PortMin and PortMax bound the UDP ports used for RTP (even ports only).
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
	// InactivityTimeout hangs up a call that has sent no RTP for this long.
	InactivityTimeout time.Duration `yaml:"inactivity_timeout"`

	// Latch is whose RTP the session takes (RTPLatch*): the first packet
	// from an allowed address is latched, everything else is dropped.
	Latch string `yaml:"latch"`
	// RTCPInterval is the mean interval of the RTCP reports sent to each
	// caller; 0 sends none.
	RTCPInterval time.Duration `yaml:"rtcp_interval"`
}

// Whose RTP a call takes (RTP.Latch).
const (
	// RTPLatchSDP: only packets from the IP address of the SDP's c= line
	// (any port: symmetric RTP behind NAT changes ports).
	RTPLatchSDP = "sdp"
	// RTPLatchSignalling: packets from the SDP's IP address or from the IP
	// address the INVITE came from (a caller behind NAT names a private
	// address in its SDP; its media leaves the NAT by the same address as
	// its SIP).
	RTPLatchSignalling = "signalling"
	// RTPLatchAny: the first packet from anywhere (no protection against
	// RTP hijacking; for media relays that change address mid-call).
	RTPLatchAny = "any"
)

// Limits protect the bridge under load and bound each call.
type Limits struct {
	// MaxCalls is the number of concurrent calls; the next INVITE gets 503.
	MaxCalls int `yaml:"max_calls"`
	// RetryAfter is the Retry-After value sent with a 503.
	RetryAfter time.Duration `yaml:"retry_after"`
	// ShutdownGrace is how long calls may go on after SIGTERM before BYE.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// MaxCallDuration hangs up any call older than this (0 = no limit).
	MaxCallDuration time.Duration `yaml:"max_call_duration"`
}

// Log chooses the level and format of the logs.
type Log struct {
	// Level is one of trace, debug, info, warn, error.
	Level string `yaml:"level"`
	// Format is console (for people) or json (for machines).
	Format string `yaml:"format"`
}

// Admin is the administration REST API (and the address the dialin
// subcommands talk to).
type Admin struct {
	// Listen is the API's host:port; empty turns the API off.
	Listen string `yaml:"listen"`
	// Token is the administrators' bearer token (at least 16 characters).
	// Empty: DIALIN_ADMIN_TOKEN, else the file admin-token in data_dir,
	// created with a random token on first start.
	Token string `yaml:"token"`
	// Tokens are more administrators' tokens, each with the name the audit
	// trail records (admin_tokens.go); the built-in token above works too.
	Tokens []AdminToken `yaml:"tokens"`
	// TLSCert and TLSKey are PEM files; both set serves HTTPS, both empty HTTP.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// UserTokenTTL is how long a user's self-service token works after it
	// is issued (default 30 days).
	UserTokenTTL time.Duration `yaml:"user_token_ttl"`
	// SessionIdle ends a web page's session (the admin center, the
	// self-service page) not used for this long (default 30 minutes);
	// SessionMax ends any session this long after sign-in (default 12
	// hours).
	SessionIdle time.Duration `yaml:"session_idle"`
	SessionMax  time.Duration `yaml:"session_max"`
	// PublicURL is the address users' browsers reach these pages at
	// (https://dialin.example.com, perhaps through a reverse proxy): the
	// self-service page's sign-in links point there, never at the Host a
	// request names. Empty: the listener's own address.
	PublicURL string `yaml:"public_url"`
}

// Email is the SMTP server that sends users their PINs and dial-in details.
// Emails are queued in the directory's outbox and sent from there, so a
// server that is down or not yet configured loses nothing.
type Email struct {
	// SMTPHost is the mail server; empty keeps emails queued until one is set.
	SMTPHost string `yaml:"smtp_host"`
	// SMTPPort is the server's port (587 submission, 465 TLS, 25 relay).
	SMTPPort int `yaml:"smtp_port"`
	// Security is starttls (required), tls (implicit TLS, port 465) or none
	// (plain text; only for a relay on loopback or a test server).
	Security string `yaml:"security"`
	// Username and Password authenticate to the server (SMTP AUTH); empty
	// username sends without authentication. Use ${VAR} for the password.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// From is the sender, e.g. "Audio Conferencing <conferencing@example.com>".
	From string `yaml:"from"`
	// Timeout bounds one connection to the server.
	Timeout time.Duration `yaml:"timeout"`
	// RetryMin and RetryMax bound the backoff between attempts at a
	// message that could not be sent; it doubles from RetryMin up to RetryMax.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// MaxAttempts bounds the attempts at one message: after the last it is
	// failed, with the server's answer, until an administrator retries it.
	// A permanent refusal (a 5xx answer to the message) fails it at once.
	MaxAttempts int `yaml:"max_attempts"`
	// Retention is how long sent, failed and dropped messages stay in the
	// outbox list (without their content but for failed ones) before they
	// are pruned.
	Retention time.Duration `yaml:"retention"`
}

// Default is the configuration used when no file is given: a demo bridge on
// loopback.
func Default() Config {
	return Config{
		SIP: SIP{
			Listen:          []string{"udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"},
			TrustedNetworks: []string{"127.0.0.0/8", "::1/128"},
			Auth:            SIPAuth{Realm: "dialin"},
			UserAgent:       "dialin",
			DTMF:            DTMFAuto,
			SessionExpires:  30 * time.Minute,
			MinSE:           90 * time.Second,
			TCP:             SIPTCP{MaxPerSource: 32, IdleTimeout: 5 * time.Minute},
			Untrusted:       UntrustedDrop,
			OptionsInterval: 30 * time.Second,
		},
		RTP: RTP{
			PortMin:           10000,
			PortMax:           20000,
			InactivityTimeout: 30 * time.Second,
			Latch:             RTPLatchSignalling,
			RTCPInterval:      5 * time.Second,
		},
		Limits: Limits{
			MaxCalls:        1000,
			RetryAfter:      30 * time.Second,
			ShutdownGrace:   10 * time.Second,
			MaxCallDuration: 4 * time.Hour,
		},
		IVR: IVR{
			FirstDigitTimeout: 10 * time.Second,
			InterDigitTimeout: 5 * time.Second,
			OrganizerWait:     5 * time.Second,
			MaxAttempts:       3,
			GuessLimit:        10,
			GuessWindow:       30 * time.Minute,
			GuessCooloff:      15 * time.Minute,

			CarrierGuessInterval: time.Minute,
			CarrierGuessBurst:    10,
			CarrierGuessMaxWait:  20 * time.Second,
		},
		Lobby: Lobby{
			NoticeInterval: time.Minute,
			Timeout:        45 * time.Minute,
		},
		Meeting: Meeting{
			MaxParticipants: 250,
			JoinLeaveTones:  true,
			JitterDepth:     3,
			KeyTimeout:      2 * time.Second,
			Keys: MeetingKeys{
				Help: "*1", Count: "*3", Hand: "*5", Mute: "*6",
				Lock: "*7", Admit: "*21", MuteAll: "*22", Announcements: "*23",
			},
		},
		Log: Log{Level: "info", Format: "console"},
		Admin: Admin{Listen: "127.0.0.1:8080", UserTokenTTL: 30 * 24 * time.Hour,
			SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour},
		Metrics: defaultMetrics(),
		Email: Email{
			SMTPPort: 587,
			Security: "starttls",
			From:     "Audio Conferencing <conferencing@localhost>",
			Timeout:  15 * time.Second,
			RetryMin: 30 * time.Second,
			RetryMax: 30 * time.Minute,
			// About 8 hours of attempts with the default backoff.
			MaxAttempts: 20,
			Retention:   7 * 24 * time.Hour,
		},
		CallRecords: DefaultCallRecords(),
		Store:       Store{Driver: StoreSQLite},
		Cluster:     Cluster{Lease: DefaultClusterLease},
		DataDir:     "data",
	}
}

// MeetingKey is one in-meeting command: its YAML name and its keys.
type MeetingKey struct {
	Name string // as in the configuration file: help, count, ...
	Keys string // e.g. "*21"
}

// List is every command in the order the help reads them.
func (k MeetingKeys) List() []MeetingKey {
	return []MeetingKey{
		{"help", k.Help}, {"count", k.Count}, {"hand", k.Hand}, {"mute", k.Mute},
		{"lock", k.Lock}, {"admit", k.Admit}, {"mute_all", k.MuteAll}, {"announcements", k.Announcements},
	}
}

// PhoneNumbers keeps the called numbers that are phone numbers (not names
// like "conference"): emails fall back on them when the directory's
// dial_in_numbers setting is empty.
func (s SIP) PhoneNumbers() []string {
	var numbers []string
	for _, n := range s.CalledNumbers {
		if strings.Trim(n, "+0123456789-() ") == "" && strings.ContainsAny(n, "0123456789") {
			numbers = append(numbers, n)
		}
	}
	return numbers
}
