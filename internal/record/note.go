package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/git"
)

// NotesRef holds the records in git: one note per commit, one line per
// model recorded on that commit, each line a record in its canonical form
// (without its newline). Recording a model again on the same commit
// replaces that model's line. The note's lines are sorted by model.
const NotesRef = "refs/notes/podium"

// fetchedRef is where Push fetches the remote's notes before merging them.
const fetchedRef = "refs/notes/podium-fetched"

// MaxPushAttempts bounds how often Push retries after the remote rejected
// the notes because another job pushed first.
const MaxPushAttempts = 5

// The identity notes commits get when git has none configured, as on a
// CI runner: `git notes add` refuses to work without one.
const (
	fallbackName  = "podium"
	fallbackEmail = "podium@localhost"
)

// Notes reads and writes the records kept in a repository's git notes.
type Notes struct {
	repo *git.Repo
	// added remembers the lines this Notes wrote, so that Push can apply
	// them again on top of notes fetched from the remote.
	added []pending
	// backoff says how long to wait before push attempt n (n ≥ 2).
	backoff func(attempt int) time.Duration
	// identity is true once git is known to have a committer.
	identity bool
}

type pending struct {
	commit string
	line   []byte
}

// OpenNotes opens the notes of the repository that holds dir.
func OpenNotes(ctx context.Context, dir string) (*Notes, error) {
	repo, err := git.Open(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("failed to open the git repository at %s: %w", dir, err)
	}
	return &Notes{repo: repo, backoff: defaultBackoff}, nil
}

func defaultBackoff(attempt int) time.Duration {
	base := 250 * time.Millisecond << min(attempt-2, 4)
	return base + rand.N(250*time.Millisecond)
}

// NotFoundError says a commit the record names is not in the repository.
type NotFoundError struct {
	Commit string
	Dir    string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("commit %s is not in the repository at %s (fetch it, or record in the checkout that trained)", e.Commit, e.Dir)
}

func (e *NotFoundError) Is(target error) bool { return target == diag.ErrInvalidInput }

