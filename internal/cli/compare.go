package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/metrics"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/internal/statcache"
	"github.com/podium-ml/podium/schemas"
)

// compareSchema is the schema compare.json is checked against before it
// is written or printed.
const compareSchema = "compare.schema.json"

// reportFile is where compare and report write the Markdown in a run
// directory when --report/--out is not given.
const reportFile = "report.md"

// historyLimit bounds the champion history read for the report's chart.
const historyLimit = 20

type compareOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform

	SpecPath     string
	RunDir       string
	Candidate    string
	Champion     string
	JSON         bool
	ReportFile   string
	FailOnReject bool
	NoStatCache  bool
}

func newCmdCompare(f *Factory, runF func(*compareOptions) error) *cobra.Command {
	opts := &compareOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "compare (--run-dir <dir> | --candidate <file>) [flags]",
		Short: "Decide whether the candidate model beats the champion",
		Long: heredoc(`
			Compare the candidate's metrics with the champion's by the spec's gate
			rules and decide: promote when every rule passes, reject otherwise.

			The candidate's metrics come from a run directory (run.json, written by
			podium train) or from a metrics file (JSON, YAML or CSV). The champion
			comes from the registry: for the git registry, <registry.path>/<model>.json
			on the default branch, never from the pull request's own head, which
			could otherwise edit its own champion. A shallow CI checkout lacks the
			default branch, so podium fetches it; only when that fails is the
			working tree read, with a loud warning in the output and the report.
			--champion names a champion file instead: a registry pointer or a plain
			metrics file. With no champion, only the rules' absolute bounds apply.

			When both sides record evaluation-data digests and they differ, the
			result says comparable: false, with a warning: the metrics were computed
			on different data.

			With --run-dir, compare writes <dir>/compare.json (the document --json
			prints) and <dir>/report.md. CI outputs: `+"`decision`"+` (promote or
			reject) and `+"`report`"+` (the Markdown report's path); the report is
			also added to the job summary. A reject exits 0 unless --fail-on-reject
			is given: then it exits 3.`) + "\n\n" + statCacheHelp + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium compare --run-dir .podium/run
			$ podium compare --candidate metrics.json --champion champion.json --json
			$ podium compare --run-dir .podium/run --fail-on-reject --report report.md`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.RunDir == "" && opts.Candidate == "":
				return flagError(cmd, errors.New("specify the candidate with --run-dir or --candidate"))
			case opts.RunDir != "" && opts.Candidate != "":
				return flagError(cmd, errors.New("specify only one of --run-dir and --candidate"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runCompare(cmd.Context(), opts)
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringVar(&opts.RunDir, "run-dir", "", "read the candidate from run.json in `directory` and write compare.json there")
	cmd.Flags().StringVar(&opts.Candidate, "candidate", "", "read the candidate's metrics from `file`")
	cmd.Flags().StringVar(&opts.Champion, "champion", "", "compare with the champion in `file` (a registry pointer or a metrics file) instead of the registry's")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	cmd.Flags().StringVar(&opts.ReportFile, "report", "", "write the Markdown report to `file` (default: report.md in the run directory)")
	cmd.Flags().BoolVar(&opts.FailOnReject, "fail-on-reject", false, "exit 3 when the gate rejects the candidate")
	addNoStatCacheFlag(cmd, &opts.NoStatCache)
	return cmd
}

// candidateSide is the candidate's metrics and where they came from.
type candidateSide struct {
	source     string // the file named in messages
	metrics    map[string]float64
	nonNumeric []string
	run        *rundir.Run // nil for --candidate
}

// championSide is the champion and what is known about it.
type championSide struct {
	pointer  *registry.Pointer // nil when there is none, or for a plain metrics file
	version  string
	metrics  map[string]float64 // nil when there is no champion
	source   string
	history  []registry.Entry
	warnings []string
}

func runCompare(ctx context.Context, opts *compareOptions) error {
	if err := checkComparePaths(opts); err != nil {
		return err
	}
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return err
	}
	platform := opts.Platform()
	cand, err := readCandidate(s, opts.RunDir, opts.Candidate)
	if err != nil {
		return err
	}
	champ, err := readChampion(ctx, s, platform, opts.Champion, opts.IO.ErrOut)
	if err != nil {
		return err
	}

	res, err := gate.Evaluate(gate.Input{
		Rules: s.Gate.Rules, Candidate: cand.metrics, NonNumeric: cand.nonNumeric, Champion: champ.metrics,
		SpecFile: s.File, CandidateSource: cand.source,
	})
	if err != nil {
		return err
	}

	doc := &rundir.Compare{
		Model:      s.Model,
		Decision:   res.Decision,
		Candidate:  rundir.Candidate{Metrics: cand.metrics},
		Checks:     []rundir.Check{},
		Comparable: true,
		Warnings:   slices.Concat(champ.warnings, res.Warnings),
	}
	if champ.metrics != nil {
		doc.Champion = &rundir.Champion{Version: champ.version, Metrics: champ.metrics}
	}
	for _, c := range res.Checks {
		doc.Checks = append(doc.Checks, rundir.Check{
			Metric: c.Metric, Direction: string(c.Direction), Champion: c.Champion, Candidate: c.Candidate,
			Delta: c.Delta, Passed: c.Passed, Reason: c.Reason,
		})
	}
	candDigests, digestWarnings := candidateDigests(ctx, s, cand.run, opts.NoStatCache, opts.IO.ErrOut)
	doc.Warnings = append(doc.Warnings, digestWarnings...)
	if champ.pointer != nil {
		if why := notComparable(champ.pointer.EvaluationData, candDigests); why != "" {
			doc.Comparable = false
			doc.Warnings = append(doc.Warnings, why)
		}
	}
	if doc.Warnings == nil {
		doc.Warnings = []string{}
	}
	data, err := encodeCompare(doc)
	if err != nil {
		return err
	}
	if opts.RunDir != "" {
		if err := atomicfile.WriteFile(filepath.Join(opts.RunDir, rundir.CompareFile), data, 0o644); err != nil {
			return err
		}
	}

	md := report.Render(reportInput(s, platform, doc, cand.run, candDigests, &champ))
	reportPath := opts.ReportFile
	if reportPath == "" && opts.RunDir != "" {
		reportPath = filepath.Join(opts.RunDir, reportFile)
	}
	if reportPath != "" {
		if err := atomicfile.WriteFile(reportPath, []byte(md), 0o644); err != nil {
			return err
		}
	}
	for _, w := range doc.Warnings {
		platform.Annotate(ci.Annotation{Level: ci.LevelWarning, Title: "podium compare", Message: w})
	}
	if err := platform.SetOutput("decision", doc.Decision); err != nil {
		return err
	}
	if reportPath != "" {
		if err := platform.SetOutput("report", reportPath); err != nil {
			return err
		}
	}
	if err := platform.AppendSummary(md); err != nil {
		return err
	}

	if opts.JSON {
		if _, err := opts.IO.Out.Write(data); err != nil {
			return err
		}
	} else if err := printCompare(opts.IO.Out, doc, champ.source); err != nil {
		return err
	}
	if opts.RunDir != "" {
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", filepath.Join(opts.RunDir, rundir.CompareFile))
	}
	if reportPath != "" {
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", reportPath)
	}
	if doc.Decision == rundir.Reject && opts.FailOnReject {
		return &RejectedError{Model: s.Model}
	}
	return nil
}

func checkComparePaths(opts *compareOptions) error {
	if opts.RunDir != "" {
		if err := checkRunDir(opts.RunDir); err != nil {
			return err
		}
	}
	if opts.Candidate != "" {
		if err := checkInputFile("--candidate", opts.Candidate); err != nil {
			return err
		}
	}
	if opts.Champion != "" {
		if err := checkInputFile("--champion", opts.Champion); err != nil {
			return err
		}
	}
	if opts.ReportFile != "" {
		return checkOutputFile("--report", opts.ReportFile)
	}
	return nil
}

// encodeCompare returns compare.json's bytes (indented, as writeJSON
// prints), checked against the schema: what is checked is what is written.
func encodeCompare(doc *rundir.Compare) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, doc); err != nil {
		return nil, fmt.Errorf("failed to encode the comparison: %w", err)
	}
	var decoded any
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		return nil, fmt.Errorf("failed to decode the encoded comparison: %w", err)
	}
	if err := schemas.Validate(compareSchema, decoded); err != nil {
		return nil, fmt.Errorf("the comparison does not match %s: %w", compareSchema, err)
	}
	return buf.Bytes(), nil
}

func readCandidate(s *spec.Spec, runDir, file string) (*candidateSide, error) {
	if runDir != "" {
		run, err := rundir.ReadRun(runDir)
		if err != nil {
			return nil, err
		}
		source := filepath.Join(runDir, rundir.RunFile)
		if run.Model != s.Model {
			return nil, inputErrorf("%s: model %q is not the spec's model %q", source, run.Model, s.Model)
		}
		m := run.Metrics
		if m == nil {
			m = map[string]float64{}
		}
		return &candidateSide{source: source, metrics: m, run: run}, nil
	}
	res, err := metrics.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, inputErrorf("--candidate %s: no such file", file)
		}
		return nil, err
	}
	return &candidateSide{source: file, metrics: res.Metrics, nonNumeric: res.Skipped}, nil
}

// readChampion reads the champion from --champion or from the registry.
func readChampion(ctx context.Context, s *spec.Spec, platform ci.Platform, file string, errOut io.Writer) (championSide, error) {
	if file != "" {
		return readChampionFile(file)
	}
	if s.Registry.Type != "" && s.Registry.Type != "git" {
		return championSide{}, inputErrorf("%s: registry.type: %q is not a registry podium knows (known: git)", s.File, s.Registry.Type)
	}
	reg, err := registry.OpenGit(ctx, s.Dir, s.Registry.Path, platform.Run().DefaultBranch)
	if err != nil {
		return championSide{}, err
	}
	c, err := reg.Champion(ctx, s.Model)
	if err != nil {
		return championSide{}, err
	}
	side := championSide{source: c.Source, warnings: c.Warnings}
	if c.Pointer != nil {
		side.pointer, side.version, side.metrics = c.Pointer, c.Pointer.Version, c.Pointer.Metrics
		if side.metrics == nil {
			side.metrics = map[string]float64{}
		}
	}
	// The history only draws the report's chart: do not fail the
	// comparison over it.
	if side.history, err = reg.History(ctx, s.Model, historyLimit); err != nil {
		fmt.Fprintf(errOut, "warning: %s\n", printable(err.Error()))
	}
	return side, nil
}

func readChampionFile(file string) (championSide, error) {
	c, err := registry.ReadChampionFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return championSide{}, inputErrorf("--champion %s: no such file", file)
	}
	if err != nil {
		return championSide{}, err
	}
	side := championSide{source: file, pointer: c.Pointer, version: file, metrics: c.Metrics}
	if c.Pointer != nil {
		side.version = c.Pointer.Version
	}
	return side, nil
}

// candidateDigests are the digests of the spec's evaluation data: what the
// run's steps read (run.json), else the files as they are now.
func candidateDigests(ctx context.Context, s *spec.Spec, run *rundir.Run, noStatCache bool, errOut io.Writer) (map[string]string, []string) {
	if len(s.EvaluationData) == 0 {
		return nil, nil
	}
	var cache *statcache.Cache
	defer func() { saveStatCache(cache, errOut) }()
	out := map[string]string{}
	if run != nil {
		out = inputDigests(run, s.EvaluationData)
	}
	var warnings []string
	for _, p := range s.EvaluationData {
		if _, ok := out[p]; ok {
			continue
		}
		if cache == nil {
			cache = specStatCache(s, noStatCache)
		}
		res, err := fingerprint.Compute(ctx, filepath.Join(s.Dir, filepath.FromSlash(p)), &fingerprint.Options{StatCache: cache})
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("could not fingerprint the evaluation data %s (%v): comparability with the champion is unknown", p, err))
			continue
		}
		out[p] = res.Digest
	}
	return out, warnings
}

// notComparable explains why the two sides' evaluation data differ, or
// returns "" when they match or either side recorded none. Digests are
// compared by content, so renaming a data file keeps runs comparable.
func notComparable(champ, cand map[string]string) string {
	if len(champ) == 0 || len(cand) == 0 {
		return ""
	}
	a, b := digestSet(champ), digestSet(cand)
	if slices.Equal(a, b) {
		return ""
	}
	var diffs []string
	for _, p := range unionKeys(champ, cand) {
		hd, cd := champ[p], cand[p]
		switch {
		case hd == cd:
		case hd == "":
			diffs = append(diffs, fmt.Sprintf("%s is new (%s)", p, shortDigest(cd)))
		case cd == "":
			diffs = append(diffs, fmt.Sprintf("%s is gone (was %s)", p, shortDigest(hd)))
		default:
			diffs = append(diffs, fmt.Sprintf("%s is %s, was %s", p, shortDigest(cd), shortDigest(hd)))
		}
	}
	return "the evaluation data differs from the champion's (" + strings.Join(diffs, "; ") +
		"): the metrics are not comparable"
}

func digestSet(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func unionKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		out = append(out, k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// reportInput gathers what the Markdown report shows.
func reportInput(s *spec.Spec, platform ci.Platform, doc *rundir.Compare, run *rundir.Run, candDigests map[string]string, champ *championSide) report.Input {
	job := platform.Run()
	in := report.Input{
		Compare: doc, Rules: s.Gate.Rules, Run: run, Branch: job.Branch, RunURL: job.RunURL,
		Candidate: report.Digests{EvaluationData: candDigests},
	}
	if run != nil && s.Artifact != "" {
		if d, err := outputDigest(run, s.Artifact); err == nil {
			in.Candidate.Artifacts = map[string]string{s.Artifact: d}
		}
	}
	if p := champ.pointer; p != nil {
		in.Champion = &report.Champion{
			Version: p.Version, Commit: p.Commit, PromotedAt: p.PromotedAt, Source: champ.source, Params: p.Params,
			Digests: report.Digests{Artifacts: p.Artifacts, EvaluationData: p.EvaluationData},
		}
	}
	for _, e := range champ.history {
		if e.Pointer == nil {
			continue
		}
		in.History = append(in.History, report.HistoryEntry{
			Version: e.Pointer.Version, Commit: e.Commit, Subject: e.Subject, Date: e.Date, Metrics: e.Pointer.Metrics,
		})
	}
	return in
}

// printCompare writes the decision and one line per check for people.
// Names come from files a PR controls: printable keeps each on its line.
// Warnings are not repeated here: they went out as CI annotations (on
// stderr outside CI).
func printCompare(w io.Writer, doc *rundir.Compare, source string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", doc.Decision, printable(doc.Model))
	switch {
	case doc.Champion == nil:
		b.WriteString(" (no champion: only absolute bounds checked)")
	case source == doc.Champion.Version:
		fmt.Fprintf(&b, " (champion from %s)", printable(source))
	case source != "":
		fmt.Fprintf(&b, " (champion %s from %s)", printable(doc.Champion.Version), printable(source))
	default:
		fmt.Fprintf(&b, " (champion %s)", printable(doc.Champion.Version))
	}
	b.WriteString("\n")
	for _, c := range doc.Checks {
		mark := "✓"
		if !c.Passed {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %s\n", mark, printable(c.Reason))
	}
	if !doc.Comparable {
		b.WriteString("not comparable: the evaluation data differs from the champion's\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// The path checks below run before anything is read or written, so a path
// of the wrong kind is invalid input (exit 2) naming the flag, rather than
// a runtime failure in the syscall's words ("not a directory", or "file
// exists" from the final rename). A path that does not exist is left to
// the reader, whose message says what to run first. --run-dir is checked
// by checkRunDir (train.go).

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
