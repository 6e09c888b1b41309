package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// MaxPushAttempts bounds how often Notes.Push retries after the remote
// rejected the notes because another job pushed first.
const MaxPushAttempts = 5

// The identity notes commits get when git has none configured, as on a
// CI runner: `git notes add` refuses to work without one.
const (
	fallbackName  = "podium"
	fallbackEmail = "podium@localhost"
)

// ErrNoCommit says a commit to put a note on is not in the repository.
var ErrNoCommit = errors.New("no such commit")

// Notes is one notes ref of a repository (refs/notes/...): a note per
// commit, written by `git notes` and shared by pushing the ref. What a
// note says is the caller's: Notes only stores, merges and sends it.
type Notes struct {
	repo *Repo
	ref  string
	// Backoff says how long to wait before push attempt n (n ≥ 2); nil
	// waits a jittered, doubling quarter second.
	Backoff func(attempt int) time.Duration
	// edits remembers what Edit did, so that Push can apply it again on
	// top of notes fetched from the remote.
	edits []noteEdit
	// identity is true once git is known to have a committer.
	identity bool
}

type noteEdit struct {
	commit string
	edit   func(old []byte) []byte
}

// NewNotes returns the notes kept in ref of repo.
func NewNotes(repo *Repo, ref string) *Notes {
	return &Notes{repo: repo, ref: ref}
}

// Dir is the work tree of the repository the notes are in.
func (n *Notes) Dir() string { return n.repo.Dir }

// Show returns the note on commit, or nil when it has none.
func (n *Notes) Show(ctx context.Context, commit string) ([]byte, error) {
	out, err := n.repo.Output(ctx, nil, "notes", "--ref="+n.ref, "show", commit)
	if err != nil {
		if ExitCode(err) == 1 {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to read the note on %s: %w", commit, err)
	}
	return out, nil
}

// Edit replaces the note on commit with edit(the current note, nil for
// none). Push applies the edit again on the remote's notes when it has to
// merge them. A commit not in the repository is ErrNoCommit.
func (n *Notes) Edit(ctx context.Context, commit string, edit func(old []byte) []byte) error {
	if err := n.apply(ctx, commit, edit); err != nil {
		return err
	}
	n.edits = append(n.edits, noteEdit{commit: commit, edit: edit})
	return nil
}

func (n *Notes) apply(ctx context.Context, commit string, edit func(old []byte) []byte) error {
	if _, err := n.repo.Run(ctx, "cat-file", "-e", commit+"^{commit}"); err != nil {
		return fmt.Errorf("%w: %s in %s", ErrNoCommit, commit, n.repo.Dir)
	}
	old, err := n.Show(ctx, commit)
	if err != nil {
		return err
	}
	n.ensureIdentity(ctx)
	if _, err := n.repo.Output(ctx, edit(old), "notes", "--ref="+n.ref, "add", "-f", "-F", "-", commit); err != nil {
		return fmt.Errorf("failed to write the note on %s: %w", commit, err)
	}
	return nil
}

// ensureIdentity gives git a committer when it has none (CI runners have
// no user.name), since notes are commits on the notes ref.
func (n *Notes) ensureIdentity(ctx context.Context) {
	if n.identity {
		return
	}
	n.identity = true
	if _, err := n.repo.Run(ctx, "var", "GIT_COMMITTER_IDENT"); err == nil {
		if _, err := n.repo.Run(ctx, "var", "GIT_AUTHOR_IDENT"); err == nil {
			return
		}
	}
	n.repo.Env = append(n.repo.Env,
		"GIT_AUTHOR_NAME="+fallbackName, "GIT_AUTHOR_EMAIL="+fallbackEmail,
		"GIT_COMMITTER_NAME="+fallbackName, "GIT_COMMITTER_EMAIL="+fallbackEmail)
}

// Push sends the notes ref to remote. When the remote rejects it because
// it moved on (another job pushed notes), Push fetches the remote's notes,
// merges them (every line of both sides kept, then this Notes' edits
// applied again, so that they win), and tries again, at most
// MaxPushAttempts times.
func (n *Notes) Push(ctx context.Context, remote string) error {
	var lastErr error
	for attempt := 1; attempt <= MaxPushAttempts; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, n.backoff(attempt)); err != nil {
				return err
			}
			if err := n.mergeRemote(ctx, remote); err != nil {
				return err
			}
		}
		out, err := n.repo.Output(ctx, nil, "push", "--porcelain", remote, n.ref+":"+n.ref)
		if err == nil {
			return nil
		}
		lastErr = err
		if !rejected(out) {
			return fmt.Errorf("failed to push %s to %s: %w", n.ref, remote, err)
		}
	}
	return fmt.Errorf("failed to push %s to %s: still rejected after %d attempts: %w", n.ref, remote, MaxPushAttempts, lastErr)
}

