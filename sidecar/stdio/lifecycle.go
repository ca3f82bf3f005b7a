package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
)

// Run starts the child once SetEnv has been called, restarts it whenever it
// exits, and stops it when ctx ends.
func (t *Transport) Run(ctx context.Context) error {
	if len(t.opts.Command) == 0 {
		return errors.New("stdio: no command to run")
	}
	select {
	case <-t.credsSet:
	case <-ctx.Done():
		return nil
	}
	backoff := t.opts.MinBackoff
	for {
		uptime, credsChanged := t.runOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		default:
		}
		if credsChanged {
			backoff = t.opts.MinBackoff
			continue
		}
		if uptime >= t.opts.StableAfter {
			backoff = t.opts.MinBackoff
		}
		t.log.Info("restarting the MCP server process", "after", backoff.String())
		select {
		case <-time.After(backoff):
		case <-t.restart:
		case <-ctx.Done():
			return nil
		}
		backoff = min(2*backoff, t.opts.MaxBackoff)
	}
}

// runOnce starts, initializes and serves one child until it exits, ctx
// ends or the credentials change.
func (t *Transport) runOnce(ctx context.Context) (uptime time.Duration, credsChanged bool) {
	// A change from before this start is in the environment below.
	select {
	case <-t.restart:
	default:
	}
	t.mu.Lock()
	env := mergeEnv(t.opts.Env, t.creds)
	t.mu.Unlock()
	c, err := startChild(t.opts.Command, env, t.opts.Dir)
	if err != nil {
		t.log.Error(err, "the MCP server process could not be started", "command", t.opts.Command[0])
		t.setDown("the MCP server process could not be started; retrying")
		return 0, false
	}
	t.metrics.starts.Inc()
	t.log.Info("MCP server process started", "pid", c.pid, "command", t.opts.Command[0])
	stdoutRead := make(chan struct{})
	go func() {
		defer close(stdoutRead)
		err := readLines(c.stdout, t.opts.MaxLineBytes, func(line []byte) { t.dispatch(c, line) }, func(n int, head, tail []byte) {
			t.metrics.dropped.WithLabelValues("oversize").Inc()
			t.log.Info("dropped a line from the MCP server's stdout: larger than the limit", "pid", c.pid, "bytes", n, "limit", t.opts.MaxLineBytes)
			t.oversize(head, tail)
		})
		if err != nil && !errors.Is(err, os.ErrClosed) {
			t.log.Info("reading the MCP server's stdout failed", "pid", c.pid, "error", err.Error())
		}
	}()
	go t.logStderr(c)
	go c.wait(stdoutRead, t.opts.StopGrace)

	reason := "the MCP server process exited; restarting"
	if err := t.initialize(ctx, c); err != nil {
		if ctx.Err() == nil {
			t.log.Error(err, "the MCP server process did not initialize", "pid", c.pid)
		}
		c.stop(t.opts.StopGrace)
	} else {
		select {
		case <-c.exited:
			t.setDown(reason)
		case <-ctx.Done():
			reason = "the Airlock sidecar is shutting down"
			t.setDown(reason)
			c.stop(t.opts.StopGrace)
		case <-t.restart:
			reason = "the MCP server process restarted to apply new credentials"
			credsChanged = true
			t.log.Info("restarting the MCP server process to apply new credentials", "pid", c.pid)
			t.setDown("the MCP server process is restarting to apply new credentials")
			c.stop(t.opts.StopGrace)
		}
	}
	<-c.done
	t.log.Info("MCP server process exited", c.exitStatus()...)
	t.retire(c, reason)
	return time.Since(c.started), credsChanged
}

// setDown stops serving callers, who are told why.
func (t *Transport) setDown(reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.child != nil {
		t.child, t.session = nil, nil
		t.metrics.up.Set(0)
	}
	t.down = reason
}

// retire forgets c: calls it did not answer get the reason as an error.
func (t *Transport) retire(c *child, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.child == c {
		t.child, t.session = nil, nil
		t.metrics.up.Set(0)
	}
	if t.child == nil {
		t.down = reason
	}
	for id, cl := range t.calls {
		if cl.child == c {
			delete(t.calls, id)
			cl.ex.replies <- mcp.NewError(cl.id, mcp.CodeUpstreamUnavailable, reason, nil)
		}
	}
}

// initialize opens the child's MCP session and starts serving callers.
func (t *Transport) initialize(ctx context.Context, c *child) error {
	ctx, cancel := context.WithTimeout(ctx, t.opts.InitTimeout)
	defer cancel()
	ex := &exchange{replies: make(chan []byte, 1)}
	t.mu.Lock()
	t.nextID++
	id := t.nextID
	t.calls[id] = &call{child: c, ex: ex, id: internalID(id)}
	t.mu.Unlock()
	params := map[string]any{
		"protocolVersion": t.opts.ProtocolVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]string{"name": "airlock-sidecar", "version": "v1alpha1"},
	}
	if err := c.send(ctx, request(internalID(id), mcp.MethodInitialize, params)); err != nil {
		return err
	}
	var reply []byte
	select {
	case reply = <-ex.replies:
	case <-c.done:
		select {
		case reply = <-ex.replies:
		default:
			return errExited
		}
	case <-ctx.Done():
		return errors.New("no answer to initialize in time")
	}
	msgs, _, err := mcp.Decode(reply)
	if err != nil {
		return err
	}
	m := msgs[0]
	if m.Kind != mcp.KindResponse {
		return errors.New("initialize failed with code " + strconv.Itoa(m.Error.Code))
	}
	var res initializeResult
	if err := json.Unmarshal(m.Result, &res); err != nil || res.ProtocolVersion == "" {
		return errors.New("the answer to initialize has no protocol version")
	}
	if err := c.send(ctx, request(nil, methodInitialized, nil)); err != nil {
		return err
	}
	t.mu.Lock()
	t.child = c
	t.session = &session{result: slices.Clone(m.Result), version: mcp.Version(res.ProtocolVersion), name: res.ServerInfo.Name}
	t.down = ""
	t.mu.Unlock()
	t.metrics.up.Set(1)
	t.log.Info("MCP server process initialized", "pid", c.pid, "protocolVersion", res.ProtocolVersion,
		"serverName", res.ServerInfo.Name, "serverVersion", res.ServerInfo.Version)
	return nil
}

// logStderr copies the child's stderr to the log, line by line.
func (t *Transport) logStderr(c *child) {
	const maxLine = 16 << 10
	_ = readLines(c.stderr, maxLine, func(line []byte) {
		t.log.Info("MCP server stderr", "pid", c.pid, "line", string(line))
	}, func(n int, _, _ []byte) {
		t.log.Info("MCP server stderr: line too long to log", "pid", c.pid, "bytes", n)
	})
	_ = c.stderr.Close()
}
