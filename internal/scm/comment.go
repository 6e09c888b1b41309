package scm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CommentSteps are a backend's host-specific parts of UpsertComment; T is
// the host's own comment type (a GitHub issue comment, a GitLab note),
// whose zero value means "none". The order around them (mark the body,
// know who podium is, edit the comment podium owns or create it, look
// again after a create, whether its outcome is unknown or a concurrent
// run may have created one too) is the same on every host, so it lives in
// Upsert once.
type CommentSteps[T comparable] struct {
	// Whoami is the account podium's comments are authored by, as far as
	// the token tells.
	Whoami func(ctx context.Context) (Identity, error)
	// List returns every comment on the PR/MR.
	List func(ctx context.Context) ([]T, error)
	// Mine reports whether c is authored by me. Comments by anyone else
	// never count, so nobody can make podium edit theirs: with me.Login
	// empty (me.Bot), only comments by a bot account count, never a
	// person's.
	Mine func(c T, me Identity) bool
	// Author is who wrote c, as the host says.
	Author func(c T) Identity
	// ID orders comments: hosts number them in creation order.
	ID func(T) int64
	// Body is a comment's text.
	Body func(T) string
	// Edit replaces a comment's text; it may repeat itself, since setting
	// the same body twice is harmless.
	Edit func(ctx context.Context, c T, body string) (T, error)
	// Create posts a new comment once; Upsert decides about repeating it.
	Create func(ctx context.Context, body string) (T, error)
	// Delete removes a comment podium created; a comment already gone is
	// no error.
	Delete func(ctx context.Context, c T) error
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

// Upsert edits podium's comment (the oldest one holding marker and
// authored by podium's own account) or creates it. body gets marker
// prepended when it does not hold it already.
//
// Concurrent runs on one PR converge to one comment: after a create,
// Upsert lists again, and when an older comment of podium's holds the
// same marker, it deletes the one it created and updates the older one.
// Hosts number comments in creation order, so every run agrees on which
// is oldest, and only its creator keeps its own.
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
	u := &upsert[T]{CommentSteps: s, marker: marker, body: body}
	mine, err := u.find(ctx, me)
	if err != nil {
		return nil, err
	}
	if len(mine) > 0 {
		return u.update(ctx, mine[0], false)
	}
	created, found, err := u.create(ctx, me)
	if err != nil || found != nil {
		return found, err
	}

	// The created comment names podium's account, which the token may
	// not have told (an installation token): from now on only that
	// account's comments count.
	if who := s.Author(created); who.Login != "" {
		me = who
	}
	// A concurrent run may have created one as well: the oldest stays.
	mine, err = u.find(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("failed to look for concurrent comments on %s after creating one: %w", s.Where, err)
	}
	if len(mine) == 0 || s.ID(mine[0]) == s.ID(created) {
		return s.Result(created, true), nil
	}
	if err := s.Delete(ctx, created); err != nil {
		return nil, fmt.Errorf("failed to delete the duplicate comment podium created on %s: %w", s.Where, err)
	}
	return u.update(ctx, mine[0], false)
}

// upsert is one Upsert: the steps, the marker and the marked body.
type upsert[T comparable] struct {
	CommentSteps[T]
	marker, body string
}

// find returns podium's comments that hold the marker, oldest first.
func (u *upsert[T]) find(ctx context.Context, me Identity) ([]T, error) {
	all, err := u.List(ctx)
	if err != nil {
		return nil, err
	}
	var mine []T
	for _, c := range all {
		if strings.Contains(u.Body(c), u.marker) && u.Mine(c, me) {
			mine = append(mine, c)
		}
	}
	slices.SortFunc(mine, func(a, b T) int { return cmp.Compare(u.ID(a), u.ID(b)) })
	return mine, nil
}

// update sets c's text to the body unless it holds it already.
func (u *upsert[T]) update(ctx context.Context, c T, created bool) (*Comment, error) {
	if u.Body(c) != u.body {
		var err error
		if c, err = u.Edit(ctx, c, u.body); err != nil {
			return nil, err
		}
	}
	return u.Result(c, created), nil
}

// create posts the comment, up to MaxCreates times while the outcome of a
// failed create is unknown. When a failed create turns out to have posted
// it after all, create updates that comment and returns it as found.
func (u *upsert[T]) create(ctx context.Context, me Identity) (created T, found *Comment, _ error) {
	var zero T
	for attempt := 1; ; attempt++ {
		c, err := u.Create(ctx, u.body)
		if err == nil {
			return c, nil, nil
		}
		if !u.UnknownOutcome(ctx, err) || attempt == u.MaxCreates {
			return zero, nil, fmt.Errorf("failed to comment on %s: %w", u.Where, err)
		}
		// The comment may have been posted: look before posting again.
		mine, err := u.find(ctx, me)
		if err != nil {
			return zero, nil, err
		}
		if len(mine) > 0 {
			found, err := u.update(ctx, mine[0], true)
			return zero, found, err
		}
		if err := u.Pause(ctx, attempt); err != nil {
			return zero, nil, err
		}
	}
}
