package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/deploy"
	"github.com/podium-ml/podium/internal/git"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/spec"
)

// gateStatusContext is the commit status propose sets on the candidate.
const gateStatusContext = "podium/gate"

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

// proposal is everything propose sends, computed before the first request.
type proposal struct {
	spec     *spec.Spec
	compare  *rundir.Compare
	run      *rundir.Run
	data     spec.TemplateData
	value    string // rendered deploy.value
	branch   string // rendered deploy.branch
	manifest string // repository-relative paths
	pointer  string
	// localManifest is the manifest in the working tree.
	localManifest string
	reg           *registry.Git
	recordFile    string // the record's file name in the run dir, "" when absent
	recordDigest  string
	title         string
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
	base, err := host.DefaultBranch(ctx)
	if err != nil {
		return fmt.Errorf("failed to find the default branch: %w", err)
	}
	manifest, err := host.ReadFile(ctx, base, p.manifest)
	if errors.Is(err, scm.ErrNotFound) {
		return inputErrorf("%s: deploy.manifest: %s is not on the default branch %s", p.spec.File, p.manifest, base)
	}
	if err != nil {
		return fmt.Errorf("failed to read %s from %s: %w", p.manifest, base, err)
	}
	patched, err := deploy.Patch(p.manifest, manifest, p.spec.Deploy.Field, p.value)
	if err != nil {
		return err
	}
	// A rerun keeps the promotion time the branch already holds for the
	// same candidate, so the pointer is byte-identical and the host has
	// nothing new to commit.
	promotedAt := opts.Now().UTC().Truncate(time.Second)
	if old, err := host.ReadFile(ctx, p.branch, p.pointer); err == nil {
		if prev, err := registry.Parse(p.pointer, old); err == nil &&
			prev.Model == p.run.Model && prev.Commit == p.run.Commit && prev.Version == p.data.Version {
			promotedAt = prev.PromotedAt
		}
	} else if !errors.Is(err, scm.ErrNotFound) {
		return fmt.Errorf("failed to read %s from %s: %w", p.pointer, p.branch, err)
	}
	pointer, err := p.pointerChange(ctx, promotedAt)
	if err != nil {
		return err
	}

	body, err := proposeBody(opts, p)
	if err != nil {
		return err
	}
	pr, err := host.ProposeChange(ctx, scm.ChangeRequest{
		Base:   base,
		Branch: p.branch,
		Files: []scm.File{
			{Path: p.manifest, Content: patched},
			{Path: pointer.Path, Content: pointer.Content},
		},
		CommitMessage: p.commitMessage(),
		Title:         p.title,
		Body:          body,
		Labels:        p.spec.Deploy.Labels,
	})
	if err != nil {
		return fmt.Errorf("failed to open the deployment pull request: %w", err)
	}
	if err := host.SetStatus(ctx, p.run.Commit, scm.Status{
		Context:     gateStatusContext,
		State:       scm.StateSuccess,
		Description: fmt.Sprintf("promote: deployment proposed in #%d", pr.Number),
		TargetURL:   pr.URL,
	}); err != nil {
		return fmt.Errorf("failed to set the %s status on %s: %w", gateStatusContext, p.run.Commit, err)
	}

	platform := opts.Platform()
	for _, o := range [][2]string{
		{"pr-url", pr.URL},
		{"pr-number", strconv.Itoa(pr.Number)},
		{"branch", p.branch},
	} {
		if err := platform.SetOutput(o[0], o[1]); err != nil {
			return fmt.Errorf("failed to set the %s output: %w", o[0], err)
		}
	}
	verb := "Updated"
	if pr.Created {
		verb = "Opened"
	}
	summary := fmt.Sprintf("### Deployment proposed\n\n%s [#%d](%s) to deploy `%s` version `%s`.\n", verb, pr.Number, pr.URL, p.run.Model, p.data.Version)
	if err := platform.AppendSummary(summary); err != nil {
		return fmt.Errorf("failed to write the step summary: %w", err)
	}

	if opts.JSON {
		return writeJSON(opts.IO.Out, proposeResult{
			SchemaVersion: 1,
			Model:         p.run.Model,
			Version:       p.data.Version,
			Commit:        p.run.Commit,
			Branch:        p.branch,
			PullRequest:   &proposePR{Number: pr.Number, URL: pr.URL, Commit: pr.Commit, Created: pr.Created},
			Files:         []proposedFile{{Path: p.manifest}, {Path: pointer.Path}},
			RecordDigest:  p.recordDigest,
		})
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s deployment pull request #%d for %s %s on %s\n", verb, pr.Number, escapeControl(p.run.Model), escapeControl(p.data.Version), escapeControl(p.branch))
	_, err = fmt.Fprintln(opts.IO.Out, safeLine(pr.URL))
	return err
}

// proposeDryRun prints the diff of both files as they are in the working
// tree, and sends nothing.
func proposeDryRun(ctx context.Context, opts *proposeOptions, p *proposal) error {
	manifest, err := os.ReadFile(p.localManifest)
	if errors.Is(err, fs.ErrNotExist) {
		return inputErrorf("%s: deploy.manifest: %s does not exist", p.spec.File, p.localManifest)
	}
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", p.localManifest, err)
	}
	patched, err := deploy.Patch(p.manifest, manifest, p.spec.Deploy.Field, p.value)
	if err != nil {
		return err
	}
	pointer, err := p.pointerChange(ctx, opts.Now().UTC().Truncate(time.Second))
	if err != nil {
		return err
	}
	oldPointer, err := os.ReadFile(filepath.Join(p.reg.Repo.Dir, filepath.FromSlash(pointer.Path)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to read %s: %w", pointer.Path, err)
	}
	files := []proposedFile{
		{Path: p.manifest, Diff: deploy.UnifiedDiff(p.manifest, manifest, patched)},
		{Path: pointer.Path, Diff: deploy.UnifiedDiff(pointer.Path, oldPointer, pointer.Content)},
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, proposeResult{
			SchemaVersion: 1,
			Model:         p.run.Model,
			Version:       p.data.Version,
			Commit:        p.run.Commit,
			Branch:        p.branch,
			DryRun:        true,
			Files:         files,
			RecordDigest:  p.recordDigest,
		})
	}
	fmt.Fprintf(opts.IO.ErrOut, "Dry run: would commit on %s and open %s; nothing was sent\n", escapeControl(p.branch), escapeControl(strconv.Quote(p.title)))
	for _, f := range files {
		if _, err := fmt.Fprint(opts.IO.Out, f.Diff); err != nil {
			return err
		}
	}
	return nil
}

var commitRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// prepareProposal reads and checks everything propose needs from the spec
// and the run directory. Every invalid input is found here, before a
// request is sent.
func prepareProposal(ctx context.Context, opts *proposeOptions) (*proposal, error) {
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
	// A failed run is refused for its own reason first: compare refused it
	// too, so compare.json is missing and would be the wrong thing to name.
	run, err := rundir.ReadRun(opts.RunDir)
	if err != nil {
		return nil, err
	}
	if err := run.Usable(opts.RunDir); err != nil {
		return nil, err
	}
	cmp, err := rundir.ReadCompare(opts.RunDir)
	if err != nil {
		return nil, err
	}
	if cmp.Decision == rundir.Unchanged {
		return nil, &nothingToProposeError{Model: cmp.Model}
	}
	if cmp.Decision != rundir.Promote {
		return nil, inputErrorf("%s: the gate decided %q; propose opens a deployment only for a promote decision",
			filepath.Join(opts.RunDir, rundir.CompareFile), cmp.Decision)
	}
	runFile := filepath.Join(opts.RunDir, rundir.RunFile)
	switch {
	case run.Model != s.Model:
		return nil, inputErrorf("%s: model %q is not the spec's model %q", runFile, run.Model, s.Model)
	case cmp.Model != s.Model:
		return nil, inputErrorf("%s: model %q is not the spec's model %q", filepath.Join(opts.RunDir, rundir.CompareFile), cmp.Model, s.Model)
	case !commitRE.MatchString(run.Commit):
		return nil, inputErrorf("%s: commit %q is not a full commit SHA", runFile, run.Commit)
	case run.Worktree != nil && !run.Worktree.Clean && !opts.AllowDirty:
		return nil, inputErrorf("%s: the candidate was trained from a work tree that differed from commit %.12s (%s): "+
			"that commit would not reproduce the model; commit the changes and train again, or pass --allow-dirty",
			runFile, run.Commit, changedList(run.Worktree))
	}
	if err := registry.CheckModel(s.Model); err != nil {
		return nil, err
	}

	artifactDigest, err := outputDigest(run, s.Artifact)
	if err != nil {
		return nil, inputErrorf("%s: artifact %q: %v", runFile, s.Artifact, err)
	}
	var ociRef string
	switch {
	case opts.Artifact.Push != "":
		if ociRef, err = pushArtifact(ctx, opts.Artifact, s, opts.Platform(), opts.IO.ErrOut, artifactDigest, deploy.Version(run.Commit), opts.DryRun); err != nil {
			return nil, err
		}
	case usesOCI(s):
		return nil, inputErrorf("%s: deploy.value uses .Artifact.OCI: pass --push-artifact oci://host/repository", s.File)
	case opts.Artifact.Statement != "" || opts.Artifact.ModelcarBase != "":
		return nil, flagErrorf("--attach-statement and --modelcar-base need --push-artifact")
	}
	p := &proposal{spec: s, compare: cmp, run: run}
	p.data = spec.TemplateData{
		Model:    s.Model,
		Version:  deploy.Version(run.Commit),
		Commit:   run.Commit,
		Artifact: spec.TemplateArtifact{Path: s.Artifact, Digest: artifactDigest, OCI: ociRef},
		Metrics:  run.Metrics,
	}
	if p.value, err = deploy.Render("deploy.value", s.Deploy.Value, p.data); err != nil {
		return nil, inputErrorf("%s: %w", s.File, err)
	}
	if p.branch, err = deploy.Render("deploy.branch", s.Deploy.Branch, p.data); err != nil {
		return nil, inputErrorf("%s: %w", s.File, err)
	}
	if err := deploy.ValidateBranch(p.branch); err != nil {
		return nil, inputErrorf("%s: %w", s.File, err)
	}

	p.reg, err = registry.OpenGit(ctx, s.Dir, s.Registry.Path, "")
	if err != nil {
		return nil, err
	}
	p.localManifest = filepath.Join(s.Dir, filepath.FromSlash(s.Deploy.Manifest))
	if p.manifest, err = repoRelative(p.reg.Repo, p.localManifest); err != nil {
		return nil, inputErrorf("%s: deploy.manifest: %v", s.File, err)
	}
	p.pointer = p.reg.PointerPath(s.Model)

	p.recordFile = record.FileName(s.Model, run.Commit, record.FormatPodium)
	data, err := os.ReadFile(filepath.Join(opts.RunDir, p.recordFile))
	switch {
	case err == nil:
		p.recordDigest = record.Digest(data)
	case errors.Is(err, fs.ErrNotExist):
		p.recordFile = ""
		fmt.Fprintf(opts.IO.ErrOut, "warning: no %s in %s; the champion pointer will name no record (run podium record first)\n",
			escapeControl(record.FileName(s.Model, run.Commit, record.FormatPodium)), escapeControl(opts.RunDir))
	default:
		return nil, fmt.Errorf("failed to read the record: %w", err)
	}
	p.title = fmt.Sprintf("Deploy %s %s", s.Model, p.data.Version)
	return p, nil
}