// Show returns the note on commit, or nil when it has none.
func (n *Notes) Show(ctx context.Context, commit string) ([]byte, error) {
	out, err := n.repo.Output(ctx, nil, "notes", "--ref="+NotesRef, "show", commit)
	if err != nil {
		if git.ExitCode(err) == 1 {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to read the note on %s: %w", commit, err)
	}
	return out, nil
}

// Add puts a record (its canonical bytes) in the note on its commit,
// replacing the line of the same model.
func (n *Notes) Add(ctx context.Context, data []byte) error {
	line := bytes.TrimRight(data, "\n")
	if bytes.ContainsAny(line, "\n") {
		return errors.New("a record in a note must be one line of JSON")
	}
	var head struct {
		Model  string `json:"model"`
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	if err := json.Unmarshal(line, &head); err != nil || head.Model == "" || head.Commit.SHA == "" {
		return errors.New("not a podium record: no model or commit")
	}
	if err := n.put(ctx, head.Commit.SHA, line); err != nil {
		return err
	}
	n.added = append(n.added, pending{commit: head.Commit.SHA, line: line})
	return nil
}

func (n *Notes) put(ctx context.Context, commit string, line []byte) error {
	if _, err := n.repo.Run(ctx, "cat-file", "-e", commit+"^{commit}"); err != nil {
		return &NotFoundError{Commit: commit, Dir: n.repo.Dir}
	}
	old, err := n.Show(ctx, commit)
	if err != nil {
		return err
	}
	note := SetLine(old, line)
	n.ensureIdentity(ctx)
	if _, err := n.repo.Output(ctx, note, "notes", "--ref="+NotesRef, "add", "-f", "-F", "-", commit); err != nil {
		return fmt.Errorf("failed to write the note on %s: %w", commit, err)
	}
	return nil
}

// ensureIdentity gives git a committer when it has none (CI runners have
// no user.name), since notes are commits on NotesRef.
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

// Push sends NotesRef to remote. When the remote rejects it because it
// moved on (another job pushed notes), Push fetches the remote's notes,
// merges them (every line of both sides kept, then the records this Notes
// added applied again so that they win for their model), and tries again,
// at most MaxPushAttempts times.
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
		out, err := n.repo.Output(ctx, nil, "push", "--porcelain", remote, NotesRef+":"+NotesRef)
		if err == nil {
			return nil
		}
		lastErr = err
		if !rejected(out) {
			return fmt.Errorf("failed to push %s to %s: %w", NotesRef, remote, err)
		}
	}
	return fmt.Errorf("failed to push %s to %s: still rejected after %d attempts: %w", NotesRef, remote, MaxPushAttempts, lastErr)
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

func (n *Notes) mergeRemote(ctx context.Context, remote string) error {
	if _, err := n.repo.Run(ctx, "fetch", "--quiet", "--no-tags", remote, "+"+NotesRef+":"+fetchedRef); err != nil {
		return fmt.Errorf("failed to fetch %s from %s: %w", NotesRef, remote, err)
	}
	defer n.repo.Run(context.WithoutCancel(ctx), "update-ref", "-d", fetchedRef)
	n.ensureIdentity(ctx)
	// cat_sort_uniq keeps every line of both sides: records of other
	// models, or of other commits, are never lost.
	if _, err := n.repo.Run(ctx, "notes", "--ref="+NotesRef, "merge", "--quiet", "-s", "cat_sort_uniq", fetchedRef); err != nil {
		return fmt.Errorf("failed to merge %s from %s: %w", NotesRef, remote, err)
	}
	for _, p := range n.added {
		if err := n.put(ctx, p.commit, p.line); err != nil {
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

// NoteLine is one line of a note: a record, with its model when the line
// is one ("" for a line podium cannot read, which is kept as is).
type NoteLine struct {
	Model string
	Line  []byte
}

// ParseNote splits a note into its non-blank lines.
func ParseNote(note []byte) []NoteLine {
	var lines []NoteLine
	for _, l := range bytes.Split(note, []byte("\n")) {
		l = bytes.TrimRight(l, "\r \t")
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var head struct {
			Model string `json:"model"`
		}
		if json.Unmarshal(l, &head) != nil {
			head.Model = ""
		}
		lines = append(lines, NoteLine{Model: head.Model, Line: l})
	}
	return lines
}

// SetLine returns note with line in place of every line of the same model,
// lines sorted by model (lines podium cannot read last, in their order),
// each ended by a newline.
func SetLine(note, line []byte) []byte {
	var head struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(line, &head)
	lines := []NoteLine{{Model: head.Model, Line: line}}
	for _, l := range ParseNote(note) {
		if l.Model == "" || l.Model != head.Model {
			lines = append(lines, l)
		}
	}
	slices.SortStableFunc(lines, func(a, b NoteLine) int {
		switch {
		case a.Model == b.Model:
			return 0
		case a.Model == "":
			return 1
		case b.Model == "":
			return -1
		}
		return strings.Compare(a.Model, b.Model)
	})
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l.Line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// Entry is one record found in the notes.
type Entry struct {
	Commit string    // full SHA
	Date   time.Time // the commit's committer date
	// Digest is the digest of the record's canonical bytes (the line and
	// its newline): the same as the record file's when it was written in
	// podium format.
	Digest string
	Record *Record
}

// History returns the records in the notes of the commits reachable from
// rev, newest commit first, models in byte order within a commit. When
// concurrent writers left two lines of one model on a commit, the one
// that finished training last is kept.
func (n *Notes) History(ctx context.Context, rev string) ([]Entry, error) {
	if _, err := n.repo.Run(ctx, "rev-parse", "--verify", "--quiet", NotesRef); err != nil {
		return nil, nil // no notes at all
	}
	out, err := n.repo.Output(ctx, nil, "log", "--no-notes", "--notes="+NotesRef, "--format=%H%x1f%cI%x1f%N%x1e", rev, "--")
	if err != nil {
		return nil, fmt.Errorf("failed to read the history of %s: %w", rev, err)
	}
	var entries []Entry
	for _, chunk := range bytes.Split(out, []byte("\x1e")) {
		fields := bytes.SplitN(bytes.TrimLeft(chunk, "\n"), []byte("\x1f"), 3)
		if len(fields) != 3 || len(bytes.TrimSpace(fields[2])) == 0 {
			continue
		}
		date, err := time.Parse(time.RFC3339, string(fields[1]))
		if err != nil {
			return nil, fmt.Errorf("failed to read the date of %s: %w", fields[0], err)
		}
		entries = append(entries, noteEntries(string(fields[0]), date, fields[2])...)
	}
	return entries, nil
}

// noteEntries decodes the records of one note. Lines that are not records
// this podium reads are skipped: a note may hold a newer schema or text
// another tool wrote.
func noteEntries(commit string, date time.Time, note []byte) []Entry {
	byModel := map[string]Entry{}
	for _, l := range ParseNote(note) {
		r, err := Decode(l.Line)
		if err != nil {
			continue
		}
		e := Entry{Commit: commit, Date: date, Digest: Digest(append(slices.Clip(l.Line), '\n')), Record: r}
		if old, ok := byModel[r.Model]; ok && !r.FinishedAt.After(old.Record.FinishedAt) {
			continue
		}
		byModel[r.Model] = e
	}
	var entries []Entry
	for _, model := range sortedKeys(byModel) {
		entries = append(entries, byModel[model])
	}
	return entries
}
