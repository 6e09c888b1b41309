package pipeline

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"time"
)

// DefaultKillGrace is how long a step or component gets between SIGTERM
// and SIGKILL when it times out or the run is interrupted.
const DefaultKillGrace = 5 * time.Second

// shell is one `sh -c` command: a component's build or test, or a step's
// run. The command text is the spec author's, trusted like a Makefile's
// recipe; nothing untrusted is ever spliced into it.
type shell struct {
	Script    string
	Dir       string
	Env       []string
	Out       io.Writer // stdout and stderr, interleaved as the command wrote them
	Timeout   time.Duration
	KillGrace time.Duration
}

// outcome is how a shell command ended.
type outcome struct {
	ExitCode int  // 128+signal when killed by a signal, as shells report it
	TimedOut bool // its own timeout fired
	Canceled bool // the caller's context ended it (Ctrl-C, SIGTERM)
	Err      error
}

func (o outcome) ok() bool { return o.Err == nil && o.ExitCode == 0 && !o.TimedOut && !o.Canceled }

// run starts the command in its own process group, so that a timeout or
// cancellation stops everything it started (compilers, pipelines of
// tools), not just the shell: SIGTERM to the group, SIGKILL after the
// grace period, and SIGKILL to whatever of the group is left once the
// shell has gone.
func (s shell) run(ctx context.Context) outcome {
	runCtx := ctx
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	grace := s.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	cmd := exec.CommandContext(runCtx, "sh", "-c", s.Script)
	cmd.Dir = s.Dir
	cmd.Env = s.Env
	cmd.Stdout = s.Out
	cmd.Stderr = s.Out
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return terminateGroup(cmd) }
	// WaitDelay bounds both the wait for the group to die after SIGTERM
	// (then Go kills the shell, and we kill the rest below) and the wait
	// for a background process that keeps the output pipe open.
	cmd.WaitDelay = grace

	// The group dies with podium, even with podium killed by SIGKILL
	// (diesWithParent, exec_*.go).
	lifeline, err := diesWithParent(cmd)
	if err != nil {
		return outcome{ExitCode: -1, Err: err}
	}
	err = runLocked(cmd)
	lifeline.Close()
	out := outcome{ExitCode: exitCode(cmd, err)}
	switch {
	case ctx.Err() != nil:
		out.Canceled = true
	case runCtx.Err() != nil:
		out.TimedOut = true
	}
	if out.Canceled || out.TimedOut {
		killGroup(cmd)
		return out
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.As(err, &exitErr):
	case errors.Is(err, exec.ErrWaitDelay):
		// It succeeded but left a process holding its output open; the
		// result stands.
	default:
		out.Err = err
	}
	return out
}

func exitCode(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState == nil {
		if err != nil {
			return -1
		}
		return 0
	}
	if sig, ok := signaled(cmd.ProcessState); ok {
		return 128 + sig
	}
	return cmd.ProcessState.ExitCode()
}
