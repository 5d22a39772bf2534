package main

// The administration subcommands (user, pin, conference-id, meeting,
// settings) are clients of the REST API of a running `dialin serve`
// (admin/API.md). Exit codes: 0 done, 1 failed (one line on stderr),
// 2 bad usage.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
)

// Environment variables of the administration subcommands.
const (
	envServer = "DIALIN_SERVER"
	envConfig = "DIALIN_CONFIG"
	// envUserToken is a user's own self-service token, for dialin me.
	envUserToken = "DIALIN_USER_TOKEN"
)

// defaultTimeout bounds one subcommand, every request included.
const defaultTimeout = 10 * time.Second

// adminCommand is one administration subcommand.
type adminCommand struct {
	group, name string
	args        []string // names of the positional arguments; "[NAME]": optional, after the others
	flags       []string // the command's own flags (see adminFlags)
	summary     string
	// check, when set, refuses bad arguments (a usage error) before the
	// server is looked for.
	check func(args []string) error
	run   func(a *adminRun, args []string) error
}

// required is how many positional arguments the command needs.
func (c *adminCommand) required() int {
	n := 0
	for _, a := range c.args {
		if !strings.HasPrefix(a, "[") {
			n++
		}
	}
	return n
}

// line is the command's synopsis, e.g. "user show EMAIL".
func (c *adminCommand) line() string {
	s := c.group + " " + c.name
	for _, a := range c.args {
		s += " " + a
	}
	for _, f := range c.flags {
		s += " [--" + f
		if v := adminFlags[f]; v != "" {
			s += " " + v
		}
		s += "]"
	}
	return s
}

// adminFlags are every flag of the subcommands, mapped to the name of its
// value ("" for a boolean flag). One table, so that flags can be told from
// arguments before the command is known.
var adminFlags = map[string]string{
	// Global options.
	"server":  "URL",
	"token":   "TOKEN",
	"config":  "FILE",
	"ca":      "FILE",
	"timeout": "DURATION",
	"json":    "",
	"help":    "",
	"h":       "",
	// Command options.
	"name":                 "NAME",
	"email-override":       "ADDRESS",
	"no-email":             "",
	"email-to":             "ADDRESS",
	"organizer":            "EMAIL",
	"no-require-organizer": "",
	"bypass-lobby":         "",
	"off":                  "",
}

var globalFlags = map[string]bool{"server": true, "token": true, "config": true, "ca": true, "timeout": true, "json": true, "help": true, "h": true}

// adminCommands are the subcommands, in the order of the usage text.
var adminCommands = []*adminCommand{
	{group: "user", name: "enable", args: []string{"EMAIL"}, flags: []string{"name", "email-override", "no-email", "email-to"},
		summary: "enable a user: prints the conference ID and the PIN, once", run: runUserEnable},
	{group: "user", name: "disable", args: []string{"EMAIL"},
		summary: "disable a user: its conference ID and meetings stop working", run: runUserDisable},
	{group: "user", name: "list", summary: "list every user", run: runUserList},
	{group: "user", name: "show", args: []string{"EMAIL"}, summary: "show a user", run: runUserShow},
	{group: "user", name: "token", args: []string{"EMAIL"},
		summary: "issue the user's self-service token: prints it, once (their earlier one stops working)", run: runUserToken},
	{group: "pin", name: "reset", args: []string{"EMAIL"}, flags: []string{"no-email", "email-to"},
		summary: "generate a new PIN: prints it, once", run: runPINReset},
	{group: "pin", name: "set", args: []string{"EMAIL", "PIN"}, summary: "set a PIN chosen by you (no email)", run: runPINSet},
	{group: "pin", name: "unlock", args: []string{"EMAIL"}, summary: "unlock a locked PIN", run: runPINUnlock},
	{group: "conference-id", name: "reset", args: []string{"EMAIL"}, flags: []string{"no-email", "email-to"},
		summary: "give a user a new conference ID (the old one stops working)", run: runConfIDReset},
	{group: "conference-id", name: "set", args: []string{"EMAIL", "ID"}, flags: []string{"no-email", "email-to"},
		summary: "give a user the conference ID ID", run: runConfIDSet},
	{group: "conference-id", name: "send-info", args: []string{"EMAIL"}, flags: []string{"email-to"},
		summary: "email the conference ID and dial-in numbers (never the PIN)", run: runConfIDSendInfo},
	{group: "meeting", name: "create", args: []string{"EMAIL"}, flags: []string{"no-require-organizer", "bypass-lobby"},
		summary: "create a meeting with its own conference ID: prints it", run: runMeetingCreate},
	{group: "meeting", name: "list", flags: []string{"organizer"}, summary: "list meetings", run: runMeetingList},
	{group: "meeting", name: "show", args: []string{"ID"},
		summary: "show a meeting: started or not, the lobby and the participants", run: runMeetingShow},
	{group: "meeting", name: "delete", args: []string{"ID"}, summary: "delete a meeting", run: runMeetingDelete},
	{group: "meeting", name: "start", args: []string{"ID"}, check: notEmpty,
		summary: "start a meeting as if its organizer joined from an app", run: runMeetingStart},
	{group: "meeting", name: "end", args: []string{"ID"}, check: notEmpty,
		summary: "end a meeting: everyone in it and in its lobby is hung up", run: runMeetingEnd},
	{group: "meeting", name: "admit", args: []string{"ID", "[CALLER-ID]"}, check: notEmpty,
		summary: "admit a caller from the lobby (ids: dialin meeting show), or everyone waiting", run: runMeetingAdmit},
	{group: "meeting", name: "mute", args: []string{"ID", "PARTICIPANT-ID"}, flags: []string{"off"}, check: notEmpty,
		summary: "mute a participant (--off: unmute)", run: runMeetingMute},
	{group: "meeting", name: "remove", args: []string{"ID", "CALLER-ID"}, check: notEmpty,
		summary: "hang up a participant or a lobby caller", run: runMeetingRemove},
	{group: "settings", name: "show", summary: "show the settings", run: runSettingsShow},
	{group: "settings", name: "set", args: []string{"KEY", "VALUE"}, summary: "change one setting (keys below)", run: runSettingsSet},
	{group: "me", name: "show", summary: "(users, with their own token) show your conference ID and PIN state", run: runMeShow},
	{group: "me", name: "reset-pin", summary: "(users, with their own token) reset your PIN: prints it, once (no email)", run: runMeResetPIN},
}

