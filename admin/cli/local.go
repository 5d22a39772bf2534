package cli

import (
	"fmt"

	"github.com/dialin/dialin/config"
)

// runServe is dialin serve [--config FILE]: the configuration, then serve.
func runServe(serve ServeFunc) func(j *job, args []string) error {
	return func(j *job, _ []string) error {
		cfg, err := config.Load(j.line.flags["config"])
		if err != nil {
			return err
		}
		return serve(cfg, j.out, j.logs)
	}
}

// runCheckConfig is dialin check-config FILE.
func runCheckConfig(j *job, args []string) error {
	cfg, err := config.Load(args[0])
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(j.logs, "%s: warning: %s\n", args[0], w)
	}
	fmt.Fprintf(j.out, "%s: ok\n", args[0])
	return nil
}
