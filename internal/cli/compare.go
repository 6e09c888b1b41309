package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/metrics"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/internal/statcache"
)

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
	// AllowLocalChampion lets a comparison against a champion read from
	// the working tree promote (otherwise its decision is unverified).
	AllowLocalChampion bool
	NoStatCache        bool
}

func newCmdCompare(f *Factory, runF func(*compareOptions) error) *cobra.Command {
	opts := &compareOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "compare (--run-dir <dir> | --candidate <file>) [flags]",
		Short: "Decide whether the candidate model beats the champion",
		Long: heredoc(`
			Compare the candidate's metrics with the champion's by the spec's gate
			rules and decide: promote, reject, unchanged or unverified.

			The candidate's metrics come from a run directory (run.json, written by
			podium train) or from a metrics file (JSON, YAML or CSV). The champion
			comes from the registry, looked up with the model name and registry.path
			of the default branch's podium.yaml (at the same path as --spec), never
			the pull request's own: a PR that renames the model or moves the
			registry is still compared with the default branch's champion, and the
			report lists what the PR changes about how it is judged (model,
			registry, gate rules added, removed or loosened). For the git registry
			the champion is <registry.path>/<model>.json on the default branch. A
			shallow CI checkout lacks the default branch, so podium fetches it; only
			when that fails is the working tree read, with a loud warning, and a
			passing candidate is then unverified, not promoted, unless
			--allow-local-champion is given. --champion names a champion file
			instead: a registry pointer or a plain metrics file. With no champion,
			only the rules' absolute bounds apply.

			Rules name metrics or globs: * matches any characters but '.', ** any
			characters. A metric a rule covers that the champion has and the
			candidate lacks fails the rule (missing: ignore on the rule opts out).

			Decisions: promote (every check passed), reject (a check failed),
			unchanged (the candidate's artifact has the champion's digest: not a new
			model, nothing to propose), unverified (every check passed against a
			champion read from the working tree).

			When both sides record evaluation-data digests and they differ, the
			result says comparable: false, with a warning: the metrics were computed
			on different data.

			With --run-dir, compare writes <dir>/compare.json (the document --json
			prints) and <dir>/report.md. CI outputs: `+"`decision`"+` (one of the
			decisions above) and `+"`report`"+` (the Markdown report's path); the
			report is also added to the job summary. A reject or unverified exits 0
			unless --fail-on-reject is given: then it exits 3; unchanged exits 0.`) + "\n\n" + statCacheHelp + "\n\n" + exitCodesHelp,
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
	cmd.Flags().BoolVar(&opts.FailOnReject, "fail-on-reject", false, "exit 3 when the decision is reject or unverified")
	cmd.Flags().BoolVar(&opts.AllowLocalChampion, "allow-local-champion", false, "let a champion read from the working tree (the default branch could not be read) decide promote")
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
	// local is true when the champion was read from the working tree
	// because the default branch could not be read.
	local bool
	// baseline is the default branch's view (nil with --champion).
	baseline *rundir.Baseline
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
	doc, err := decide(ctx, opts, s, cand, &champ)
	if err != nil {
		return err
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
	// The report is rendered from the document just written, as report and
	// propose render it.
	md := renderReport(doc, cand.run, platform.Run())
	reportPath := opts.ReportFile
	if reportPath == "" && opts.RunDir != "" {
		reportPath = filepath.Join(opts.RunDir, reportFile)
	}
	if reportPath != "" {
		if err := atomicfile.WriteFile(reportPath, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if err := publishCompare(platform, doc, reportPath, md); err != nil {
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
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", escapeControl(filepath.Join(opts.RunDir, rundir.CompareFile)))
	}
	if reportPath != "" {
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", escapeControl(reportPath))
	}
	if (doc.Decision == gate.Reject || doc.Decision == gate.Unverified) && opts.FailOnReject {
		return &RejectedError{Model: s.Model}
	}
	return nil
}

// decide runs the gate and builds compare.json: the decision, each check
// with its rule, and everything report and propose show about both sides.
func decide(ctx context.Context, opts *compareOptions, s *spec.Spec, cand *candidateSide, champ *championSide) (*rundir.Compare, error) {
	res, err := gate.Evaluate(gate.Input{
		Rules: s.Gate.Rules, Candidate: cand.metrics, NonNumeric: cand.nonNumeric, Champion: champ.metrics,
		SpecFile: s.File, CandidateSource: cand.source,
	})
	if err != nil {
		return nil, err
	}
	doc := &rundir.Compare{
		Model:      s.Model,
		Decision:   res.Decision,
		Candidate:  rundir.Candidate{Metrics: cand.metrics},
		Checks:     []rundir.Check{},
		Comparable: true,
		Warnings:   slices.Concat(champ.warnings, res.Warnings),
		Uncovered:  res.Uncovered,
		Baseline:   champ.baseline,
		History:    champ.historyEntries(),
	}
	switch {
	case sameArtifact(s, cand.run, champ.pointer):
		// The champion itself, trained again: whatever the checks say, there
		// is no new model to promote or reject.
		doc.Decision = gate.Unchanged
	case doc.Decision == gate.Promote && champ.local && !opts.AllowLocalChampion:
		doc.Decision = gate.Unverified
		doc.Warnings = append(doc.Warnings, "not promoted: the champion was read from the working tree, which this change can edit; the decision is unverified (pass --allow-local-champion to trust it)")
	}
	doc.Champion = champ.document()
	for _, c := range res.Checks {
		r := s.Gate.Rules[c.Rule]
		doc.Checks = append(doc.Checks, rundir.Check{
			Metric: c.Metric, Direction: string(c.Direction), Champion: c.Champion, Candidate: c.Candidate,
			Delta: c.Delta, Passed: c.Passed, Reason: c.Reason,
			Rule: &rundir.Rule{Index: c.Rule, Metric: r.Metric, Text: gate.Describe(r)},
		})
	}
	candDigests, digestWarnings := candidateDigests(ctx, s, cand.run, opts.NoStatCache, opts.IO.ErrOut)
	doc.Warnings = append(doc.Warnings, digestWarnings...)
	doc.Candidate.Digests = candidateSideDigests(s, cand.run, candDigests)
	if champ.pointer != nil {
		if why := notComparable(champ.pointer.EvaluationData, candDigests); why != "" {
			doc.Comparable = false
			doc.Warnings = append(doc.Warnings, why)
		}
	}
	if doc.Warnings == nil {
		doc.Warnings = []string{}
	}
	return doc, nil
}

// publishCompare annotates the warnings and sets the CI outputs and the
// step summary.
func publishCompare(platform ci.Platform, doc *rundir.Compare, reportPath, md string) error {
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
	return platform.AppendSummary(md)
}

// candidateSideDigests are the candidate's digests as compare.json keeps
// them: the artifact's from run.json, and the evaluation data's.
func candidateSideDigests(s *spec.Spec, run *rundir.Run, evaluationData map[string]string) *rundir.Digests {
	d := &rundir.Digests{EvaluationData: evaluationData}
	if run != nil && s.Artifact != "" {
		if digest, ok := run.Digest(s.Artifact); ok {
			d.Artifacts = map[string]string{s.Artifact: digest}
		}
	}
	if len(d.Artifacts) == 0 && len(d.EvaluationData) == 0 {
		return nil
	}
	return d
}

// document is the champion as compare.json keeps it; nil when there is
// none.
func (c *championSide) document() *rundir.Champion {
	if c.metrics == nil {
		return nil
	}
	doc := &rundir.Champion{Version: c.version, Metrics: c.metrics}
	p := c.pointer
	if p == nil {
		return doc
	}
	doc.Commit, doc.RecordDigest, doc.Params, doc.Source = p.Commit, p.RecordDigest, p.Params, c.source
	if !p.PromotedAt.IsZero() {
		t := p.PromotedAt
		doc.PromotedAt = &t
	}
	if len(p.Artifacts) > 0 || len(p.EvaluationData) > 0 {
		doc.Digests = &rundir.Digests{Artifacts: p.Artifacts, EvaluationData: p.EvaluationData}
	}
	return doc
}

// historyEntries is the champion's history as compare.json keeps it.
func (c *championSide) historyEntries() []rundir.HistoryEntry {
	var out []rundir.HistoryEntry
	for _, e := range c.history {
		if e.Pointer == nil {
			continue
		}
		h := rundir.HistoryEntry{Version: e.Pointer.Version, Commit: e.Commit, Subject: e.Subject, Metrics: e.Pointer.Metrics}
		if !e.Date.IsZero() {
			d := e.Date
			h.Date = &d
		}
		if h.Metrics == nil {
			h.Metrics = map[string]float64{}
		}
		out = append(out, h)
	}
	return out
}

// sameArtifact reports whether the candidate's artifact (the spec's
// artifact as the run wrote it) has a digest the champion's pointer
// records: the candidate is then the champion, not a new model.
func sameArtifact(s *spec.Spec, run *rundir.Run, champ *registry.Pointer) bool {
	if run == nil || champ == nil || s.Artifact == "" {
		return false
	}
	d, ok := run.Digest(s.Artifact)
	if !ok || d == "" {
		return false
	}
	for _, cd := range champ.Artifacts {
		if cd == d {
			return true
		}
	}
	return false
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
// prints). It is not checked against compare.schema.json here: the
// document is built from typed values a moment ago (re-validating 10k
// slices cost 0.76 s); the tests check that what compare writes matches
// the schema, and every reader checks it again.
func encodeCompare(doc *rundir.Compare) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, doc); err != nil {
		return nil, fmt.Errorf("failed to encode the comparison: %w", err)
	}
	return buf.Bytes(), nil
}

func readCandidate(s *spec.Spec, runDir, file string) (*candidateSide, error) {
	if runDir != "" {
		d, err := openRunDir(runDir, s.Model)
		if err != nil {
			return nil, err
		}
		run, err := d.run()
		if err != nil {
			return nil, err
		}
		source := filepath.Join(runDir, rundir.RunFile)
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

// readChampion reads the champion from --champion or from the registry,
// looked up with the default branch's spec (see baselineIdentity).
func readChampion(ctx context.Context, s *spec.Spec, platform ci.Platform, file string, errOut io.Writer) (championSide, error) {
	if file != "" {
		return readChampionFile(file)
	}
	var base *spec.Spec
	var notes []string
	b, err := registry.ReadBaseline(ctx, registry.BaselineOptions{
		SpecFile: s.File, SpecDir: s.Dir, Model: s.Model, RegistryPath: s.Registry.Path,
		DefaultBranch: platform.Run().DefaultBranch, HistoryLimit: historyLimit,
		Identify: func(source string, data []byte) (string, string, error) {
			base, notes = baselineSpec(s, source+":"+filepath.Base(s.File), data)
			if base == nil {
				return s.Model, s.Registry.Path, nil
			}
			return base.Model, base.Registry.Path, nil
		},
	})
	if err != nil {
		return championSide{}, err
	}
	c := b.Champion
	side := championSide{source: c.Source, warnings: c.Warnings, history: b.History, local: b.Fallback}
	if c.Pointer != nil {
		side.pointer, side.version, side.metrics = c.Pointer, c.Pointer.Version, c.Pointer.Metrics
		if side.metrics == nil {
			side.metrics = map[string]float64{}
		}
	}
	// The history only draws the report's chart: do not fail the
	// comparison over it.
	if b.HistoryErr != nil {
		fmt.Fprintf(errOut, "warning: %s\n", escapeControl(b.HistoryErr.Error()))
	}
	side.baseline = &rundir.Baseline{
		Source: b.Source, Model: b.Model, Registry: b.Registry,
		Changes: slices.Concat(notes, judgedChanges(base, s, b.Source)),
	}
	if side.baseline.Changes == nil {
		side.baseline.Changes = []string{}
	}
	return side, nil
}

// baselineSpec parses the default branch's spec (data, nil when there is
// none at the spec's path). Without a valid one the champion is looked up
// with the change's own model and registry, and notes say so.
func baselineSpec(s *spec.Spec, name string, data []byte) (*spec.Spec, []string) {
	if data == nil {
		return nil, []string{"the default branch has no spec at this path: the champion is looked up with this change's model and registry"}
	}
	base, err := spec.Parse(name, data)
	if err != nil {
		return nil, []string{"the default branch's spec is not valid (" + oneLineErr(err) + "): the champion is looked up with this change's model and registry"}
	}
	return base, nil
}

// judgedChanges lists how the change's spec alters the judgement against
// the default branch's (nil when there is none): the model or registry it
// would have been looked up with, and gate rules added, removed or
// loosened.
func judgedChanges(base, head *spec.Spec, source string) []string {
	if base == nil {
		return nil
	}
	var out []string
	if base.Model != head.Model {
		out = append(out, fmt.Sprintf("model: renamed from %q to %q (the champion is still looked up as %q, as on %s)", base.Model, head.Model, base.Model, source))
	}
	bp, hp := registryPath(base), registryPath(head)
	if bp != hp {
		out = append(out, fmt.Sprintf("registry.path: moved from %q to %q (the champion is still read from %q, as on %s)", bp, hp, bp, source))
	}
	if base.Registry.Type != head.Registry.Type {
		out = append(out, fmt.Sprintf("registry.type: changed from %q to %q", base.Registry.Type, head.Registry.Type))
	}
	return append(out, spec.Loosened(base.Gate.Rules, head.Gate.Rules)...)
}

func registryPath(s *spec.Spec) string {
	if s.Registry.Path == "" {
		return registry.DefaultPath
	}
	return path.Clean(s.Registry.Path)
}

func oneLineErr(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
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
		out = run.Digests(s.EvaluationData)
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

// printCompare writes the decision and one line per check for people.
// Names come from files a PR controls: escapeControl keeps each on its line.
// Warnings are not repeated here: they went out as CI annotations (on
// stderr outside CI).
func printCompare(w io.Writer, doc *rundir.Compare, source string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", doc.Decision, escapeControl(doc.Model))
	switch {
	case doc.Champion == nil:
		b.WriteString(" (no champion: only absolute bounds checked)")
	case source == doc.Champion.Version:
		fmt.Fprintf(&b, " (champion from %s)", escapeControl(source))
	case source != "":
		fmt.Fprintf(&b, " (champion %s from %s)", escapeControl(doc.Champion.Version), escapeControl(source))
	default:
		fmt.Fprintf(&b, " (champion %s)", escapeControl(doc.Champion.Version))
	}
	b.WriteString("\n")
	for _, c := range doc.Checks {
		mark := "✓"
		if !c.Passed {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %s\n", mark, escapeControl(humanNumbers(c.Reason)))
	}
	if !doc.Comparable {
		b.WriteString("not comparable: the evaluation data differs from the champion's\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
