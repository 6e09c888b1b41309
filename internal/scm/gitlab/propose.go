package gitlab

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	gl "github.com/xanzy/go-gitlab"

	"github.com/podium-ml/podium/internal/scm"
)

// ProposeChange commits ch.Files onto ch.Branch and finds or opens the MR
// from it.
//
// The branch is podium's own: it is always rebuilt as one commit on top of
// the current base, with one commits-API call whose actions create or
// update each file (start_sha pins the base the actions were chosen
// against; force replaces an older proposal). A rerun whose files already
// match changes nothing. Which action each file needs is read with a HEAD
// per file, so GitLab costs a few requests per file where GitHub costs
// none.
func (h *Host) ProposeChange(ctx context.Context, ch scm.ChangeRequest) (_ *scm.PullRequest, err error) {
	defer h.hooks.Clean(&err)
	pr, err := scm.Propose(ctx, ch, scm.ProposeSteps{
		DefaultBranch: h.DefaultBranch,
		Push:          h.pushBranch,
		FindOrOpen:    h.findOrOpenMR,
		Pause:         h.hooks.Pause,
		MaxPushes:     maxCreates,
	})
	return pr, forbidden(err, "push branch "+ch.Branch+" and open its merge request", proposeNeed)
}

// proposeNeed is what a token needs to push the deployment branch and
// open its merge request.
const proposeNeed = "set GITLAB_TOKEN to a project access token (role Developer or above) with the api scope; " +
	"a CI_JOB_TOKEN cannot push through the API or open merge requests"

// pushBranch makes ch.Branch one commit with ch.Files on top of base and
// returns that commit.
func (h *Host) pushBranch(ctx context.Context, base string, ch scm.ChangeRequest) (string, error) {
	baseBranch, _, err := h.client.Branches.GetBranch(h.project, base, gl.WithContext(ctx))
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return "", fmt.Errorf("base branch %q not found", base)
		}
		return "", fmt.Errorf("failed to read branch %s: %w", base, err)
	}
	baseSHA := baseBranch.Commit.ID

	if head, err := h.proposed(ctx, base, baseSHA, ch); err != nil || head != "" {
		return head, err // a rerun: the branch already holds this change
	}

	var actions []*gl.CommitActionOptions
	for _, f := range ch.Files {
		exists, _, err := h.fileSHA256(ctx, baseSHA, f.Path)
		if err != nil {
			return "", err
		}
		action := gl.FileCreate
		if exists {
			action = gl.FileUpdate
		}
		a := &gl.CommitActionOptions{Action: gl.Ptr(action), FilePath: gl.Ptr(f.Path)}
		if utf8.Valid(f.Content) {
			a.Content = gl.Ptr(string(f.Content))
		} else {
			a.Content = gl.Ptr(base64.StdEncoding.EncodeToString(f.Content))
			a.Encoding = gl.Ptr("base64")
		}
		actions = append(actions, a)
	}
	opts := &gl.CreateCommitOptions{
		Branch:        gl.Ptr(ch.Branch),
		CommitMessage: gl.Ptr(ch.CommitMessage),
		StartSHA:      gl.Ptr(baseSHA),
		Actions:       actions,
		Force:         gl.Ptr(true),
	}
	for attempt := 1; ; attempt++ {
		c, _, err := h.client.Commits.CreateCommit(h.project, opts, gl.WithContext(ctx))
		switch {
		case err == nil:
			return c.ID, nil
		case statusOf(err) == http.StatusBadRequest && isRace(apiMessage(err)):
			return "", fmt.Errorf("%w: %v", scm.ErrRace, err)
		case !unknownOutcome(ctx, err) || attempt == maxCreates:
			return "", fmt.Errorf("failed to commit to %s: %w", ch.Branch, err)
		}
		// Unknown outcome: the commit may be in; read the branch back.
		head, rerr := h.proposed(ctx, base, baseSHA, ch)
		if rerr != nil {
			return "", fmt.Errorf("failed to commit to %s: %w", ch.Branch, err)
		}
		if head != "" {
			return head, nil
		}
		if err := h.hooks.Pause(ctx, attempt); err != nil {
			return "", err
		}
	}
}

// isRace reports the commit errors a concurrent writer causes: the files
// or the branch changed between the look and the commit.
func isRace(msg string) bool {
	return strings.Contains(msg, "A file with this name already exists") ||
		strings.Contains(msg, "A file with this name doesn't exist") ||
		strings.Contains(msg, "changed meanwhile") ||
		strings.Contains(msg, "already exists. Switch to that branch")
}

// proposed returns the branch's head when it already is the proposal: one
// commit on baseSHA whose files match ch.Files. Otherwise "".
func (h *Host) proposed(ctx context.Context, base, baseSHA string, ch scm.ChangeRequest) (string, error) {
	branch, _, err := h.client.Branches.GetBranch(h.project, ch.Branch, gl.WithContext(ctx))
	switch {
	case statusOf(err) == http.StatusNotFound:
		return "", nil
	case err != nil:
		return "", fmt.Errorf("failed to read branch %s: %w", ch.Branch, err)
	}
	head := branch.Commit
	if len(head.ParentIDs) != 1 || head.ParentIDs[0] != baseSHA {
		return "", nil
	}
	for _, f := range ch.Files {
		exists, sum, err := h.fileSHA256(ctx, head.ID, f.Path)
		if err != nil {
			return "", err
		}
		want := sha256.Sum256(f.Content)
		if !exists || sum != hex.EncodeToString(want[:]) {
			return "", nil
		}
	}
	return head.ID, nil
}

