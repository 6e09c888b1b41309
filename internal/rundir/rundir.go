// Package rundir reads and writes the run directory that `podium train`
// creates and the later commands read: run.json (what ran), compare.json
// (the gate's decision) and logs/<step>.log. The document shapes are a
// contract, kept in schemas/run.schema.json and compare.schema.json;
// other tools parse them.
package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/strictjson"
	"github.com/podium-ml/podium/schemas"
)

// Schemas the documents are checked against when read: a later job reads
// them from an artifact or a cache that anyone with write access to the
// pipeline could have edited, and acts on what they say.
const (
	RunSchema     = "run.schema.json"
	CompareSchema = "compare.schema.json"
)

// MaxFileSize bounds what is read of run.json or compare.json: each holds
// at most a few metrics files' worth of numbers.
const MaxFileSize = 64 << 20

// File names inside a run directory.
const (
	RunFile     = "run.json"
	CompareFile = "compare.json"
	LogsDir     = "logs"
)

// Step statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
	StatusCached  = "cached"
	StatusTimeout = "timeout"
	// StatusInterrupted is a step stopped by Ctrl-C or SIGTERM.
	StatusInterrupted = "interrupted"
)

// Run is run.json.
type Run struct {
	Model      string             `json:"model"`
	SpecDigest string             `json:"spec_digest"`
	Params     map[string]any     `json:"params"`
	Commit     string             `json:"commit"`
	StartedAt  time.Time          `json:"started_at"`
	FinishedAt time.Time          `json:"finished_at"`
	Steps      []Step             `json:"steps"`
	Metrics    map[string]float64 `json:"metrics"`
	Data       *DataCheck         `json:"data,omitempty"`
	// Failure says why the run is unusable (a step failed, the run was
	// interrupted, the metrics file could not be read); "" for a run that
	// succeeded. Later commands refuse such a run with this reason.
	Failure string `json:"failure,omitempty"`
	// Worktree is the git work tree's state when the run started; nil
	// outside a repository.
	Worktree *Worktree `json:"worktree,omitempty"`
	// Environment is what a reproduction needs; nil when not gathered.
	Environment *Environment `json:"environment,omitempty"`
}

// Worktree says whether the tracked files matched the commit the run
// names.
type Worktree struct {
	Clean bool `json:"clean"`
	// Changed lists the tracked files that differed from the commit
	// (staged or not), relative to the repository's root, sorted, at most
	// MaxChanged of them; Truncated says more differed.
	Changed   []string `json:"changed"`
	Truncated bool     `json:"truncated,omitempty"`
}

// MaxChanged bounds Worktree.Changed.
const MaxChanged = 100

// Environment holds the facts about the toolchain a reproduction needs.
type Environment struct {
	// Runtimes maps a language runtime (python, go, node, ...) to the
	// version podium saw on the steps' PATH.
	Runtimes map[string]string `json:"runtimes"`
	// Lockfiles are the dependency lockfiles found next to the spec or at
	// the repository's root, with their digests.
	Lockfiles []Lockfile `json:"lockfiles"`
}

// Lockfile is one dependency lockfile.
type Lockfile struct {
	Path   string `json:"path"` // relative to the spec's directory, slash-separated
	Digest string `json:"digest"`
}

// Step is one step's result in run.json. Inputs and Outputs map the path
// as written in the spec to its digest ("sha256:<hex>").
type Step struct {
	Name      string            `json:"name"`
	Status    string            `json:"status"`
	ExitCode  int               `json:"exit_code"`
	DurationS float64           `json:"duration_s"`
	Inputs    map[string]string `json:"inputs"`
	Outputs   map[string]string `json:"outputs"`
	// Reason says why the step failed, timed out or was interrupted.
	Reason string `json:"reason,omitempty"`
	// CachedFrom is the run that produced a cached step's outputs.
	CachedFrom *CachedFrom `json:"cached_from,omitempty"`
}

// CachedFrom is when, and for how long, a cached step's outputs were made.
type CachedFrom struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	DurationS  float64   `json:"duration_s"`
}

