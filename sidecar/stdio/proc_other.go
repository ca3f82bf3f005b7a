//go:build !linux

package stdio

import (
	"os"
	"syscall"
)

// sysProcAttr: process groups and parent-death signals are Linux-only here;
// elsewhere only the child itself is signalled.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func terminateGroup(p *os.Process) { _ = p.Signal(os.Interrupt) }

func killGroup(p *os.Process) { _ = p.Kill() }
