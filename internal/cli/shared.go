package cli

// Helpers several commands share, kept here so that no command reaches
// into another's file: the --spec flag, the checks of the paths they read
// and write, the run directory opened once with the hints that name
// podium's commands, the one render of the report that compare, report and
// propose publish, and the wording of numbers for people.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/spf13/cobra"
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

// addSpecFlag adds the --spec flag every spec-reading command takes.
func addSpecFlag(cmd *cobra.Command, p *string) {
	*p = spec.DefaultFile
	cmd.Flags().Var(&specFlag{p: p}, "spec", "the pipeline spec `file`")
	cmd.Flags().Lookup("spec").DefValue = spec.DefaultFile
}

// specFlag is the --spec value: a file name, never empty. An empty value
// (often an unset variable in a workflow, --spec "$SPEC") is a usage error
// that names the flag, rather than "no such file" for a blank name.
type specFlag struct{ p *string }

func (s *specFlag) String() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

func (s *specFlag) Set(v string) error {
	if v == "" {
		return errors.New("the spec file name is empty (leave --spec out to read " + spec.DefaultFile + ")")
	}
	*s.p = v
	return nil
}

func (s *specFlag) Type() string { return "string" }

// formatMetric is a metric for people: six significant digits (--json
// keeps the exact value).
func formatMetric(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// fullSHA matches a full commit id, SHA-1 or SHA-256: what a run.json or
// a workflow_run event must carry before podium names that commit.
var fullSHA = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`) })

// numberRE matches a decimal with more than six significant digits.
var numberRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`-?\d+\.\d{6,}(e[-+]?\d+)?`) })

// humanNumbers rounds, in a message for people, each number written with
// more digits than a person compares (0.9298245614035088 -> 0.929825).
func humanNumbers(s string) string {
	return numberRE().ReplaceAllStringFunc(s, func(m string) string {
		v, err := strconv.ParseFloat(m, 64)
		if err != nil {
			return m
		}
		return formatMetric(v)
	})
}

// gateStatusContext is the commit status propose sets on the candidate.
const gateStatusContext = "podium/gate"

// defaultRunDir is where train writes when --run-dir is not given, relative
// to the spec's directory, next to the cache and the registry.
const defaultRunDir = ".podium/run"
