//go:build unix

package motoserver

import "syscall"

// terminate signals moto's process group: SIGTERM, or SIGKILL when hard.
func terminate(pid int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, sig)
}