// isAdminLine reports whether a command line is an administration
// subcommand, whatever options come before its name (dialin --json user
// list: the options go anywhere on the line).
func isAdminLine(args []string) bool {
	l, err := parseAdminLine(args)
	if err != nil || len(l.args) == 0 {
		// A bad option: the first word decides, and runAdmin names the
		// option if it is ours.
		return len(args) > 0 && isAdminCommand(args[0])
	}
	return isAdminCommand(l.args[0])
}

// isAdminCommand reports whether name is an administration subcommand
// (user, pin, conference-id, meeting, settings, me).
func isAdminCommand(name string) bool {
	for _, c := range adminCommands {
		if c.group == name {
			return true
		}
	}
	return false
}

const adminOptionsUsage = `Options of these commands, anywhere on the line:
  --server URL      the API (env DIALIN_SERVER; default: admin.listen of the config)
  --token TOKEN     the admin token (env DIALIN_ADMIN_TOKEN; default: admin.token
                    of the config, else the file admin-token in its data_dir);
                    for dialin me: your own token (env DIALIN_USER_TOKEN), from
                    an administrator's dialin user token EMAIL
  --config FILE     the configuration to read them from (env DIALIN_CONFIG;
                    default: the built-in one, http://127.0.0.1:8080 and data/)
  --ca FILE         a PEM certificate to trust for https
  --json            print the API's JSON (lists: every page, as one array)
  --timeout D       give up after D (default 10s)
`

// adminUsage is the usage of the administration subcommands, for main's
// usage text.
func adminUsage() string {
	var b strings.Builder
	b.WriteString("Administration (clients of the REST API of a running dialin serve):\n")
	writeCommandLines(&b, "", false)
	b.WriteString(adminOptionsUsage)
	b.WriteString(settingsKeysUsage())
	return b.String()
}

// groupUsage is the help of one group of subcommands (--help).
func groupUsage(group string) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	writeCommandLines(&b, group, true)
	b.WriteString(adminOptionsUsage)
	if group == "settings" {
		b.WriteString(settingsKeysUsage())
	}
	return b.String()
}

// shortGroupUsage follows a usage error about a group: its synopses only.
func shortGroupUsage(group string) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	writeCommandLines(&b, group, false)
	fmt.Fprintf(&b, "Run 'dialin %s --help' for more.\n", group)
	return b.String()
}

// commandUsage is the help of one subcommand (--help).
func commandUsage(c *adminCommand) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: dialin %s\n  %s\n", c.line(), c.summary)
	b.WriteString(adminOptionsUsage)
	if c.group == "settings" && c.name == "set" {
		b.WriteString(settingsKeysUsage())
	}
	return b.String()
}

// shortCommandUsage follows a usage error about one subcommand.
func shortCommandUsage(c *adminCommand) string {
	return fmt.Sprintf("Usage: dialin %s\nRun 'dialin %s %s --help' for more.\n", c.line(), c.group, c.name)
}

func writeCommandLines(w io.Writer, group string, summaries bool) {
	for _, c := range adminCommands {
		if group != "" && c.group != group {
			continue
		}
		fmt.Fprintf(w, "  dialin %s\n", c.line())
		if summaries {
			fmt.Fprintf(w, "      %s\n", c.summary)
		}
	}
}

// usageError is bad usage: exit code 2, with usage text on stderr.
type usageError struct {
	msg   string
	usage string // what to print after the message
}

func (e *usageError) Error() string { return e.msg }

// adminLine is a command line split into positional arguments and flags.
type adminLine struct {
	args  []string
	flags map[string]string // bool flags hold "true" or "false"
}

func (l adminLine) has(name string) bool { return l.flags[name] == "true" }

// parseAdminLine separates flags from positional arguments anywhere on the
// line (the flag package stops at the first argument, but administrators
// type "dialin user show ada@example.com --json"). "--" ends the flags.
func parseAdminLine(args []string) (adminLine, error) {
	l := adminLine{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			l.args = append(l.args, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			l.args = append(l.args, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, value, hasValue := strings.Cut(name, "=")
		valueName, known := adminFlags[name]
		if !known {
			return l, &usageError{msg: fmt.Sprintf("unknown flag %s", a)}
		}
		switch {
		case valueName == "" && hasValue:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return l, &usageError{msg: fmt.Sprintf("flag --%s takes no value (or true/false), not %q", name, value)}
			}
			value = strconv.FormatBool(b)
		case valueName == "":
			value = "true"
		case !hasValue:
			if i+1 >= len(args) {
				return l, &usageError{msg: fmt.Sprintf("flag --%s needs a value (%s)", name, valueName)}
			}
			i++
			value = args[i]
		}
		l.flags[name] = value
	}
	return l, nil
}

// runAdmin runs an administration subcommand and returns the exit code.
func runAdmin(args []string, stdout, stderr io.Writer) int {
	return runAdminEnv(args, stdout, stderr, os.Getenv)
}

// runAdminEnv is runAdmin with the environment given, for tests.
func runAdminEnv(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	err := dispatch(args, stdout, getenv)
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "dialin: %s\n", ue.msg)
		if ue.usage != "" {
			fmt.Fprint(stderr, ue.usage)
		}
		return 2
	}
	// One line: scripts and people read the first line only.
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	fmt.Fprintf(stderr, "dialin: %s\n", msg)
	return 1
}

