// Command kubectl-airlock is the kubectl plugin for approvals and sessions.
package main

import (
	"fmt"
	"os"
)

const usage = `kubectl airlock: approvals and recorded sessions of Airlock-protected MCP servers.

Usage:
  kubectl airlock approve NAME [-n NAMESPACE] [--reason TEXT]
  kubectl airlock deny NAME [-n NAMESPACE] [--reason TEXT]
  kubectl airlock sessions list|replay|verify

Not implemented yet: approvals and sessions arrive with their issues.
`

func main() {
	fmt.Fprint(os.Stderr, usage)
	if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help") {
		return
	}
	os.Exit(2)
}
