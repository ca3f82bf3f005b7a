package stdio

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"time"
)

// errExited is returned when a line is sent to a child that has exited.
var errExited = errors.New("the MCP server process exited")

// child is one run of the MCP server process.
type child struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	stdin   *os.File
	stdout  *os.File
	stderr  *os.File

	lines chan []byte // to stdin, one message each, written by write
	// exited is closed when the process has been waited for; done when,
	// in addition, its stdout has been read to the end, so every answer it
	// wrote has been dispatched.
	exited chan struct{}
	done   chan struct{}
	err    error // of cmd.Wait, set before exited is closed
}

// startChild starts argv with env, its stdio on pipes. No file is written:
// the environment goes to the kernel with the exec.
func startChild(argv, env []string, dir string) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.SysProcAttr = sysProcAttr()
	// os.Pipe rather than cmd.StdoutPipe: Wait must not wait for a
	// grandchild that keeps the pipe open, nor close it under the reader.
	var files [6]*os.File
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				_ = f.Close()
			}
		}
	}
	for i := 0; i < len(files); i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, err
		}
		files[i], files[i+1] = r, w
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = files[0], files[3], files[5]
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, err
	}
	// The child's ends belong to the child now.
	for _, i := range []int{0, 3, 5} {
		_ = files[i].Close()
	}
	c := &child{
		cmd: cmd, pid: cmd.Process.Pid, started: time.Now(),
		stdin: files[1], stdout: files[2], stderr: files[4],
		lines:  make(chan []byte, 64),
		exited: make(chan struct{}),
		done:   make(chan struct{}),
	}
	go c.write()
	return c, nil
}

// write copies lines to stdin until the child exits or stops reading.
func (c *child) write() {
	for {
		select {
		case line := <-c.lines:
			if _, err := c.stdin.Write(append(line, '\n')); err != nil {
				return // the child is exiting; wait reports it
			}
		case <-c.exited:
			return
		}
	}
}

// send queues one message for the child's stdin.
func (c *child) send(ctx context.Context, line []byte) error {
	select {
	case c.lines <- line:
		return nil
	case <-c.exited:
		return errExited
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trySend queues one message if there is room, for notifications that may
// be lost.
func (c *child) trySend(line []byte) {
	select {
	case c.lines <- line:
	default:
	}
}

// wait reaps the child, kills what it left behind in its process group,
// and closes done once the reader of stdout has seen the end (or, if a
// process outside the group holds the pipe, after grace).
func (c *child) wait(stdoutRead <-chan struct{}, grace time.Duration) {
	c.err = c.cmd.Wait()
	killGroup(c.cmd.Process)
	close(c.exited)
	select {
	case <-stdoutRead:
	case <-time.After(grace):
		_ = c.stdout.Close()
		<-stdoutRead
	}
	_ = c.stdin.Close()
	close(c.done)
}

// stop ends the child the way the MCP stdio transport asks: close its
// stdin, then SIGTERM after grace, then SIGKILL after grace again.
func (c *child) stop(grace time.Duration) {
	_ = c.stdin.Close()
	for _, sig := range []func(*os.Process){terminateGroup, killGroup} {
		select {
		case <-c.exited:
			return
		case <-time.After(grace):
		}
		sig(c.cmd.Process)
	}
	<-c.exited
}

// exitStatus describes how the child ended, for the log.
func (c *child) exitStatus() []any {
	kv := []any{"pid", c.pid, "uptime", time.Since(c.started).Round(time.Millisecond).String()}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return append(kv, "exitStatus", ee.String())
	}
	if c.err != nil {
		return append(kv, "error", c.err.Error())
	}
	return append(kv, "exitStatus", "exit status 0")
}
