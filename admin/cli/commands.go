package cli

import (
	"slices"
	"strings"
)

// access is how a command reaches what it works on.
type access int

const (
	local      access = iota // runs here: serve, check-config, help
	adminToken               // a client of the REST API with the admin token
	ownToken                 // a client of the REST API with a user's own token (dialin me)
)

// command is one command of the dialin binary.
type command struct {
	name    string   // "serve", "user enable": the commands of a group share the first word
	args    []string // names of the positional arguments; "[NAME]": optional, after the others
	flags   []string // its own flags (flagValues), beyond --help and, for the API commands, apiFlags
	access  access
	summary string
	notes   func() string // more help, after the options (the keys of settings set)
	// check, when set, refuses bad arguments (a usage error) before the
	// server is looked for.
	check func(args []string) error
	run   func(j *job, args []string) error
}

// table is every command, in the order of the usage text.
func (a *App) table(serve ServeFunc) []*command {
	return []*command{
		{name: "serve", flags: []string{"config"}, summary: "run the bridge (no --config: the loopback demo defaults)",
			notes: configNote, run: runServe(serve)},
		{name: "check-config", args: []string{"FILE"}, summary: "validate a configuration file and exit",
			notes: configNote, run: runCheckConfig},
		{name: "help", args: []string{"[COMMAND]", "[SUBCOMMAND]"}, summary: "print the help of everything, a group or a command",
			run: a.runHelp},

		{name: "user enable", args: []string{"EMAIL"}, flags: []string{"name", "email-override", "no-email", "email-to"}, access: adminToken,
			summary: "enable a user: prints the conference ID and the PIN, once", run: runUserEnable},
		{name: "user set", args: []string{"EMAIL"}, flags: []string{"email-override", "pin-length"}, access: adminToken,
			summary: "change a user: --email-override ADDRESS sends its emails there (\"\" clears it); --pin-length N (4-12; 0: the pin-length setting) for its generated PINs from the next reset", run: runUserSet},
		{name: "user disable", args: []string{"EMAIL"}, access: adminToken,
			summary: "disable a user: its conference ID and meetings stop working", run: runUserDisable},
		{name: "user list", flags: []string{"search"}, access: adminToken,
			summary: "list every user, or with --search TEXT those whose email or display name starts with TEXT (any case) or whose conference ID starts with it", run: runUserList},
		{name: "user show", args: []string{"EMAIL"}, access: adminToken, summary: "show a user", run: runUserShow},
		{name: "user token", args: []string{"EMAIL"}, access: adminToken,
			summary: "issue the user's self-service token: prints it, once (their earlier one stops working)", run: runUserToken},
		{name: "user revoke-token", args: []string{"EMAIL"}, access: adminToken,
			summary: "end the user's self-service token at once", run: runUserRevokeToken},

		{name: "pin reset", args: []string{"EMAIL"}, flags: []string{"no-email", "email-to"}, access: adminToken,
			summary: "generate a new PIN: prints it, once", run: runPINReset},
		{name: "pin set", args: []string{"EMAIL", "PIN"}, access: adminToken, summary: "set a PIN chosen by you (no email)", run: runPINSet},
		{name: "pin unlock", args: []string{"EMAIL"}, access: adminToken, summary: "unlock a locked PIN", run: runPINUnlock},

		{name: "conference-id reset", args: []string{"EMAIL"}, flags: []string{"no-email", "email-to"}, access: adminToken,
			summary: "give a user a new conference ID (the old one stops working)", run: runConfIDReset},
		{name: "conference-id set", args: []string{"EMAIL", "ID"}, flags: []string{"no-email", "email-to", "no-check-digit"}, access: adminToken,
			summary: "give a user the conference ID ID (7 digits, the last a check digit; --no-check-digit: import one from another system)", run: runConfIDSet},
		{name: "conference-id send-info", args: []string{"EMAIL"}, flags: []string{"email-to"}, access: adminToken,
			summary: "email the conference ID and dial-in numbers (never the PIN)", run: runConfIDSendInfo},

		{name: "meeting create", args: []string{"EMAIL"}, flags: []string{"no-require-organizer", "bypass-lobby"}, access: adminToken,
			summary: "create a meeting with its own conference ID: prints it", run: runMeetingCreate},
		{name: "meeting list", flags: []string{"organizer"}, access: adminToken, summary: "list meetings", run: runMeetingList},
		{name: "meeting show", args: []string{"ID"}, access: adminToken,
			summary: "show a meeting: started or not, the lobby and the participants", run: runMeetingShow},
		{name: "meeting delete", args: []string{"ID"}, access: adminToken, summary: "delete a meeting", run: runMeetingDelete},
		{name: "meeting start", args: []string{"ID"}, access: adminToken, check: notEmpty,
			summary: "start a meeting as if its organizer joined from an app", run: runMeetingStart},
		{name: "meeting end", args: []string{"ID"}, access: adminToken, check: notEmpty,
			summary: "end a meeting: everyone in it and in its lobby is hung up", run: runMeetingEnd},
		{name: "meeting admit", args: []string{"ID", "[CALLER-ID]"}, access: adminToken, check: notEmpty,
			summary: "admit a caller from the lobby (ids: dialin meeting show), or everyone waiting", run: runMeetingAdmit},
		{name: "meeting lock", args: []string{"ID"}, access: adminToken, check: notEmpty,
			summary: "lock a started meeting: new callers but the organizer are refused", run: runMeetingLock},
		{name: "meeting unlock", args: []string{"ID"}, access: adminToken, check: notEmpty,
			summary: "unlock a meeting", run: runMeetingUnlock},
		{name: "meeting live", access: adminToken,
			summary: "list the meetings on now or with callers in the lobby", run: runMeetingLive},
		{name: "meeting mute", args: []string{"ID", "PARTICIPANT-ID"}, flags: []string{"off"}, access: adminToken, check: notEmpty,
			summary: "mute a participant (--off: unmute)", run: runMeetingMute},
		{name: "meeting remove", args: []string{"ID", "CALLER-ID"}, access: adminToken, check: notEmpty,
			summary: "hang up a participant or a lobby caller", run: runMeetingRemove},

		{name: "outbox list", flags: []string{"status"}, access: adminToken,
			summary: "list the emails to users: pending, sent, failed, dropped (never their content)", run: runOutboxList},
		{name: "outbox retry", args: []string{"ID"}, access: adminToken, check: checkEmailID,
			summary: "send a failed email again now", run: runOutboxRetry},
		{name: "outbox drop", args: []string{"ID"}, access: adminToken, check: checkEmailID,
			summary: "drop a pending or failed email: it is never sent", run: runOutboxDrop},
		{name: "calls list", flags: []string{"from", "to", "conference-id", "organizer", "caller", "outcome", "csv"}, access: adminToken,
			notes: callsNote, summary: "list call records, oldest first (TIME: 2026-01-31, 2026-01-31T09:00:00Z or an age: 24h, 7d)", run: runCallsList},
		{name: "calls show", args: []string{"CALL-ID"}, flags: []string{"csv"}, access: adminToken, check: notEmpty,
			summary: "show one call's record: outcome, end reason, quality each way", run: runCallsShow},
		{name: "report usage", flags: []string{"from", "to", "organizer", "csv"}, access: adminToken,
			summary: "usage per organizer and per meeting: meetings, calls, participant-minutes, MOS (default: the last 30 days)", run: runReportUsage},

		{name: "settings show", access: adminToken, summary: "show the settings", run: runSettingsShow},
		{name: "settings set", args: []string{"KEY", "VALUE"}, access: adminToken, notes: settingsKeysUsage, check: checkSettingsSet,
			summary: "change one setting (keys below)", run: runSettingsSet},

		{name: "admin add", args: []string{"NAME"}, access: adminToken, check: notEmpty, notes: adminsNote,
			summary: "add an administrator's account for the admin center: prints its password, once", run: runAdminAdd},
		{name: "admin password", args: []string{"NAME"}, access: adminToken, check: notEmpty, notes: adminsNote,
			summary: "give an administrator a new password: prints it, once (the one before stops working)", run: runAdminPassword},
		{name: "admin remove", args: []string{"NAME"}, access: adminToken, check: notEmpty,
			summary: "remove an administrator's account", run: runAdminRemove},
		{name: "admin list", access: adminToken, summary: "list the administrators' accounts", run: runAdminList},
		{name: "audit list", flags: []string{"from", "to", "credential", "user", "action", "limit"}, access: adminToken,
			summary: "who changed what: the audit trail, newest first (--limit 50)", run: runAuditList},

		{name: "me show", access: ownToken,
			summary: "(users, with their own token) show your conference ID and PIN state", run: runMeShow},
		{name: "me reset-pin", access: ownToken,
			summary: "(users, with their own token) reset your PIN: prints it, once (no email)", run: runMeResetPIN},
	}
}

// group is the first word of the command's name.
func (c *command) group() string {
	g, _, _ := strings.Cut(c.name, " ")
	return g
}

// takes reports whether the command accepts the flag.
func (c *command) takes(flag string) bool {
	switch {
	case flag == "help" || flag == "h", slices.Contains(c.flags, flag):
		return true
	case c.access != local:
		return slices.Contains(apiFlags, flag)
	}
	return false
}

// required is how many positional arguments the command needs.
func (c *command) required() int {
	n := 0
	for _, a := range c.args {
		if !strings.HasPrefix(a, "[") {
			n++
		}
	}
	return n
}

// synopsis is the command's line in the usage, e.g. "user show EMAIL".
func (c *command) synopsis() string {
	s := c.name
	for _, a := range c.args {
		s += " " + a
	}
	for _, f := range c.flags {
		s += " [--" + f
		if v := flagValues[f]; v != "" {
			s += " " + v
		}
		s += "]"
	}
	return s
}
