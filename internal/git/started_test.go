package git

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// fakeGit puts a git on PATH that sleeps for "slow", fails for "fail",
// leaves a child holding its output open for "orphan" and echoes its
// arguments otherwise. Not for parallel tests.
func fakeGit(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
case "$1" in
slow) exec sleep 60 ;;
orphan) sleep 20 & echo started; exit 0 ;;
fail) echo "fatal: $2" >&2; echo "advice" >&2; exit 128 ;;
esac
echo "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestStartedWaitIsRun(t *testing.T) {
	fakeGit(t)
	tests := []struct {
		args    []string
		wantOut string
		wantErr string
		exit    int
	}{
		{args: []string{"show", "x"}, wantOut: "show x", exit: -1},
		{args: []string{"fail", "boom"}, wantErr: "git fail boom: fatal: boom; advice", exit: 128},
	}
	r := &Repo{Dir: t.TempDir()}
	for _, tt := range tests {
		out, err := r.Start(t.Context(), tt.args...).Wait()
		runOut, runErr := r.Run(t.Context(), tt.args...)
		if out != tt.wantOut || out != runOut {
			t.Errorf("%v: out = %q (Run: %q), want %q", tt.args, out, runOut, tt.wantOut)
		}
		if got, want := errString(err), errString(runErr); got != tt.wantErr || got != want {
			t.Errorf("%v: error = %q (Run: %q), want %q", tt.args, got, want, tt.wantErr)
		}
		if ExitCode(err) != tt.exit {
			t.Errorf("%v: exit code %d, want %d", tt.args, ExitCode(err), tt.exit)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestStartedStop: Stop kills a git still running and returns at once;
// cancelling the context does too, and the error is the context's.
func TestStartedStop(t *testing.T) {
	fakeGit(t)
	r := &Repo{Dir: t.TempDir()}
	start := time.Now()
	s := r.Start(t.Context(), "slow")
	s.Stop()
	_, err := s.Wait()
	if !errors.Is(err, context.Canceled) || err.Error() != "git slow: context canceled" {
		t.Errorf("after Stop: error = %v, want git slow: context canceled", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	s = r.Start(ctx, "slow")
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := s.Wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v: the sleeping git was not killed", d)
	}
	// Stop after the end is harmless.
	s.Stop()
}

// TestRunCancelled: a git killed because its context ended reports the
// context's error, not "signal: killed".
func TestRunCancelled(t *testing.T) {
	fakeGit(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := (&Repo{Dir: t.TempDir()}).Run(ctx, "slow")
	var exitErr *exec.ExitError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &exitErr) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
}

// TestChildHoldingOutputOpen: git exits, but a process it started keeps
// its output open (a hook or credential helper left running). The caller
// waits waitDelay, not for the child, and hears that the output may be
// cut short.
func TestChildHoldingOutputOpen(t *testing.T) {
	fakeGit(t)
	r := &Repo{Dir: t.TempDir()}
	start := time.Now()
	out, err := r.Run(t.Context(), "orphan")
	if took := time.Since(start); took > waitDelay+5*time.Second {
		t.Errorf("Run took %v: it waited for git's child", took)
	}
	if out != "started" {
		t.Errorf("out = %q, want what git wrote before it exited", out)
	}
	if !errors.Is(err, exec.ErrWaitDelay) {
		t.Errorf("err = %v, want exec.ErrWaitDelay", err)
	}
}