func (n *Notes) backoff(attempt int) time.Duration {
	if n.Backoff != nil {
		return n.Backoff(attempt)
	}
	base := 250 * time.Millisecond << min(attempt-2, 4)
	return base + rand.N(250*time.Millisecond)
}

// rejected reports whether `git push --porcelain` output says the ref was
// refused because the remote moved on: it has notes commits the local ref
// lacks ("[rejected]"), or another push updated it while ours was in
// flight (the server's "cannot lock ref" / "failed to update ref").
// Refusals by policy (hooks, protected refs) and failures to connect are
// not retried.
func rejected(porcelain []byte) bool {
	for _, line := range strings.Split(string(porcelain), "\n") {
		if !strings.HasPrefix(line, "!") {
			continue
		}
		if strings.Contains(line, "[rejected]") {
			return true
		}
		if strings.Contains(line, "[remote rejected]") &&
			(strings.Contains(line, "cannot lock ref") || strings.Contains(line, "failed to update ref") || strings.Contains(line, "incorrect old value")) {
			return true
		}
	}
	return false
}

// mergeRemote fetches the remote's notes into ref-fetched (deleted after)
// and merges them into ref.
func (n *Notes) mergeRemote(ctx context.Context, remote string) error {
	fetched := n.ref + "-fetched"
	if _, err := n.repo.Run(ctx, "fetch", "--quiet", "--no-tags", remote, "+"+n.ref+":"+fetched); err != nil {
		return fmt.Errorf("failed to fetch %s from %s: %w", n.ref, remote, err)
	}
	defer n.repo.Run(context.WithoutCancel(ctx), "update-ref", "-d", fetched)
	n.ensureIdentity(ctx)
	// cat_sort_uniq keeps every line of both sides: notes of other
	// writers, or on other commits, are never lost.
	if _, err := n.repo.Run(ctx, "notes", "--ref="+n.ref, "merge", "--quiet", "-s", "cat_sort_uniq", fetched); err != nil {
		return fmt.Errorf("failed to merge %s from %s: %w", n.ref, remote, err)
	}
	for _, e := range n.edits {
		if err := n.apply(ctx, e.commit, e.edit); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Note is the note on one commit.
type Note struct {
	Commit string    // full SHA
	Date   time.Time // the commit's committer date
	Text   []byte
}

// Log returns the notes on the commits reachable from rev, newest commit
// first; nil when the ref does not exist yet.
func (n *Notes) Log(ctx context.Context, rev string) ([]Note, error) {
	if _, err := n.repo.Run(ctx, "rev-parse", "--verify", "--quiet", n.ref); err != nil {
		return nil, nil // no notes at all
	}
	out, err := n.repo.Output(ctx, nil, "log", "--no-notes", "--notes="+n.ref, "--format=%H%x1f%cI%x1f%N%x1e", rev, "--")
	if err != nil {
		return nil, fmt.Errorf("failed to read the history of %s: %w", rev, err)
	}
	var notes []Note
	for _, chunk := range bytes.Split(out, []byte("\x1e")) {
		fields := bytes.SplitN(bytes.TrimLeft(chunk, "\n"), []byte("\x1f"), 3)
		if len(fields) != 3 || len(bytes.TrimSpace(fields[2])) == 0 {
			continue
		}
		date, err := time.Parse(time.RFC3339, string(fields[1]))
		if err != nil {
			return nil, fmt.Errorf("failed to read the date of %s: %w", fields[0], err)
		}
		notes = append(notes, Note{Commit: string(fields[0]), Date: date, Text: fields[2]})
	}
	return notes, nil
}
