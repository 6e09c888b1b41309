package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/podium-ml/podium/internal/diag"
)

// Dir is a run directory opened once: run.json and compare.json are read
// at most once each, checked, and handed out typed. compare, record,
// report and propose read a run directory through it.
type Dir struct {
	Path string

	run        *Run
	runErr     error
	runRead    bool
	compare    *Compare
	compareErr error
	cmpRead    bool
}

// Open returns the run directory at path; nothing is read yet.
func Open(path string) *Dir { return &Dir{Path: path} }

// HasRun reports whether run.json exists: after compare --candidate there
// was no training run.
func (d *Dir) HasRun() bool {
	_, err := os.Stat(filepath.Join(d.Path, RunFile))
	return !errors.Is(err, fs.ErrNotExist)
}

// HasCompare reports whether compare.json exists.
func (d *Dir) HasCompare() bool {
	_, err := os.Stat(filepath.Join(d.Path, CompareFile))
	return !errors.Is(err, fs.ErrNotExist)
}

// Run returns run.json, read once, and refused with an *UnusableError when
// the run failed.
func (d *Dir) Run() (*Run, error) {
	if !d.runRead {
		d.runRead = true
		d.run, d.runErr = ReadRun(d.Path)
		if d.runErr == nil {
			d.runErr = d.run.Usable(d.Path)
		}
	}
	if d.runErr != nil {
		return nil, d.runErr
	}
	return d.run, nil
}

// Compare returns compare.json, read once and checked (see ReadCompare).
func (d *Dir) Compare() (*Compare, error) {
	if !d.cmpRead {
		d.cmpRead = true
		d.compare, d.compareErr = ReadCompare(d.Path)
	}
	return d.compare, d.compareErr
}

// ModelError says a document of the run directory is for another model
// than the spec's.
type ModelError struct {
	File, Model, SpecModel string
}

func (e *ModelError) Error() string {
	return fmt.Sprintf("%s: model %q is not the spec's model %q", e.File, e.Model, e.SpecModel)
}

// Is makes the error invalid input (exit 2).
func (e *ModelError) Is(target error) bool { return target == diag.ErrInvalidInput }

// CheckModel is the one check that the documents read so far belong to
// the spec's model: run.json's and compare.json's model must be it.
func (d *Dir) CheckModel(model string) error {
	if d.run != nil && d.run.Model != model {
		return &ModelError{File: filepath.Join(d.Path, RunFile), Model: d.run.Model, SpecModel: model}
	}
	if d.compare != nil && d.compare.Model != model {
		return &ModelError{File: filepath.Join(d.Path, CompareFile), Model: d.compare.Model, SpecModel: model}
	}
	return nil
}

// Digest is the one answer to "the digest of this path" in a run: the
// digest the last step that wrote or read p recorded, p compared as a
// cleaned slash path (so "model" and "model/" are the same path). ok is
// false when no step lists p.
func (r *Run) Digest(p string) (digest string, ok bool) {
	want := cleanPath(p)
	for i := len(r.Steps) - 1; i >= 0; i-- {
		for _, m := range []map[string]string{r.Steps[i].Outputs, r.Steps[i].Inputs} {
			for q, d := range m {
				if cleanPath(q) == want {
					return d, true
				}
			}
		}
	}
	return "", false
}

// Digests maps each of paths that a step lists to its Digest; nil when
// paths is empty.
func (r *Run) Digests(paths []string) map[string]string {
	if len(paths) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, p := range paths {
		if d, ok := r.Digest(p); ok {
			out[p] = d
		}
	}
	return out
}

func cleanPath(p string) string { return path.Clean(filepath.ToSlash(p)) }
