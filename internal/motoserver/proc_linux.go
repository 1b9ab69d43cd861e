package motoserver

import "syscall"

// sysProcAttr puts moto in a process group of its own, which stop kills
// whole, and has the kernel kill it when the test binary dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
