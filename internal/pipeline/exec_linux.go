package pipeline

import "syscall"

// setParentDeathSignal has the kernel SIGKILL the step's shell when
// podium's forking thread dies (see runLocked).
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
