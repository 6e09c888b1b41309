package scmtest

import (
	"testing"
)

// PullRequest is a fake's PR (GitHub) or MR (GitLab: Number is the IID).
type PullRequest struct {
	Number  int
	Title   string
	Body    string
	Head    string // source branch
	Base    string // target branch
	State   string // GitHub: open, closed; GitLab: opened, closed, merged
	Labels  []string
	Merged  bool
	Author  string
	HeadSHA string // the head branch's commit when the PR was last read
	// HeadRepo is the fork a GitHub PR comes from (owner/name), "" for
	// the repository itself; a fork's head commit is refs/pull/N/head.
	HeadRepo string
}

// Comment is a PR comment (GitHub) or MR note (GitLab).
type Comment struct {
	ID     int64
	Author string
	Body   string
	System bool // GitLab system notes ("added 1 commit")
}

// CommitStatus is a commit status as the fake stores it; State is the
// host's own word (GitLab says "failed" where GitHub says "failure").
type CommitStatus struct {
	Context     string
	State       string
	Description string
	TargetURL   string
	Author      string
}

// Dispatch is a started workflow (GitHub workflow_dispatch) or pipeline
// (GitLab; Workflow is "pipeline" or "trigger").
type Dispatch struct {
	Workflow  string
	Ref       string
	Inputs    map[string]string
	ID        int64
	Triggered bool // GitLab: started with a trigger or job token
}

// Git runs git in the fake's bare repository and returns its output.
func (c *core) Git(t testing.TB, args ...string) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.repo.git(nil, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// File returns the content of path at ref (a branch or a SHA).
func (c *core) File(ref, path string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.repo.readFile(ref, path)
	return string(data), ok
}

// Head returns the commit branch points at, or "".
func (c *core) Head(branch string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.repo.branchHead(branch)
}

// Parents returns the parents of commit sha.
func (c *core) Parents(sha string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, _ := c.repo.commit(sha)
	return info.Parents
}

// Commit writes files onto branch in one commit, creating the branch
// from the default branch when it does not exist; it returns the commit.
// Tests use it to seed the repository or to move the default branch on.
func (c *core) Commit(t testing.TB, branch string, files map[string]string, message string) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	sha, err := c.repo.seed(branch, c.defaultBranch, files, message)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// openPull is OpenPR and OpenMR: a pull request by alice from branch into
// the default branch, in the host's open state.
func (c *core) openPull(t testing.TB, branch string, files map[string]string, state string) (int, string) {
	t.Helper()
	sha := c.Head(branch)
	if files != nil || sha == "" {
		sha = c.Commit(t, branch, files, "Change "+branch)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &PullRequest{Title: "Change " + branch, Head: branch, Base: c.defaultBranch, State: state, Author: "alice", HeadSHA: sha}
	c.addPull(p)
	return p.Number, sha
}
