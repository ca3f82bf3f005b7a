//go:build unix && !linux

package main

import "syscall"

// setParentDeathSignal: only Linux has one; elsewhere a killed demo may leave
// its children running.
func setParentDeathSignal(*syscall.SysProcAttr) {}