// outputDigest finds the digest run.json gives the artifact path.
func outputDigest(run *rundir.Run, artifact string) (string, error) {
	if artifact == "" {
		return "", errors.New("the spec names no artifact and no step has outputs")
	}
	want := filepath.ToSlash(filepath.Clean(artifact))
	for i := len(run.Steps) - 1; i >= 0; i-- {
		for p, d := range run.Steps[i].Outputs {
			if filepath.ToSlash(filepath.Clean(p)) == want {
				return d, nil
			}
		}
	}
	return "", errors.New("no step of the run lists it as an output")
}

// inputDigests maps each evaluation-data path to the digest a step read.
func inputDigests(run *rundir.Run, paths []string) map[string]string {
	if len(paths) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, want := range paths {
		w := filepath.ToSlash(filepath.Clean(want))
		for _, s := range run.Steps {
			for p, d := range s.Inputs {
				if filepath.ToSlash(filepath.Clean(p)) == w {
					out[want] = d
				}
			}
		}
	}
	return out
}

// repoRelative returns abs as a path relative to the repository root, with
// forward slashes; it must lie inside the repository.
func repoRelative(repo *git.Repo, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	top := repo.Dir
	if resolved, err := filepath.EvalSymlinks(top); err == nil {
		top = resolved
	}
	// The file may not exist yet in the working tree: resolve its directory.
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(dir, filepath.Base(abs))
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is outside the repository %s", path, repo.Dir)
	}
	return filepath.ToSlash(rel), nil
}

