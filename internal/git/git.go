// Package git runs the git command line. podium shells out to git rather
// than reimplementing it: CI images have git, and users' credentials,
// shallow clones and hooks then behave exactly as git itself handles them.
// Arguments are passed as an argv, never through a shell.
package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Repo is a git work tree (or bare repository) on disk.
type Repo struct {
	Dir string
	// Env is extra environment for every git call (KEY=VALUE).
	Env []string
}

// Open returns the repository whose work tree holds dir, or an error when
// dir is not inside one.
func Open(ctx context.Context, dir string) (*Repo, error) {
	top, err := (&Repo{Dir: dir}).Run(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	return &Repo{Dir: top}, nil
}

// Error is a failed git command with its stderr.
type Error struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	// git writes a failure as several lines (fatal: ..., then advice); one
	// line joined with "; " reads as a message, where the printed error
	// would otherwise show each newline escaped as a literal \n.
	var lines []string
	for l := range strings.SplitSeq(e.Stderr, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	msg := strings.Join(lines, "; ")
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs git with args in the repository and returns its stdout with the
// trailing newline removed.
func (r *Repo) Run(ctx context.Context, args ...string) (string, error) {
	out, err := r.Output(ctx, nil, args...)
	return strings.TrimRight(string(out), "\n"), err
}

// Output runs git with args, feeding stdin when it is not nil, and returns
// stdout as bytes.
func (r *Repo) Output(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	return r.start(ctx, stdin, args...).wait()
}

// process is a git started with its output captured.
type process struct {
	ctx            context.Context
	cmd            *exec.Cmd
	args           []string
	stdout, stderr bytes.Buffer
	startErr       error
}

func (r *Repo) start(ctx context.Context, stdin []byte, args ...string) *process {
	p := &process{ctx: ctx, cmd: r.command(ctx, args...), args: args}
	if stdin != nil {
		p.cmd.Stdin = bytes.NewReader(stdin)
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.startErr = p.cmd.Start()
	return p
}

func (p *process) wait() ([]byte, error) {
	err := p.startErr
	if err == nil {
		err = p.cmd.Wait()
	}
	if err != nil {
		// A git killed because ctx ended says why: the context's error,
		// not "signal: killed".
		if ctxErr := p.ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return p.stdout.Bytes(), &Error{Args: p.args, Stderr: p.stderr.String(), Err: err}
	}
	return p.stdout.Bytes(), nil
}

// waitDelay bounds how long a git that has exited, or was killed, may
// keep its caller waiting on output held open by its children.
const waitDelay = 2 * time.Second

func (r *Repo) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	// A process git starts (a hook, a credential helper, ssh) may keep
	// git's output open after git has exited or been killed: Wait would
	// wait for it. It waits this long, then closes the pipes and says so.
	cmd.WaitDelay = waitDelay
	cmd.Dir = r.Dir
	cmd.Env = append(cmd.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.Env = append(cmd.Env, r.Env...)
	return cmd
}

// ExitCode returns git's exit status from err, or -1 when err is not a
// finished git process.
func ExitCode(err error) int {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	return -1
}

// Head returns the full SHA of HEAD.
func (r *Repo) Head(ctx context.Context) (string, error) {
	return r.Run(ctx, "rev-parse", "HEAD")
}

// Show returns the content of path at rev (rev:path).
func (r *Repo) Show(ctx context.Context, rev, path string) ([]byte, error) {
	return r.Output(ctx, nil, "show", rev+":"+path)
}
