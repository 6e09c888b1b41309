package scm

import (
	"context"
	"errors"
	"fmt"
)

// ErrRace is a branch update lost to a concurrent writer: the backend
// returns it (wrapped) from ProposeSteps.Push, and Propose replays the push.
var ErrRace = errors.New("the branch moved while podium was updating it")

// ProposeSteps are a backend's host-specific parts of ProposeChange. The
// order around them (validate, resolve the base, replay lost races, then
// find or open the PR/MR) is the same on every host, so it lives in
// Propose once.
type ProposeSteps struct {
	// DefaultBranch resolves an empty ChangeRequest.Base.
	DefaultBranch func(ctx context.Context) (string, error)
	// Push makes ch.Branch one commit with ch.Files on top of base and
	// returns that commit; an error wrapping ErrRace is replayed.
	Push func(ctx context.Context, base string, ch ChangeRequest) (string, error)
	// FindOrOpen returns the open PR/MR from ch.Branch into base, updated
	// to ch, or opens it.
	FindOrOpen func(ctx context.Context, base string, ch ChangeRequest) (*PullRequest, error)
	// Pause waits before replay number attempt.
	Pause func(ctx context.Context, attempt int) error
	// MaxPushes bounds how often a push that lost a race is made.
	MaxPushes int
}

// Propose runs ProposeChange's skeleton over a backend's steps.
func Propose(ctx context.Context, ch ChangeRequest, s ProposeSteps) (*PullRequest, error) {
	if err := ch.Validate(); err != nil {
		return nil, err
	}
	base := ch.Base
	if base == "" {
		var err error
		if base, err = s.DefaultBranch(ctx); err != nil {
			return nil, err
		}
		// Validate could not see this: the base was not known yet.
		if base == ch.Branch {
			return nil, &InvalidChangeError{Field: "Branch", Value: ch.Branch, Msg: "is the default branch itself"}
		}
	}
	var commit string
	var err error
	for attempt := 1; ; attempt++ {
		commit, err = s.Push(ctx, base, ch)
		if !errors.Is(err, ErrRace) || attempt == s.MaxPushes {
			break
		}
		if err := s.Pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to push branch %s: %w", ch.Branch, err)
	}
	pr, err := s.FindOrOpen(ctx, base, ch)
	if err != nil {
		return nil, err
	}
	pr.Commit = commit
	return pr, nil
}
