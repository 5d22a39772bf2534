// Command dialin is the dial-in audio conferencing bridge.
//
//	dialin serve [--config FILE]   run the bridge
//	dialin check-config FILE       validate a configuration file and exit
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dialin/dialin/config"
)

const usage = `dialin — dial-in audio conferencing bridge

Usage:
  dialin serve [--config FILE]   run the bridge (no file: loopback demo defaults)
  dialin check-config FILE       validate a configuration file and exit

A commented example configuration is in config/dialin.example.yaml.
`

func main() {
	// The administration subcommands are clients of the REST API (cli.go),
	// with their own exit codes: 0 done, 1 failed, 2 bad usage.
	if isAdminLine(os.Args[1:]) {
		os.Exit(runAdmin(os.Args[1:], os.Stdout, os.Stderr))
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dialin:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage+"\n"+adminUsage())
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		path := fs.String("config", "", "configuration file (YAML); empty for the built-in defaults")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		cfg, err := config.Load(*path)
		if err != nil {
			return err
		}
		return serve(cfg, stdout, stderr)
	case "check-config":
		if len(args) != 2 {
			return errors.New("usage: dialin check-config FILE")
		}
		if _, err := config.Load(args[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok\n", args[1])
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage+"\n"+adminUsage())
		return nil
	}
	fmt.Fprint(stderr, usage+"\n"+adminUsage())
	return fmt.Errorf("unknown command %q", args[0])
}
