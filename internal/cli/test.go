package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/pipeline"
	"github.com/podium-ml/podium/internal/spec"
)

type testOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform
	Environ  func() []string

	SpecPath   string
	Components []string
	FailFast   bool
	JSON       bool
}

func newCmdTest(f *Factory, runF func(*testOptions) error) *cobra.Command {
	opts := &testOptions{IO: f.IO, Platform: f.Platform, Environ: os.Environ}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Build and test the pipeline's components",
		Long: heredoc(`
			Run each component's build command, then its test command when the
			build passed, through sh -c in the component's path (relative to the
			spec), with the job's tokens (GITHUB_TOKEN, INPUT_*TOKEN*, CI_JOB_TOKEN
			and the like) removed from their environment. Their output is
			streamed into one log group per component.
			Every component runs even after one fails, unless --fail-fast; the
			exit code is 1 when any failed.

			A table of the results (component, build, test, duration) ends the
			output and is added to the job summary; the `+"`result`"+` CI output is
			success or failure.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium test
			$ podium test --component features --component train
			$ podium test --fail-fast --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runTest(cmd.Context(), opts)
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringArrayVar(&opts.Components, "component", nil, "test only the component `name` (repeatable)")
	cmd.Flags().BoolVar(&opts.FailFast, "fail-fast", false, "stop at the first failure; the rest are reported as skipped")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the results as one JSON document")
	return cmd
}

// testResult is what `test --json` prints.
type testResult struct {
	Result     string                     `json:"result"` // success or failure
	Components []pipeline.ComponentResult `json:"components"`
}

func runTest(ctx context.Context, opts *testOptions) error {
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return err
	}
	comps, err := selectComponents(s, opts.Components)
	if err != nil {
		return err
	}
	platform := opts.Platform()
	if len(comps) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "podium: %s declares no components; nothing to test\n", escapeControl(opts.SpecPath))
	}
	// Builds and tests run the PR's code: their output must not issue
	// workflow commands or log sections.
	relay := platform.Relay(opts.IO.ErrOut)
	results := pipeline.TestComponents(ctx, comps, pipeline.TestOptions{
		Dir:      s.Dir,
		Environ:  opts.Environ(),
		Out:      relay,
		Group:    platform.Group,
		FailFast: opts.FailFast,
	})
	relay.Close()

	var failed []string
	for _, r := range results {
		if r.Failed() {
			phase := "build"
			if r.Test == pipeline.PhaseFailed {
				phase = "test"
			}
			failed = append(failed, fmt.Sprintf("%s (%s, exit %d)", r.Name, phase, r.ExitCode))
		}
	}
	var testErr error
	switch {
	case ctx.Err() != nil:
		testErr = fmt.Errorf("interrupted: %w", ctx.Err())
	case len(failed) > 0:
		testErr = errors.New("components failed: " + strings.Join(failed, ", "))
	}
	doc := testResult{Result: "success", Components: results}
	if testErr != nil {
		doc.Result = "failure"
	}
	if err := platform.SetOutput("result", doc.Result); err != nil {
		return errors.Join(testErr, err)
	}
	if len(results) > 0 {
		if err := platform.AppendSummary(testSummary(s.Model, results)); err != nil {
			return errors.Join(testErr, err)
		}
	}
	if opts.JSON {
		if doc.Components == nil {
			doc.Components = []pipeline.ComponentResult{}
		}
		return errors.Join(testErr, writeJSON(opts.IO.Out, doc))
	}
	if len(results) > 0 {
		if err := printComponentTable(opts.IO.Out, results); err != nil {
			return errors.Join(testErr, err)
		}
	}
	return testErr
}

// selectComponents picks the named components, in the spec's order; no
// names means all of them.
func selectComponents(s *spec.Spec, names []string) ([]spec.Component, error) {
	if len(names) == 0 {
		return s.Components, nil
	}
	known := make([]string, len(s.Components))
	for i, c := range s.Components {
		known[i] = c.Name
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			if len(known) == 0 {
				return nil, flagErrorf("unknown component %q: %s declares no components", n, s.File)
			}
			return nil, flagErrorf("unknown component %q: %s declares %s", n, s.File, strings.Join(known, ", "))
		}
	}
	var out []spec.Component
	for _, c := range s.Components {
		if slices.Contains(names, c.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}

func printComponentTable(w io.Writer, results []pipeline.ComponentResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tBUILD\tTEST\tDURATION")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\n", r.Name, r.Build, r.Test, r.DurationS)
	}
	return tw.Flush()
}

func testSummary(model string, results []pipeline.ComponentResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### podium test: %s\n\n", model)
	b.WriteString("| component | build | test | duration |\n|---|---|---|---:|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f s |\n", r.Name, r.Build, r.Test, r.DurationS)
	}
	return b.String()
}
