package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/data"
	"github.com/podium-ml/podium/internal/report"
)

func newCmdData(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data <command>",
		Short: "Infer a data schema and check data against it",
		Long: heredoc(`
			Validate data before a model is trained on it. infer writes a data
			schema from reference data for you to review and commit; check
			validates files against it. podium train runs the same check on the
			step inputs a spec's data section guards, before any step runs.

			Files are CSV with a header row, JSON Lines (.jsonl, .ndjson) or
			Parquet (.parquet), chosen by extension.`) + "\n\n" + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: requireSubcommand,
	}
	cmd.AddCommand(newCmdDataInfer(f, nil), newCmdDataCheck(f, nil))
	return cmd
}

type dataInferOptions struct {
	IO        *IOStreams
	Reference []string
	Out       string
	Keys      []string
}

func newCmdDataInfer(f *Factory, runF func(*dataInferOptions) error) *cobra.Command {
	opts := &dataInferOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "infer --reference <file>... [--out <file>]",
		Short: "Infer a data schema from reference data",
		Long: heredoc(`
			Read the reference data and write a data schema that it passes: each
			column's type (number, integer, boolean, category, string,
			timestamp), whether values may be missing, numeric ranges (the seen
			range widened by a tenth of its span), category domains, unique keys
			(--key) and bounds on the row count. Comments say what was seen.

			Review the schema before committing it: tighten or loosen ranges,
			add a pattern to a string column, or set severity: warning on checks
			that should only be reported.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium data infer --reference data/train.csv --out data.schema.yaml
			$ podium data infer --reference a.parquet --reference b.parquet --key id`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Reference) == 0 {
				return flagError(cmd, fmt.Errorf("--reference is required"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runDataInfer(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.Reference, "reference", nil, "the reference `file` (repeatable)")
	fl.StringVar(&opts.Out, "out", "", "write the schema to this `file` (default: standard output)")
	fl.StringSliceVar(&opts.Keys, "key", nil, "`columns` whose values must be unique")
	return cmd
}

func runDataInfer(ctx context.Context, opts *dataInferOptions) error {
	inf, err := data.Infer(ctx, opts.Reference, data.InferOptions{Keys: opts.Keys})
	if err != nil {
		return err
	}
	out := inf.YAML()
	// What infer writes must load: a schema podium cannot read back is a bug.
	if _, err := data.Parse("inferred schema", out); err != nil {
		return fmt.Errorf("failed to infer a valid schema: %w", err)
	}
	if opts.Out == "" {
		_, err := opts.IO.Out.Write(out)
		return err
	}
	if err := atomicfile.WriteFileNoMkdir(opts.Out, out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s: %d columns\n", opts.Out, len(inf.Schema.Columns))
	return nil
}

type dataCheckOptions struct {
	IO           *IOStreams
	Platform     func() ci.Platform
	Schema       string
	Files        []string
	JSON         bool
	FailOnReject bool
}

func newCmdDataCheck(f *Factory, runF func(*dataCheckOptions) error) *cobra.Command {
	opts := &dataCheckOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "check --schema <file> <file>...",
		Short: "Check data files against a data schema",
		Long: heredoc(`
			Check each file against the data schema and report every violation
			at once, by column: the check that failed, its severity, how many
			rows failed and the first rows by line. A column the schema names
			but the file lacks, and a file without data rows, fail: a check
			that checked nothing never passes.

			A failed check of severity error rejects the data: the output says
			so ("ok": false) and the CI output data_ok is false; the exit code
			stays 0 unless --fail-on-reject is given (then 3). Warnings are
			reported and never reject. A file that cannot be read as a table is
			invalid input (exit 2).`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium data check --schema data.schema.yaml data/train.csv
			$ podium data check --schema data.schema.yaml live.parquet --json --fail-on-reject`),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return flagError(cmd, fmt.Errorf("name at least one data file to check"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Schema == "" {
				return flagError(cmd, fmt.Errorf("--schema is required"))
			}
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return runDataCheck(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Schema, "schema", "", "the data schema `file`")
	fl.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	fl.BoolVar(&opts.FailOnReject, "fail-on-reject", false, "exit 3 when a check of severity error fails")
	return cmd
}

// dataCheckResult is what `data check --json` prints.
type dataCheckResult struct {
	SchemaVersion int  `json:"schema_version"`
	OK            bool `json:"ok"`
	*data.Result
}

func runDataCheck(ctx context.Context, opts *dataCheckOptions) error {
	s, err := data.Load(opts.Schema)
	if err != nil {
		return err
	}
	res, err := data.Check(ctx, s, opts.Files)
	if err != nil {
		return err
	}
	if opts.Platform != nil {
		p := opts.Platform()
		if err := p.SetOutput("data_ok", strconv.FormatBool(res.OK())); err != nil {
			return fmt.Errorf("failed to set the data_ok output: %w", err)
		}
		if err := p.AppendSummary(DataSummary(res)); err != nil {
			return err
		}
	}
	if opts.JSON {
		err = writeJSON(opts.IO.Out, dataCheckResult{SchemaVersion: 1, OK: res.OK(), Result: res})
	} else {
		_, err = io.WriteString(opts.IO.Out, DataText(res))
	}
	if err != nil {
		return err
	}
	if !res.OK() && opts.FailOnReject {
		return &ExitError{Code: ExitRejected}
	}
	return nil
}

// DataText is the human report of a data check (data.Result.Text).
func DataText(r *data.Result) string { return r.Text() }

// DataSummary is the Markdown table of a data check, for job summaries and
// run output. Names and values are untrusted and escaped.
func DataSummary(r *data.Result) string {
	var b strings.Builder
	verdict := "passed"
	if !r.OK() {
		verdict = "rejected"
	}
	fmt.Fprintf(&b, "### podium data check: %s\n\n%d of %d checks passed against %s (%s); %d errors, %d warnings.\n\n",
		verdict, r.Passed, r.Checks, report.Code(r.Schema), report.Code(r.Digest), r.Errors, r.Warnings)
	if len(r.Violations) > 0 {
		b.WriteString("| file | column | check | severity | rows | examples | problem |\n|---|---|---|---|--:|---|---|\n")
		for _, v := range r.Violations {
			var ex []string
			for _, e := range v.Examples {
				ex = append(ex, fmt.Sprintf("%d: %s", e.Line, report.CodeCell(e.Value)))
			}
			sev := string(v.Severity)
			if v.Severity == data.Error {
				sev = "**error**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s | %s |\n", report.CodeCell(v.File), report.CodeCell(v.Column),
				v.Check, sev, v.Count, strings.Join(ex, "<br>"), report.Text(v.Message))
		}
		b.WriteString("\n")
	}
	return b.String()
}
