package git

import (
	"context"
	"strings"
)

// Started is a git command running in the background (Repo.Start): git
// reads that do not need each other's answers run at once rather than one
// after another, each process's start-up (milliseconds) overlapping the
// others'.
type Started struct {
	cancel context.CancelFunc
	done   chan struct{}
	out    string
	err    error
}

// Start runs git with args in the background; Wait returns what Run would
// have. Every Started must be waited for or stopped (Stop), so that no git
// outlives its caller.
func (r *Repo) Start(ctx context.Context, args ...string) *Started {
	ctx, cancel := context.WithCancel(ctx)
	s := &Started{cancel: cancel, done: make(chan struct{})}
	// The process starts here, not in the goroutine: processes started one
	// after another start in that order, whenever the goroutines run.
	p := r.start(ctx, nil, args...)
	go func() {
		defer close(s.done)
		out, err := p.wait()
		s.out, s.err = strings.TrimRight(string(out), "\n"), err
	}()
	return s
}

// Wait waits for git to exit and returns its stdout (the trailing newline
// removed) and error, as Run does.
func (s *Started) Wait() (string, error) {
	<-s.done
	s.cancel()
	return s.out, s.err
}

// Stop kills git if it still runs and waits for it to exit; its result is
// then not wanted.
func (s *Started) Stop() {
	s.cancel()
	<-s.done
}
