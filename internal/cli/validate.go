package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/spec"
)

type validateOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform

	SpecPath string
	JSON     bool
}

func newCmdValidate(f *Factory, runF func(*validateOptions) error) *cobra.Command {
	opts := &validateOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a podium.yaml against the spec schema and its rules",
		Long: heredoc(`
			Validate a spec without running anything: the JSON Schema, then what a
			schema cannot say (unique step names, needs that name real steps, no
			dependency cycles, no two steps racing over a path, well-formed gate
			rules and globs, deploy templates that render). Every problem is printed at once, as file:line:col,
			the field path, and what is wrong; in CI each one is also an error
			annotation on the file and line, with or without --json.

			A spec without pipeline steps is valid (compare, record and report
			can work on metrics produced elsewhere), but podium train then has
			nothing to run: validate says so in a note.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium validate
			$ podium validate --spec models/churn/podium.yaml --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runValidate(opts)
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
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

// validateResult is what `validate --json` prints.
type validateResult struct {
	Spec   string          `json:"spec"`
	Valid  bool            `json:"valid"`
	Model  string          `json:"model,omitempty"`
	Digest string          `json:"digest,omitempty"`
	Errors []validateError `json:"errors"`
	// Notes say what is valid but probably not meant (no pipeline steps).
	Notes []string `json:"notes"`
}

type validateError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// noPipelineNote is validate's note for a spec without steps: train
// refuses such a spec, so validate should not pass it silently.
const noPipelineNote = "no pipeline: steps, so podium train has nothing to run (add pipeline: with at least one step, or produce the metrics elsewhere and run compare --candidate)"

func runValidate(opts *validateOptions) error {
	s, err := spec.Load(opts.SpecPath)
	problems := diag.All(err)
	if err != nil && len(problems) == 0 {
		return err // I/O failure, not a finding
	}
	var notes []string
	if s != nil && len(s.Pipeline) == 0 {
		notes = append(notes, noPipelineNote)
	}
	// A note is a notice annotation in CI and a "file: notice: ..." line
	// on stderr elsewhere.
	platform := opts.Platform()
	for _, n := range notes {
		platform.Annotate(ci.Annotation{Level: ci.LevelNotice, File: opts.SpecPath, Message: n})
	}
	if !opts.JSON {
		if err != nil {
			return err
		}
		// The path is the user's (a step input): one safe line.
		_, err := fmt.Fprintln(opts.IO.Out, safeLine(fmt.Sprintf("%s: valid (model %s, %d steps, %d components, %d gate rules)",
			opts.SpecPath, s.Model, len(s.Pipeline), len(s.Components), len(s.Gate.Rules))))
		return err
	}
	res := validateResult{Spec: opts.SpecPath, Valid: err == nil, Errors: []validateError{}, Notes: []string{}}
	res.Notes = append(res.Notes, notes...)
	if s != nil {
		res.Model, res.Digest = s.Model, s.Digest
	}
	for _, p := range problems {
		res.Errors = append(res.Errors, validateError{File: p.File, Line: p.Line, Column: p.Col, Field: p.Field, Message: p.Msg})
	}
	if werr := writeJSON(opts.IO.Out, res); werr != nil {
		return werr
	}
	if err != nil {
		// The document holds the problems; the log and the CI annotations
		// get them too, as without --json. Then exit 2.
		printErrorLines(opts.IO.ErrOut, func(s string) string { return s }, err)
		annotateProblems(platform, func(s string) string { return s }, err)
		return &ExitError{Code: ExitInvalid}
	}
	return nil
}
