package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cleanups is the oidctest.TB the demo hands to test helpers: Cleanup
// registers a function run when the demo ends (last in, first out), Fatalf
// aborts the current step.
type cleanups struct {
	mu  sync.Mutex
	fns []func()
}

func (c *cleanups) Helper() {}

// fatal is the panic value of Fatalf; runStep recovers it into an error.
type fatal struct{ err error }

func (c *cleanups) Fatalf(format string, args ...any) {
	panic(fatal{fmt.Errorf(format, args...)})
}

func (c *cleanups) Cleanup(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, f)
}

// run runs the registered functions, newest first, once.
func (c *cleanups) run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// process is a child the demo started; its output goes to a log file.
type process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited
	err  error         // its exit, once done is closed
}

// start runs name with args until the demo ends. The child gets its own
// process group, so that stopping it also stops what it spawned (npm
// programs run node under a shell wrapper).
func (d *demo) start(label, name string, env []string, args ...string) (*process, error) {
	logPath := filepath.Join(d.logDir, label+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("starting %s: %w", label, err)
	}
	p := &process{name: label, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	d.cleanups.Cleanup(func() { d.stop(p) })
	return p, nil
}

// stop ends p's process group: SIGTERM, then SIGKILL after 5 seconds.
func (d *demo) stop(p *process) {
	select {
	case <-p.done:
		return
	default:
	}
	signalGroup(p.cmd, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		signalGroup(p.cmd, syscall.SIGKILL)
		<-p.done
	}
	d.stopped = append(d.stopped, p.name)
}

// exited is an error when p is no longer running.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%w); its log is %s", p.name, p.err, p.log)
	default:
		return nil
	}
}

// runCommand runs a short-lived command and returns its combined output.
func runCommand(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	setProcAttr(cmd)
	cmd.Cancel = func() error { signalGroup(cmd, syscall.SIGKILL); return nil }
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// poll calls cond until it is true, it fails, or timeout passes. Each step
// waits for what it needs this way: nothing waits by sleeping a fixed time.
func poll(ctx context.Context, timeout, interval time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		done, err := cond()
		if done {
			return nil
		}
		if err != nil {
			last = err
			var stop permanent
			if errors.As(err, &stop) {
				return err
			}
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last: %w)", what, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// permanent ends a poll at once.
type permanent struct{ error }

// waitHTTP waits until url answers want; p is the process that should serve it.
func waitHTTP(ctx context.Context, p *process, url string, want int) (string, error) {
	var body string
	err := poll(ctx, 60*time.Second, 50*time.Millisecond, url, func() (bool, error) {
		if err := p.exited(); err != nil {
			return false, permanent{err}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, permanent{err}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		b := make([]byte, 512)
		n, _ := resp.Body.Read(b)
		_ = resp.Body.Close()
		body = strings.TrimSpace(string(b[:n]))
		if resp.StatusCode != want {
			return false, fmt.Errorf("%s: %s", resp.Status, body)
		}
		return true, nil
	})
	return body, err
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail is the end of a log file, for a failure report.
func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