// pointerChange is the new champion pointer file.
func (p *proposal) pointerChange(ctx context.Context, promotedAt time.Time) (*registry.Change, error) {
	ptr := &registry.Pointer{
		SchemaVersion:  registry.SchemaVersion,
		Model:          p.run.Model,
		Version:        p.data.Version,
		Metrics:        p.run.Metrics,
		Params:         p.run.Params,
		Artifacts:      map[string]string{p.data.Artifact.Path: p.data.Artifact.Digest},
		EvaluationData: inputDigests(p.run, p.spec.EvaluationData),
		RecordDigest:   p.recordDigest,
		Commit:         p.run.Commit,
		PromotedAt:     promotedAt,
	}
	if ptr.Metrics == nil {
		ptr.Metrics = map[string]float64{}
	}
	ch, err := p.reg.Propose(ctx, ptr)
	if err != nil {
		return nil, fmt.Errorf("failed to write the champion pointer: %w", err)
	}
	return ch, nil
}

func (p *proposal) commitMessage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", p.title)
	fmt.Fprintf(&b, "Candidate commit: %s\n", p.run.Commit)
	fmt.Fprintf(&b, "Artifact: %s %s\n", p.data.Artifact.Path, p.data.Artifact.Digest)
	if p.recordDigest != "" {
		fmt.Fprintf(&b, "Record: %s\n", p.recordDigest)
	}
	fmt.Fprintf(&b, "Sets %s in %s; champion pointer %s.\n", p.spec.Deploy.Field, p.manifest, p.pointer)
	return b.String()
}

// proposeBody is the pull request's description: the gate's report, as
// report --comment posts it, and a link to the metadata record.
func proposeBody(opts *proposeOptions, p *proposal) (string, error) {
	run := opts.Platform().Run()
	md := report.Render(report.Input{
		Compare: p.compare,
		Rules:   p.spec.Gate.Rules,
		Run:     p.run,
		Branch:  run.Branch,
		RunURL:  run.RunURL,
		Candidate: report.Digests{
			Artifacts:      map[string]string{p.data.Artifact.Path: p.data.Artifact.Digest},
			EvaluationData: inputDigests(p.run, p.spec.EvaluationData),
		},
	})
	// The report's hidden marker identifies podium's review comment; the
	// deployment PR's description is not that comment.
	if marker := report.Marker(p.run.Model) + "\n"; strings.HasPrefix(md, marker) {
		md = md[len(marker):]
	}
	tail := "\n---\n\n" + recordLine(run, p)
	return report.Truncate(md, report.MaxCommentLength-utf8.RuneCountInString(tail), run.RunURL) + tail, nil
}

// recordLine says where the metadata record is: its file name and digest,
// linked to the CI run that produced it when the run is known.
func recordLine(run ci.Run, p *proposal) string {
	if p.recordDigest == "" {
		return "No metadata record was made for this run.\n"
	}
	name := "`" + p.recordFile + "`"
	if run.RunURL != "" {
		name = fmt.Sprintf("[%s](%s)", p.recordFile, run.RunURL)
	}
	return fmt.Sprintf("Record: %s, `%s`.\n", name, p.recordDigest)
}
