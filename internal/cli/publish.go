package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/internal/strictjson"
	"github.com/podium-ml/podium/schemas"
)

// The two-phase review of a fork's pull request: the pull_request run
// (the PR's own code, a read-only token) uploads its run directory as an
// artifact; a workflow_run workflow (the default branch's code, a token
// that may write) downloads it and runs `report --from-artifact`, which
// posts the comment and the commit status. Everything in the artifact is
// untrusted: it is checked against the schemas and size caps, nothing in
// it is run, and where to post (the pull request and its head commit)
// comes from the workflow_run event, never from the artifact, which must
// agree with it.

// Caps on the artifact: a run directory holds a few JSON documents and
// the steps' logs.
const (
	maxArtifactFiles = 10000
	maxArtifactBytes = 1 << 30
	maxEventBytes    = 25 << 20 // GitHub's cap on webhook payloads
)

// workflowRun is what podium reads of a workflow_run event: GitHub
// writes it, so it is trusted.
type workflowRun struct {
	WorkflowRun struct {
		ID             int64  `json:"id"`
		Event          string `json:"event"`
		HeadSHA        string `json:"head_sha"`
		HeadBranch     string `json:"head_branch"`
		HTMLURL        string `json:"html_url"`
		HeadRepository struct {
			FullName string `json:"full_name"`
		} `json:"head_repository"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		// PullRequests is empty for a fork's pull request.
		PullRequests []struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_requests"`
	} `json:"workflow_run"`
}

// readWorkflowRun reads the trusted event of a workflow_run job.
func readWorkflowRun(getenv func(string) string) (*workflowRun, error) {
	if name := getenv("GITHUB_EVENT_NAME"); name != "workflow_run" {
		return nil, inputErrorf("--from-artifact runs in a workflow_run job (the event is %q): the pull request and its commit come from that event", name)
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return nil, inputErrorf("--from-artifact: GITHUB_EVENT_PATH is not set")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read the workflow_run event: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEventBytes+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read the workflow_run event: %w", err)
	}
	if len(data) > maxEventBytes {
		return nil, inputErrorf("%s: the event is larger than %d MiB", path, maxEventBytes>>20)
	}
	ev, err := parseWorkflowRun(data)
	if err != nil {
		return nil, inputErrorf("%s: %w", path, err)
	}
	return ev, nil
}

// parseWorkflowRun decodes a workflow_run event and checks the fields
// podium acts on: a pull_request run, its head commit, repository and
// branch.
func parseWorkflowRun(data []byte) (*workflowRun, error) {
	var ev workflowRun
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("not a workflow_run event: %w", err)
	}
	wr := ev.WorkflowRun
	switch {
	case wr.Event != "pull_request":
		return nil, fmt.Errorf("the workflow run was triggered by %q; --from-artifact publishes pull_request runs", wr.Event)
	case !fullSHA().MatchString(wr.HeadSHA):
		return nil, fmt.Errorf("workflow_run.head_sha %q is not a commit SHA", wr.HeadSHA)
	case !repoName().MatchString(wr.HeadRepository.FullName) || !repoName().MatchString(wr.Repository.FullName):
		return nil, errors.New("workflow_run names no head repository or repository (owner/name)")
	case wr.HeadBranch == "":
		return nil, errors.New("workflow_run names no head branch")
	}
	return &ev, nil
}

