package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/internal/version"
)

type recordOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform
	// Environ lists the environment (KEY=VALUE), so that values of
	// secret-named variables can be kept out of the record.
	Environ func() []string
	Secrets *redact.Redactor

	SpecPath string
	RunDir   string
	Out      string
	Format   string
	GitNote  bool
	Push     bool
	Remote   string
	JSON     bool

	NoStatCache bool
}

func newCmdRecord(f *Factory, runF func(*recordOptions) error) *cobra.Command {
	opts := &recordOptions{IO: f.IO, Platform: f.Platform, Environ: os.Environ, Secrets: f.Secrets}
	cmd := &cobra.Command{
		Use:   "record --run-dir <dir>",
		Short: "Write the metadata record of a run, tied to its commit",
		Long: heredoc(`
			Record what a pipeline run was: the model, the commit (and PR/MR), the CI
			run, the spec digest, params, metrics, every input and output with its
			digest and size, the model's files, the gate's decision and checks when
			`+"`podium compare`"+` ran, and podium's version, OS, arch and image. It is
			the audit trail: which commit and which data made a model.

			The record is validated against schemas/record.schema.json and written
			as one line of JSON. It is deterministic (the same run gives the same
			bytes), so its digest names it; the `+"`record`"+` and `+"`record-digest`"+`
			CI outputs give its path and digest.

			The default file, D/podium-record-<model>-<sha12>.json (.intoto.json
			with --format in-toto), sits in the run directory, ready for
			actions/upload-artifact or GitLab `+"`artifacts:`"+`.

			--format in-toto writes an in-toto Statement v1: the model's files as
			subjects, predicateType https://podium-ml.dev/record/v1, the record as
			predicate, for actions/attest or cosign to sign.

			--git-note also stores the record in a git note on the commit, under
			refs/notes/podium: one line per model, recording a model again replaces
			its line. --push pushes that ref to --remote (origin), fetching and merging first
			when another job pushed meanwhile. `+"`podium log`"+` reads the notes back.

			Values that look like secrets (token shapes, or the value of an
			environment variable named like *TOKEN*, *SECRET*, *PASSWORD*, *KEY*)
			are masked as *** with a warning; the environment is never copied.`) + "\n\n" + statCacheHelp + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium record --run-dir .podium/run
			$ podium record --run-dir .podium/run --git-note --push
			$ podium record --run-dir .podium/run --format in-toto --out model.intoto.json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.RunDir == "" {
				return flagError(cmd, errors.New("--run-dir is required: the directory `podium train --run-dir` wrote"))
			}
			if !slices.Contains(record.Formats, opts.Format) {
				return flagError(cmd, fmt.Errorf("invalid --format %q: valid formats are %s", opts.Format, strings.Join(record.Formats, ", ")))
			}
			if opts.Push && !opts.GitNote {
				return flagError(cmd, errors.New("--push needs --git-note: it pushes the notes --git-note writes"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runRecord(cmd.Context(), opts)
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringVar(&opts.RunDir, "run-dir", "", "the run `directory` podium train wrote")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the record to `file` (default: <run-dir>/podium-record-<model>-<sha12>.json)")
	cmd.Flags().StringVar(&opts.Format, "format", record.FormatPodium, "the record's `format`: podium or in-toto")
	cmd.Flags().BoolVar(&opts.GitNote, "git-note", false, "also store the record in a git note on the commit (refs/notes/podium)")
	cmd.Flags().BoolVar(&opts.Push, "push", false, "push refs/notes/podium to the remote after writing the note")
	cmd.Flags().StringVar(&opts.Remote, "remote", "origin", "the git `remote` --push pushes to")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result (path, digest, note) as one JSON document")
	addNoStatCacheFlag(cmd, &opts.NoStatCache)
	return cmd
}

// recordResult is what `record --json` prints.
type recordResult struct {
	Path     string `json:"path"`
	Digest   string `json:"digest"`
	Format   string `json:"format"`
	Model    string `json:"model"`
	Commit   string `json:"commit"`
	Decision any    `json:"decision"` // "promote", "reject", "unchanged", "unverified" or null
	NoteRef  string `json:"note_ref,omitempty"`
	Pushed   bool   `json:"pushed"`
	Masked   int    `json:"masked"`
}

func runRecord(ctx context.Context, opts *recordOptions) error {
	if err := checkRunDir(opts.RunDir); err != nil {
		return err
	}
	if opts.Out != "" {
		if err := checkOutputFile("--out", opts.Out); err != nil {
			return err
		}
	}
	rec, err := buildRecord(ctx, opts)
	if err != nil {
		return err
	}

	var environ []string
	if opts.Environ != nil {
		environ = opts.Environ()
	}
	rec, findings, err := record.Scrub(rec, record.NewScrubber(environ, opts.Secrets))
	if err != nil {
		return err
	}
	platform := opts.Platform()
	for _, f := range findings {
		msg := fmt.Sprintf("record %s: masked a value that %s", f.Pointer, strings.TrimPrefix(f.Reason, "a key "))
		fmt.Fprintln(opts.IO.ErrOut, "warning: "+escapeControl(msg))
		if platform.Name() != "local" {
			platform.Annotate(ci.Annotation{Level: ci.LevelWarning, Title: "podium record", Message: msg})
		}
	}

	canonical, err := rec.Marshal()
	if err != nil {
		return err
	}
	data := canonical
	if opts.Format == record.FormatInToto {
		if data, err = record.NewStatement(rec).Marshal(); err != nil {
			return err
		}
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(opts.RunDir, record.FileName(rec.Model, rec.Commit.SHA, opts.Format))
	}
	if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	digest := record.Digest(data)
	fmt.Fprintf(opts.IO.ErrOut, "wrote the record of %s at %.12s to %s (%s)\n", escapeControl(rec.Model), rec.Commit.SHA, escapeControl(out), digest)

	res := recordResult{Path: out, Digest: digest, Format: opts.Format, Model: rec.Model, Commit: rec.Commit.SHA, Masked: len(findings)}
	if rec.Decision != nil {
		res.Decision = *rec.Decision
	}
	if opts.GitNote {
		// The note always holds the podium record itself, whatever the
		// file's format: `podium log` reads records.
		if err := writeNote(ctx, opts, canonical, rec); err != nil {
			return err
		}
		res.NoteRef = record.NotesRef
		res.Pushed = opts.Push
	}

	if err := platform.SetOutput("record", out); err != nil {
		return err
	}
	if err := platform.SetOutput("record-digest", digest); err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, res)
	}
	_, err = fmt.Fprintln(opts.IO.Out, safeLine(out))
	return err
}

func writeNote(ctx context.Context, opts *recordOptions, canonical []byte, rec *record.Record) error {
	notes, err := record.OpenNotes(ctx, filepath.Dir(opts.SpecPath))
	if err != nil {
		return &InputError{Err: fmt.Errorf("--git-note: %w", err)}
	}
	if err := record.AddToNotes(ctx, notes, canonical); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "noted the record on %.12s in %s\n", rec.Commit.SHA, record.NotesRef)
	if !opts.Push {
		return nil
	}
	if err := notes.Push(ctx, opts.Remote); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "pushed %s to %s\n", record.NotesRef, escapeControl(opts.Remote))
	return nil
}