// dispatch finds the command, checks its arguments and runs it.
func dispatch(args []string, stdout io.Writer, getenv func(string) string) error {
	line, err := parseAdminLine(args)
	if err != nil {
		if len(args) > 0 && isAdminCommand(args[0]) {
			err.(*usageError).usage = shortGroupUsage(args[0])
		}
		return err
	}
	help := line.has("help") || line.has("h")
	if len(line.args) == 0 || !isAdminCommand(line.args[0]) {
		return &usageError{msg: "no administration command given (user, pin, conference-id, meeting, settings, me)"}
	}
	group := line.args[0]
	if len(line.args) == 1 || line.args[1] == "help" {
		if help || len(line.args) > 1 {
			fmt.Fprint(stdout, groupUsage(group))
			return nil
		}
		return &usageError{msg: fmt.Sprintf("%s: missing subcommand", group), usage: shortGroupUsage(group)}
	}
	var cmd *adminCommand
	for _, c := range adminCommands {
		if c.group == group && c.name == line.args[1] {
			cmd = c
		}
	}
	if cmd == nil {
		return &usageError{msg: fmt.Sprintf("unknown command %q", group+" "+line.args[1]), usage: shortGroupUsage(group)}
	}
	if help {
		fmt.Fprint(stdout, commandUsage(cmd))
		return nil
	}
	err = runCommand(cmd, line, stdout, getenv)
	var ue *usageError
	if errors.As(err, &ue) && ue.usage == "" {
		ue.usage = shortCommandUsage(cmd)
	}
	return err
}

// runCommand checks the flags and arguments of cmd and runs it.
func runCommand(cmd *adminCommand, line adminLine, stdout io.Writer, getenv func(string) string) error {
	for _, name := range slices.Sorted(maps.Keys(line.flags)) {
		if !globalFlags[name] && !slices.Contains(cmd.flags, name) {
			return &usageError{msg: fmt.Sprintf("flag --%s does not apply to dialin %s %s", name, cmd.group, cmd.name),
				usage: shortCommandUsage(cmd)}
		}
	}
	pos := line.args[2:]
	switch {
	case len(pos) < cmd.required():
		return &usageError{msg: fmt.Sprintf("%s %s: missing %s", cmd.group, cmd.name, strings.Join(cmd.args[len(pos):cmd.required()], " ")),
			usage: shortCommandUsage(cmd)}
	case len(pos) > len(cmd.args):
		return &usageError{msg: fmt.Sprintf("%s %s: unexpected argument %q", cmd.group, cmd.name, pos[len(cmd.args)]),
			usage: shortCommandUsage(cmd)}
	}
	if line.has("no-email") && line.flags["email-to"] != "" {
		return &usageError{msg: "--no-email and --email-to contradict each other: give one", usage: shortCommandUsage(cmd)}
	}
	timeout := defaultTimeout
	if s, ok := line.flags["timeout"]; ok {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return &usageError{msg: fmt.Sprintf("--timeout %q is not a positive duration like 10s or 1m", s)}
		}
		timeout = d
	}
	// Values are checked before anything is asked of the server.
	if cmd.group == "settings" && cmd.name == "set" {
		if _, err := settingsPatch(pos[0], pos[1]); err != nil {
			return err
		}
	}
	if cmd.check != nil {
		if err := cmd.check(pos); err != nil {
			return err
		}
	}

	target, err := resolveTarget(line, getenv, cmd.group == "me")
	if err != nil {
		return err
	}
	httpClient, err := target.httpClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	a := &adminRun{
		ctx:     ctx,
		client:  client.New(target.url, target.token, httpClient),
		out:     stdout,
		json:    line.has("json"),
		line:    line,
		target:  target,
		timeout: timeout,
	}
	return a.explain(cmd.run(a, pos))
}

// ---- Where the API is and how to authenticate -------------------------

// apiTarget is the API's address and the token, with where they came from
// (error messages point there).
type apiTarget struct {
	url         string
	token       string
	tokenSource string // "--token", "DIALIN_ADMIN_TOKEN", "config admin.token", a file path
	caFile      string // a PEM certificate to trust for https, if any
	self        bool   // a user's own token (dialin me), not the admin token
}

