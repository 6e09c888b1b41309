//go:build unix

package pipeline

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

// lifelineScript runs before the step's script, in the same shell
// process (so the same process group). It starts a watcher in the
// background that blocks reading fd 3, the read end of a pipe whose only
// write end podium holds, then kills the whole group. The read returns
// when the write end closes: when the step is over and podium closes it
// (leftovers of the step die), or when podium dies, however it dies (the
// kernel closes a dead process's files; SIGKILL cannot be caught, but
// this needs nothing from podium). The shell then drops fd 3, so the
// step never sees it, and execs the script unchanged as $1: it is run by
// `sh -c`, exactly as without the watcher, with the same pid.
const lifelineScript = `(read _ <&3; kill -KILL 0) </dev/null >/dev/null 2>&1 &
exec 3<&-
exec sh -c "$1"`

// diesWithParent makes cmd's process group die with podium. The shell
// itself gets the parent-death signal where there is one (Linux); the
// rest of the group (a training script's workers, a `sleep &`) is killed
// by the lifeline watcher. The returned file is podium's end of the
// lifeline: close it once cmd has been waited for.
func diesWithParent(cmd *exec.Cmd) (io.Closer, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("failed to start the step: %w", err)
	}
	script := cmd.Args[len(cmd.Args)-1]
	cmd.Args = []string{"sh", "-c", lifelineScript, "sh", script}
	cmd.ExtraFiles = []*os.File{r} // fd 3
	return closers{r, w}, nil
}

type closers []io.Closer

func (cs closers) Close() error {
	for _, c := range cs {
		c.Close()
	}
	return nil
}

// runLocked runs cmd on a locked OS thread. Linux sends the parent-death
// signal when the *thread* that forked the child exits, not the process
// (prctl(2): "the parent is the thread that created this process"). Go
// may start a child from any of its threads, and a thread can exit while
// the process lives (a goroutine that ends locked to it takes it along),
// which would kill a healthy step. Locking the goroutine to its thread
// from fork to wait keeps that thread alive for the child's whole life.
func runLocked(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Run()
}

// terminateGroup asks the command's whole process group to stop.
func terminateGroup(cmd *exec.Cmd) error {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil && err != syscall.ESRCH {
		return err
	}
	return nil
}

// killGroup kills what is left of the command's process group once the
// shell has been reaped. The kernel does not hand out a pid that is still
// some group's id, so while any of our processes lives this reaches only
// them; ESRCH means none is left.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func signaled(ps *os.ProcessState) (int, bool) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return int(ws.Signal()), true
}