// fileSHA256 says whether path exists at ref and the SHA-256 of its
// content (GitLab's X-Gitlab-Content-Sha256), from a HEAD request.
func (h *Host) fileSHA256(ctx context.Context, ref, path string) (bool, string, error) {
	meta, _, err := h.client.RepositoryFiles.GetFileMetaData(h.project, path, &gl.GetFileMetaDataOptions{Ref: gl.Ptr(ref)}, gl.WithContext(ctx))
	switch {
	case statusOf(err) == http.StatusNotFound:
		return false, "", nil
	case err != nil:
		return false, "", fmt.Errorf("failed to read %s at %s: %w", path, scm.ShortSHA(ref), err)
	}
	return true, meta.SHA256, nil
}

// findOrOpenMR returns the open MR from ch.Branch into base, updated to
// ch's title, description and labels, or opens it.
func (h *Host) findOrOpenMR(ctx context.Context, base string, ch scm.ChangeRequest) (*scm.PullRequest, error) {
	existing, err := h.findMR(ctx, base, ch.Branch)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return h.updateMR(ctx, existing, ch, false)
	}
	labels := gl.LabelOptions(ch.Labels)
	for attempt := 1; ; attempt++ {
		mr, _, err := h.client.MergeRequests.CreateMergeRequest(h.project, &gl.CreateMergeRequestOptions{
			Title:              gl.Ptr(ch.Title),
			Description:        gl.Ptr(ch.Body),
			SourceBranch:       gl.Ptr(ch.Branch),
			TargetBranch:       gl.Ptr(base),
			Labels:             &labels,
			RemoveSourceBranch: gl.Ptr(true),
		}, gl.WithContext(ctx))
		switch {
		case err == nil:
			return h.result(mr, ch, true), nil
		case statusOf(err) == http.StatusConflict && strings.Contains(apiMessage(err), "Another open merge request already exists"):
			// A concurrent run opened it first: use theirs.
			found, ferr := h.findMR(ctx, base, ch.Branch)
			if ferr != nil {
				return nil, ferr
			}
			if found != nil {
				return h.updateMR(ctx, found, ch, false)
			}
		case unknownOutcome(ctx, err):
			// It may exist now: look before opening another.
			found, ferr := h.findMR(ctx, base, ch.Branch)
			if ferr != nil {
				return nil, ferr
			}
			if found != nil {
				return h.updateMR(ctx, found, ch, true)
			}
		default:
			return nil, fmt.Errorf("failed to open a merge request from %s: %w", ch.Branch, err)
		}
		if attempt == maxCreates {
			return nil, fmt.Errorf("failed to open a merge request from %s after %d attempts: %w", ch.Branch, attempt, err)
		}
		if err := h.hooks.Pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// findMR returns the open MR from branch into base, or nil.
func (h *Host) findMR(ctx context.Context, base, branch string) (*gl.MergeRequest, error) {
	mrs, _, err := h.client.MergeRequests.ListProjectMergeRequests(h.project, &gl.ListProjectMergeRequestsOptions{
		SourceBranch: gl.Ptr(branch),
		TargetBranch: gl.Ptr(base),
		State:        gl.Ptr("opened"),
		ListOptions:  gl.ListOptions{PerPage: 100},
	}, gl.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("failed to look up the merge request from %s: %w", branch, err)
	}
	for _, mr := range mrs {
		if mr.SourceBranch == branch && mr.TargetBranch == base {
			return mr, nil
		}
	}
	return nil, nil
}

// updateMR brings mr's title, description and labels up to ch, in one PUT
// (idempotent, so the retrying client repeats it after a 5xx).
func (h *Host) updateMR(ctx context.Context, mr *gl.MergeRequest, ch scm.ChangeRequest, created bool) (*scm.PullRequest, error) {
	var missing []string
	for _, l := range ch.Labels {
		if !slices.ContainsFunc(mr.Labels, func(have string) bool { return strings.EqualFold(have, l) }) {
			missing = append(missing, l)
		}
	}
	if mr.Title != ch.Title || mr.Description != ch.Body || len(missing) > 0 {
		opts := &gl.UpdateMergeRequestOptions{Title: gl.Ptr(ch.Title), Description: gl.Ptr(ch.Body)}
		if len(missing) > 0 {
			add := gl.LabelOptions(missing)
			opts.AddLabels = &add
		}
		updated, _, err := h.client.MergeRequests.UpdateMergeRequest(h.project, mr.IID, opts, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("failed to update merge request !%d: %w", mr.IID, err)
		}
		mr = updated
	}
	return h.result(mr, ch, created), nil
}

func (h *Host) result(mr *gl.MergeRequest, ch scm.ChangeRequest, created bool) *scm.PullRequest {
	return &scm.PullRequest{Number: mr.IID, URL: mr.WebURL, Branch: ch.Branch, Created: created}
}
