//go:build unix && !linux

package pipeline

import "syscall"

// Only Linux has a parent-death signal; the lifeline watcher covers the
// whole group elsewhere.
func setParentDeathSignal(attr *syscall.SysProcAttr) {}
