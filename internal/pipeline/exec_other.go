//go:build !unix

package pipeline

import (
	"io"
	"os"
	"os/exec"
)

// Without process groups only the shell itself can be stopped.
func setProcessGroup(cmd *exec.Cmd) {}

func terminateGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func killGroup(cmd *exec.Cmd) {}

func signaled(ps *os.ProcessState) (int, bool) { return 0, false }

// Without process groups and sh, nothing outlives the process tree's root
// on purpose; there is no lifeline.
func diesWithParent(cmd *exec.Cmd) (io.Closer, error) { return nopCloser{}, nil }

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

func runLocked(cmd *exec.Cmd) error { return cmd.Run() }
