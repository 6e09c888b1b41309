package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
// Storing, merging and pushing the notes is git.Notes'; this package
// writes and reads what they say.
const NotesRef = "refs/notes/podium"

// OpenNotes opens the record notes (NotesRef) of the repository that
// holds dir.
func OpenNotes(ctx context.Context, dir string) (*git.Notes, error) {
	repo, err := git.Open(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("failed to open the git repository at %s: %w", dir, err)
	}
	return git.NewNotes(repo, NotesRef), nil
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

// AddToNotes puts a record (its canonical bytes) in the note on its
// commit, replacing the line of the same model. Pushing the notes is the
// caller's (notes.Push).
func AddToNotes(ctx context.Context, notes *git.Notes, data []byte) error {
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
	err := notes.Edit(ctx, head.Commit.SHA, func(old []byte) []byte { return SetLine(old, line) })
	if errors.Is(err, git.ErrNoCommit) {
		return &NotFoundError{Commit: head.Commit.SHA, Dir: notes.Dir()}
	}
	return err
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
func History(ctx context.Context, notes *git.Notes, rev string) ([]Entry, error) {
	log, err := notes.Log(ctx, rev)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	for _, n := range log {
		entries = append(entries, noteEntries(n.Commit, n.Date, n.Text)...)
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
	for _, model := range slices.Sorted(maps.Keys(byModel)) {
		entries = append(entries, byModel[model])
	}
	return entries
}