// resolveTarget finds the server and the token: --server, else
// DIALIN_SERVER, else admin.listen of the configuration; --token, else
// DIALIN_ADMIN_TOKEN, else admin.token of the configuration, else the file
// admin-token in its data_dir. The configuration is --config, else
// DIALIN_CONFIG, else the built-in defaults (what `dialin serve` with no
// file uses), so on the server's machine no option is needed.
//
// With self (dialin me) the token is the user's own: --token, else
// DIALIN_USER_TOKEN; the admin token is never used for it.
func resolveTarget(line adminLine, getenv func(string) string, self bool) (apiTarget, error) {
	t := apiTarget{caFile: line.flags["ca"], self: self}
	server := line.flags["server"]
	if server == "" {
		server = getenv(envServer)
	}
	if self {
		t.token, t.tokenSource = line.flags["token"], "--token"
		if t.token == "" {
			t.token, t.tokenSource = strings.TrimSpace(getenv(envUserToken)), envUserToken
		}
		if t.token == "" {
			return t, &usageError{msg: "dialin me needs your own token: --token TOKEN or " + envUserToken +
				" (an administrator issues it with: dialin user token EMAIL)"}
		}
	}
	if tok, ok := line.flags["token"]; ok && !self {
		if tok == "" {
			return t, &usageError{msg: "--token is empty"}
		}
		t.token, t.tokenSource = tok, "--token"
	} else if tok := strings.TrimSpace(getenv(admin.TokenEnv)); tok != "" {
		t.token, t.tokenSource = tok, admin.TokenEnv
	}
	if server == "" || (t.token == "" && !self) {
		path := line.flags["config"]
		if path == "" {
			path = getenv(envConfig)
		}
		cfg, err := config.Load(path)
		if err != nil {
			return t, err
		}
		if server == "" {
			u, err := listenURL(cfg.Admin, path)
			if err != nil {
				return t, err
			}
			server = u
			// A self-signed certificate is the common case: trust the
			// server's own certificate when we have its file.
			if t.caFile == "" && cfg.Admin.TLSCert != "" {
				t.caFile = cfg.Admin.TLSCert
			}
		}
		if t.token == "" && !self {
			// The environment was looked at above; ReadToken does the rest
			// in the server's order (config, then the token file).
			tok, source, err := admin.ReadToken(cfg.Admin, "", cfg.DataDir)
			if err != nil {
				return t, fmt.Errorf("%w (or give --token)", err)
			}
			t.token, t.tokenSource = tok, source
			if source == "config admin.token" && path != "" {
				t.tokenSource = "admin.token in " + path
			}
		}
	}
	u, err := normalizeServer(server)
	if err != nil {
		return t, err
	}
	t.url = u
	return t, nil
}

