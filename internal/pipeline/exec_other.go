//go:build !unix

package pipeline

import (
	"os"
	"os/exec"
)

// Without process groups only the shell itself can be stopped.
func setProcessGroup(cmd *exec.Cmd) {}

func terminateGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func killGroup(cmd *exec.Cmd) {}

func signaled(ps *os.ProcessState) (int, bool) { return 0, false }
