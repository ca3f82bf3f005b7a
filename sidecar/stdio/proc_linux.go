package stdio

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in a process group of its own, so that what it
// starts (npx starts node) is stopped with it, and has the kernel kill it if
// the sidecar dies. Pdeathsig fires when the thread that started the child
// exits; the Go runtime keeps its threads, so that is when the process does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func terminateGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGTERM) }

func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
