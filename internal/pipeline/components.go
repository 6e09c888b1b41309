package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/spec"
)

// Phase statuses in a ComponentResult.
const (
	PhaseOK      = "ok"
	PhaseFailed  = "failed"
	PhaseSkipped = "skipped" // not run: an earlier phase failed, --fail-fast, or interrupted
	PhaseNone    = "none"    // the component declares no such command
)

// ComponentResult is how one component's build and test went.
type ComponentResult struct {
	Name      string  `json:"name"`
	Path      string  `json:"path"`
	Build     string  `json:"build"`
	Test      string  `json:"test"`
	ExitCode  int     `json:"exit_code"` // of the phase that failed; 0 otherwise
	DurationS float64 `json:"duration_s"`
}

// Failed reports whether the build or the test failed.
func (c ComponentResult) Failed() bool { return c.Build == PhaseFailed || c.Test == PhaseFailed }

// TestOptions configure TestComponents.
type TestOptions struct {
	// Dir is the directory component paths are relative to (the spec's).
	Dir string
	// Environ is the environment the commands run with, less the token
	// variables (IsTokenVar); nil means the process's.
	Environ []string
	// Out receives the commands' output as it is written.
	Out io.Writer
	// Group, when set, wraps each component's output in a log section.
	Group func(title string) (end func())
	// FailFast stops at the first failure; the rest are skipped.
	FailFast bool
	// KillGrace is the time between SIGTERM and SIGKILL on interruption.
	KillGrace time.Duration
	Now       func() time.Time
}

// TestComponents runs each component's build, then its test when the
// build passed, in the component's directory through sh -c. A failure does
// not stop the other components unless FailFast is set; an interruption
// (ctx) stops everything. The results are in the components' order.
func TestComponents(ctx context.Context, comps []spec.Component, opts TestOptions) []ComponentResult {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	// nil would make exec inherit the whole process environment, tokens
	// included.
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	env := StripTokens(environ)
	results := make([]ComponentResult, len(comps))
	stop := false
	for i, c := range comps {
		res := ComponentResult{Name: c.Name, Path: c.Path, Build: PhaseNone, Test: PhaseNone}
		if c.Build != "" {
			res.Build = PhaseSkipped
		}
		if c.Test != "" {
			res.Test = PhaseSkipped
		}
		if stop || ctx.Err() != nil {
			results[i] = res
			continue
		}
		start := now()
		func() {
			if opts.Group != nil {
				end := opts.Group("component " + c.Name)
				defer end()
			}
			dir, err := componentDir(opts.Dir, c.Path)
			if err != nil {
				fmt.Fprintf(out, "podium: component %s: %v\n", c.Name, err)
				res.Build, res.ExitCode = PhaseFailed, -1
				return
			}
			for _, ph := range []struct {
				script string
				status *string
			}{{c.Build, &res.Build}, {c.Test, &res.Test}} {
				if ph.script == "" {
					continue
				}
				o := shell{Script: ph.script, Dir: dir, Env: env, Out: out, KillGrace: opts.KillGrace}.run(ctx)
				if o.ok() {
					*ph.status = PhaseOK
					continue
				}
				*ph.status = PhaseFailed
				res.ExitCode = o.ExitCode
				if o.Err != nil {
					fmt.Fprintf(out, "podium: component %s: failed to run: %v\n", c.Name, o.Err)
				}
				return
			}
		}()
		res.DurationS = now().Sub(start).Seconds()
		results[i] = res
		if res.Failed() && opts.FailFast {
			stop = true
		}
	}
	return results
}

func componentDir(base, p string) (string, error) {
	if p == "" {
		p = "."
	}
	clean, err := fingerprint.Local(p)
	if err != nil {
		return "", err
	}
	return filepath.Join(base, filepath.FromSlash(clean)), nil
}
