package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/data"
	"github.com/podium-ml/podium/internal/drift"
	"github.com/podium-ml/podium/internal/metrics"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/internal/table"
)

type driftOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform

	SpecPath string
	// SpecSet is true when --spec was given: the spec must then exist.
	SpecSet bool

	Reference   string
	Current     string
	Columns     []string
	Categorical []string
	// PSIThreshold and KSThreshold override the spec when > 0.
	PSIThreshold  float64
	KSThreshold   float64
	LInfThreshold float64
	Share         float64
	// Schema is a data schema whose column types choose each column's
	// statistics ("" : the spec's data.schema, else inferred).
	Schema     string
	MaxBadRows int64

	Metrics  string
	Champion string

	JSON bool
}

func newCmdDrift(f *Factory, runF func(*driftOptions) error) *cobra.Command {
	opts := &driftOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "drift (--reference <file> --current <file> | --metrics <file>) [flags]",
		Short: "Measure data drift and performance decay, and say whether to retrain",
		Long: heredoc(`
			Decide whether the model should be retrained, from what monitoring
			sees: how far the current data has moved from the reference (training)
			data, and how far live metrics have fallen from the champion's.

			Data drift compares two CSV files with a header row, column by column.
			A numeric column gets the two-sample Kolmogorov-Smirnov statistic (the
			largest gap between the two empirical distribution functions) and the
			population stability index over ten bins cut at the reference deciles;
			a categorical column gets the PSI over its categories, with unseen
			categories in a bin of their own, and the share of new categories. A
			column drifts when its PSI is above the spec's drift.psi_threshold
			(default 0.2) or its KS above drift.ks_threshold (default 0.1); the
			flags override both. A column is numeric when every non-empty value in
			the reference's first MiB is a number; --categorical overrides that.
			Empty cells and NaN are left out.

			The statistics are exact. Both files are read once, in parallel, in
			bounded memory: when the values outgrow it, sorted runs go to
			temporary files ($TMPDIR) and are merged. Rows that cannot be read (a
			wrong number of fields, a bad number in a numeric column) are left
			out and reported by line; more than --max-bad-rows fails.

			Performance decay (--metrics) checks live metrics, measured by
			monitoring, against the spec's gate rules: a value outside min_value
			or max_value, or worse than the champion's by more than the rule's
			tolerance, has decayed. The champion's metrics come from --champion
			(a registry pointer file with a "metrics" object, or a metrics file),
			by default the pointer <registry.path>/<model>.json in the working tree.

			The spec (--spec, default podium.yaml) gives the thresholds and
			columns when it exists; --metrics needs it for the gate rules.

			Any drifted column or decayed metric means retrain: the output says
			so ("retrain": true with the reasons, worst column first) and the CI
			outputs retrain, reasons (a JSON array) and decision (retrain or
			keep) are set; the exit code stays 0. A Markdown summary goes to the
			job summary.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium drift --reference data/train.csv --current monitoring/last-week.csv
			$ podium drift --reference train.csv --current live.csv --columns temp_max,wind --json
			$ podium drift --metrics monitoring/metrics.json
			$ podium drift --metrics live.json --champion .podium/registry/weather.json --reference train.csv --current live.csv`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateDriftFlags(cmd, opts); err != nil {
				return err
			}
			opts.SpecSet = cmd.Flags().Changed("spec")
			if runF != nil {
				return runF(opts)
			}
			return runDrift(cmd.Context(), opts)
		},
	}
	addDriftFlags(cmd, opts)
	return cmd
}

