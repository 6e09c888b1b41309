package github

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"

	"github.com/podium-ml/podium/internal/scm"
)

// ProposeChange commits ch.Files onto ch.Branch and finds or opens the PR
// from it.
//
// The branch is podium's own: it is always rebuilt as one commit on top of
// the current base, and its ref is moved with force. A rerun with the same
// files finds that commit already in place and changes nothing. The
// commit is made through the Git Data API with the files inline in the
// tree (no blob per file), so the number of requests does not grow with
// the number of files: 10 for a new branch and PR, 6 for a rerun with
// nothing to change (one more when Base is empty and the default branch is
// not known yet). A file that is not UTF-8 text is sent as a blob first.
func (h *Host) ProposeChange(ctx context.Context, ch scm.ChangeRequest) (_ *scm.PullRequest, err error) {
	defer h.hooks.Clean(&err)
	pr, err := scm.Propose(ctx, ch, scm.ProposeSteps{
		DefaultBranch: h.DefaultBranch,
		Push:          h.pushBranch,
		FindOrOpen:    h.findOrOpenPR,
		Pause:         h.hooks.Pause,
		MaxPushes:     maxCreates,
	})
	return pr, h.forbidden(err, "push branch "+ch.Branch+" and open its pull request", proposeNeed)
}

// proposeNeed is what a token needs to push the deployment branch and
// open its pull request.
const proposeNeed = "give the job `permissions: contents: write` and `pull-requests: write` " +
	"(a GitHub App or fine-grained token: Contents and Pull requests, read and write)"

