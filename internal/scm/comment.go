package scm

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// CommentSteps are a backend's host-specific parts of UpsertComment; T is
// the host's own comment type (a GitHub issue comment, a GitLab note),
// whose zero value means "none found". The order around them (mark the
// body, know who podium is, edit the comment podium owns or create it, and
// look again after a create whose outcome is unknown) is the same on every
// host, so it lives in Upsert once.
type CommentSteps[T comparable] struct {
	// Whoami is the account podium's comments are authored by.
	Whoami func(ctx context.Context) (string, error)
	// Find returns the comment that holds marker and is authored by me,
	// or the zero T. Comments by anyone else never count, so nobody can
	// make podium edit theirs.
	Find func(ctx context.Context, me string) (T, error)
	// Body is a comment's text.
	Body func(T) string
	// Edit replaces a comment's text; it may repeat itself, since setting
	// the same body twice is harmless.
	Edit func(ctx context.Context, c T, body string) (T, error)
	// Create posts a new comment once; Upsert decides about repeating it.
	Create func(ctx context.Context, body string) (T, error)
	// Result describes a comment to the caller.
	Result func(c T, created bool) *Comment
	// UnknownOutcome reports a failed create that may have happened all
	// the same.
	UnknownOutcome func(ctx context.Context, err error) bool
	// Pause waits before attempt number attempt+1.
	Pause func(ctx context.Context, attempt int) error
	// MaxCreates bounds how often the create is attempted.
	MaxCreates int
	// Where names the PR/MR in errors: "#12", "!12".
	Where string
}

// Upsert edits podium's comment (the one holding marker and authored by
// podium's own account) or creates it. body gets marker prepended when it
// does not hold it already.
func Upsert[T comparable](ctx context.Context, marker, body string, s CommentSteps[T]) (*Comment, error) {
	if strings.TrimSpace(marker) == "" {
		return nil, errors.New("no comment marker")
	}
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	me, err := s.Whoami(ctx)
	if err != nil {
		return nil, err
	}
	var none T
	found, err := s.Find(ctx, me)
	if err != nil {
		return nil, err
	}
	if found != none {
		if s.Body(found) != body {
			if found, err = s.Edit(ctx, found, body); err != nil {
				return nil, err
			}
		}
		return s.Result(found, false), nil
	}
	for attempt := 1; ; attempt++ {
		c, err := s.Create(ctx, body)
		if err == nil {
			return s.Result(c, true), nil
		}
		if !s.UnknownOutcome(ctx, err) || attempt == s.MaxCreates {
			return nil, fmt.Errorf("failed to comment on %s: %w", s.Where, err)
		}
		// The comment may have been posted: look before posting again.
		found, ferr := s.Find(ctx, me)
		if ferr != nil {
			return nil, ferr
		}
		if found != none {
			return s.Result(found, true), nil
		}
		if err := s.Pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
}
