package main

import "syscall"

// setParentDeathSignal kills the child should the demo itself be killed
// (SIGKILL runs no cleanup).
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