// listenURL is the URL of the API that cfg makes the server listen on.
func listenURL(cfg config.Admin, path string) (string, error) {
	where := "the built-in configuration"
	if path != "" {
		where = path
	}
	if cfg.Listen == "" {
		return "", fmt.Errorf("the admin API is off in %s (admin.listen is empty): give --server", where)
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return "", fmt.Errorf("%s: admin.listen %q is not host:port", where, cfg.Listen)
	}
	if port == "0" {
		return "", fmt.Errorf("%s: admin.listen %q has port 0, picked at start: give --server (the log line \"admin API ready\" has the URL)", where, cfg.Listen)
	}
	// A server listening on every address is reached on loopback here.
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// normalizeServer checks --server and adds http:// to a bare host:port.
func normalizeServer(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &usageError{msg: fmt.Sprintf("server %q is not a URL like http://127.0.0.1:8080", s)}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// httpClient is an HTTP client that trusts t.caFile too, when set.
func (t apiTarget) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if t.caFile != "" {
		pem, err := os.ReadFile(t.caFile)
		if err != nil {
			return nil, fmt.Errorf("read the certificate to trust: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	// A command makes one request or a few: "Connection: close" has the
	// server close first, so the TIME_WAIT stays on its port rather than
	// taking one of this machine's ephemeral ports for a minute per run.
	tr.DisableKeepAlives = true
	// No client timeout: the command's context bounds every request.
	return &http.Client{Transport: tr}, nil
}

// ---- Running a command --------------------------------------------------

// adminRun is what a command needs: the client and where to print.
type adminRun struct {
	ctx     context.Context
	client  *client.Client
	out     io.Writer
	json    bool
	line    adminLine
	target  apiTarget
	timeout time.Duration
}

// explain turns the errors of a request into what an administrator can
// act on.
func (a *adminRun) explain(err error) error {
	if err == nil {
		return nil
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		if ae.Status == http.StatusUnauthorized && a.target.self {
			return fmt.Errorf("the API refused your token (401 unauthorized; it came from %s): ask an administrator for a new one (dialin user token EMAIL)", a.target.tokenSource)
		}
		if ae.Status == http.StatusUnauthorized {
			src := a.target.tokenSource
			if src == "--token" || src == admin.TokenEnv {
				// Name the other places too: the server may use one of them.
				src = "the server's admin.token or " + admin.TokenFile + " file (this token came from " + src + ")"
			}
			return fmt.Errorf("the API refused the token (401 unauthorized): check --token, %s or %s", admin.TokenEnv, src)
		}
		if ae.Status == http.StatusServiceUnavailable && ae.Code != "" {
			// Not the request's fault: say so, with the code scripts can match.
			return fmt.Errorf("%s (%d %s)", ae.Error(), ae.Status, ae.Code)
		}
		return ae
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from the API at %s within %v (--timeout)", a.target.url, a.timeout)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var verifyErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach the API at %s: connection refused (is dialin serve running?)", a.target.url)
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &verifyErr):
		return fmt.Errorf("cannot reach the API at %s: %v (give --ca FILE to trust the server's certificate)", a.target.url, ue.Err)
	}
	return fmt.Errorf("cannot reach the API at %s: %v (is dialin serve running?)", a.target.url, ue.Err)
}

// printJSON prints raw JSON indented.
func (a *adminRun) printJSON(raw json.RawMessage) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the API's answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := a.out.Write(buf.Bytes())
	return err
}

// printJSONList prints raw objects as one indented JSON array.
func (a *adminRun) printJSONList(items []json.RawMessage) error {
	arr := []byte("[")
	for i, it := range items {
		if i > 0 {
			arr = append(arr, ',')
		}
		arr = append(arr, it...)
	}
	arr = append(arr, ']')
	return a.printJSON(arr)
}

// block prints aligned "key  value" lines under a title.
func (a *adminRun) block(title string, kv ...string) {
	if title != "" {
		fmt.Fprintln(a.out, title)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(tw, "  %s\t%s\n", kv[i], kv[i+1])
	}
	tw.Flush()
}

// mailOptions are the --no-email and --email-to flags.
func (a *adminRun) mailOptions() client.MailOptions {
	return client.MailOptions{NoEmail: a.line.has("no-email"), To: a.line.flags["email-to"]}
}

// emailLine says what happened to the email of a change.
func (a *adminRun) emailLine(ch client.Change) string {
	if ch.EmailQueued {
		to := a.line.flags["email-to"]
		if to == "" {
			to = ch.User.EmailOverride
		}
		if to == "" {
			to = ch.User.Email
		}
		return "queued to " + to
	}
	if a.line.has("no-email") {
		return "none sent (--no-email): pass the details on yourself"
	}
	return "none sent (the send-emails setting is off): pass the details on yourself"
}

const shownOnce = "(shown once: it will not be shown again)"

func conferenceIDText(id string) string {
	if id == "" {
		return "none (dynamic conference IDs: see dialin meeting create)"
	}
	return id
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ---- user ---------------------------------------------------------------

func runUserEnable(a *adminRun, args []string) error {
	req := client.EnableRequest{
		Email:         args[0],
		DisplayName:   a.line.flags["name"],
		EmailOverride: a.line.flags["email-override"],
		EmailTo:       a.line.flags["email-to"],
	}
	if a.line.has("no-email") {
		no := false
		req.SendEmail = &no
	}
	ch, err := a.client.EnableUser(a.ctx, req)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(ch.Raw)
	}
	a.block(ch.User.Email+": enabled for audio conferencing",
		"conference ID", conferenceIDText(ch.User.ConferenceID),
		"PIN", ch.PIN+"  "+shownOnce,
		"email", a.emailLine(ch))
	return nil
}

func runUserDisable(a *adminRun, args []string) error {
	if err := a.client.DisableUser(a.ctx, args[0]); err != nil {
		return err
	}
	if !a.json { // 204: no JSON to print
		fmt.Fprintf(a.out, "%s: disabled; its conference ID and meetings no longer work\n", args[0])
	}
	return nil
}

func runUserList(a *adminRun, _ []string) error {
	users, err := a.client.AllUsers(a.ctx)
	if err != nil {
		return err
	}
	if a.json {
		raws := make([]json.RawMessage, len(users))
		for i, u := range users {
			raws[i] = u.Raw
		}
		return a.printJSONList(raws)
	}
	if len(users) == 0 {
		fmt.Fprintln(a.out, "No users: enable one with dialin user enable EMAIL")
		return nil
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tCONFERENCE ID\tPIN\tLOCKED\tCREATED")
	for _, u := range users {
		// Always the mask, whatever the server sends.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, dash(u.DisplayName), dash(u.ConferenceID),
			store.MaskedPIN, yesNo(u.Locked), timeText(u.CreatedAt))
	}
	tw.Flush()
	fmt.Fprintf(a.out, "%d user(s)\n", len(users))
	return nil
}

func runUserShow(a *adminRun, args []string) error {
	u, err := a.client.User(a.ctx, args[0])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(u.Raw)
	}
	kv := []string{
		"email", u.Email,
		"display name", dash(u.DisplayName),
		"email override", dash(u.EmailOverride),
		"conference ID", conferenceIDText(u.ConferenceID),
		"PIN", pinText(u),
		"PIN lock", lockText(u),
	}
	if p := policyText(u.Policy); p != "" {
		kv = append(kv, "PIN policy", p)
	}
	kv = append(kv, "created", timeText(u.CreatedAt))
	a.block("", kv...)
	return nil
}

// pinText is the PIN line of a user: always the mask.
func pinText(u client.User) string {
	return fmt.Sprintf("%s  (%d digits, set %s)", store.MaskedPIN, u.PINLength, timeText(u.PINSetAt))
}

func lockText(u client.User) string {
	var s string
	switch {
	case u.Lock.LockedByAdmin:
		s = "locked until unlocked: dialin pin unlock " + u.Email
	case u.Locked:
		s = "locked until " + timeText(u.Lock.LockedUntil)
	default:
		s = "not locked"
	}
	if u.Lock.Failures > 0 || u.Lock.TotalFailures > 0 {
		s += fmt.Sprintf(" (%d recent failures, %d in a row)", u.Lock.Failures, u.Lock.TotalFailures)
	}
	return s
}

func policyText(p client.PINPolicy) string {
	var parts []string
	if p.Length != nil {
		parts = append(parts, fmt.Sprintf("length %d", *p.Length))
	}
	if p.BlockCommon != nil {
		parts = append(parts, "block common PINs "+onOff(*p.BlockCommon))
	}
	if p.LocalLimit != nil {
		parts = append(parts, fmt.Sprintf("local limit %d", *p.LocalLimit))
	}
	if p.GlobalLimit != nil {
		parts = append(parts, fmt.Sprintf("global limit %d", *p.GlobalLimit))
	}
	return strings.Join(parts, ", ")
}

