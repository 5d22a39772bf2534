package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// flagValues are every flag of every command, mapped to the name of its
// value ("" for a boolean flag). One table, so that flags can be told from
// arguments before the command is known: options go anywhere on the line
// (dialin --json user list, dialin user show EMAIL --json).
var flagValues = map[string]string{
	// Every command.
	"help": "",
	"h":    "",
	// dialin alone.
	"version": "",
	// The API commands (apiFlags); --config is serve's too.
	"server":  "URL",
	"token":   "TOKEN",
	"config":  "FILE",
	"ca":      "FILE",
	"timeout": "DURATION",
	"json":    "",
	// The options of one command or a few.
	"name":                 "NAME",
	"email-override":       "ADDRESS",
	"no-email":             "",
	"email-to":             "ADDRESS",
	"organizer":            "EMAIL",
	"no-require-organizer": "",
	"bypass-lobby":         "",
	"off":                  "",
	"status":               "STATUS",
	"search":               "TEXT",
	// dialin audit list.
	"from":           "TIME",
	"to":             "TIME",
	"credential":     "NAME",
	"user":           "EMAIL",
	"action":         "ACTION",
	"limit":          "N",
	"pin-length":     "N",
	"no-check-digit": "",
	// dialin calls list, dialin report usage (and from, to above).
	"conference-id": "ID",
	"caller":        "NUMBER",
	"outcome":       "OUTCOME",
	"csv":           "",
}

// apiFlags are the options of every client of the REST API (apiOptionsUsage).
var apiFlags = []string{"server", "token", "config", "ca", "timeout", "json"}

// line is a command line split into positional arguments and flags.
type line struct {
	args  []string
	flags map[string]string // bool flags hold "true" or "false"
}

func (l line) has(name string) bool { return l.flags[name] == "true" }

// parseLine separates flags from positional arguments anywhere on the line
// (the flag package stops at the first argument, but administrators type
// "dialin user show ada@example.com --json"). "--" ends the flags; -name
// and --name are the same flag, and a value follows as --name=VALUE or as
// the next argument.
func parseLine(args []string) (line, *usageError) {
	l := line{flags: map[string]string{}}
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
		valueName, known := flagValues[name]
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
