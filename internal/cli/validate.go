package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/spec"
)

type validateOptions struct {
	IO       *IOStreams
	SpecPath string
	JSON     bool
}

func newCmdValidate(f *Factory, runF func(*validateOptions) error) *cobra.Command {
	opts := &validateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a podium.yaml against the spec schema and its rules",
		Long: heredoc(`
			Validate a spec without running anything: the JSON Schema, then what a
			schema cannot say (unique step names, needs that name real steps, no
			dependency cycles, well-formed gate rules and globs, deploy templates
			that render). Every problem is printed at once, as file:line:col,
			the field path, and what is wrong.`) + "\n\n" + exitCodesHelp,
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
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one `JSON` document")
	return cmd
}

// addSpecFlag adds the --spec flag every spec-reading command takes.
func addSpecFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "spec", spec.DefaultFile, "the pipeline spec `file`")
}

// validateResult is what `validate --json` prints.
type validateResult struct {
	Spec   string          `json:"spec"`
	Valid  bool            `json:"valid"`
	Model  string          `json:"model,omitempty"`
	Digest string          `json:"digest,omitempty"`
	Errors []validateError `json:"errors"`
}

type validateError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func runValidate(opts *validateOptions) error {
	s, err := spec.Load(opts.SpecPath)
	problems := diag.All(err)
	if err != nil && len(problems) == 0 {
		return err // I/O failure, not a finding
	}
	if !opts.JSON {
		if err != nil {
			return err
		}
		_, err := fmt.Fprintf(opts.IO.Out, "%s: valid (model %s, %d steps, %d components, %d gate rules)\n",
			opts.SpecPath, s.Model, len(s.Pipeline), len(s.Components), len(s.Gate.Rules))
		return err
	}
	res := validateResult{Spec: opts.SpecPath, Valid: err == nil, Errors: []validateError{}}
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
		// Still print the problems for humans reading the log, then exit 2.
		printErrorLines(opts.IO.ErrOut, func(s string) string { return s }, err)
		return &ExitError{Code: ExitInvalid}
	}
	return nil
}