// pushBranch makes ch.Branch one commit with ch.Files on top of base and
// returns that commit.
func (h *Host) pushBranch(ctx context.Context, base string, ch scm.ChangeRequest) (string, error) {
	baseRef, _, err := h.client.Git.GetRef(ctx, h.owner, h.repo, "refs/heads/"+base)
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return "", fmt.Errorf("base branch %q not found", base)
		}
		return "", fmt.Errorf("failed to read branch %s: %w", base, err)
	}
	baseSHA := baseRef.GetObject().GetSHA()
	baseCommit, _, err := h.client.Git.GetCommit(ctx, h.owner, h.repo, baseSHA)
	if err != nil {
		return "", fmt.Errorf("failed to read commit %s: %w", scm.ShortSHA(baseSHA), err)
	}

	entries, err := h.treeEntries(ctx, ch.Files)
	if err != nil {
		return "", err
	}
	// Trees and commits are content-addressed and invisible until a ref
	// points at them: creating one twice after an unknown outcome leaves
	// at most an unreachable object, so these POSTs may be repeated.
	var tree *gh.Tree
	err = h.repeatable(ctx, func() (err error) {
		tree, _, err = h.client.Git.CreateTree(ctx, h.owner, h.repo, baseCommit.GetTree().GetSHA(), entries)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("failed to create the tree: %w", err)
	}

	headSHA, err := h.branchHead(ctx, ch.Branch)
	if err != nil {
		return "", err
	}
	if headSHA != "" {
		head, _, err := h.client.Git.GetCommit(ctx, h.owner, h.repo, headSHA)
		if err != nil {
			return "", fmt.Errorf("failed to read commit %s: %w", scm.ShortSHA(headSHA), err)
		}
		if head.GetTree().GetSHA() == tree.GetSHA() && len(head.Parents) == 1 && head.Parents[0].GetSHA() == baseSHA {
			return headSHA, nil // a rerun: the branch already holds this change
		}
	}

	var commit *gh.Commit
	err = h.repeatable(ctx, func() (err error) {
		commit, _, err = h.client.Git.CreateCommit(ctx, h.owner, h.repo, &gh.Commit{
			Message: gh.String(ch.CommitMessage),
			Tree:    &gh.Tree{SHA: tree.SHA},
			Parents: []*gh.Commit{{SHA: gh.String(baseSHA)}},
		}, nil)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("failed to create the commit: %w", err)
	}
	sha := commit.GetSHA()
	return sha, h.moveBranch(ctx, ch.Branch, sha, headSHA != "")
}

// treeEntries puts each file's content inline; content that is not UTF-8
// text cannot travel in JSON that way and goes up as a blob.
func (h *Host) treeEntries(ctx context.Context, files []scm.File) ([]*gh.TreeEntry, error) {
	var entries []*gh.TreeEntry
	for _, f := range files {
		e := &gh.TreeEntry{Path: gh.String(f.Path), Mode: gh.String("100644"), Type: gh.String("blob")}
		if utf8.Valid(f.Content) {
			e.Content = gh.String(string(f.Content))
		} else {
			var blob *gh.Blob
			err := h.repeatable(ctx, func() (err error) {
				blob, _, err = h.client.Git.CreateBlob(ctx, h.owner, h.repo, &gh.Blob{
					Content:  gh.String(encodeBase64(f.Content)),
					Encoding: gh.String("base64"),
				})
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("failed to upload %s: %w", f.Path, err)
			}
			e.SHA = blob.SHA
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// branchHead returns the branch's commit, or "" when it does not exist.
func (h *Host) branchHead(ctx context.Context, branch string) (string, error) {
	ref, _, err := h.client.Git.GetRef(ctx, h.owner, h.repo, "refs/heads/"+branch)
	switch {
	case statusOf(err) == http.StatusNotFound:
		return "", nil
	case err != nil:
		return "", fmt.Errorf("failed to read branch %s: %w", branch, err)
	}
	return ref.GetObject().GetSHA(), nil
}

// moveBranch points branch at sha: it creates the ref, or moves it with
// force when it exists. A create that loses a race (422 "Reference
// already exists") becomes a move; an unknown outcome is read back.
func (h *Host) moveBranch(ctx context.Context, branch, sha string, exists bool) error {
	ref := "refs/heads/" + branch
	for attempt := 1; attempt <= maxCreates; attempt++ {
		var err error
		if exists {
			_, _, err = h.client.Git.UpdateRef(ctx, h.owner, h.repo, &gh.Reference{
				Ref: gh.String(ref), Object: &gh.GitObject{SHA: gh.String(sha)},
			}, true)
		} else {
			_, _, err = h.client.Git.CreateRef(ctx, h.owner, h.repo, &gh.Reference{
				Ref: gh.String(ref), Object: &gh.GitObject{SHA: gh.String(sha)},
			})
		}
		msg := apiMessage(err)
		switch {
		case err == nil:
			return nil
		case !exists && strings.Contains(msg, "Reference already exists"):
			exists = true // created meanwhile by a concurrent run: move it
			continue
		case exists && strings.Contains(msg, "Reference does not exist"):
			exists = false // deleted meanwhile (the PR was merged): create it
			continue
		case statusOf(err) == http.StatusConflict, statusOf(err) == http.StatusUnprocessableEntity:
			return fmt.Errorf("%w: %v", scm.ErrRace, err)
		case !unknownOutcome(ctx, err):
			return fmt.Errorf("failed to update %s: %w", ref, err)
		}
		// Unknown outcome: read the ref back before trying again.
		head, rerr := h.branchHead(ctx, branch)
		if rerr != nil {
			return fmt.Errorf("failed to update %s: %w", ref, err)
		}
		if head == sha {
			return nil
		}
		exists = head != ""
	}
	return fmt.Errorf("%w: %s did not take commit %s", scm.ErrRace, ref, scm.ShortSHA(sha))
}

// findOrOpenPR returns the open PR from ch.Branch into base, updated to
// ch's title, body and labels, or opens it.
func (h *Host) findOrOpenPR(ctx context.Context, base string, ch scm.ChangeRequest) (*scm.PullRequest, error) {
	existing, err := h.findPR(ctx, base, ch.Branch)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return h.updatePR(ctx, existing, ch, false)
	}
	for attempt := 1; ; attempt++ {
		pr, _, err := h.client.PullRequests.Create(ctx, h.owner, h.repo, &gh.NewPullRequest{
			Title:               gh.String(ch.Title),
			Head:                gh.String(ch.Branch),
			Base:                gh.String(base),
			Body:                gh.String(ch.Body),
			MaintainerCanModify: gh.Bool(false),
		})
		msg := apiMessage(err)
		switch {
		case err == nil:
			return h.updatePR(ctx, pr, ch, true)
		case strings.Contains(msg, "A pull request already exists"):
			// A concurrent run opened it first: use theirs.
			found, ferr := h.findPR(ctx, base, ch.Branch)
			if ferr != nil {
				return nil, ferr
			}
			if found != nil {
				return h.updatePR(ctx, found, ch, false)
			}
		case strings.Contains(msg, "No commits between"):
			// GitHub can lag behind a ref it has just moved: try again.
			err = fmt.Errorf("GitHub sees no commits between %s and %s: %w", base, ch.Branch, err)
		case unknownOutcome(ctx, err):
			// It may exist now: look before opening another.
			found, ferr := h.findPR(ctx, base, ch.Branch)
			if ferr != nil {
				return nil, ferr
			}
			if found != nil {
				return h.updatePR(ctx, found, ch, true)
			}
		default:
			return nil, fmt.Errorf("failed to open a pull request from %s: %w", ch.Branch, err)
		}
		if attempt == maxCreates {
			return nil, fmt.Errorf("failed to open a pull request from %s after %d attempts: %w", ch.Branch, attempt, err)
		}
		if err := h.hooks.Pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// findPR returns the open PR from branch into base, or nil.
func (h *Host) findPR(ctx context.Context, base, branch string) (*gh.PullRequest, error) {
	prs, _, err := h.client.PullRequests.List(ctx, h.owner, h.repo, &gh.PullRequestListOptions{
		State:       "open",
		Head:        h.owner + ":" + branch,
		Base:        base,
		ListOptions: gh.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to look up the pull request from %s: %w", branch, err)
	}
	for _, pr := range prs {
		if pr.GetHead().GetRef() == branch && pr.GetBase().GetRef() == base {
			return pr, nil
		}
	}
	return nil, nil
}

// updatePR brings pr's title and body up to ch and adds missing labels.
func (h *Host) updatePR(ctx context.Context, pr *gh.PullRequest, ch scm.ChangeRequest, created bool) (*scm.PullRequest, error) {
	if pr.GetTitle() != ch.Title || pr.GetBody() != ch.Body {
		// Setting the same title and body twice is harmless, so the edit is
		// repeated after an unknown outcome.
		err := h.repeatable(ctx, func() (err error) {
			pr, _, err = h.client.PullRequests.Edit(ctx, h.owner, h.repo, pr.GetNumber(), &gh.PullRequest{
				Title: gh.String(ch.Title),
				Body:  gh.String(ch.Body),
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("failed to update pull request #%d: %w", pr.GetNumber(), err)
		}
	}
	var missing []string
	for _, l := range ch.Labels {
		if !slices.ContainsFunc(pr.Labels, func(have *gh.Label) bool { return strings.EqualFold(have.GetName(), l) }) {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		err := h.repeatable(ctx, func() error {
			_, _, err := h.client.Issues.AddLabelsToIssue(ctx, h.owner, h.repo, pr.GetNumber(), missing)
			return err
		})
		switch {
		case statusOf(err) == http.StatusUnprocessableEntity:
			// Labels are a nicety: the PR stands without them, and the
			// next run adds them again.
			h.hooks.Logf("warning: could not label pull request #%d with %s: %s", pr.GetNumber(), strings.Join(missing, ", "), h.hooks.Redact(apiMessage(err)))
		case err != nil:
			return nil, fmt.Errorf("failed to label pull request #%d: %w", pr.GetNumber(), err)
		}
	}
	return &scm.PullRequest{
		Number:  pr.GetNumber(),
		URL:     pr.GetHTMLURL(),
		Branch:  ch.Branch,
		Created: created,
	}, nil
}

// repeatable runs an idempotent write, repeating it after an unknown
// outcome (the retrying client does not repeat POST or PATCH).
func (h *Host) repeatable(ctx context.Context, write func() error) error {
	return scm.Repeat(ctx, maxCreates, unknownOutcome, h.hooks.Pause, write)
}

// FindPullRequest returns the number of the open pull request from
// branch of headRepo (a fork or the repository itself) whose head commit
// is sha, or 0: one request.
func (h *Host) FindPullRequest(ctx context.Context, headRepo, branch, sha string) (_ int, err error) {
	defer h.hooks.Clean(&err)
	owner, _, ok := strings.Cut(headRepo, "/")
	if !ok || owner == "" || branch == "" {
		return 0, fmt.Errorf("invalid head %q:%q", headRepo, branch)
	}
	prs, _, err := h.client.PullRequests.List(ctx, h.owner, h.repo, &gh.PullRequestListOptions{
		State: "open", Head: owner + ":" + branch, ListOptions: gh.ListOptions{PerPage: 100},
	})
	if err != nil {
		return 0, fmt.Errorf("failed to find the pull request from %s:%s: %w", headRepo, branch, err)
	}
	for _, pr := range prs {
		if pr.GetHead().GetSHA() == sha && strings.EqualFold(pr.GetHead().GetRepo().GetFullName(), headRepo) {
			return pr.GetNumber(), nil
		}
	}
	return 0, nil
}