func addDriftFlags(cmd *cobra.Command, opts *driftOptions) {
	addSpecFlag(cmd, &opts.SpecPath)
	fl := cmd.Flags()
	fl.StringVar(&opts.Reference, "reference", "", "the reference (training) data, a CSV `file`")
	fl.StringVar(&opts.Current, "current", "", "the current (live) data, a CSV `file`")
	fl.StringSliceVar(&opts.Columns, "columns", nil, "compare only these `columns` (default: the spec's drift.columns, else all)")
	fl.StringSliceVar(&opts.Categorical, "categorical", nil, "treat these `columns` as categorical even when they hold numbers")
	fl.Float64Var(&opts.PSIThreshold, "psi-threshold", 0, "a column drifts when its PSI is above `x` (default: the spec's, else 0.2)")
	fl.Float64Var(&opts.KSThreshold, "ks-threshold", 0, "a column drifts when its KS is above `x` (default: the spec's, else 0.1)")
	fl.Float64Var(&opts.LInfThreshold, "linf-threshold", 0, "a categorical column drifts when the largest change of a category's share is above `x` and its critical value (default: the spec's, else 0.1)")
	fl.Float64Var(&opts.Share, "share", 0, "the data drifts when at least this `share` of the columns drift (default: the spec's, else any one column)")
	fl.StringVar(&opts.Schema, "schema", "", "a data schema `file`: its column types choose the statistics (default: the spec's data.schema)")
	fl.Int64Var(&opts.MaxBadRows, "max-bad-rows", 100, "fail when a file has more than `n` unreadable rows (-1: no limit)")
	fl.StringVar(&opts.Metrics, "metrics", "", "check live metrics from this `file` (JSON, YAML or CSV) for decay")
	fl.StringVar(&opts.Champion, "champion", "", "the champion's metrics `file` (default: <registry.path>/<model>.json)")
	fl.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
}

func validateDriftFlags(cmd *cobra.Command, opts *driftOptions) error {
	flagErrorf := func(format string, args ...any) error {
		return flagError(cmd, fmt.Errorf(format, args...))
	}
	if (opts.Reference == "") != (opts.Current == "") {
		return flagErrorf("--reference and --current go together")
	}
	if opts.Reference == "" && opts.Metrics == "" {
		return flagErrorf("nothing to check: give --reference and --current, or --metrics")
	}
	if opts.Champion != "" && opts.Metrics == "" {
		return flagErrorf("--champion needs --metrics")
	}
	for _, t := range []struct {
		name string
		v    float64
	}{{"--psi-threshold", opts.PSIThreshold}, {"--ks-threshold", opts.KSThreshold}, {"--linf-threshold", opts.LInfThreshold}, {"--share", opts.Share}} {
		if cmd.Flags().Changed(strings.TrimPrefix(t.name, "--")) && !(t.v > 0 && !math.IsInf(t.v, 0)) {
			return flagErrorf("invalid %s %v: use a positive number", t.name, t.v)
		}
	}
	if opts.Share > 1 {
		return flagErrorf("invalid --share %v: use a share in (0, 1]", opts.Share)
	}
	if opts.MaxBadRows < -1 {
		return flagErrorf("invalid --max-bad-rows %d: use a count, or -1 for no limit", opts.MaxBadRows)
	}
	return nil
}

// driftResult is what `drift --json` prints.
type driftResult struct {
	SchemaVersion int                `json:"schema_version"`
	Retrain       bool               `json:"retrain"`
	Reasons       []string           `json:"reasons"`
	Thresholds    *drift.Thresholds  `json:"thresholds,omitempty"`
	Reference     *drift.FileSummary `json:"reference,omitempty"`
	Current       *drift.FileSummary `json:"current,omitempty"`
	Columns       []drift.Column     `json:"columns"`
	Decay         *decayResult       `json:"decay,omitempty"`
	Warnings      []string           `json:"warnings"`
}

// worst returns the columns worst first, for reasons and summaries; the
// JSON keeps the reference's column order.
func (r *driftResult) worst() []drift.Column {
	if r.Thresholds == nil {
		return nil
	}
	return drift.Worst(r.Columns, *r.Thresholds)
}

type decayResult struct {
	Metrics  string             `json:"metrics"`
	Champion *string            `json:"champion"` // the file read, null when there is none
	Checks   []drift.DecayCheck `json:"checks"`
}

func runDrift(ctx context.Context, opts *driftOptions) error {
	s, err := loadDriftSpec(opts)
	if err != nil {
		return err
	}
	res := driftResult{SchemaVersion: 1, Columns: []drift.Column{}, Warnings: []string{}}

	if opts.Reference != "" {
		if err := dataDrift(ctx, opts, s, &res); err != nil {
			return err
		}
	}

	if opts.Metrics != "" {
		d, warnings, err := checkDecay(opts, s)
		if err != nil {
			return err
		}
		res.Decay = d
		res.Warnings = append(res.Warnings, warnings...)
	}

	var checks []drift.DecayCheck
	if res.Decay != nil {
		checks = res.Decay.Checks
	}
	share := 0.0
	if res.Thresholds != nil {
		share = res.Thresholds.Share
	}
	v := drift.DecideShare(res.worst(), checks, share)
	res.Retrain, res.Reasons = v.Retrain, v.Reasons

	if err := publishDrift(opts, &res); err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", escapeControl(w))
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, res)
	}
	_, err = io.WriteString(opts.IO.Out, driftText(&res))
	return err
}