func runUserToken(a *adminRun, args []string) error {
	t, err := a.client.IssueUserToken(a.ctx, args[0])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(t.Raw)
	}
	a.block(t.User.Email+": self-service token issued",
		"token", t.Token+"  "+shownOnce,
		"use", "give it to the user: "+envUserToken+"=TOKEN dialin me reset-pin (their earlier token stops working)")
	return nil
}

// ---- me (a user, with their own token) -------------------------------------

func runMeShow(a *adminRun, _ []string) error {
	u, err := a.client.Me(a.ctx)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(u.Raw)
	}
	a.block("",
		"email", u.Email,
		"conference ID", conferenceIDText(u.ConferenceID),
		"PIN", pinText(u),
		"PIN lock", meLockText(u))
	return nil
}

// meLockText is lockText for the user: only an administrator unlocks.
func meLockText(u client.User) string {
	switch {
	case u.Lock.LockedByAdmin:
		return "locked: ask an administrator to unlock it"
	case u.Locked:
		return "locked until " + timeText(u.Lock.LockedUntil) + " (or ask an administrator to unlock it)"
	}
	return "not locked"
}

func runMeResetPIN(a *adminRun, _ []string) error {
	ch, err := a.client.ResetOwnPIN(a.ctx)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(ch.Raw)
	}
	a.block(ch.User.Email+": PIN reset",
		"PIN", ch.PIN+"  "+shownOnce,
		"email", "none (you reset it yourself)")
	return nil
}

// ---- pin ----------------------------------------------------------------

func runPINReset(a *adminRun, args []string) error {
	ch, err := a.client.ResetPIN(a.ctx, args[0], a.mailOptions())
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(ch.Raw)
	}
	a.block(ch.User.Email+": PIN reset",
		"PIN", ch.PIN+"  "+shownOnce,
		"email", a.emailLine(ch))
	return nil
}

func runPINSet(a *adminRun, args []string) error {
	ch, err := a.client.SetPIN(a.ctx, args[0], args[1])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(ch.Raw)
	}
	fmt.Fprintf(a.out, "%s: PIN set (%d digits); no email sent\n", ch.User.Email, ch.User.PINLength)
	return nil
}

func runPINUnlock(a *adminRun, args []string) error {
	ch, err := a.client.UnlockPIN(a.ctx, args[0])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(ch.Raw)
	}
	fmt.Fprintf(a.out, "%s: PIN unlocked, failure counters cleared\n", ch.User.Email)
	return nil
}

// ---- conference-id ------------------------------------------------------

func runConfIDReset(a *adminRun, args []string) error {
	ch, err := a.client.ResetConferenceID(a.ctx, args[0], a.mailOptions())
	if err != nil {
		return err
	}
	return a.printConfIDChange(ch, "conference ID reset")
}

func runConfIDSet(a *adminRun, args []string) error {
	ch, err := a.client.SetConferenceID(a.ctx, args[0], args[1], a.mailOptions())
	if err != nil {
		return err
	}
	return a.printConfIDChange(ch, "conference ID set")
}

func (a *adminRun) printConfIDChange(ch client.Change, what string) error {
	if a.json {
		return a.printJSON(ch.Raw)
	}
	a.block(ch.User.Email+": "+what,
		"conference ID", ch.User.ConferenceID+"  (the old one no longer works)",
		"email", a.emailLine(ch))
	return nil
}

func runConfIDSendInfo(a *adminRun, args []string) error {
	ch, err := a.client.SendConferenceInfo(a.ctx, args[0], a.line.flags["email-to"])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(ch.Raw)
	}
	a.block(ch.User.Email+": conference ID and dial-in numbers (no PIN)",
		"conference ID", conferenceIDText(ch.User.ConferenceID),
		"email", a.emailLine(ch))
	return nil
}

// ---- meeting ------------------------------------------------------------

func runMeetingCreate(a *adminRun, args []string) error {
	req := client.MeetingRequest{Organizer: args[0]}
	if a.line.has("no-require-organizer") {
		no := false
		req.RequireOrganizer = &no
	}
	if a.line.has("bypass-lobby") {
		yes := true
		req.BypassLobby = &yes
	}
	m, err := a.client.CreateMeeting(a.ctx, req)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(m.Raw)
	}
	a.block(dash(m.Organizer)+": meeting created",
		"conference ID", m.ConferenceID,
		"require organizer", yesNo(m.RequireOrganizer),
		"bypass lobby", yesNo(m.BypassLobby))
	return nil
}

func runMeetingList(a *adminRun, _ []string) error {
	meetings, err := a.client.AllMeetings(a.ctx, a.line.flags["organizer"])
	if err != nil {
		return err
	}
	if a.json {
		raws := make([]json.RawMessage, len(meetings))
		for i, m := range meetings {
			raws[i] = m.Raw
		}
		return a.printJSONList(raws)
	}
	if len(meetings) == 0 {
		fmt.Fprintln(a.out, "No meetings")
		return nil
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONFERENCE ID\tORGANIZER\tKIND\tREQUIRE ORGANIZER\tBYPASS LOBBY\tCREATED")
	for _, m := range meetings {
		kind := "meeting"
		if m.Static {
			kind = "static"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ConferenceID, dash(m.Organizer), kind,
			yesNo(m.RequireOrganizer), yesNo(m.BypassLobby), timeText(m.CreatedAt))
	}
	tw.Flush()
	fmt.Fprintf(a.out, "%d meeting(s)\n", len(meetings))
	return nil
}

func runMeetingShow(a *adminRun, args []string) error {
	m, err := a.client.Meeting(a.ctx, args[0])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(m.Raw)
	}
	kind := "meeting (its own conference ID)"
	if m.Static {
		kind = "the organizer's static conference ID"
	}
	l := m.Live
	if l == nil {
		l = &client.Live{} // the bridge knows nothing of it
	}
	a.block("",
		"conference ID", m.ConferenceID,
		"organizer", dash(m.Organizer),
		"kind", kind,
		"require organizer", yesNo(m.RequireOrganizer),
		"bypass lobby", yesNo(m.BypassLobby),
		"created", timeText(m.CreatedAt),
		"started", yesNo(l.Started),
		"organizer present", yesNo(l.OrganizerPresent),
		"lobby", fmt.Sprintf("%d waiting", len(l.Lobby)),
		"participants", strconv.Itoa(len(l.Participants)))
	a.printLive(*l, time.Now())
	return nil
}

