// Command sidecar is the Airlock proxy injected into MCP server pods.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "usage: sidecar --server NAMESPACE/NAME [--kubeconfig FILE] [--listen ADDR] [--upstream URL]")
	os.Exit(2)
}