// buildRecord reads the run directory and the spec, checks that they
// belong together, and measures the files the run names.
func buildRecord(ctx context.Context, opts *recordOptions) (*record.Record, error) {
	runData, err := os.ReadFile(filepath.Join(opts.RunDir, rundir.RunFile))
	if errors.Is(err, fs.ErrNotExist) {
		if fi, serr := os.Stat(opts.RunDir); serr != nil || !fi.IsDir() {
			return nil, inputErrorf("%s: no such run directory (run podium train --run-dir %s first)", opts.RunDir, opts.RunDir)
		}
	}
	run, err := rundir.ReadRun(opts.RunDir)
	if err != nil {
		return nil, err
	}
	if err := run.Usable(opts.RunDir); err != nil {
		return nil, err
	}
	if err := record.CheckRun(opts.RunDir, runData, run); err != nil {
		return nil, recordHint(err)
	}
	var cmp *rundir.Compare
	if _, err := os.Stat(filepath.Join(opts.RunDir, rundir.CompareFile)); err == nil {
		// compare.json is optional: without it the decision is null.
		if cmp, err = rundir.ReadCompare(opts.RunDir); err != nil {
			return nil, err
		}
		if cmp.Model != run.Model {
			return nil, inputErrorf("%s is for model %q but %s is for %q", filepath.Join(opts.RunDir, rundir.CompareFile), cmp.Model, rundir.RunFile, run.Model)
		}
	}

	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return nil, err
	}
	if s.Model != run.Model {
		return nil, inputErrorf("%s is for model %q but %s is for %q", filepath.Join(opts.RunDir, rundir.RunFile), run.Model, opts.SpecPath, s.Model)
	}
	if s.Digest != run.SpecDigest {
		return nil, inputErrorf("%s changed since the run (run.json spec_digest %s, the file is %s): record with the spec the run used", opts.SpecPath, run.SpecDigest, s.Digest)
	}
	if s.Artifact == "" {
		return nil, inputErrorf("%s: no artifact to record (set artifact:, or give the last step an output)", opts.SpecPath)
	}

	var paths []string
	want := ""
	for _, st := range run.Steps {
		for p := range st.Inputs {
			paths = append(paths, p)
		}
		for p, d := range st.Outputs {
			paths = append(paths, p)
			if p == s.Artifact {
				want = d
			}
		}
	}
	sizes, err := record.Sizes(s.Dir, paths)
	if err != nil {
		return nil, recordHint(err)
	}
	cache := specStatCache(s, opts.NoStatCache)
	artifact, err := record.InspectArtifactCached(ctx, s.Dir, s.Artifact, want, cache)
	saveStatCache(cache, opts.IO.ErrOut)
	if err != nil {
		return nil, recordHint(err)
	}

	var patterns []string
	for _, r := range s.Gate.Rules {
		patterns = append(patterns, r.Metric)
	}
	info := version.Get()
	platform := opts.Platform()
	ciRun := platform.Run()
	return record.New(record.Source{
		Run:            run,
		Compare:        cmp,
		CI:             ciRun,
		Env:            record.Environment{PodiumVersion: info.Version, OS: runtime.GOOS, Arch: runtime.GOARCH, ImageDigest: ciRun.ImageDigest},
		PrimaryMetric:  record.PrimaryMetric(patterns, run.Metrics),
		Artifact:       artifact,
		Sizes:          sizes,
		Code:           componentPaths(s),
		EvaluationData: declaredData(s),
	})
}

// componentPaths are the spec's components' paths: code, for the record's
// data digest.
func componentPaths(s *spec.Spec) []string {
	var out []string
	for _, c := range s.Components {
		out = append(out, c.Path)
	}
	return out
}

// declaredData are the paths the spec declares as data: evaluation_data and
// the inputs data: validates. They count as data in the record's data
// digest even when a step writes them.
func declaredData(s *spec.Spec) []string {
	out := append([]string{}, s.EvaluationData...)
	if s.Data != nil {
		out = append(out, s.Data.Inputs...)
	}
	return out
}
