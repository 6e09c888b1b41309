package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/deploy"
	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/proposal"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/spec"
)

type proposeOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform
	Host     func(context.Context) (scm.Host, error)
	Now      func() time.Time

	SpecPath string
	RunDir   string
	DryRun   bool
	JSON     bool
	Artifact artifactOptions
	// AllowDirty proposes a candidate trained from a work tree that
	// differed from its commit.
	AllowDirty bool
	Timeout    time.Duration
}

func newCmdPropose(f *Factory, runF func(*proposeOptions) error) *cobra.Command {
	opts := &proposeOptions{IO: f.IO, Platform: f.Platform, Host: f.Host, Now: f.Now,
		Artifact: artifactOptions{Getenv: f.Getenv, Secrets: f.Secrets}}
	cmd := &cobra.Command{
		Use:   "propose --run-dir <dir> [flags]",
		Short: "Open or update the deployment pull request for a promoted candidate",
		Long: heredoc(`
			Turn a promote decision into a deployment pull request (merge request
			on GitLab). Merging it is the promotion: CD applies the manifest, and
			the registry's champion pointer names the new model.

			propose reads compare.json from the run directory and refuses anything
			but a promote decision. It sets deploy.field in deploy.manifest to the
			rendered deploy.value, changing only that value's bytes (comments, key
			order and quoting stay), writes the champion pointer
			<registry.path>/<model>.json, and commits both in one commit on
			deploy.branch (default podium/deploy/<model>) on top of the default
			branch. A rerun updates the same branch and pull request; it never
			opens a second one. It also sets the podium/gate commit status on the
			candidate's commit.

			In a multi-document manifest the field must exist in exactly one
			document. The files are read from the default branch through the code
			host; with --dry-run they are read from the working tree instead, the
			diff is printed and nothing is sent.

			A candidate trained from a work tree whose tracked files differed from
			its commit (run.json worktree.clean is false) is refused: the commit
			the deployment names would not reproduce the model. --allow-dirty
			proposes it anyway.

			Templates see .Model, .Version (the candidate commit's first 12 hex
			digits), .Commit, .Artifact.Path, .Artifact.Digest, .Artifact.OCI and
			.Metrics. With --push-artifact oci://host/repository the artifact is pushed
			to that registry as an OCI artifact tagged with the version, and
			.Artifact.OCI is its immutable reference (oci://host/repository@sha256:…);
			--attach-statement attaches an in-toto statement (podium record --format
			in-toto) to it as a referrer. --modelcar-base oci://host/repository:tag
			pushes a KServe modelcar instead: that image with the model's files
			under /models. With --dry-run nothing is pushed and .Artifact.OCI is
			the reference a push would give.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium propose --run-dir .podium/run --dry-run
			$ podium propose --run-dir .podium/run
			$ podium propose --run-dir .podium/run --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.RunDir == "" {
				return flagErrorf("--run-dir is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return withTimeout(cmd.Context(), opts.Timeout, func(ctx context.Context) error {
				return runPropose(ctx, opts)
			})
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringVar(&opts.RunDir, "run-dir", "", "read run.json and compare.json from `dir`")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the diff of the files and change nothing")
	cmd.Flags().BoolVar(&opts.AllowDirty, "allow-dirty", false, "propose a candidate trained from a work tree that differed from its commit")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	cmd.Flags().StringVar(&opts.Artifact.Push, "push-artifact", "", "push the model artifact to the OCI repository `oci://host/repository`; templates get its reference as .Artifact.OCI")
	cmd.Flags().StringVar(&opts.Artifact.Statement, "attach-statement", "", "attach the in-toto statement `file` to the pushed artifact as a referrer")
	cmd.Flags().StringVar(&opts.Artifact.ModelcarBase, "modelcar-base", "", "push a KServe modelcar instead: the image `oci://host/repository:tag` with the model under /models")
	addTimeoutFlag(cmd, &opts.Timeout)
	return cmd
}

// nothingToProposeError is what propose says about an unchanged
// candidate: not a failure (exit 0), and no pull request.
type nothingToProposeError struct{ Model string }

func (e *nothingToProposeError) Error() string {
	return fmt.Sprintf("nothing to propose: the candidate %s is the champion (same artifact digest)", escapeControl(e.Model))
}

// proposeResult is what `propose --json` prints.
type proposeResult struct {
	SchemaVersion int            `json:"schema_version"`
	Model         string         `json:"model"`
	Version       string         `json:"version"`
	Commit        string         `json:"commit"`
	Branch        string         `json:"branch"`
	DryRun        bool           `json:"dry_run"`
	PullRequest   *proposePR     `json:"pull_request"`
	Files         []proposedFile `json:"files"`
	RecordDigest  string         `json:"record_digest,omitempty"`
}

type proposePR struct {
	Number  int    `json:"number"`
	URL     string `json:"url"`
	Commit  string `json:"commit"`
	Created bool   `json:"created"`
}

type proposedFile struct {
	Path string `json:"path"`
	Diff string `json:"diff,omitempty"`
}

func runPropose(ctx context.Context, opts *proposeOptions) error {
	p, err := prepareProposal(ctx, opts)
	if none := (*nothingToProposeError)(nil); errors.As(err, &none) {
		fmt.Fprintln(opts.IO.ErrOut, none.Error())
		return nil
	}
	if err != nil {
		return err
	}
	if opts.DryRun {
		return proposeDryRun(ctx, opts, p)
	}
	host, err := opts.Host(ctx)
	if err != nil {
		return err
	}
	change, err := proposedChange(ctx, opts, host, p)
	if err != nil {
		return err
	}
	pr, err := host.ProposeChange(ctx, *change)
	if err != nil {
		return fmt.Errorf("failed to open the deployment pull request: %w", err)
	}
	if err := host.SetStatus(ctx, p.Run.Commit, scm.Status{
		Context:     gateStatusContext,
		State:       scm.StateSuccess,
		Description: fmt.Sprintf("promote: deployment proposed in #%d", pr.Number),
		TargetURL:   pr.URL,
	}); err != nil {
		return fmt.Errorf("failed to set the %s status on %s: %w", gateStatusContext, p.Run.Commit, err)
	}
	return proposed(opts, p, pr, []proposedFile{{Path: p.Manifest}, {Path: p.Pointer}})
}

// proposedChange reads the manifest from the default branch and patches
// it, and writes the champion pointer: the commit propose sends.
func proposedChange(ctx context.Context, opts *proposeOptions, host scm.Host, p *proposal.Plan) (*scm.ChangeRequest, error) {
	base, err := host.DefaultBranch(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to find the default branch: %w", err)
	}
	manifest, err := host.ReadFile(ctx, base, p.Manifest)
	if errors.Is(err, scm.ErrNotFound) {
		return nil, inputErrorf("%s: deploy.manifest: %s is not on the default branch %s", p.Spec.File, p.Manifest, base)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s from %s: %w", p.Manifest, base, err)
	}
	patched, err := p.Patch(manifest)
	if err != nil {
		return nil, err
	}
	// A rerun keeps the promotion time the branch already holds for the
	// same candidate, so the pointer is byte-identical and the host has
	// nothing new to commit.
	promotedAt := opts.Now().UTC().Truncate(time.Second)
	if old, err := host.ReadFile(ctx, p.Branch, p.Pointer); err == nil {
		if prev, err := registry.Parse(p.Pointer, old); err == nil && p.SameCandidate(prev) {
			promotedAt = prev.PromotedAt
		}
	} else if !errors.Is(err, scm.ErrNotFound) {
		return nil, fmt.Errorf("failed to read %s from %s: %w", p.Pointer, p.Branch, err)
	}
	pointer, err := p.PointerChange(ctx, promotedAt)
	if err != nil {
		return nil, err
	}
	return &scm.ChangeRequest{
		Base:   base,
		Branch: p.Branch,
		Files: []scm.File{
			{Path: p.Manifest, Content: patched},
			{Path: pointer.Path, Content: pointer.Content},
		},
		CommitMessage: p.CommitMessage(),
		Title:         p.Title,
		Body:          proposeBody(opts, p),
		Labels:        p.Spec.Deploy.Labels,
	}, nil
}

// proposed sets the CI outputs and the summary, and prints the result.
func proposed(opts *proposeOptions, p *proposal.Plan, pr *scm.PullRequest, files []proposedFile) error {
	platform := opts.Platform()
	for _, o := range [][2]string{
		{"pr-url", pr.URL},
		{"pr-number", strconv.Itoa(pr.Number)},
		{"branch", p.Branch},
	} {
		if err := platform.SetOutput(o[0], o[1]); err != nil {
			return fmt.Errorf("failed to set the %s output: %w", o[0], err)
		}
	}
	verb := "Updated"
	if pr.Created {
		verb = "Opened"
	}
	summary := fmt.Sprintf("### Deployment proposed\n\n%s [#%d](%s) to deploy `%s` version `%s`.\n", verb, pr.Number, pr.URL, p.Run.Model, p.Data.Version)
	if err := platform.AppendSummary(summary); err != nil {
		return fmt.Errorf("failed to write the step summary: %w", err)
	}
	if opts.JSON {
		res := newProposeResult(p, files)
		res.PullRequest = &proposePR{Number: pr.Number, URL: pr.URL, Commit: pr.Commit, Created: pr.Created}
		return writeJSON(opts.IO.Out, res)
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s deployment pull request #%d for %s %s on %s\n", verb, pr.Number, escapeControl(p.Run.Model), escapeControl(p.Data.Version), escapeControl(p.Branch))
	_, err := fmt.Fprintln(opts.IO.Out, safeLine(pr.URL))
	return err
}

func newProposeResult(p *proposal.Plan, files []proposedFile) proposeResult {
	return proposeResult{
		SchemaVersion: 1,
		Model:         p.Run.Model,
		Version:       p.Data.Version,
		Commit:        p.Run.Commit,
		Branch:        p.Branch,
		Files:         files,
		RecordDigest:  p.RecordDigest,
	}
}

// proposeDryRun prints the diff of both files as they are in the working
// tree, and sends nothing.
func proposeDryRun(ctx context.Context, opts *proposeOptions, p *proposal.Plan) error {
	manifest, err := os.ReadFile(p.LocalManifest)
	if errors.Is(err, fs.ErrNotExist) {
		return inputErrorf("%s: deploy.manifest: %s does not exist", p.Spec.File, p.LocalManifest)
	}
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", p.LocalManifest, err)
	}
	patched, err := p.Patch(manifest)
	if err != nil {
		return err
	}
	pointer, err := p.PointerChange(ctx, opts.Now().UTC().Truncate(time.Second))
	if err != nil {
		return err
	}
	oldPointer, err := os.ReadFile(filepath.Join(p.Registry.Repo.Dir, filepath.FromSlash(pointer.Path)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to read %s: %w", pointer.Path, err)
	}
	files := []proposedFile{
		{Path: p.Manifest, Diff: deploy.UnifiedDiff(p.Manifest, manifest, patched)},
		{Path: pointer.Path, Diff: deploy.UnifiedDiff(pointer.Path, oldPointer, pointer.Content)},
	}
	if opts.JSON {
		res := newProposeResult(p, files)
		res.DryRun = true
		return writeJSON(opts.IO.Out, res)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Dry run: would commit on %s and open %s; nothing was sent\n", escapeControl(p.Branch), escapeControl(strconv.Quote(p.Title)))
	for _, f := range files {
		if _, err := fmt.Fprint(opts.IO.Out, f.Diff); err != nil {
			return err
		}
	}
	return nil
}

// prepareProposal reads and checks everything propose needs from the spec
// and the run directory, then plans the deployment. Every invalid input is
// found here, before a request is sent.
func prepareProposal(ctx context.Context, opts *proposeOptions) (*proposal.Plan, error) {
	if err := checkRunDir(opts.RunDir); err != nil {
		return nil, err
	}
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return nil, err
	}
	if s.Deploy == nil {
		return nil, inputErrorf("%s: deploy: the spec has no deploy section; propose needs deploy.manifest, deploy.field and deploy.value", s.File)
	}
	run, cmp, err := promotedRun(opts, s)
	if err != nil {
		return nil, err
	}
	if err := registry.CheckModel(s.Model); err != nil {
		return nil, err
	}
	in := proposal.Input{Spec: s, Run: run, Compare: cmp}
	digest, ok := run.Digest(s.Artifact)
	if s.Artifact == "" || !ok {
		why := "no step of the run lists it as an output"
		if s.Artifact == "" {
			why = "the spec names no artifact and no step has outputs"
		}
		return nil, inputErrorf("%s: artifact %q: %s", filepath.Join(opts.RunDir, rundir.RunFile), s.Artifact, why)
	}
	in.ArtifactDigest = digest
	switch {
	case opts.Artifact.Push != "":
		if in.OCI, err = pushArtifact(ctx, opts.Artifact, s, opts.Platform(), opts.IO.ErrOut, digest, deploy.Version(run.Commit), opts.DryRun); err != nil {
			return nil, err
		}
	case usesOCI(s):
		return nil, inputErrorf("%s: deploy.value uses .Artifact.OCI: pass --push-artifact oci://host/repository", s.File)
	case opts.Artifact.Statement != "" || opts.Artifact.ModelcarBase != "":
		return nil, flagErrorf("--attach-statement and --modelcar-base need --push-artifact")
	}
	if in.Registry, err = registry.OpenGit(ctx, s.Dir, s.Registry.Path, ""); err != nil {
		return nil, err
	}
	if in.RecordFile, in.RecordDigest, err = readRecordDigest(opts, s, run); err != nil {
		return nil, err
	}
	return proposal.New(in)
}

// promotedRun reads run.json and compare.json and refuses anything but a
// clean, promoted candidate of the spec's model.
func promotedRun(opts *proposeOptions, s *spec.Spec) (*rundir.Run, *rundir.Compare, error) {
	d := &runDir{Dir: rundir.Open(opts.RunDir), model: s.Model}
	// A failed run is refused for its own reason first: compare refused it
	// too, so compare.json is missing and would be the wrong thing to name.
	run, err := d.Run()
	if err != nil {
		return nil, nil, withHint(err, opts.RunDir)
	}
	cmp, err := d.Compare()
	if err != nil {
		return nil, nil, withHint(err, opts.RunDir)
	}
	if cmp.Decision == gate.Unchanged {
		return nil, nil, &nothingToProposeError{Model: cmp.Model}
	}
	if cmp.Decision != gate.Promote {
		return nil, nil, inputErrorf("%s: the gate decided %q; propose opens a deployment only for a promote decision",
			filepath.Join(opts.RunDir, rundir.CompareFile), cmp.Decision)
	}
	if err := d.CheckModel(s.Model); err != nil {
		return nil, nil, err
	}
	runFile := filepath.Join(opts.RunDir, rundir.RunFile)
	switch {
	case !fullSHA().MatchString(run.Commit):
		return nil, nil, inputErrorf("%s: commit %q is not a full commit SHA", runFile, run.Commit)
	case run.Worktree != nil && !run.Worktree.Clean && !opts.AllowDirty:
		return nil, nil, inputErrorf("%s: the candidate was trained from a work tree that differed from commit %.12s (%s): "+
			"that commit would not reproduce the model; commit the changes and train again, or pass --allow-dirty",
			runFile, run.Commit, changedList(run.Worktree))
	}
	return run, cmp, nil
}

// readRecordDigest finds the podium record in the run directory: its file
// name and digest, both "" (with a warning) when there is none.
func readRecordDigest(opts *proposeOptions, s *spec.Spec, run *rundir.Run) (string, string, error) {
	name := record.FileName(s.Model, run.Commit, record.FormatPodium)
	data, err := os.ReadFile(filepath.Join(opts.RunDir, name))
	switch {
	case err == nil:
		return name, record.Digest(data), nil
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(opts.IO.ErrOut, "warning: no %s in %s; the champion pointer will name no record (run podium record first)\n",
			escapeControl(name), escapeControl(opts.RunDir))
		return "", "", nil
	}
	return "", "", fmt.Errorf("failed to read the record: %w", err)
}

// proposeBody is the pull request's description: the report compare,
// report and the review comment show (one render of the run directory),
// and a link to the metadata record.
func proposeBody(opts *proposeOptions, p *proposal.Plan) string {
	job := opts.Platform().Run()
	return p.Body(renderReport(p.Compare, p.Run, job), job.RunURL)
}
