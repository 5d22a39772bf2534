// Command dialin is the dial-in audio conferencing bridge: dialin serve
// runs it, and the other commands (dialin help lists them, admin/cli holds
// them) check a configuration or administer a running bridge through its
// REST API.
package main

import (
	"os"

	"github.com/dialin/dialin/admin/cli"
)

func main() {
	os.Exit(cli.New(serve).Run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