// printLive prints the lobby and the participants of a meeting as tables,
// with the ids that admit, mute and remove take.
func (a *adminRun) printLive(l client.Live, now time.Time) {
	if len(l.Lobby) > 0 {
		fmt.Fprintln(a.out, "\nLobby:")
		tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tCALLER\tWAITING SINCE\tWAITING FOR")
		for _, c := range l.Lobby {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", cell(c.ID), cell(c.Caller), timeText(c.WaitingSince), waitedText(c.WaitingSince, now))
		}
		tw.Flush()
	}
	if len(l.Participants) > 0 {
		fmt.Fprintln(a.out, "\nParticipants:")
		tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tCALLER\tROLE\tMUTED\tHAND RAISED\tTALKING\tJOINED")
		for _, p := range l.Participants {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(p.ID), cell(p.Caller), cell(p.Role),
				yesNo(p.Muted), yesNo(p.HandRaised), yesNo(p.Talking), timeText(p.JoinedAt))
		}
		tw.Flush()
	}
}

// cell is a value for a table: "-" when empty, and nothing that would
// break the alignment or reach the terminal as a control character.
func cell(s string) string {
	return dash(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s))
}

// waitedText is how long someone has waited since since, to the second.
func waitedText(since, now time.Time) string {
	if since.IsZero() {
		return "-"
	}
	return max(now.Sub(since), 0).Round(time.Second).String()
}

// notEmpty refuses an empty argument: "" would address another route (or,
// for admit, everyone).
func notEmpty(args []string) error {
	for _, a := range args {
		if strings.TrimSpace(a) == "" {
			return &usageError{msg: "an empty argument: give the ID (admit: leave CALLER-ID out to admit everyone)"}
		}
	}
	return nil
}

func runMeetingDelete(a *adminRun, args []string) error {
	if err := a.client.DeleteMeeting(a.ctx, args[0]); err != nil {
		return err
	}
	if !a.json { // 204: no JSON to print
		fmt.Fprintf(a.out, "meeting %s deleted; its conference ID no longer works\n", args[0])
	}
	return nil
}

func runMeetingStart(a *adminRun, args []string) error {
	m, err := a.client.StartMeeting(a.ctx, args[0])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(m.Raw)
	}
	l := m.Live
	if l == nil {
		l = &client.Live{}
	}
	a.block("meeting "+m.ConferenceID+" started",
		"started", yesNo(l.Started),
		"organizer present", yesNo(l.OrganizerPresent),
		"lobby", fmt.Sprintf("%d waiting", len(l.Lobby)),
		"participants", strconv.Itoa(len(l.Participants)))
	return nil
}

func runMeetingEnd(a *adminRun, args []string) error {
	if err := a.client.EndMeeting(a.ctx, args[0]); err != nil {
		return err
	}
	if !a.json { // 204: no JSON to print
		fmt.Fprintf(a.out, "meeting %s ended; everyone in it and in its lobby was hung up\n", args[0])
	}
	return nil
}

func runMeetingAdmit(a *adminRun, args []string) error {
	callerID := "" // everyone waiting
	if len(args) > 1 {
		callerID = args[1]
	}
	n, err := a.client.Admit(a.ctx, args[0], callerID)
	if err != nil {
		return err
	}
	if a.json {
		raw, err := json.Marshal(struct {
			Admitted int `json:"admitted"`
		}{n})
		if err != nil {
			return err
		}
		return a.printJSON(raw)
	}
	fmt.Fprintf(a.out, "admitted %d caller(s)\n", n)
	return nil
}

func runMeetingMute(a *adminRun, args []string) error {
	muted := !a.line.has("off")
	if err := a.client.SetMuted(a.ctx, args[0], args[1], muted); err != nil {
		return err
	}
	if !a.json { // 204: no JSON to print
		what := "muted"
		if !muted {
			what = "unmuted"
		}
		fmt.Fprintf(a.out, "participant %s %s in meeting %s\n", args[1], what, args[0])
	}
	return nil
}

func runMeetingRemove(a *adminRun, args []string) error {
	if err := a.client.RemoveCaller(a.ctx, args[0], args[1]); err != nil {
		return err
	}
	if !a.json { // 204: no JSON to print
		fmt.Fprintf(a.out, "%s removed from meeting %s and hung up\n", args[1], args[0])
	}
	return nil
}

// ---- settings -----------------------------------------------------------

// settingKey is one key of `settings set`, mapped to the PATCH body.
type settingKey struct {
	name  string
	value string // how the value is written, for the usage text
	set   func(p *client.SettingsPatch, v string) error
	show  func(s client.Settings) string
}

