package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/podium-ml/podium/internal/data"
	"github.com/podium-ml/podium/internal/rundir"
)

// dataCheckStep is the cache entry name of the data check: no step can
// have it (step names start with a letter or digit).
const dataCheckStep = ".data-check"

// DataRejectedError says the spec's data check found violations of error
// severity in the guarded inputs; no step ran.
type DataRejectedError struct {
	Result *data.Result
}

func (e *DataRejectedError) Error() string {
	return fmt.Sprintf("data check failed: %d errors against %s; no step ran", e.Result.Errors, e.Result.Schema)
}

// checkData runs the spec's data check before any step (under the run's
// claim), as a step of its
// own in the cache: a pass is remembered under the digests of the schema
// and the guarded inputs, and not repeated while neither changes. A
// failure is never cached, and stops the run.
func (r *runner) checkData(ctx context.Context) (*data.Result, bool, error) {
	d := r.spec.Data
	if d == nil {
		return nil, false, nil
	}
	s, err := data.Load(filepath.Join(r.dir, filepath.FromSlash(d.Schema)))
	if err != nil {
		return nil, false, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "podium data check v1\x00%s\x00", s.Digest)
	inputs := map[string]string{}
	var files []string
	for _, in := range d.Inputs {
		clean := path.Clean(in)
		inputs[clean] = r.external[clean]
		files = append(files, filepath.Join(r.dir, filepath.FromSlash(clean)))
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range inputs {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, inputs[k])
	}
	key := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if e := r.cache.load(dataCheckStep, key); !r.opts.Force && e != nil && e.Data != nil {
		r.logf("data: cached (passed against %s)", d.Schema)
		sum := *e.Data
		sum.Cached = true
		r.dataCheck = &sum
		return nil, true, nil
	}
	res, err := data.Check(ctx, s, files)
	if err != nil {
		return nil, false, err
	}
	// Name files as the spec does, not by absolute path.
	for i := range res.Files {
		res.Files[i].File = d.Inputs[i]
	}
	for i := range res.Violations {
		res.Violations[i].File = strings.TrimPrefix(res.Violations[i].File, r.dir+string(filepath.Separator))
	}
	res.Schema = d.Schema
	if !res.OK() {
		// A previous run's run.json must not outlive this failure: compare
		// or propose would act on the older run (claim already removed its
		// compare.json).
		if err := os.Remove(filepath.Join(r.runDir, rundir.RunFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, false, fmt.Errorf("failed to remove the previous run.json: %w", err)
		}
		return res, false, &DataRejectedError{Result: res}
	}
	r.logf("data: passed %d of %d checks against %s (%d warnings)", res.Passed, res.Checks, d.Schema, res.Warnings)
	sum := &rundir.DataCheck{Schema: d.Schema, SchemaDigest: s.Digest, Inputs: inputs, Checks: res.Checks,
		Passed: res.Passed, Warnings: res.Warnings, Violations: []rundir.DataViolation{}}
	for _, v := range res.Violations {
		sum.Violations = append(sum.Violations, rundir.DataViolation{File: v.File, Column: v.Column, Check: v.Check,
			Severity: string(v.Severity), Count: v.Count, Message: v.Message})
	}
	r.dataCheck = sum
	if err := r.cache.store(&cacheEntry{Version: cacheVersion, Step: dataCheckStep, Key: key, Inputs: inputs,
		Digests: map[string]string{}, Outputs: []cacheFile{}, FinishedAt: r.now().UTC(), Data: sum}); err != nil {
		return res, false, fmt.Errorf("failed to update the step cache: %w", err)
	}
	return res, false, nil
}