// UnusableError says a run directory holds a run that failed: the commands
// that read it (compare, record, report, propose) refuse it with the real
// reason instead of tripping over what it lacks.
type UnusableError struct {
	Dir    string
	Reason string
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("%s: the run is unusable: %s (fix it and run podium train again)", filepath.Join(e.Dir, RunFile), e.Reason)
}

func (e *UnusableError) Is(target error) bool { return target == diag.ErrInvalidInput }

// Usable returns an *UnusableError when the run failed. A run.json written
// before runs said why still fails here when a step did not succeed.
func (r *Run) Usable(dir string) error {
	if r.Failure != "" {
		return &UnusableError{Dir: dir, Reason: r.Failure}
	}
	for _, s := range r.Steps {
		switch s.Status {
		case StatusOK, StatusCached:
			continue
		}
		reason := fmt.Sprintf("step %s %s", s.Name, s.Status)
		if s.Reason != "" {
			reason += ": " + s.Reason
		}
		return &UnusableError{Dir: dir, Reason: reason}
	}
	return nil
}

// Compare is compare.json, the document `podium compare --json` prints.
type Compare struct {
	Model      string    `json:"model"`
	Decision   string    `json:"decision"` // one of the decisions below
	Champion   *Champion `json:"champion"` // null when there is no champion
	Candidate  Candidate `json:"candidate"`
	Checks     []Check   `json:"checks"`
	Comparable bool      `json:"comparable"`
	Warnings   []string  `json:"warnings"`
	// Uncovered names the candidate's metrics no gate rule covers.
	Uncovered []string `json:"uncovered,omitempty"`
	// Baseline says which spec chose the champion and how this change
	// differs from it.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// Decisions. Only Promote leads to a deployment.
const (
	Promote = "promote"
	Reject  = "reject"
	// Unchanged: the candidate's artifact is the champion's (same digest):
	// not a new model, nothing to propose.
	Unchanged = "unchanged"
	// Unverified: every check passed, but the champion was read from the
	// working tree (the default branch could not be read), which the change
	// under test can edit.
	Unverified = "unverified"
)

// Baseline is the default branch's view of the model: the champion is
// looked up with its spec's model and registry, never the change's own.
type Baseline struct {
	// Source is where the spec and champion were read ("origin/main"), or
	// "working tree" after a fallback.
	Source   string `json:"source"`
	Model    string `json:"model"`
	Registry string `json:"registry"`
	// Changes lists, in words, how this change alters the judgement:
	// model or registry moved, gate rules added, removed or loosened.
	Changes []string `json:"changes"`
}

// Champion is the side of the comparison that is in production.
type Champion struct {
	Version string             `json:"version"`
	Metrics map[string]float64 `json:"metrics"`
}

// Candidate is the side of the comparison that was just trained.
type Candidate struct {
	Metrics map[string]float64 `json:"metrics"`
}

// Check is one rule applied to one metric. Champion and Delta are null when
// there is no champion value to compare with.
type Check struct {
	Metric    string   `json:"metric"`
	Direction string   `json:"direction"`
	Champion  *float64 `json:"champion"`
	Candidate *float64 `json:"candidate"` // null when the candidate lacks the metric
	Delta     *float64 `json:"delta"`
	Passed    bool     `json:"passed"`
	Reason    string   `json:"reason"`
}

// IncompleteError says the run directory lacks a document a command needs.
// It is invalid input (exit 2): the user pointed at the wrong directory or
// skipped a step.
type IncompleteError struct {
	Dir  string
	File string
	Hint string // what to run first, e.g. "podium train --run-dir D"
	Err  error
}

func (e *IncompleteError) Error() string {
	msg := fmt.Sprintf("%s: %v", filepath.Join(e.Dir, e.File), e.Err)
	if e.Hint != "" {
		msg += " (run " + e.Hint + " first)"
	}
	return msg
}

func (e *IncompleteError) Unwrap() error        { return e.Err }
func (e *IncompleteError) Is(target error) bool { return target == diag.ErrInvalidInput }

// ReadRun reads dir/run.json, strictly (see readJSON) and checked against
// RunSchema.
func ReadRun(dir string) (*Run, error) {
	var r Run
	if err := readJSON(dir, RunFile, "podium train --run-dir "+dir, RunSchema, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// WriteRun writes dir/run.json atomically.
func WriteRun(dir string, r *Run) error {
	return writeJSON(filepath.Join(dir, RunFile), r)
}

// ReadCompare reads dir/compare.json, strictly (see readJSON), checked
// against CompareSchema and for consistency: the decision is promote
// exactly when every check passed. report and propose act on the decision
// (a review comment, a deployment pull request), so a hand-edited or
// forged file must not reach them.
func ReadCompare(dir string) (*Compare, error) {
	var c Compare
	if err := readJSON(dir, CompareFile, "podium compare --run-dir "+dir, CompareSchema, &c); err != nil {
		return nil, err
	}
	if err := c.check(filepath.Join(dir, CompareFile)); err != nil {
		return nil, err
	}
	return &c, nil
}

// check refuses a decision its checks do not support. The schema has
// already limited Decision to promote or reject.
func (c *Compare) check(file string) error {
	failed := -1
	for i, ch := range c.Checks {
		if !ch.Passed {
			failed = i
			break
		}
	}
	switch {
	case (c.Decision == Promote || c.Decision == Unverified) && failed >= 0:
		return &diag.Error{File: file, Field: "decision", Kind: "compare",
			Msg: fmt.Sprintf("%s, but checks[%d] (%s) did not pass: the decision is %s only when every check passes", c.Decision, failed, c.Checks[failed].Metric, c.Decision)}
	case c.Decision == Reject && failed < 0:
		return &diag.Error{File: file, Field: "decision", Kind: "compare",
			Msg: "reject, but every check passed: the decision is reject only when a check fails"}
	}
	return nil
}

// WriteCompare writes dir/compare.json atomically.
func WriteCompare(dir string, c *Compare) error {
	return writeJSON(filepath.Join(dir, CompareFile), c)
}

// LogPath is where a step's log is kept.
func LogPath(dir, step string) string {
	return filepath.Join(dir, LogsDir, step+".log")
}

// readJSON reads dir/name into v. The file must be one strict JSON
// document (no duplicate or case-variant keys, no NaN, no byte order mark,
// nothing after it: strictjson.Decode) that schema accepts; every problem
// is invalid input naming the file, and the position or field.
func readJSON(dir, name, hint, schema string, v any) error {
	path := filepath.Join(dir, name)
	data, err := readFile(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return &IncompleteError{Dir: dir, File: name, Hint: hint, Err: errors.New("no such file")}
		case errors.Is(err, syscall.ENOTDIR):
			return &diag.Error{File: dir, Msg: "not a directory: the run directory holds " + name}
		case errors.Is(err, syscall.EISDIR):
			return &diag.Error{File: path, Msg: "is a directory, not a file"}
		case errors.Is(err, errTooLarge):
			return &diag.Error{File: path, Msg: fmt.Sprintf("file is larger than the %d MiB limit", MaxFileSize>>20)}
		}
		return fmt.Errorf("failed to read %s: %w", path, err)
	}
	// CheckAs also refuses keys that are no field of v (or differ
	// from one only in case): the schema alone would let them through,
	// and encoding/json would match them to fields.
	if err := strictjson.CheckAs(path, data, v); err != nil {
		return err
	}
	var decoded any
	if err := json.Unmarshal(data, &decoded); err != nil {
		return &diag.Error{File: path, Msg: err.Error(), Kind: "schema"}
	}
	if err := schemas.Validate(schema, decoded); err != nil {
		return schemaError(path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &diag.Error{File: path, Msg: err.Error(), Kind: "schema"}
	}
	return nil
}

var errTooLarge = errors.New("too large")

// readFile reads at most MaxFileSize bytes of path.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, errTooLarge
	}
	return data, nil
}

// schemaError reports every schema failure of file at once, each naming
// the field (a JSON pointer) that is wrong.
func schemaError(file string, err error) error {
	return schemas.Errors(file, "schema", err)
}

func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("failed to encode %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}
