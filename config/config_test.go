package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// clearEnv neutralises the DIALIN_* overrides for one test (an empty
// variable is ignored by ApplyEnv).
func clearEnv(t *testing.T) {
	t.Helper()
	for _, o := range envOverrides {
		t.Setenv(o.name, "")
	}
}

// unsetenv unsets name for one test and restores it afterwards.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}

// writeConfig writes content to a fresh file and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dialin.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantErr fails unless err is non-nil and contains every substring.
func wantErr(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not contain %q:\n%v", s, err)
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadNoFile(t *testing.T) {
	clearEnv(t)
	got, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	// No file is the make run demo: the defaults and the demo organizer.
	want := Default()
	want.DemoOrganizer = true
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(\"\") = %+v, want defaults and the demo organizer %+v", got, want)
	}
}

// TestDemoOrganizerOnlyWhenAsked: a configuration file (a deployment)
// never gets the demo organizer unless it says demo_organizer: true.
func TestDemoOrganizerOnlyWhenAsked(t *testing.T) {
	clearEnv(t)
	for content, want := range map[string]bool{
		"":                       false,
		"data_dir: /var/lib/x\n": false,
		"demo_organizer: true\n": true,
	} {
		got, err := Load(writeConfig(t, content))
		if err != nil {
			t.Fatal(err)
		}
		if got.DemoOrganizer != want {
			t.Errorf("%q: demo_organizer %v, want %v", content, got.DemoOrganizer, want)
		}
	}
}

func TestLoadEmptyFile(t *testing.T) {
	clearEnv(t)
	for _, content := range []string{"", "# only a comment\n", "---\n", "\n\n"} {
		got, err := Load(writeConfig(t, content))
		if err != nil {
			t.Errorf("%q: %v", content, err)
			continue
		}
		if !reflect.DeepEqual(got, Default()) {
			t.Errorf("%q: got %+v, want defaults", content, got)
		}
	}
}

