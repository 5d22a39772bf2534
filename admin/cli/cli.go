// Package cli is the command line of the dialin binary: one table of
// commands (commands.go) read by one parser (line.go), so that help, flags
// and exit codes are the same for every command. serve is handed in by the
// caller, so this package does not link the bridge; the administration
// commands are clients of the REST API of a running dialin serve
// (admin/API.md, through admin/client).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/version"
)

// Exit codes, the same for every command.
const (
	ExitOK     = 0
	ExitFailed = 1 // one line on stderr says why
	ExitUsage  = 2 // bad usage: the error on the first line of stderr, then a usage text
)

// defaultTimeout bounds one API command, every request included.
const defaultTimeout = 10 * time.Second

// ServeFunc runs the bridge until it stops (cmd/dialin's serve).
type ServeFunc func(cfg config.Config, stdout, stderr io.Writer) error

// App is the dialin command line: its commands, by name.
type App struct {
	commands []*command          // in the order of the usage text
	byName   map[string]*command // "serve", "user enable"
	groups   map[string]bool     // first words of the commands that have a second (user, pin...)
}

// New returns the command line with serve as the serve command.
func New(serve ServeFunc) *App {
	a := &App{byName: map[string]*command{}, groups: map[string]bool{}}
	a.commands = a.table(serve)
	for _, c := range a.commands {
		a.byName[c.name] = c
		if group, _, ok := strings.Cut(c.name, " "); ok {
			a.groups[group] = true
		}
	}
	return a
}

// Run runs the command line args (without the program's name) and returns
// the exit code. getenv reads the environment (os.Getenv; tests give their
// own).
func (a *App) Run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	err := a.dispatch(args, stdout, stderr, getenv)
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "dialin: %s\n", ue.msg)
		fmt.Fprint(stderr, ue.usage)
		return ExitUsage
	}
	// One line: scripts and people read the first line only.
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	fmt.Fprintf(stderr, "dialin: %s\n", msg)
	return ExitFailed
}

// usageError is bad usage: exit code 2, with a usage text on stderr.
type usageError struct {
	msg   string
	usage string // what to print after the message
}

func (e *usageError) Error() string { return e.msg }

// job is what a command needs: the line, where to print and, for the API
// commands, the client.
type job struct {
	out    io.Writer // stdout
	logs   io.Writer // stderr, for serve's logs
	line   line
	getenv func(string) string
	json   bool // --json

	// The API commands only.
	ctx     context.Context
	client  *client.Client
	target  apiTarget
	timeout time.Duration
}

// dispatch finds the command, checks its flags and arguments and runs it.
func (a *App) dispatch(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	l, perr := parseLine(args)
	if perr != nil {
		perr.usage = a.usageNear(args)
		return perr
	}
	help := l.has("help") || l.has("h")
	if len(l.args) == 0 {
		switch {
		case help:
			fmt.Fprint(stdout, a.usage())
			return nil
		case l.has("version"):
			fmt.Fprintln(stdout, version.Get().String())
			return nil
		}
		return &usageError{msg: "no command given", usage: a.shortUsage()}
	}
	cmd, group, pos, err := a.find(l.args)
	if err != nil {
		return err
	}
	if cmd == nil { // a group's name, alone or followed by help
		if help || len(l.args) > 1 {
			fmt.Fprint(stdout, a.groupUsage(group))
			return nil
		}
		return &usageError{msg: group + ": missing subcommand", usage: a.shortGroupUsage(group)}
	}
	if help {
		fmt.Fprint(stdout, a.commandUsage(cmd))
		return nil
	}
	j := &job{out: stdout, logs: stderr, line: l, getenv: getenv, json: l.has("json")}
	err = runCommand(cmd, j, pos)
	var ue *usageError
	if errors.As(err, &ue) && ue.usage == "" {
		ue.usage = shortCommandUsage(cmd)
	}
	return err
}

// find returns the command that words name, and the words after its name;
// or, for a group's name alone or followed by "help", the group only.
func (a *App) find(words []string) (cmd *command, group string, rest []string, err error) {
	first := words[0]
	if c := a.byName[first]; c != nil {
		return c, "", words[1:], nil
	}
	if !a.groups[first] {
		return nil, "", nil, &usageError{msg: fmt.Sprintf("unknown command %q", first), usage: a.shortUsage()}
	}
	if len(words) == 1 || words[1] == "help" {
		return nil, first, nil, nil
	}
	if c := a.byName[first+" "+words[1]]; c != nil {
		return c, first, words[2:], nil
	}
	return nil, "", nil, &usageError{msg: fmt.Sprintf("unknown command %q", first+" "+words[1]), usage: a.shortGroupUsage(first)}
}

// runCommand checks the flags and arguments of cmd, connects to the API if
// cmd is its client, and runs it.
func runCommand(cmd *command, j *job, pos []string) error {
	for _, name := range slices.Sorted(maps.Keys(j.line.flags)) {
		if !cmd.takes(name) {
			return &usageError{msg: fmt.Sprintf("flag --%s does not apply to dialin %s", name, cmd.name)}
		}
	}
	switch {
	case len(pos) < cmd.required():
		return &usageError{msg: fmt.Sprintf("%s: missing %s", cmd.name, strings.Join(cmd.args[len(pos):cmd.required()], " "))}
	case len(pos) > len(cmd.args):
		return &usageError{msg: fmt.Sprintf("%s: unexpected argument %q", cmd.name, pos[len(cmd.args)])}
	}
	if j.line.has("no-email") && j.line.flags["email-to"] != "" {
		return &usageError{msg: "--no-email and --email-to contradict each other: give one"}
	}
	timeout := defaultTimeout
	if s, ok := j.line.flags["timeout"]; ok {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return &usageError{msg: fmt.Sprintf("--timeout %q is not a positive duration like 10s or 1m", s)}
		}
		timeout = d
	}
	// Values are checked before anything is asked of the server.
	if cmd.check != nil {
		if err := cmd.check(pos); err != nil {
			return err
		}
	}
	if cmd.access == local {
		return cmd.run(j, pos)
	}
	cancel, err := j.connect(cmd.access == ownToken, timeout)
	if err != nil {
		return err
	}
	defer cancel()
	return j.explain(cmd.run(j, pos))
}
