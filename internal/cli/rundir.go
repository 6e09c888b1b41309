package cli

// Helpers the commands that read a run directory share (train, compare,
// record, report, propose): the checks of their paths, the run directory
// opened once with the hints that name podium's commands, and the one
// render of the report that compare, report and propose publish.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
)

// runDir is a run directory as the commands read it: opened once, its
// documents checked to belong to the spec's model, and every error that
// says what to run first naming the command.
type runDir struct {
	*rundir.Dir
	model string
}

// openRunDir checks dir (see checkRunDir) and opens it for the spec's model.
func openRunDir(dir, model string) (*runDir, error) {
	if err := checkRunDir(dir); err != nil {
		return nil, err
	}
	return &runDir{Dir: rundir.Open(dir), model: model}, nil
}

// run is run.json, usable and for the spec's model.
func (d *runDir) run() (*rundir.Run, error) {
	r, err := d.Run()
	if err != nil {
		return nil, withHint(err, d.Path)
	}
	return r, d.CheckModel(d.model)
}

// compare is compare.json, checked and for the spec's model.
func (d *runDir) compare() (*rundir.Compare, error) {
	c, err := d.Compare()
	if err != nil {
		return nil, withHint(err, d.Path)
	}
	return c, d.CheckModel(d.model)
}

// optionalRun is run.json when there is one: after compare --candidate
// there was no training run.
func (d *runDir) optionalRun() (*rundir.Run, error) {
	if !d.HasRun() {
		return nil, nil
	}
	return d.run()
}

// withHint adds what to run first to an error from the run directory.
func withHint(err error, dir string) error {
	var inc *rundir.IncompleteError
	if errors.As(err, &inc) && inc.Hint == "" {
		switch inc.File {
		case rundir.RunFile:
			inc.Hint = "podium train --run-dir " + dir
		case rundir.CompareFile:
			inc.Hint = "podium compare --run-dir " + dir
		}
	}
	var un *rundir.UnusableError
	if errors.As(err, &un) && un.Hint == "" {
		un.Hint = "fix it and run podium train again"
	}
	return err
}

// renderReport is the one render of the gate's report: compare writes it,
// report prints or posts it, and propose puts it in the deployment pull
// request. It reads compare.json and run.json only, so it shows exactly
// the decision and checks compare.json holds.
func renderReport(doc *rundir.Compare, run *rundir.Run, job ci.Run) string {
	return report.Render(report.FromRunDir(doc, run, job.Branch, job.RunURL))
}

// checkRunDir refuses a run directory that is a file, or lies under one,
// before any step runs: otherwise the steps run and the failure comes at
// the end, as a syscall's "not a directory".
func checkRunDir(dir string) error {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err == nil && p == filepath.Clean(dir):
			return inputErrorf("%s: --run-dir is not a directory", dir)
		case err == nil:
			return inputErrorf("%s: --run-dir is not a directory (%s is not one)", dir, p)
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}

// changedList names a dirty work tree's changed files for a message.
func changedList(wt *rundir.Worktree) string {
	shown := wt.Changed
	more := ""
	if len(shown) > 5 {
		more = fmt.Sprintf(" and %d more", len(shown)-5)
		shown = shown[:5]
	}
	if wt.Truncated {
		more = " and more"
	}
	quoted := make([]string, len(shown))
	for i, c := range shown {
		quoted[i] = escapeControl(c)
	}
	return strings.Join(quoted, ", ") + more
}

// The path checks below run before anything is read or written, so a path
// of the wrong kind is invalid input (exit 2) naming the flag, rather than
// a runtime failure in the syscall's words ("not a directory", or "file
// exists" from the final rename). A path that does not exist is left to
// the reader, whose message says what to run first. --run-dir is checked
// by checkRunDir.

// checkInputFile refuses a directory given where a file is read.
func checkInputFile(flag, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return inputErrorf("%s: %s is a directory, not a file", path, flag)
	}
	return nil
}

// checkOutputFile refuses an output path podium cannot write as asked: a
// directory, or a file in a directory that does not exist (writing would
// create directories nobody asked for, hiding a typo).
func checkOutputFile(flag, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return inputErrorf("%s: %s is a directory; name a file", path, flag)
	}
	parent := filepath.Dir(path)
	fi, err := os.Stat(parent)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return inputErrorf("%s: %s names a file in %s, which does not exist", path, flag, parent)
	case errors.Is(err, syscall.ENOTDIR) || err == nil && !fi.IsDir():
		return inputErrorf("%s: %s names a file in %s, which is not a directory", path, flag, parent)
	}
	return nil
}