// dataDrift compares the reference and current files into res, with the
// thresholds and columns of the flags, else the spec, else the defaults.
func dataDrift(ctx context.Context, opts *driftOptions, s *spec.Spec, res *driftResult) error {
	th := drift.Thresholds{PSI: drift.DefaultPSIThreshold, KS: drift.DefaultKSThreshold}
	columns := opts.Columns
	schemaPath := opts.Schema
	if s != nil {
		th = drift.Thresholds{PSI: s.Drift.PSIThreshold, KS: s.Drift.KSThreshold, LInf: s.Drift.LInfThreshold, Share: s.Drift.Share}
		if len(columns) == 0 {
			columns = s.Drift.Columns
		}
		if schemaPath == "" && s.Data != nil {
			schemaPath = filepath.Join(s.Dir, filepath.FromSlash(s.Data.Schema))
		}
	}
	for _, o := range []struct{ flag, spec *float64 }{
		{&opts.PSIThreshold, &th.PSI}, {&opts.KSThreshold, &th.KS}, {&opts.LInfThreshold, &th.LInf}, {&opts.Share, &th.Share},
	} {
		if *o.flag > 0 {
			*o.spec = *o.flag
		}
	}
	categorical := opts.Categorical
	if schemaPath != "" {
		ds, err := data.Load(schemaPath)
		if err != nil {
			return err
		}
		columns, categorical = driftColumnsFromSchema(ds, columns, categorical)
	}
	if os.Getenv("GOGC") == "" {
		// The comparison holds large buffers without pointers, so a
		// collection has little to mark: collecting at 25% growth instead
		// of 100% keeps the peak memory near the budget at almost no CPU.
		defer debug.SetGCPercent(debug.SetGCPercent(25))
	}
	rep, err := compareFiles(ctx, opts, drift.Options{
		Columns: columns, Categorical: categorical, Thresholds: th, MaxBadRows: opts.MaxBadRows,
	})
	if err != nil {
		return err
	}
	res.Thresholds, res.Reference, res.Current = &rep.Thresholds, &rep.Reference, &rep.Current
	res.Columns = rep.Columns
	res.Warnings = append(res.Warnings, rep.Warnings...)
	for _, f := range []drift.FileSummary{rep.Reference, rep.Current} {
		if w := badRowsWarning(f); w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	return nil
}

// publishDrift sets the CI outputs and appends the job summary.
func publishDrift(opts *driftOptions, res *driftResult) error {
	platform := opts.Platform()
	reasons, _ := marshalJSON(res.Reasons)
	decision := "keep"
	if res.Retrain {
		decision = "retrain"
	}
	for _, o := range [][2]string{{"retrain", strconv.FormatBool(res.Retrain)}, {"reasons", string(reasons)}, {"decision", decision}} {
		if err := platform.SetOutput(o[0], o[1]); err != nil {
			return fmt.Errorf("failed to set the %s output: %w", o[0], err)
		}
	}
	return platform.AppendSummary(driftSummary(res))
}

// driftColumnsFromSchema applies a data schema's types: number and
// integer columns are numeric, category and boolean categorical; string
// and timestamp columns (free text, instants) are left out unless named.
func driftColumnsFromSchema(ds *data.Schema, columns, categorical []string) ([]string, []string) {
	named := len(columns) > 0
	for _, c := range ds.Columns {
		switch c.Type {
		case data.Category, data.Boolean:
			if !slices.Contains(categorical, c.Name) && (!named || slices.Contains(columns, c.Name)) {
				categorical = append(categorical, c.Name)
			}
			if !named {
				columns = append(columns, c.Name)
			}
		case data.Number, data.Integer:
			if !named {
				columns = append(columns, c.Name)
			}
		}
	}
	return columns, categorical
}

// loadDriftSpec loads the spec when it is needed (--metrics: the gate
// rules) or was named; otherwise a missing default spec means defaults.
func loadDriftSpec(opts *driftOptions) (*spec.Spec, error) {
	if !opts.SpecSet && opts.Metrics == "" {
		if _, err := os.Stat(opts.SpecPath); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		if opts.Metrics != "" && !opts.SpecSet {
			return nil, fmt.Errorf("--metrics needs the gate rules of a spec (--spec): %w", err)
		}
		return nil, err
	}
	return s, nil
}

func compareFiles(ctx context.Context, opts *driftOptions, do drift.Options) (*drift.Report, error) {
	ref, err := os.Open(opts.Reference)
	if err != nil {
		return nil, inputErrorf("failed to open the reference data: %w", err)
	}
	defer ref.Close()
	cur, err := os.Open(opts.Current)
	if err != nil {
		return nil, inputErrorf("failed to open the current data: %w", err)
	}
	defer cur.Close()
	var inputs [2]drift.Input
	for i, f := range []*os.File{ref, cur} {
		src, err := table.Open(f.Name(), f, runtime.GOMAXPROCS(0)+2)
		if err != nil {
			return nil, err
		}
		inputs[i] = drift.Input{Name: f.Name(), Source: src}
	}
	return drift.Compare(ctx, inputs[0], inputs[1], do)
}

func badRowsWarning(f drift.FileSummary) string {
	if f.BadRows.Count == 0 {
		return ""
	}
	var lines []string
	for _, r := range f.BadRows.First {
		lines = append(lines, strconv.FormatInt(r.Line, 10))
	}
	more := ""
	if f.BadRows.Count > int64(len(lines)) {
		more = ", ..."
	}
	return fmt.Sprintf("%s: %d bad rows left out (lines %s%s; first: %s)",
		f.File, f.BadRows.Count, strings.Join(lines, ", "), more, f.BadRows.First[0].Reason)
}

// checkDecay reads the live and champion metrics and applies the gate rules.
func checkDecay(opts *driftOptions, s *spec.Spec) (*decayResult, []string, error) {
	var warnings []string
	live, err := metrics.ReadFile(opts.Metrics)
	if err != nil {
		return nil, nil, asInput(err)
	}
	if len(live.Skipped) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s: not numbers, left out: %s", opts.Metrics, strings.Join(live.Skipped, ", ")))
	}
	path := opts.Champion
	if path == "" {
		path = filepath.Join(s.Dir, s.Registry.Path, s.Model+".json")
	}
	var champion map[string]float64
	c, err := registry.ReadChampionFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && opts.Champion == "":
		warnings = append(warnings, fmt.Sprintf("no champion at %s: only min_value and max_value are checked", path))
	case err != nil:
		return nil, nil, asInput(err)
	default:
		champion = c.Metrics
	}
	d := &decayResult{Metrics: opts.Metrics, Checks: []drift.DecayCheck{}}
	if champion != nil {
		d.Champion = &path
	}
	if len(s.Gate.Rules) == 0 {
		warnings = append(warnings, fmt.Sprintf("%s has no gate rules: nothing to check for decay", s.File))
	}
	checks, w := drift.Decay(s.Gate.Rules, live.Metrics, champion)
	d.Checks = append(d.Checks, checks...)
	return d, append(warnings, w...), nil
}

