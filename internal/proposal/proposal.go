// Package proposal plans a deployment of a promoted candidate: the
// deploy.value and deploy.branch rendered from the spec's templates, the
// manifest patch, the champion pointer, the commit message and the pull
// request's title and body. It is the use case behind podium propose, the
// same for a dry run and a real one; the CLI reads the files (the working
// tree, or the code host's default branch) and sends the result.
package proposal

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/podium-ml/podium/internal/deploy"
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/git"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

// Input is what a plan is made of: the spec, the run directory's
// documents, and what the CLI learnt about the artifact and the record.
type Input struct {
	Spec    *spec.Spec
	Run     *rundir.Run
	Compare *rundir.Compare
	// ArtifactDigest is run.json's digest of the spec's artifact.
	ArtifactDigest string
	// OCI is the pushed artifact's reference, "" when none was pushed.
	OCI string
	// RecordFile and RecordDigest name the metadata record in the run
	// directory; both "" when there is none.
	RecordFile, RecordDigest string
	Registry                 *registry.Git
}

// Plan is everything propose sends, computed before the first request.
type Plan struct {
	Input
	Data   spec.TemplateData
	Value  string // rendered deploy.value
	Branch string // rendered deploy.branch
	// Manifest and Pointer are repository-relative paths.
	Manifest, Pointer string
	// LocalManifest is the manifest in the working tree.
	LocalManifest string
	Title         string
}

// SpecError is a problem in the spec's deploy section: invalid input.
type SpecError struct {
	File string
	Err  error
}

func (e *SpecError) Error() string        { return e.File + ": " + e.Err.Error() }
func (e *SpecError) Unwrap() error        { return e.Err }
func (e *SpecError) Is(target error) bool { return target == diag.ErrInvalidInput }

// New renders the templates and resolves the paths of a plan.
func New(in Input) (*Plan, error) {
	s := in.Spec
	p := &Plan{Input: in}
	p.Data = spec.TemplateData{
		Model:    s.Model,
		Version:  deploy.Version(in.Run.Commit),
		Commit:   in.Run.Commit,
		Artifact: spec.TemplateArtifact{Path: s.Artifact, Digest: in.ArtifactDigest, OCI: in.OCI},
		Metrics:  in.Run.Metrics,
	}
	var err error
	if p.Value, err = deploy.Render("deploy.value", s.Deploy.Value, p.Data); err != nil {
		return nil, &SpecError{File: s.File, Err: err}
	}
	// spec.Load filled in the default deploy.branch.
	if p.Branch, err = deploy.Render("deploy.branch", s.Deploy.Branch, p.Data); err != nil {
		return nil, &SpecError{File: s.File, Err: err}
	}
	if err := deploy.ValidateBranch(p.Branch); err != nil {
		return nil, &SpecError{File: s.File, Err: err}
	}
	p.LocalManifest = filepath.Join(s.Dir, filepath.FromSlash(s.Deploy.Manifest))
	if p.Manifest, err = repoRelative(in.Registry.Repo, p.LocalManifest); err != nil {
		return nil, &SpecError{File: s.File, Err: fmt.Errorf("deploy.manifest: %v", err)}
	}
	p.Pointer = in.Registry.PointerPath(s.Model)
	p.Title = fmt.Sprintf("Deploy %s %s", s.Model, p.Data.Version)
	return p, nil
}

// Patch sets deploy.field to the rendered value in the manifest's bytes.
func (p *Plan) Patch(manifest []byte) ([]byte, error) {
	return deploy.Patch(p.Manifest, manifest, p.Spec.Deploy.Field, p.Value)
}

// SameCandidate reports whether an existing pointer names this candidate:
// a rerun then keeps its promotion time, so the pointer is byte-identical.
func (p *Plan) SameCandidate(prev *registry.Pointer) bool {
	return prev.Model == p.Run.Model && prev.Commit == p.Run.Commit && prev.Version == p.Data.Version
}

// PointerChange is the new champion pointer file.
func (p *Plan) PointerChange(ctx context.Context, promotedAt time.Time) (*registry.Change, error) {
	ptr := &registry.Pointer{
		SchemaVersion:  registry.SchemaVersion,
		Model:          p.Run.Model,
		Version:        p.Data.Version,
		Metrics:        p.Run.Metrics,
		Params:         p.Run.Params,
		Artifacts:      map[string]string{p.Data.Artifact.Path: p.Data.Artifact.Digest},
		EvaluationData: p.Run.Digests(p.Spec.EvaluationData),
		RecordDigest:   p.RecordDigest,
		Commit:         p.Run.Commit,
		PromotedAt:     promotedAt,
	}
	if ptr.Metrics == nil {
		ptr.Metrics = map[string]float64{}
	}
	ch, err := p.Registry.Propose(ctx, ptr)
	if err != nil {
		return nil, fmt.Errorf("failed to write the champion pointer: %w", err)
	}
	return ch, nil
}

// CommitMessage is the deployment commit's message.
func (p *Plan) CommitMessage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", p.Title)
	fmt.Fprintf(&b, "Candidate commit: %s\n", p.Run.Commit)
	fmt.Fprintf(&b, "Artifact: %s %s\n", p.Data.Artifact.Path, p.Data.Artifact.Digest)
	if p.RecordDigest != "" {
		fmt.Fprintf(&b, "Record: %s\n", p.RecordDigest)
	}
	fmt.Fprintf(&b, "Sets %s in %s; champion pointer %s.\n", p.Spec.Deploy.Field, p.Manifest, p.Pointer)
	return b.String()
}

// Body is the pull request's description: the gate's report md, the one
// the review comment holds, and a line naming the metadata record.
func (p *Plan) Body(md, runURL string) string {
	// The report's hidden marker identifies podium's review comment; the
	// deployment PR's description is not that comment.
	if marker := report.Marker(p.Run.Model) + "\n"; strings.HasPrefix(md, marker) {
		md = md[len(marker):]
	}
	tail := "\n---\n\n" + p.recordLine(runURL)
	return report.Truncate(md, report.MaxCommentLength-utf8.RuneCountInString(tail), runURL) + tail
}

// recordLine says where the metadata record is: its file name and digest,
// linked to the CI run that produced it when the run is known.
func (p *Plan) recordLine(runURL string) string {
	if p.RecordDigest == "" {
		return "No metadata record was made for this run.\n"
	}
	name := "`" + p.RecordFile + "`"
	if runURL != "" {
		name = fmt.Sprintf("[%s](%s)", p.RecordFile, runURL)
	}
	return fmt.Sprintf("Record: %s, `%s`.\n", name, p.RecordDigest)
}

// repoRelative returns path relative to the repository root, with forward
// slashes; it must lie inside the repository.
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