// repoName is GitHub's owner/name.
var repoName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$`) })

// trustedPullRequest is the pull request the workflow run was for: from
// the event when it names it (a branch of the repository), else found by
// the run's head repository, branch and commit (a fork: GitHub leaves
// pull_requests empty).
func trustedPullRequest(ctx context.Context, host scm.Host, ev *workflowRun) (int, error) {
	wr := ev.WorkflowRun
	for _, pr := range wr.PullRequests {
		if pr.Head.SHA == wr.HeadSHA && pr.Number > 0 {
			return pr.Number, nil
		}
	}
	finder, ok := host.(scm.PullRequestFinder)
	if !ok {
		return 0, fmt.Errorf("the %s host cannot find a pull request by its head", host.Name())
	}
	n, err := finder.FindPullRequest(ctx, wr.HeadRepository.FullName, wr.HeadBranch, wr.HeadSHA)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("no open pull request from %s:%s at %s: nothing to publish (closed, or pushed to since)",
			escapeControl(wr.HeadRepository.FullName), escapeControl(wr.HeadBranch), scm.ShortSHA(wr.HeadSHA))
	}
	return n, nil
}

// checkArtifact refuses a run directory that is not plain files and
// directories within the caps: a symbolic link could point the trusted
// job at its own files.
func checkArtifact(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return inputErrorf("--run-dir %s: %v", dir, err)
	}
	if !fi.IsDir() {
		return inputErrorf("--run-dir %s: not a directory", dir)
	}
	files, total := 0, int64(0)
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case !t.IsRegular():
			return inputErrorf("%s: the artifact holds a %s; only files and directories are accepted", p, kindOf(t))
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		total += info.Size()
		if files > maxArtifactFiles || total > maxArtifactBytes {
			return inputErrorf("%s: the artifact holds more than %d files or %d MiB", dir, maxArtifactFiles, maxArtifactBytes>>20)
		}
		return nil
	})
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// artifactClaims reads what the artifact says it was made for: the
// record's commit (podium record in the pull_request job), checked
// against the record schema and run.json.
func artifactClaims(dir, model string) (*record.Commit, error) {
	run, err := rundir.ReadRun(dir)
	if err != nil {
		return nil, err
	}
	if run.Model != model {
		return nil, inputErrorf("%s: model %q is not the spec's model %q", filepath.Join(dir, rundir.RunFile), run.Model, model)
	}
	name := record.FileName(model, run.Commit, record.FormatPodium)
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, inputErrorf("%s: no record in the artifact: run podium record in the pull_request job, before the upload", path)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, record.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	var decoded any
	if err := strictjson.Decode(path, data, &decoded); err != nil {
		return nil, err
	}
	if err := schemas.Validate(record.SchemaName, decoded); err != nil {
		return nil, inputErrorf("%s: %v", path, err)
	}
	rec, err := record.Decode(data)
	if err != nil {
		return nil, inputErrorf("%s: %v", path, err)
	}
	if rec.Model != model || rec.Commit.SHA != run.Commit {
		return nil, inputErrorf("%s: the record is for %s at %s, run.json for %s at %s", path, rec.Model, scm.ShortSHA(rec.Commit.SHA), run.Model, scm.ShortSHA(run.Commit))
	}
	return &rec.Commit, nil
}

// runPublish is `report --from-artifact`: check the artifact in
// --run-dir against the workflow_run event, then post the report comment
// and the podium/gate status on the pull request and commit the event
// names.
func runPublish(ctx context.Context, opts *reportOptions) error {
	ev, err := readWorkflowRun(opts.Getenv)
	if err != nil {
		return err
	}
	if opts.PR != 0 {
		return flagErrorf("--pr cannot be given with --from-artifact: the pull request comes from the workflow_run event")
	}
	if err := checkArtifact(opts.RunDir); err != nil {
		return err
	}
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return err
	}
	claims, err := artifactClaims(opts.RunDir, s.Model)
	if err != nil {
		return err
	}
	host, err := opts.Host(ctx)
	if err != nil {
		return err
	}
	pr, err := trustedPullRequest(ctx, host, ev)
	if err != nil {
		return err
	}
	wr := ev.WorkflowRun
	switch {
	case claims.PullRequest != pr:
		return inputErrorf("refused: the artifact says it is for pull request %d, but workflow run %d ran for pull request %d", claims.PullRequest, wr.ID, pr)
	case claims.Repository != "" && !strings.EqualFold(claims.Repository, wr.Repository.FullName):
		return inputErrorf("refused: the artifact says it is for repository %s, but workflow run %d ran in %s", escapeControl(claims.Repository), wr.ID, wr.Repository.FullName)
	// In a pull_request job the commit is GitHub's merge of the head into
	// the base (refs/pull/N/merge), or the head itself when checked out.
	case claims.SHA != wr.HeadSHA && claims.Ref != fmt.Sprintf("refs/pull/%d/merge", pr):
		return inputErrorf("refused: the artifact is for commit %s (%s), but workflow run %d ran at %s", scm.ShortSHA(claims.SHA), escapeControl(claims.Ref), wr.ID, scm.ShortSHA(wr.HeadSHA))
	}

	doc, err := decideAgain(ctx, opts)
	if err != nil {
		return err
	}
	opts.PR, opts.Comment = pr, true
	if err := runReport(ctx, opts); err != nil {
		return err
	}
	passed := 0
	for _, c := range doc.Checks {
		if c.Passed {
			passed++
		}
	}
	state := scm.StateSuccess
	if doc.Decision != gate.Promote {
		state = scm.StateFailure
	}
	err = host.SetStatus(ctx, wr.HeadSHA, scm.Status{
		Context:     gateStatusContext,
		State:       state,
		Description: fmt.Sprintf("%s: %d of %d checks pass", doc.Decision, passed, len(doc.Checks)),
		TargetURL:   wr.HTMLURL,
	})
	if err != nil {
		var pe *scm.PermissionError
		if errors.As(err, &pe) && !opts.RequireComment {
			opts.Platform().Annotate(ciNotice("podium report: no status", "podium did not set the "+gateStatusContext+" status: "+pe.Error()))
			return nil
		}
		return fmt.Errorf("failed to set the %s status on %s: %w", gateStatusContext, scm.ShortSHA(wr.HeadSHA), err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "set the %s status on %s: %s\n", gateStatusContext, scm.ShortSHA(wr.HeadSHA), state)
	return nil
}

// decideAgain runs compare in the trusted job over the artifact's run.json
// and replaces the artifact's compare.json. The fork's job wrote that file
// with code the pull request controls, so its decision is only a claim: the
// rules and the champion come from the default branch's checkout and
// registry here, and only the candidate's metrics (which the pull request's
// training produced in any case) come from the artifact. A claim that
// differs from the decision is reported as a warning. It returns the
// compare.json it wrote.
func decideAgain(ctx context.Context, opts *reportOptions) (*rundir.Compare, error) {
	claimed := ""
	if doc, err := rundir.ReadCompare(opts.RunDir); err == nil {
		claimed = doc.Decision
	}
	platform := opts.Platform()
	err := runCompare(ctx, &compareOptions{
		IO:       &IOStreams{In: opts.IO.In, Out: opts.IO.ErrOut, ErrOut: opts.IO.ErrOut},
		Platform: func() ci.Platform { return quietPlatform{platform} },
		SpecPath: opts.SpecPath,
		RunDir:   opts.RunDir,
	})
	if err != nil {
		return nil, err
	}
	doc, err := rundir.ReadCompare(opts.RunDir)
	if err != nil {
		return nil, err
	}
	if claimed != "" && claimed != doc.Decision {
		platform.Annotate(ci.Annotation{Level: ci.LevelWarning, Title: "podium report",
			Message: fmt.Sprintf("the artifact's compare.json said %s; decided again from the default branch's rules and champion: %s", escapeControl(claimed), doc.Decision)})
	}
	return doc, nil
}

// quietPlatform is the platform without step outputs and job summary:
// compare runs inside report --from-artifact, whose own outputs and summary
// are the ones the job shows.
type quietPlatform struct{ ci.Platform }

func (quietPlatform) SetOutput(name, value string) error  { return nil }
func (quietPlatform) AppendSummary(markdown string) error { return nil }