// asInput marks a file that cannot be opened as invalid input (exit 2);
// metrics' own parse errors already are.
func asInput(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return &InputError{Err: err}
	}
	return err
}

func optNum(p *float64) string {
	if p == nil {
		return "-"
	}
	return drift.Num(*p)
}

// driftText is the human output. Every line starts with podium's own
// words or spaces, never with a column or metric name.
func driftText(r *driftResult) string {
	var b strings.Builder
	if r.Retrain {
		fmt.Fprintf(&b, "drift: retrain (%d reasons)\n", len(r.Reasons))
	} else {
		b.WriteString("drift: no retrain needed\n")
	}
	if r.Reference != nil {
		fmt.Fprintf(&b, "data: %s (%d rows) against %s (%d rows), PSI above %s, or KS above %s (L∞ above %s) and its critical value at α %s, drifts\n",
			escapeControl(r.Current.File), r.Current.Rows, escapeControl(r.Reference.File), r.Reference.Rows, drift.Num(r.Thresholds.PSI), drift.Num(r.Thresholds.KS),
			drift.Num(r.Thresholds.LInf), drift.Num(r.Thresholds.Alpha))
		width := len("column")
		for _, c := range r.Columns {
			width = max(width, len(c.Name))
		}
		fmt.Fprintf(&b, "  %-*s  %-11s  %8s  %8s  %8s  %8s  %8s  %s\n", width, "column", "kind", "KS", "p", "L∞", "critical", "PSI", "drifted")
		for _, c := range r.worst() {
			mark := "no"
			if c.Drifted {
				mark = "yes"
			}
			extra := ""
			if c.NewShare != nil && *c.NewShare > 0 {
				extra = fmt.Sprintf(" (%s new: %s)", drift.Num(*c.NewShare), strings.Join(c.NewCategories, ", "))
			}
			fmt.Fprintf(&b, "  %-*s  %-11s  %8s  %8s  %8s  %8s  %8s  %s%s\n", width, escapeControl(c.Name), c.Kind, optNum(c.KS), optNum(c.KSPValue),
				optNum(c.LInf), optNum(c.Critical), optNum(c.PSI), mark, extra)
		}
	}
	if r.Decay != nil {
		champion := "none"
		if r.Decay.Champion != nil {
			champion = *r.Decay.Champion
		}
		fmt.Fprintf(&b, "decay: %s against champion %s\n", escapeControl(r.Decay.Metrics), escapeControl(champion))
		for _, c := range r.Decay.Checks {
			mark := "ok     "
			if c.Decayed {
				mark = "decayed"
			}
			fmt.Fprintf(&b, "  %s  %s\n", mark, escapeControl(c.Reason))
		}
	}
	for _, reason := range r.Reasons {
		fmt.Fprintf(&b, "reason: %s\n", escapeControl(reason))
	}
	return b.String()
}

