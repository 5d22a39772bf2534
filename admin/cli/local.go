package cli

import (
	"fmt"
	"runtime/debug"

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
	if _, err := config.Load(args[0]); err != nil {
		return err
	}
	fmt.Fprintf(j.out, "%s: ok\n", args[0])
	return nil
}

// version is what dialin --version prints, from the build information Go
// records in the binary: the main module's version (v1.2.3 when built by
// go install ...@v1.2.3, "(devel)" from a checkout), the VCS revision when
// the build stamped it (go build in a git checkout, unless -buildvcs=false),
// and the Go release.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dialin (unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case s.Key == "vcs.modified" && s.Value == "true":
			modified = "+modified"
		}
	}
	if rev != "" {
		v += " " + rev + modified
	}
	return "dialin " + v + " " + bi.GoVersion
}
