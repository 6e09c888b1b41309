// Package rundir reads and writes the run directory that `podium train`
// creates and the later commands read: run.json (what ran), compare.json
// (the gate's decision) and logs/<step>.log. The document shapes are the
// contract in DESIGN.md ("Run directory"); other tools parse them.
package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/podium-ml/podium/internal/atomicfile"
)

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
}

// Compare is compare.json, the document `podium compare --json` prints.
type Compare struct {
	Model      string    `json:"model"`
	Decision   string    `json:"decision"` // "promote" or "reject"
	Champion   *Champion `json:"champion"` // null when there is no champion
	Candidate  Candidate `json:"candidate"`
	Checks     []Check   `json:"checks"`
	Comparable bool      `json:"comparable"`
	Warnings   []string  `json:"warnings"`
}

// Decisions.
const (
	Promote = "promote"
	Reject  = "reject"
)

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
	Candidate float64  `json:"candidate"`
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

func (e *IncompleteError) Unwrap() error      { return e.Err }
func (e *IncompleteError) InvalidInput() bool { return true }

// ReadRun reads dir/run.json.
func ReadRun(dir string) (*Run, error) {
	var r Run
	if err := readJSON(dir, RunFile, "podium train --run-dir "+dir, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// WriteRun writes dir/run.json atomically.
func WriteRun(dir string, r *Run) error {
	return writeJSON(filepath.Join(dir, RunFile), r)
}

// ReadCompare reads dir/compare.json.
func ReadCompare(dir string) (*Compare, error) {
	var c Compare
	if err := readJSON(dir, CompareFile, "podium compare --run-dir "+dir, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// WriteCompare writes dir/compare.json atomically.
func WriteCompare(dir string, c *Compare) error {
	return writeJSON(filepath.Join(dir, CompareFile), c)
}

// LogPath is where a step's log is kept.
func LogPath(dir, step string) string {
	return filepath.Join(dir, LogsDir, step+".log")
}

func readJSON(dir, name, hint string, v any) error {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &IncompleteError{Dir: dir, File: name, Hint: hint, Err: errors.New("no such file")}
		}
		return fmt.Errorf("failed to read %s: %w", filepath.Join(dir, name), err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return &IncompleteError{Dir: dir, File: name, Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	return nil
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
