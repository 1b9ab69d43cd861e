//go:build unix && !linux

package localtarget

import "syscall"

// dieWithParent does nothing: only Linux lets a process ask to die with its
// parent. A hook here outlives an agent that is killed.
func dieWithParent(*syscall.SysProcAttr) {}