func TestLoadPartialKeepsDefaults(t *testing.T) {
	clearEnv(t)
	// "level:" with no value keeps the default too.
	got, err := Load(writeConfig(t, "rtp:\n  port_min: 30000\n  port_max: 32000\nlog:\n  level:\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.RTP.PortMin, want.RTP.PortMax = 30000, 32000
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestLoadFullFile(t *testing.T) {
	clearEnv(t)
	t.Setenv("DIALIN_TEST_ADMIN_TOKEN", "0123456789abcdef0123")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hold.wav"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	content := `
sip:
  listen: ["udp:[::1]:5070", "tcp::0"]
  trusted_networks: ["203.0.113.0/28", 198.51.100.7]
  carrier_networks: ["203.0.113.0/29"]
  auth: {username: carrier-a, password: "correct horse battery", realm: conf.example.com}
  public_address: 2001:db8::10
  called_numbers: ["+14255550100", conference]
  answer_delay: 1500ms
  user_agent: "dialin test"
  dtmf: inband
  session_expires: 10m
  min_se: 2m
  tcp: {max_connections: 500, max_per_source: 8, idle_timeout: 90s}
  untrusted: reject
  options_interval: 45s
rtp:
  port_min: 16384
  port_max: 16483
  inactivity_timeout: 1m
  latch: sdp
  rtcp_interval: 2s
limits:
  max_calls: 50
  retry_after: 5s
  shutdown_grace: 0s
  max_call_duration: 0s
ivr:
  first_digit_timeout: 12s
  inter_digit_timeout: 4s
  organizer_wait: 6s
  max_attempts: 5
  guess_limit: 20
  guess_window: 1h
  guess_cooloff: 30m
  carrier_guess_interval: 5m
  carrier_guess_burst: 20
  carrier_guess_max_wait: 30s
lobby:
  music: ` + dir + `/hold.wav
  notice_interval: 2m
  timeout: 30m
meeting:
  max_participants: 100
  end_when_organizer_leaves: true
  join_leave_tones: false
  jitter_depth: 5
  key_timeout: 3s
  keys: {help: "*0", count: "*3", hand: "*5", mute: "*6", lock: "*7", admit: "*81", mute_all: "*82", announcements: "*83"}
log:
  level: debug
  format: json
admin:
  listen: "[::1]:9443"
  token: ${DIALIN_TEST_ADMIN_TOKEN}
email:
  smtp_host: smtp.example.com
  smtp_port: 465
  security: tls
  username: conferencing@example.com
  password: secret
  from: "Conferencing <conferencing@example.com>"
  timeout: 20s
  retry_min: 1s
  retry_max: 1h
  max_attempts: 8
  retention: 72h
call_records: {retention: 720h, mask_calling_number: false, queue: 100}
prompts: ` + dir + `
store: {driver: postgres, dsn: "host=/run/postgresql dbname=dialin"}
cluster:
  secret: "0123456789abcdef0123456789abcdef"
  node_id: node-1.example
  address: 10.0.0.11:5060
  networks: [10.0.0.0/24, 10.0.1.5]
  lease: 8s
data_dir: /var/lib/dialin
demo_organizer: false
pin_secret_file: /etc/dialin/pin-secret
`
	got, err := Load(writeConfig(t, content))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		SIP: SIP{
			Listen:          []string{"udp:[::1]:5070", "tcp::0"},
			TrustedNetworks: []string{"203.0.113.0/28", "198.51.100.7"},
			Auth:            SIPAuth{Username: "carrier-a", Password: "correct horse battery", Realm: "conf.example.com"},
			PublicAddress:   "2001:db8::10",
			CalledNumbers:   []string{"+14255550100", "conference"},
			AnswerDelay:     1500 * time.Millisecond,
			UserAgent:       "dialin test",
			DTMF:            DTMFInband,
			SessionExpires:  10 * time.Minute,
			MinSE:           2 * time.Minute,
			TCP:             SIPTCP{MaxConnections: 500, MaxPerSource: 8, IdleTimeout: 90 * time.Second},
			Untrusted:       UntrustedReject,

			CarrierNetworks: []string{"203.0.113.0/29"},
			OptionsInterval: 45 * time.Second,
		},
		RTP: RTP{PortMin: 16384, PortMax: 16483, InactivityTimeout: time.Minute, Latch: RTPLatchSDP, RTCPInterval: 2 * time.Second},
		Limits: Limits{
			MaxCalls:        50,
			RetryAfter:      5 * time.Second,
			ShutdownGrace:   0,
			MaxCallDuration: 0,
		},
		IVR: IVR{FirstDigitTimeout: 12 * time.Second, InterDigitTimeout: 4 * time.Second,
			OrganizerWait: 6 * time.Second, MaxAttempts: 5, GuessLimit: 20,
			GuessWindow: time.Hour, GuessCooloff: 30 * time.Minute,
			CarrierGuessInterval: 5 * time.Minute, CarrierGuessBurst: 20, CarrierGuessMaxWait: 30 * time.Second},
		Lobby: Lobby{Music: dir + "/hold.wav", NoticeInterval: 2 * time.Minute, Timeout: 30 * time.Minute},
		Meeting: Meeting{MaxParticipants: 100, EndWhenOrganizerLeaves: true, JoinLeaveTones: false,
			JitterDepth: 5, KeyTimeout: 3 * time.Second, Keys: MeetingKeys{Help: "*0", Count: "*3", Hand: "*5",
				Mute: "*6", Lock: "*7", Admit: "*81", MuteAll: "*82", Announcements: "*83"}},
		Log: Log{Level: "debug", Format: "json"},
		Admin: Admin{Listen: "[::1]:9443", Token: "0123456789abcdef0123", UserTokenTTL: 30 * 24 * time.Hour,
			SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour},
		Email: Email{SMTPHost: "smtp.example.com", SMTPPort: 465, Security: "tls",
			Username: "conferencing@example.com", Password: "secret",
			From: "Conferencing <conferencing@example.com>", Timeout: 20 * time.Second,
			RetryMin: time.Second, RetryMax: time.Hour, MaxAttempts: 8, Retention: 72 * time.Hour},
		Metrics:     defaultMetrics(), // not in the file: the defaults
		CallRecords: CallRecords{Retention: 720 * time.Hour, Queue: 100},
		Prompts:     dir,
		Store:       Store{Driver: StorePostgres, DSN: "host=/run/postgresql dbname=dialin"},
		Cluster: Cluster{Secret: "0123456789abcdef0123456789abcdef", NodeID: "node-1.example", Address: "10.0.0.11:5060",
			Networks: []string{"10.0.0.0/24", "10.0.1.5"}, Lease: 8 * time.Second},
		DataDir: "/var/lib/dialin",

		PINSecretFile: "/etc/dialin/pin-secret",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// The example file is what newcomers copy: it must load, equal the
// defaults, and mention every field.
func TestExampleFile(t *testing.T) {
	clearEnv(t)
	const path = "dialin.example.yaml"
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.SIP.CalledNumbers) == 0 {
		got.SIP.CalledNumbers = nil // "[]" in the file, nil in Default
	}
	if len(got.SIP.CarrierNetworks) == 0 {
		got.SIP.CarrierNetworks = nil
	}
	if len(got.Admin.Tokens) == 0 {
		got.Admin.Tokens = nil
	}
	if len(got.Cluster.Networks) == 0 {
		got.Cluster.Networks = nil
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("example differs from Default():\n got  %+v\n want %+v", got, Default())
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range fieldPaths(reflect.TypeOf(Config{}), "") {
		if p == "sip.dial_in_numbers" {
			continue // the old name of sip.called_numbers: not for newcomers
		}
		if lineOf(&doc, p) == 0 {
			t.Errorf("example file does not set %s", p)
		}
	}
}

// fieldPaths lists the YAML paths of every leaf field of t.
func fieldPaths(t reflect.Type, prefix string) []string {
	var paths []string
	for i := range t.NumField() {
		f := t.Field(i)
		if yamlName(f) == "" {
			continue // not in the file (Warnings)
		}
		p := joinPath(prefix, yamlName(f))
		if f.Type.Kind() == reflect.Struct {
			paths = append(paths, fieldPaths(f.Type, p)...)
		} else {
			paths = append(paths, p)
		}
	}
	return paths
}

func TestLoadYAMLErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{
			name:    "unknown key",
			content: "sip:\n  user_agent: x\n  listn: [\"udp::5060\"]\n",
			want:    []string{"line 3", "field listn not found in type config.SIP"},
		},
		{
			name:    "unknown top-level key",
			content: "log:\n  level: info\nlogging: {}\n",
			want:    []string{"line 3", "field logging not found"},
		},
		{
			name:    "several unknown keys",
			content: "sip:\n  listn: []\nrtp:\n  port_mn: 1\n",
			want:    []string{"line 2: field listn", "line 4: field port_mn"},
		},
		{
			name:    "bare integer duration",
			content: "rtp:\n  inactivity_timeout: 30\n",
			want:    []string{"line 2", "into time.Duration", `like "30s"`},
		},
		{
			name:    "duration without unit as words",
			content: "limits:\n  retry_after: 30 seconds\n",
			want:    []string{"line 2", "`30 seconds`", "time.Duration"},
		},
		{
			name:    "string for int",
			content: "limits:\n  max_calls: many\n",
			want:    []string{"line 2", "`many`", "int"},
		},
		{
			name:    "tab indentation",
			content: "sip:\n\tuser_agent: x\n",
			want:    []string{"line 2", "indented with a tab"},
		},
		{
			name:    "unclosed quote",
			content: "sip:\n  user_agent: \"dialin\nlog:\n  level: info\n",
			want:    []string{"yaml: line"},
		},
		{
			name:    "duplicate key",
			content: "log:\n  level: info\n  level: debug\n",
			want:    []string{"line 3", `"level" already defined at line 2`},
		},
		{
			name:    "two documents",
			content: "log: {level: info}\n---\nlog: {level: debug}\n",
			want:    []string{"more than one YAML document"},
		},
		{
			name:    "not a mapping",
			content: "- udp::5060\n",
			want:    []string{"line 1", "cannot unmarshal !!seq"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			_, err := Load(path)
			wantErr(t, err, append(tt.want, path+": ")...)
		})
	}
}

func TestLoadPathErrors(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	_, err := Load(missing)
	wantErr(t, err, missing, "no such file")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: errors.Is(err, os.ErrNotExist) = false: %v", err)
	}

	_, err = Load(dir)
	wantErr(t, err, dir, "is a directory")

	if os.Geteuid() == 0 {
		t.Log("running as root: skipping the unreadable-file case")
		return
	}
	locked := writeConfig(t, "log: {level: info}\n")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	_, err = Load(locked)
	wantErr(t, err, locked, "permission denied")
}

func TestDurations(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		value   string
		want    time.Duration
		wantErr string
	}{
		{value: "500ms", want: 500 * time.Millisecond},
		{value: "30s", want: 30 * time.Second},
		{value: `"1m30s"`, want: 90 * time.Second},
		{value: "2h", want: 2 * time.Hour},
		{value: "0s", want: 0},
		{value: "30", wantErr: "with a unit"},
		{value: "0", wantErr: "with a unit"},
		{value: "1.5", wantErr: "with a unit"},
		{value: "30 sec", wantErr: "time.Duration"},
		{value: "-1s", wantErr: "limits.shutdown_grace: -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := Load(writeConfig(t, "limits:\n  shutdown_grace: "+tt.value+"\n"))
			if tt.wantErr != "" {
				wantErr(t, err, tt.wantErr, "line 2")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Limits.ShutdownGrace != tt.want {
				t.Errorf("shutdown_grace = %v, want %v", got.Limits.ShutdownGrace, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file.wav")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // "" means valid
	}{
		// sip.listen
		{"listen empty", func(c *Config) { c.SIP.Listen = nil }, "sip.listen: is empty"},
		{"cluster on sqlite", func(c *Config) {
			c.Cluster.Secret, c.Cluster.Networks = strings.Repeat("k", 32), []string{"10.0.0.0/24"}
		}, "cluster.secret: is set, but the nodes of a cluster share a PostgreSQL directory"},
		{"cluster short secret", func(c *Config) { c.Cluster.Secret, c.Cluster.Networks = "short", []string{"10.0.0.1"} }, "cluster.secret: is 5 characters"},
		{"cluster no networks", func(c *Config) { c.Cluster.Secret = strings.Repeat("k", 32) }, "cluster.networks: is empty"},
		{"cluster bad network", func(c *Config) {
			c.Cluster.Secret, c.Cluster.Networks = strings.Repeat("k", 32), []string{"10.0.0.0/33"}
		}, `cluster.networks[0]: "10.0.0.0/33" is not an IP address or CIDR`},
		{"cluster bad node", func(c *Config) {
			c.Cluster.Secret, c.Cluster.Networks, c.Cluster.NodeID = strings.Repeat("k", 32), []string{"10.0.0.1"}, "node 1"
		}, `cluster.node_id: "node 1"`},
		{"cluster bad address", func(c *Config) {
			c.Cluster.Secret, c.Cluster.Networks, c.Cluster.Address = strings.Repeat("k", 32), []string{"10.0.0.1"}, "node1:5060"
		}, `cluster.address: host "node1" is not an IP address`},
		{"cluster keys without secret", func(c *Config) { c.Cluster.NodeID = "n1" }, "cluster.secret: is empty; a cluster node needs"},
		{"cluster lease", func(c *Config) { c.Cluster.Lease = 100 * time.Millisecond }, "cluster.lease: 100ms: use 1s to 1m"},
		{"listen no port", func(c *Config) { c.SIP.Listen = []string{"udp::5060", "udp:127.0.0.1"} }, `sip.listen[1]: "udp:127.0.0.1" has no port`},
		{"listen empty port", func(c *Config) { c.SIP.Listen = []string{"udp:127.0.0.1:"} }, `sip.listen[0]: "udp:127.0.0.1:" has no port`},
		{"listen no transport", func(c *Config) { c.SIP.Listen = []string{"127.0.0.1"} }, `sip.listen[0]: "127.0.0.1" has no transport`},
		{"listen bad transport", func(c *Config) { c.SIP.Listen = []string{"tls:127.0.0.1:5061"} }, `sip.listen[0]: "tls:127.0.0.1:5061": transport "tls" is not udp or tcp`},
		{"listen hostname", func(c *Config) { c.SIP.Listen = []string{"udp:localhost:5060"} }, `host "localhost" is not an IP address`},
		{"listen ipv6 unbracketed", func(c *Config) { c.SIP.Listen = []string{"udp:::1:5060"} }, "in brackets"},
		{"listen port too big", func(c *Config) { c.SIP.Listen = []string{"tcp:127.0.0.1:70000"} }, `"70000" is not a port (0-65535)`},
		{"listen port not a number", func(c *Config) { c.SIP.Listen = []string{"tcp:127.0.0.1:sip"} }, `"sip" is not a port`},
		{"listen duplicate", func(c *Config) { c.SIP.Listen = []string{"udp::5060", "udp::5060"} }, `sip.listen[1]: "udp::5060" repeats sip.listen[0]`},
		{"listen ipv6 ok", func(c *Config) { c.SIP.Listen = []string{"udp:[::1]:5060", "tcp:[::]:0"} }, ""},
		{"listen all addresses, port 0 twice ok", func(c *Config) { c.SIP.Listen = []string{"udp::0", "udp::0"} }, ""},
		// sip.public_address
		// sip.trusted_networks
		{"trusted empty", func(c *Config) { c.SIP.TrustedNetworks = nil }, "sip.trusted_networks: is empty, so no trunk could call"},
		{"trusted hostname", func(c *Config) { c.SIP.TrustedNetworks = []string{"127.0.0.1", "trunk.example.com"} }, `sip.trusted_networks[1]: "trunk.example.com" is not an IP address or a network`},
		{"trusted bad prefix", func(c *Config) { c.SIP.TrustedNetworks = []string{"10.0.0.0/33"} }, `sip.trusted_networks[0]: "10.0.0.0/33" is not a network`},
		{"trusted host bits", func(c *Config) { c.SIP.TrustedNetworks = []string{"10.1.2.3/8"} }, `sip.trusted_networks[0]: "10.1.2.3/8" has host bits set: the network is 10.0.0.0/8`},
		{"trusted mapped", func(c *Config) { c.SIP.TrustedNetworks = []string{"::ffff:10.0.0.0/104"} }, "write IPv4 networks as IPv4"},
		{"trusted any", func(c *Config) { c.SIP.TrustedNetworks = []string{"0.0.0.0/0", "::/0"} }, ""},
		{"trusted addresses", func(c *Config) { c.SIP.TrustedNetworks = []string{"192.0.2.7", "2001:db8::7", "::ffff:192.0.2.8"} }, ""},
		// sip.tcp, sip.untrusted
		{"tcp max connections negative", func(c *Config) { c.SIP.TCP.MaxConnections = -1 }, "sip.tcp.max_connections: -1 is not between 0"},
		{"tcp max connections auto", func(c *Config) { c.SIP.TCP.MaxConnections = 0 }, ""},
		{"tcp max per source zero", func(c *Config) { c.SIP.TCP.MaxPerSource = 0 }, "sip.tcp.max_per_source: 0 is not between 1 and 1000000"},
		{"tcp idle timeout short", func(c *Config) { c.SIP.TCP.IdleTimeout = 500 * time.Millisecond }, "sip.tcp.idle_timeout: 500ms is not between 1s and 24h0m0s"},
		{"tcp idle timeout long", func(c *Config) { c.SIP.TCP.IdleTimeout = 25 * time.Hour }, "sip.tcp.idle_timeout: 25h0m0s is not between"},
		{"untrusted reject", func(c *Config) { c.SIP.Untrusted = UntrustedReject }, ""},
		{"untrusted bad", func(c *Config) { c.SIP.Untrusted = "ignore" }, `sip.untrusted: "ignore" is not drop or reject`},
		// sip.auth
		{"auth ok", func(c *Config) { c.SIP.Auth = SIPAuth{Username: "carrier", Password: "0123456789ab", Realm: "dialin"} }, ""},
		{"auth short password", func(c *Config) { c.SIP.Auth = SIPAuth{Username: "carrier", Password: "secret", Realm: "dialin"} }, "sip.auth.password: is 6 characters; use at least 12"},
		{"auth password only", func(c *Config) { c.SIP.Auth = SIPAuth{Password: "0123456789ab", Realm: "dialin"} }, "sip.auth.password: is set but sip.auth.username is empty"},
		{"auth quote", func(c *Config) { c.SIP.Auth = SIPAuth{Username: `car"rier`, Password: "0123456789ab", Realm: "dialin"} }, "sip.auth.username: may not contain a double quote"},
		{"auth no realm", func(c *Config) { c.SIP.Auth = SIPAuth{Username: "carrier", Password: "0123456789ab"} }, "sip.auth.realm: is empty"},
		{"auth off no realm", func(c *Config) { c.SIP.Auth = SIPAuth{} }, ""},
		{"public address hostname", func(c *Config) { c.SIP.PublicAddress = "sip.example.com" }, `sip.public_address: "sip.example.com" is not an IP address`},
		{"public address with port", func(c *Config) { c.SIP.PublicAddress = "192.0.2.1:5060" }, "sip.public_address"},
		{"public address unspecified", func(c *Config) { c.SIP.PublicAddress = "0.0.0.0" }, "sip.public_address: 0.0.0.0 cannot be reached"},
		{"public address ipv6 ok", func(c *Config) { c.SIP.PublicAddress = "2001:db8::1" }, ""},
		// sip.called_numbers
		{"dial-in empty entry", func(c *Config) { c.SIP.CalledNumbers = []string{"+1", ""} }, "sip.called_numbers[1]: is empty"},
		{"dial-in space", func(c *Config) { c.SIP.CalledNumbers = []string{"+1 425 555 0100"} }, `sip.called_numbers[0]: "+1 425 555 0100" contains a space`},
		// sip.answer_delay, sip.user_agent
		{"answer delay negative", func(c *Config) { c.SIP.AnswerDelay = -time.Second }, "sip.answer_delay: -1s is not between 0s and 1m0s"},
		{"answer delay too long", func(c *Config) { c.SIP.AnswerDelay = 61 * time.Second }, "sip.answer_delay: 1m1s"},
		{"answer delay 60s ok", func(c *Config) { c.SIP.AnswerDelay = time.Minute }, ""},
		{"user agent newline", func(c *Config) { c.SIP.UserAgent = "x\r\nVia: evil" }, "sip.user_agent"},
		// sip.session_expires, sip.min_se
		{"min-se zero", func(c *Config) { c.SIP.MinSE = 0 }, "sip.min_se: 0s is not between 1s and 1h0m0s"},
		{"min-se too long", func(c *Config) { c.SIP.MinSE = 2 * time.Hour; c.SIP.SessionExpires = 3 * time.Hour }, "sip.min_se: 2h0m0s"},
		{"session expires below min-se", func(c *Config) { c.SIP.SessionExpires = 60 * time.Second }, "sip.session_expires: 1m0s is below sip.min_se (1m30s)"},
		{"session expires too long", func(c *Config) { c.SIP.SessionExpires = 25 * time.Hour }, "sip.session_expires: 25h0m0s is above 24h0m0s"},
		{"session timers short for tests ok", func(c *Config) { c.SIP.MinSE, c.SIP.SessionExpires = 2*time.Second, 4*time.Second }, ""},
		// sip.options_interval
		{"options interval off ok", func(c *Config) { c.SIP.OptionsInterval = 0 }, ""},
		{"options interval too short", func(c *Config) { c.SIP.OptionsInterval = 500 * time.Millisecond }, "sip.options_interval: 500ms is not 0s (off) or between 1s and 1h0m0s"},
		{"options interval negative", func(c *Config) { c.SIP.OptionsInterval = -time.Second }, "sip.options_interval: -1s"},
		{"options interval too long", func(c *Config) { c.SIP.OptionsInterval = 2 * time.Hour }, "sip.options_interval: 2h0m0s"},
		{"options interval 1s ok", func(c *Config) { c.SIP.OptionsInterval = time.Second }, ""},
		// rtp
		{"rtp port not a port", func(c *Config) { c.RTP.PortMin = 70000 }, "rtp.port_min: 70000 is not a port (1-65535)"},
		{"rtp port zero", func(c *Config) { c.RTP.PortMax = 0 }, "rtp.port_max: 0 is not a port (1-65535)"},
		{"rtp port privileged", func(c *Config) { c.RTP.PortMin = 80 }, "rtp.port_min: 80 is a privileged port"},
		{"rtp min not below max", func(c *Config) { c.RTP.PortMin, c.RTP.PortMax = 20000, 20000 }, "rtp.port_min: 20000 is not below rtp.port_max (20000)"},
		{"rtp range one even port", func(c *Config) {
			c.RTP.PortMin, c.RTP.PortMax = 10001, 10003
			c.Limits.MaxCalls = 1
		}, "rtp.port_max: range 10001-10003 holds 1 even port(s)"},
		{"rtp range two even ports ok", func(c *Config) {
			c.RTP.PortMin, c.RTP.PortMax = 10000, 10002
			c.Limits.MaxCalls = 2
		}, ""},
		{"rtp inactivity too short", func(c *Config) { c.RTP.InactivityTimeout = 500 * time.Millisecond }, "rtp.inactivity_timeout: 500ms is below 1s"},
		{"rtp latch unknown", func(c *Config) { c.RTP.Latch = "first" }, `rtp.latch: "first" is not one of sdp, signalling, any`},
		{"rtp latch empty", func(c *Config) { c.RTP.Latch = "" }, `rtp.latch: "" is not one of sdp, signalling, any`},
		{"rtp latch any ok", func(c *Config) { c.RTP.Latch = RTPLatchAny }, ""},
		{"rtcp interval too short", func(c *Config) { c.RTP.RTCPInterval = 50 * time.Millisecond }, "rtp.rtcp_interval: 50ms is not 0 (no reports) or 100ms-1m"},
		{"rtcp interval too long", func(c *Config) { c.RTP.RTCPInterval = 2 * time.Minute }, "rtp.rtcp_interval: 2m0s is not 0"},
		{"rtcp interval negative", func(c *Config) { c.RTP.RTCPInterval = -time.Second }, "rtp.rtcp_interval: -1s is not 0"},
		{"rtcp off ok", func(c *Config) { c.RTP.RTCPInterval = 0 }, ""},
		{"rtcp interval short ok", func(c *Config) { c.RTP.RTCPInterval = 100 * time.Millisecond }, ""},
		// limits
		{"max calls zero", func(c *Config) { c.Limits.MaxCalls = 0 }, "limits.max_calls: 0 is below 1"},
		{"max calls over ports", func(c *Config) { c.RTP.PortMin, c.RTP.PortMax = 10000, 10009 }, "limits.max_calls: 1000 is more than the 5 even RTP ports"},
		{"retry after too short", func(c *Config) { c.Limits.RetryAfter = 0 }, "limits.retry_after: 0s is below 1s"},
		{"shutdown grace negative", func(c *Config) { c.Limits.ShutdownGrace = -time.Second }, "limits.shutdown_grace: -1s is negative"},
		{"shutdown grace zero ok", func(c *Config) { c.Limits.ShutdownGrace = 0 }, ""},
		{"dtmf", func(c *Config) { c.SIP.DTMF = "rtp" }, `sip.dtmf: "rtp" is not one of auto, rfc4733, info, inband`},
		{"first digit timeout", func(c *Config) { c.IVR.FirstDigitTimeout = 999 * time.Millisecond }, "ivr.first_digit_timeout: 999ms is not between 1s and 2m0s"},
		{"inter digit timeout", func(c *Config) { c.IVR.InterDigitTimeout = 2 * time.Minute }, "ivr.inter_digit_timeout: 2m0s is not between 1s and 1m0s"},
		{"organizer wait", func(c *Config) { c.IVR.OrganizerWait = 0 }, "ivr.organizer_wait: 0s"},
		{"max attempts", func(c *Config) { c.IVR.MaxAttempts = 0 }, "ivr.max_attempts: 0 is not 1-10"},
		{"guess limit", func(c *Config) { c.IVR.GuessLimit = -1 }, "ivr.guess_limit: -1 is negative"},
		{"guess window", func(c *Config) { c.IVR.GuessWindow = 0 }, "ivr.guess_window: 0s"},
		{"guess off ignores window", func(c *Config) { c.IVR.GuessLimit, c.IVR.GuessWindow = 0, 0 }, ""},
		{"max call duration negative", func(c *Config) { c.Limits.MaxCallDuration = -time.Hour }, "limits.max_call_duration: -1h0m0s is negative"},
		{"max call duration zero ok", func(c *Config) { c.Limits.MaxCallDuration = 0 }, ""},
		// log
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, `log.level: "verbose" is not one of trace, debug, info, warn, error`},
		{"log level case", func(c *Config) { c.Log.Level = "INFO" }, "log.level"},
		{"log format", func(c *Config) { c.Log.Format = "text" }, `log.format: "text" is not one of console, json`},
		// admin
		{"admin listen off ok", func(c *Config) { c.Admin.Listen = "" }, ""},
		{"admin listen no port", func(c *Config) { c.Admin.Listen = "127.0.0.1" }, `admin.listen: "127.0.0.1" is not host:port`},
		{"admin listen bad port", func(c *Config) { c.Admin.Listen = "127.0.0.1:http" }, `admin.listen: "127.0.0.1:http": port "http" is not 0-65535`},
		{"admin token short", func(c *Config) { c.Admin.Token = "short" }, "admin.token: is 5 characters; use at least 16"},
		{"admin token space", func(c *Config) { c.Admin.Token = "0123456789 abcdef" }, "admin.token: contains a space"},
		{"admin tokens no name", func(c *Config) { c.Admin.Tokens = []AdminToken{{Token: "0123456789abcdef"}} }, "admin.tokens[0].name: is required"},
		{"admin tokens reserved name", func(c *Config) { c.Admin.Tokens = []AdminToken{{Name: "local", Token: "0123456789abcdef"}} },
			"admin.tokens[0].name: \"local\" is used twice or is reserved"},
		{"admin tokens same name", func(c *Config) {
			c.Admin.Tokens = []AdminToken{{Name: "ops", TokenEnv: "A"}, {Name: "ops", TokenEnv: "B"}}
		}, "admin.tokens[1].name: \"ops\" is used twice"},
		{"admin tokens bad name", func(c *Config) { c.Admin.Tokens = []AdminToken{{Name: "a:b", TokenEnv: "A"}} }, "admin.tokens[0].name: \"a:b\": use 1-64"},
		{"admin tokens two ways", func(c *Config) {
			c.Admin.Tokens = []AdminToken{{Name: "ops", Token: "0123456789abcdef", TokenEnv: "A"}}
		}, "admin.tokens[0]: give exactly one of token, token_file and token_env (2 given)"},
		{"admin tokens none", func(c *Config) { c.Admin.Tokens = []AdminToken{{Name: "ops"}} }, "admin.tokens[0]: give exactly one"},
		{"admin tokens short", func(c *Config) { c.Admin.Tokens = []AdminToken{{Name: "ops", Token: "short"}} }, "admin.tokens[0].token: is 5 characters"},
		{"admin tokens bad env", func(c *Config) { c.Admin.Tokens = []AdminToken{{Name: "ops", TokenEnv: "A-B"}} }, "admin.tokens[0].token_env: \"A-B\" is not"},
		{"admin tls half", func(c *Config) { c.Admin.TLSCert = notDir }, "admin.tls_cert: tls_cert and tls_key go together"},
		{"admin public url ok", func(c *Config) { c.Admin.PublicURL = "https://dialin.example.com" }, ""},
		{"admin public url path", func(c *Config) { c.Admin.PublicURL = "https://dialin.example.com/me/" }, "admin.public_url: "},
		{"admin public url scheme", func(c *Config) { c.Admin.PublicURL = "dialin.example.com" }, "admin.public_url: "},
		{"admin tls missing", func(c *Config) { c.Admin.TLSCert, c.Admin.TLSKey = notDir, notDir+".nope" }, "admin.tls_key: "},
		// email
		{"smtp host bad", func(c *Config) { c.Email.SMTPHost = "smtp example.com" }, `email.smtp_host: "smtp example.com" is not a host name`},
		{"smtp port", func(c *Config) { c.Email.SMTPPort = 0 }, "email.smtp_port: 0 is not a port"},
		{"smtp security", func(c *Config) { c.Email.Security = "ssl" }, `email.security: "ssl" is not starttls, tls or none`},
		{"smtp password without user", func(c *Config) { c.Email.Password = "x" }, "email.username: is empty but a password is set"},
		{"smtp from", func(c *Config) { c.Email.From = "not an address" }, "email.from:"},
		{"smtp timeout", func(c *Config) { c.Email.Timeout = 0 }, "email.timeout: 0s is not between 1s and 5m0s"},
		{"smtp retry min", func(c *Config) { c.Email.RetryMin = 0 }, "email.retry_min: 0s is below 100ms"},
		{"smtp retry max", func(c *Config) { c.Email.RetryMax = time.Second }, "email.retry_max: 1s is below email.retry_min (30s)"},
		{"smtp max attempts", func(c *Config) { c.Email.MaxAttempts = 0 }, "email.max_attempts: 0 is not 1-1000"},
		{"smtp retention", func(c *Config) { c.Email.Retention = time.Second }, "email.retention: 1s is below 1m0s"},
		// prompts, data_dir
		{"prompts missing", func(c *Config) { c.Prompts = filepath.Join(notDir, "..", "nope") }, "prompts: "},
		{"prompts not a dir", func(c *Config) { c.Prompts = notDir }, "is not a directory"},
		{"data dir empty", func(c *Config) { c.DataDir = "" }, "data_dir: is empty"},
		{"data dir blank", func(c *Config) { c.DataDir = "  " }, "data_dir: is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wantErr(t, err, tt.want)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error is not a *FieldError: %v", err)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Default()
	c.SIP.Listen = []string{"udp:127.0.0.1"}
	c.RTP.PortMin = 70000
	c.Limits.MaxCalls = 0
	c.Log.Level = "loud"
	c.DataDir = ""
	err := c.Validate()
	wantErr(t, err, "sip.listen[0]", "rtp.port_min", "limits.max_calls", "log.level", "data_dir")
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 5 {
		t.Errorf("got %d problems, want 5:\n%v", n, err)
	}
}

// Validation errors from a file carry the file name and the field's line.
func TestLoadValidationLines(t *testing.T) {
	clearEnv(t)
	content := `sip:
  listen:
    - "udp:127.0.0.1:5060"
    - "udp:127.0.0.1"
rtp:
  port_min: 70000
log:
  level: loud
`
	path := writeConfig(t, content)
	_, err := Load(path)
	wantErr(t, err,
		path+`: line 4: sip.listen[1]: "udp:127.0.0.1" has no port`,
		path+": line 6: rtp.port_min: 70000 is not a port (1-65535)",
		path+`: line 8: log.level: "loud"`,
	)
}

func TestExpandEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("DIALIN_TEST_IP", "192.0.2.7")
	t.Setenv("DIALIN_TEST_NUM", "+14255550100")
	t.Setenv("DIALIN_TEST_EMPTY", "")
	unsetenv(t, "DIALIN_TEST_UNSET")
	unsetenv(t, "DIALIN_TEST_UNSET2")
	tests := []struct {
		name    string
		content string
		check   func(Config) bool
		wantErr []string
	}{
		{
			name:    "whole value",
			content: "sip:\n  public_address: ${DIALIN_TEST_IP}\n",
			check:   func(c Config) bool { return c.SIP.PublicAddress == "192.0.2.7" },
		},
		{
			name:    "inside a value and a list",
			content: "sip:\n  user_agent: \"dialin/${DIALIN_TEST_IP}\"\n  called_numbers: [\"${DIALIN_TEST_NUM}\", conf]\n",
			check: func(c Config) bool {
				return c.SIP.UserAgent == "dialin/192.0.2.7" &&
					reflect.DeepEqual(c.SIP.CalledNumbers, []string{"+14255550100", "conf"})
			},
		},
		{
			name:    "set but empty",
			content: "sip:\n  user_agent: \"a${DIALIN_TEST_EMPTY}b\"\n",
			check:   func(c Config) bool { return c.SIP.UserAgent == "ab" },
		},
		{
			name:    "other dollar forms untouched",
			content: "sip:\n  user_agent: \"$DIALIN_TEST_IP $ $$ {x}\"\n",
			check:   func(c Config) bool { return c.SIP.UserAgent == "$DIALIN_TEST_IP $ $$ {x}" },
		},
		{
			name:    "escaped",
			content: "sip:\n  user_agent: \"$${DIALIN_TEST_IP}\"\n",
			check:   func(c Config) bool { return c.SIP.UserAgent == "${DIALIN_TEST_IP}" },
		},
		{
			name:    "unset",
			content: "log:\n  level: info\nsip:\n  public_address: ${DIALIN_TEST_UNSET}\n",
			wantErr: []string{"line 4: sip.public_address: environment variable DIALIN_TEST_UNSET is not set"},
		},
		{
			name:    "several unset",
			content: "sip:\n  user_agent: ${DIALIN_TEST_UNSET}${DIALIN_TEST_UNSET2}\n  called_numbers: [\"${DIALIN_TEST_UNSET2}\"]\n",
			wantErr: []string{
				"sip.user_agent: environment variable DIALIN_TEST_UNSET, DIALIN_TEST_UNSET2 is not set",
				"line 3: sip.called_numbers[0]: environment variable DIALIN_TEST_UNSET2 is not set",
			},
		},
		{
			name:    "unset and other problems reported together",
			content: "sip:\n  public_address: ${DIALIN_TEST_UNSET}\nrtp:\n  port_min: 70000\n",
			wantErr: []string{
				"line 2: sip.public_address: environment variable DIALIN_TEST_UNSET is not set",
				"line 4: rtp.port_min: 70000 is not a port",
			},
		},
		{
			name:    "unclosed",
			content: "sip:\n  user_agent: \"${DIALIN_TEST_IP\"\n",
			wantErr: []string{"sip.user_agent", "unclosed ${"},
		},
		{
			name:    "bad name",
			content: "sip:\n  user_agent: \"${1X}\"\n",
			wantErr: []string{"sip.user_agent", `"${1X}" is not a valid ${NAME} reference`},
		},
		{
			name:    "expanded value is validated",
			content: "log:\n  level: ${DIALIN_TEST_IP}\n",
			wantErr: []string{`line 2: log.level: "192.0.2.7" is not one of`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			got, err := Load(path)
			if tt.wantErr != nil {
				wantErr(t, err, append(tt.wantErr, path)...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Errorf("unexpected result: %+v", got)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	clearEnv(t)
	t.Setenv("DIALIN_SIP_PUBLIC_ADDRESS", "198.51.100.4")
	t.Setenv("DIALIN_LOG_LEVEL", "debug")
	t.Setenv("DIALIN_LOG_FORMAT", "json")
	t.Setenv("DIALIN_DATA_DIR", "/srv/dialin")

	// The environment wins over the file; without a file it wins over the
	// defaults.
	for _, path := range []string{"", writeConfig(t, "sip:\n  public_address: 192.0.2.1\nlog: {level: warn}\ndata_dir: here\n")} {
		got, err := Load(path)
		if err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		if got.SIP.PublicAddress != "198.51.100.4" || got.Log.Level != "debug" ||
			got.Log.Format != "json" || got.DataDir != "/srv/dialin" {
			t.Errorf("%q: overrides not applied: %+v", path, got)
		}
	}

	// An empty variable is ignored; the file's value stays.
	t.Setenv("DIALIN_LOG_LEVEL", "")
	got, err := Load(writeConfig(t, "log: {level: warn}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Log.Level != "warn" {
		t.Errorf("empty DIALIN_LOG_LEVEL: level = %q, want warn", got.Log.Level)
	}

	// A bad override names the variable, not a line of the file.
	t.Setenv("DIALIN_LOG_LEVEL", "chatty")
	t.Setenv("DIALIN_SIP_PUBLIC_ADDRESS", "nat.example.com")
	_, err = Load(writeConfig(t, "log: {level: warn}\n"))
	wantErr(t, err,
		`log.level: "chatty" is not one of trace, debug, info, warn, error (set by DIALIN_LOG_LEVEL)`,
		`sip.public_address: "nat.example.com" is not an IP address (set by DIALIN_SIP_PUBLIC_ADDRESS)`,
	)
	if strings.Contains(err.Error(), "line 1") {
		t.Errorf("override error points at the file: %v", err)
	}
}

func TestListenAddrs(t *testing.T) {
	s := SIP{Listen: []string{"udp:127.0.0.1:5060", "tcp:[::1]:5061", "udp::0"}}
	got, err := s.ListenAddrs()
	if err != nil {
		t.Fatal(err)
	}
	want := []ListenAddr{
		{Transport: "udp", Host: "127.0.0.1", Port: 5060},
		{Transport: "tcp", Host: "::1", Port: 5061},
		{Transport: "udp", Host: "", Port: 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListenAddrs() = %+v, want %+v", got, want)
	}
	for i, a := range got {
		if a.String() != s.Listen[i] {
			t.Errorf("String() = %q, want %q", a.String(), s.Listen[i])
		}
	}
	if got[1].Address() != "[::1]:5061" {
		t.Errorf("Address() = %q, want [::1]:5061", got[1].Address())
	}

	_, err = SIP{Listen: []string{"udp::5060", "udp:127.0.0.1", "sctp::1"}}.ListenAddrs()
	wantErr(t, err, `sip.listen[1]: "udp:127.0.0.1" has no port`, "sip.listen[2]")
	_, err = SIP{}.ListenAddrs()
	wantErr(t, err, "sip.listen: is empty")
}

func TestMeetingKeysValidated(t *testing.T) {
	for _, tt := range []struct {
		keys, want string
	}{
		{`{mute: "6"}`, `meeting.keys.mute: "6" is not a star and 1-3 digits`},
		{`{mute: "*"}`, `meeting.keys.mute: "*" is not a star`},
		{`{mute: "*6#"}`, `meeting.keys.mute: "*6#" is not a star`},
		{`{mute: "*1"}`, `meeting.keys.mute: "*1" is also meeting.keys.help`},
		{`{admit: "*2", mute_all: "*29", announcements: "*28"}`, `meeting.keys.mute_all: "*29" starts with meeting.keys.admit ("*2")`},
		{`{help: "*11"}`, ``},
		{`{mute: "*1"}`, `meeting.keys.mute: "*1" is also meeting.keys.help`},
	} {
		_, err := Load(writeConfig(t, "meeting:\n  keys: "+tt.keys+"\n"))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.keys, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want %q", tt.keys, err, tt.want)
		}
	}
}

func TestLobbyAndMeetingRanges(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"lobby: {notice_interval: 1s}", "lobby.notice_interval: 1s is not between 10s and 1h0m0s"},
		{"lobby: {timeout: 48h}", "lobby.timeout: 48h0m0s is not between"},
		{"lobby: {music: /nonexistent/hold.wav}", `lobby.music: "/nonexistent/hold.wav"`},
		{"meeting: {max_participants: 1}", "meeting.max_participants: 1 is not 2-10000"},
		{"meeting: {jitter_depth: 0}", "meeting.jitter_depth: 0 is not 1-50"},
		{"meeting: {key_timeout: 20s}", "meeting.key_timeout: 20s is not between 500ms and 10s"},
	} {
		_, err := Load(writeConfig(t, tt.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func TestParseNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.0/24":     "192.0.2.0/24",
		"192.0.2.7":        "192.0.2.7/32",
		"::ffff:192.0.2.7": "192.0.2.7/32", // a mapped address is its IPv4 one
		"2001:db8::/32":    "2001:db8::/32",
		"::1":              "::1/128",
		"0.0.0.0/0":        "0.0.0.0/0",
	} {
		got, err := ParseNetwork(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseNetwork(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "fe80::1%eth0", "192.0.2.0/", "/24", "192.0.2.256"} {
		if _, err := ParseNetwork(bad); err == nil {
			t.Errorf("ParseNetwork(%q) took it", bad)
		}
	}
}

func TestSIPPhoneNumbers(t *testing.T) {
	s := SIP{CalledNumbers: []string{"+14255550100", "conference", "(425) 555-0101", "+", "conf1"}}
	got := s.PhoneNumbers()
	want := []string{"+14255550100", "(425) 555-0101"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PhoneNumbers = %q, want %q", got, want)
	}
}

// TestOldDialInNumbersKey: the old name of sip.called_numbers still works,
// with a warning; both names at once are refused.
func TestOldDialInNumbersKey(t *testing.T) {
	clearEnv(t)
	got, err := Load(writeConfig(t, "sip:\n  dial_in_numbers: [\"+14255550100\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.SIP.CalledNumbers, []string{"+14255550100"}) || got.SIP.OldDialInNumbers != nil {
		t.Errorf("called_numbers %q, old %q", got.SIP.CalledNumbers, got.SIP.OldDialInNumbers)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "sip.dial_in_numbers is now sip.called_numbers") {
		t.Errorf("warnings %q", got.Warnings)
	}
	_, err = Load(writeConfig(t, "sip:\n  dial_in_numbers: [\"1\"]\n  called_numbers: [\"2\"]\n"))
	if err == nil || !strings.Contains(err.Error(), "sip.dial_in_numbers: is the old name of sip.called_numbers") {
		t.Errorf("both names: %v", err)
	}
	if got, _ := Load(writeConfig(t, "sip:\n  called_numbers: [\"1\"]\n")); len(got.Warnings) != 0 {
		t.Errorf("new name warned: %q", got.Warnings)
	}
}

func TestCallRecordsConfig(t *testing.T) {
	c := Default()
	if c.CallRecords.Retention != 90*24*time.Hour || !c.CallRecords.MaskCallingNumber {
		t.Errorf("defaults: %+v", c.CallRecords)
	}
	c.CallRecords.Retention = time.Minute
	c.CallRecords.Queue = 1
	err := c.Validate()
	for _, field := range []string{"call_records.retention", "call_records.queue"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s not refused: %v", field, err)
		}
	}
}
