package localtarget

import "syscall"

// dieWithParent has the kernel send the hook SIGKILL when its parent dies
// (prctl PR_SET_PDEATHSIG), so that a hook never outlives an agent that
// crashed or was killed: the executor that takes the deployment over runs
// the event again, and must not find the old run still going. The kernel
// sends the signal when the thread that forked the hook exits, which is why
// runner.run keeps that thread locked until the hook has exited. Go sets
// the signal after any change of credentials (runas), which would clear it.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
