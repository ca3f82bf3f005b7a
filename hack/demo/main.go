// Command demo runs Airlock's whole flow on this machine and narrates it:
// a real kube-apiserver and etcd (envtest) with the controllers, an
// Okta-shaped OIDC issuer, @modelcontextprotocol/server-everything behind the
// real sidecar binary, and the MCP Inspector CLI as the caller. It checks
// every step it narrates and exits non-zero when one does not behave as
// told, so it doubles as a smoke test. `make demo` builds what it needs and
// runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mcp-airlock/airlock/test/envtest"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

// demo is the state the steps share.
type demo struct {
	n        *narrator
	cleanups cleanups
	logDir   string
	stopped  []string // processes stopped at the end, for the summary

	sidecarBin string
	npmDir     string

	env          *envtest.Env
	idp          *oidctest.IdP
	upstream     *process
	sidecar      *process
	upstreamPort int
	upstreamMCP  string // server-everything's own endpoint
	listenPort   int
	metricsPort  int
	endpoint     string // the sidecar's endpoint
	metricsURL   string
	token        string

	policyLatency time.Duration
	metrics       []string // the sidecar's request counters at the end
}

const (
	namespace    = "default"
	clientID     = "0oa1demo0agent"
	clientSecret = "demo-agent-secret" // of the local IdP only
)

func main() { os.Exit(run()) }

func run() int {
	var (
		noColor bool
		keep    bool
		d       demo
	)
	flag.StringVar(&d.sidecarBin, "sidecar", "", "Sidecar binary; empty builds ./cmd/sidecar into the log directory.")
	flag.StringVar(&d.npmDir, "npm", "", "Directory of the npm MCP peers (hack/npm-peers.sh prints it); empty runs hack/npm-peers.sh.")
	flag.BoolVar(&noColor, "no-color", false, "Plain output even on a terminal (NO_COLOR does the same).")
	flag.BoolVar(&keep, "keep-logs", false, "Keep the directory with every process's log, even when the demo passes.")
	flag.Parse()
	d.n = newNarrator(os.Stdout, noColor)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	if d.logDir, err = os.MkdirTemp("", "airlock-demo-"); err != nil {
		d.n.fail("%v", err)
		return 1
	}

	d.n.say("%s", d.n.paint(bold, "Airlock demo: an MCP server behind identity and policy, on this machine"))
	d.n.say("every process logs into %s", d.logDir)

	steps := []step{
		{"Start a cluster API, the controllers, an IdP and an MCP server", d.startAll},
		{"Protect the MCP server: Secret, MCPServer, AccessPolicy", d.applyPolicy},
		{"Start the sidecar in front of server-everything", d.startSidecar},
		{"Get a token from the IdP (OAuth client credentials)", d.getToken},
		{"Call through the airlock with the MCP Inspector CLI", d.callTools},
		{"Masking: secrets and personal data never leave the sidecar", d.masking},
		{"Change the policy live", d.livePolicyChange},
		{"Approvals", d.approvals},
	}
	const total = 9 // the steps above, and clean-up
	began := time.Now()
	took := make([]time.Duration, 0, len(steps))
	var failed error
	interrupted := false
	for i, s := range steps {
		d.n.heading(i+1, total, s.title)
		t0 := time.Now()
		failed = runStep(ctx, s.fn)
		took = append(took, time.Since(t0))
		if ctx.Err() != nil {
			interrupted, failed = true, errInterrupted
			d.n.fail("interrupted")
			break
		}
		if failed != nil {
			d.n.fail("%v", failed)
			if t := d.sidecarTail(); t != "" {
				d.n.say("the last lines of the sidecar's log:")
				d.n.out(t)
			}
			break
		}
	}

	d.n.heading(total, total, "Clean up")
	stop() // a second Ctrl-C during clean-up kills the demo
	d.cleanups.run()
	if len(d.stopped) > 0 {
		d.n.ok("stopped %s", strings.Join(d.stopped, ", "))
	}
	if (failed != nil && !interrupted) || keep {
		d.n.say("logs of every process are kept in %s", d.logDir)
	} else {
		_ = os.RemoveAll(d.logDir)
	}

	d.summary(steps[:len(took)], took, time.Since(began), failed)
	switch {
	case interrupted:
		return 130
	case failed != nil:
		return 1
	}
	return 0
}

var errInterrupted = errors.New("interrupted")

// step is one narrated step of the demo.
type step struct {
	title string
	fn    func(context.Context) error
}

// runStep runs fn, turning a Fatalf of a test helper, or a panic, into an
// error, so that the clean-up always runs.
func runStep(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(fatal); ok {
				err = f.err
				return
			}
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx)
}

func (d *demo) summary(steps []step, took []time.Duration, total time.Duration, failed error) {
	fmt.Println()
	switch {
	case errors.Is(failed, errInterrupted):
		fmt.Println(d.n.paint(yellow+";"+bold, "Demo interrupted") + ":")
	case failed != nil:
		fmt.Println(d.n.paint(red+";"+bold, "Demo FAILED") + " — a step did not behave as narrated:")
	default:
		fmt.Println(d.n.paint(green+";"+bold, "Demo passed") + " — every step behaved as narrated:")
	}
	for i, s := range steps {
		mark := d.n.paint(green, "✓")
		if failed != nil && i == len(steps)-1 {
			mark = d.n.paint(red, "✗")
		}
		fmt.Printf("  %s %d. %-62s %6.1fs\n", mark, i+1, s.title, took[i].Seconds())
	}
	if d.policyLatency > 0 {
		fmt.Printf("  policy change enforced %s after the patch was sent\n", d.policyLatency.Round(100*time.Microsecond))
	}
	if len(d.metrics) > 0 {
		fmt.Printf("  the sidecar's requests by decision (airlock_requests_total): %s\n", strings.Join(d.metrics, ", "))
	}
	fmt.Printf("  total %.1fs\n", total.Seconds())
}

// sidecarTail is the end of the sidecar's log, if it started.
func (d *demo) sidecarTail() string {
	if d.sidecar == nil {
		return ""
	}
	return strings.TrimSpace(tail(d.sidecar.log, 10))
}

// npmBin is a program of the npm MCP peers.
func (d *demo) npmBin(name string) string {
	return filepath.Join(d.npmDir, "node_modules", ".bin", name)
}

// script runs one of hack/'s scripts and returns the directory it prints;
// its progress goes to the terminal (a first run builds and installs).
func script(ctx context.Context, name string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(envtest.RepoRoot(), "hack", name))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/%s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