// driftSummary is the job summary: the verdict, the columns worst first,
// the decay checks. Names are untrusted and go through report's escaping.
func driftSummary(r *driftResult) string {
	var b strings.Builder
	if r.Retrain {
		fmt.Fprintf(&b, "### podium drift: retrain\n\n")
	} else {
		fmt.Fprintf(&b, "### podium drift: no retrain needed\n\n")
	}
	if r.Reference != nil {
		fmt.Fprintf(&b, "Current data %s (%d rows) against reference %s (%d rows). A column drifts when PSI > %s, or KS > %s (L∞ > %s) and above its critical value at α = %s.\n\n",
			report.Code(r.Current.File), r.Current.Rows, report.Code(r.Reference.File), r.Reference.Rows,
			drift.Num(r.Thresholds.PSI), drift.Num(r.Thresholds.KS), drift.Num(r.Thresholds.LInf), drift.Num(r.Thresholds.Alpha))
		b.WriteString("| column | kind | KS | p | L∞ | JS | critical | PSI | new categories | drifted |\n|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, c := range r.worst() {
			mark := "no"
			if c.Drifted {
				mark = "**yes**"
			}
			share := ""
			if c.NewShare != nil {
				share = drift.Num(*c.NewShare)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", report.CodeCell(c.Name), c.Kind, optNum(c.KS), optNum(c.KSPValue),
				optNum(c.LInf), optNum(c.JS), optNum(c.Critical), optNum(c.PSI), share, mark)
		}
		b.WriteString("\n")
	}
	if r.Decay != nil && len(r.Decay.Checks) > 0 {
		b.WriteString("| metric | live | champion | decayed | why |\n|---|--:|--:|---|---|\n")
		for _, c := range r.Decay.Checks {
			mark := "no"
			if c.Decayed {
				mark = "**yes**"
			}
			champion := "-"
			if c.Champion != nil {
				champion = strconv.FormatFloat(*c.Champion, 'g', -1, 64)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", report.CodeCell(c.Metric),
				strconv.FormatFloat(c.Live, 'g', -1, 64), champion, mark, report.Text(c.Reason))
		}
		b.WriteString("\n")
	}
	for _, reason := range r.Reasons {
		fmt.Fprintf(&b, "- %s\n", report.Text(reason))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "- warning: %s\n", report.Text(w))
	}
	return b.String()
}
