package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

const apiOptionsUsage = `Options of these commands, anywhere on the line:
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

func configNote() string {
	return "A commented example configuration is in config/dialin.example.yaml.\n"
}

// usage is the help of every command (dialin help).
func (a *App) usage() string {
	var b strings.Builder
	b.WriteString("dialin — dial-in audio conferencing bridge\n\nUsage:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, c := range a.commands {
		if c.access == local {
			fmt.Fprintf(tw, "  dialin %s\t%s\n", c.synopsis(), c.summary)
		}
	}
	fmt.Fprintf(tw, "  dialin --version\t%s\n", "print the version and exit")
	tw.Flush()
	b.WriteString("\nEvery command takes --help (-h), as dialin help COMMAND does.\n" + configNote())
	b.WriteString("\nAdministration (clients of the REST API of a running dialin serve):\n")
	a.writeLines(&b, func(c *command) bool { return c.access != local }, false)
	b.WriteString(apiOptionsUsage)
	b.WriteString(settingsKeysUsage())
	return b.String()
}

// shortUsage follows a usage error that names no command: the commands'
// names only.
func (a *App) shortUsage() string {
	var names []string
	for _, c := range a.commands {
		if g := c.group(); !slices.Contains(names, g) {
			names = append(names, g)
		}
	}
	return "Usage: dialin COMMAND [ARGUMENTS] [OPTIONS]\n  commands: " + strings.Join(names, ", ") +
		"\nRun 'dialin help' for more.\n"
}

// usageNear follows a usage error found before the command was known (a
// bad flag): the usage of the command or group that the line starts with.
func (a *App) usageNear(args []string) string {
	switch {
	case len(args) == 0:
	case a.byName[args[0]] != nil:
		return shortCommandUsage(a.byName[args[0]])
	case a.groups[args[0]]:
		return a.shortGroupUsage(args[0])
	}
	return a.shortUsage()
}

// groupUsage is the help of one group of commands (dialin help user).
func (a *App) groupUsage(group string) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	in := func(c *command) bool { return c.group() == group }
	a.writeLines(&b, in, true)
	b.WriteString(apiOptionsUsage) // every group is of API commands
	var notes []string
	for _, c := range a.commands {
		if in(c) && c.notes != nil && !slices.Contains(notes, c.notes()) {
			notes = append(notes, c.notes())
		}
	}
	b.WriteString(strings.Join(notes, ""))
	return b.String()
}

// shortGroupUsage follows a usage error about a group: its synopses only.
func (a *App) shortGroupUsage(group string) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	a.writeLines(&b, func(c *command) bool { return c.group() == group }, false)
	fmt.Fprintf(&b, "Run 'dialin %s --help' for more.\n", group)
	return b.String()
}

// commandUsage is the help of one command (dialin help user enable,
// dialin user enable --help).
func (a *App) commandUsage(c *command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: dialin %s\n  %s\n", c.synopsis(), c.summary)
	if c.access != local {
		b.WriteString(apiOptionsUsage)
	}
	if c.notes != nil {
		b.WriteString(c.notes())
	}
	return b.String()
}

// shortCommandUsage follows a usage error about one command.
func shortCommandUsage(c *command) string {
	return fmt.Sprintf("Usage: dialin %s\nRun 'dialin %s --help' for more.\n", c.synopsis(), c.name)
}

func (a *App) writeLines(w io.Writer, in func(*command) bool, summaries bool) {
	for _, c := range a.commands {
		if !in(c) {
			continue
		}
		fmt.Fprintf(w, "  dialin %s\n", c.synopsis())
		if summaries {
			fmt.Fprintf(w, "      %s\n", c.summary)
		}
	}
}

// runHelp is dialin help [COMMAND] [SUBCOMMAND].
func (a *App) runHelp(j *job, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(j.out, a.usage())
		return nil
	}
	cmd, group, _, err := a.find(args)
	switch {
	case err != nil:
		return err
	case cmd == nil:
		fmt.Fprint(j.out, a.groupUsage(group))
	default:
		fmt.Fprint(j.out, a.commandUsage(cmd))
	}
	return nil
}