var settingKeys = []settingKey{
	{"pin-length", "N (4-12)",
		func(p *client.SettingsPatch, v string) error { return setInt(&p.PINLength, v) },
		func(s client.Settings) string { return strconv.Itoa(s.PINLength) }},
	{"send-emails", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.SendEmails, v) },
		func(s client.Settings) string { return onOff(s.SendEmails) }},
	{"conference-id-mode", "static|dynamic",
		func(p *client.SettingsPatch, v string) error {
			return setChoice(&p.ConferenceIDMode, v, "static", "dynamic")
		},
		func(s client.Settings) string { return s.ConferenceIDMode }},
	{"anonymous-can-start", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.AnonymousCanStart, v) },
		func(s client.Settings) string { return onOff(s.AnonymousCanStart) }},
	{"lobby-admission", "organizer|auto",
		func(p *client.SettingsPatch, v string) error {
			return setChoice(&p.LobbyAdmission, v, "organizer", "auto")
		},
		func(s client.Settings) string { return s.LobbyAdmission }},
	{"dial-in-bypass-lobby", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.DialInBypassLobby, v) },
		func(s client.Settings) string { return onOff(s.DialInBypassLobby) }},
	{"block-common-pins", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.BlockCommonPINs, v) },
		func(s client.Settings) string { return onOff(s.BlockCommonPINs) }},
	{"lockout-window", "DURATION",
		func(p *client.SettingsPatch, v string) error { return setDuration(&lockout(p).Window, v) },
		func(s client.Settings) string { return s.Lockout.Window }},
	{"lockout-local-lock-duration", "DURATION",
		func(p *client.SettingsPatch, v string) error { return setDuration(&lockout(p).LocalLockDuration, v) },
		func(s client.Settings) string { return s.Lockout.LocalLockDuration }},
	{"lockout-local-limit", "N (0: automatic)",
		func(p *client.SettingsPatch, v string) error { return setInt(&lockout(p).LocalLimit, v) },
		func(s client.Settings) string { return limitText(s.Lockout.LocalLimit) }},
	{"lockout-global-limit", "N (0: automatic)",
		func(p *client.SettingsPatch, v string) error { return setInt(&lockout(p).GlobalLimit, v) },
		func(s client.Settings) string { return limitText(s.Lockout.GlobalLimit) }},
	{"dial-in-numbers", `"NUMBER,NUMBER" ("" clears)`,
		func(p *client.SettingsPatch, v string) error {
			numbers := []string{} // not nil: an empty list clears
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					numbers = append(numbers, n)
				}
			}
			p.DialInNumbers = &numbers
			return nil
		},
		func(s client.Settings) string {
			if len(s.DialInNumbers) == 0 {
				return "-"
			}
			return strings.Join(s.DialInNumbers, ", ")
		}},
}

func settingsKeysUsage() string {
	var b strings.Builder
	b.WriteString("Keys of dialin settings set:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, k := range settingKeys {
		fmt.Fprintf(tw, "  %s\t%s\n", k.name, k.value)
	}
	tw.Flush()
	b.WriteString("  (on/off also accept true/false and yes/no)\n")
	return b.String()
}

func lockout(p *client.SettingsPatch) *client.LockoutPatch {
	if p.Lockout == nil {
		p.Lockout = &client.LockoutPatch{}
	}
	return p.Lockout
}

func limitText(n int) string {
	if n == 0 {
		return "0 (automatic)"
	}
	return strconv.Itoa(n)
}

func setInt(dst **int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*dst = &n
	return nil
}

func setBool(dst **bool, v string) error {
	var b bool
	switch strings.ToLower(v) {
	case "on", "true", "yes":
		b = true
	case "off", "false", "no":
	default:
		return fmt.Errorf("%q is not on or off", v)
	}
	*dst = &b
	return nil
}

func setChoice(dst **string, v string, choices ...string) error {
	if !slices.Contains(choices, v) {
		return fmt.Errorf("%q is not %s", v, strings.Join(choices, " or "))
	}
	*dst = &v
	return nil
}

func setDuration(dst **string, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 30m or 1h", v)
	}
	s := d.String()
	*dst = &s
	return nil
}

// settingsPatch is the PATCH body that sets key to value; a bad key or
// value is a usage error.
func settingsPatch(key, value string) (client.SettingsPatch, error) {
	var p client.SettingsPatch
	for _, k := range settingKeys {
		if k.name == key {
			if err := k.set(&p, value); err != nil {
				return p, &usageError{msg: fmt.Sprintf("settings set %s: %v", key, err)}
			}
			return p, nil
		}
	}
	return p, &usageError{msg: fmt.Sprintf("settings set: unknown key %q", key), usage: settingsKeysUsage()}
}

func runSettingsShow(a *adminRun, _ []string) error {
	s, err := a.client.Settings(a.ctx)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(s.Raw)
	}
	a.printSettings(s, "")
	return nil
}

// printSettings prints the settings under the keys of `settings set`, or
// only the key given.
func (a *adminRun) printSettings(s client.Settings, only string) {
	var kv []string
	for _, k := range settingKeys {
		if only == "" || k.name == only {
			kv = append(kv, k.name, k.show(s))
		}
	}
	a.block("", kv...)
}

func runSettingsSet(a *adminRun, args []string) error {
	patch, err := settingsPatch(args[0], args[1])
	if err != nil {
		return err
	}
	s, err := a.client.UpdateSettings(a.ctx, patch)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(s.Raw)
	}
	a.printSettings(s, args[0])
	return nil
}
