// Package scm talks to the code host: GitHub (go-github) or GitLab
// (go-gitlab). Commands use the Host interface; the backends live in
// scm/github and scm/gitlab and share one retrying HTTP client.
package scm

import (
	"context"
	"errors"
	"fmt"
)

// Host is a code host podium delivers through.
type Host interface {
	// Name is "github" or "gitlab".
	Name() string
	// DefaultBranch is the repository's default branch.
	DefaultBranch(ctx context.Context) (string, error)
	// ReadFile returns a file's content at ref; ErrNotFound when absent.
	ReadFile(ctx context.Context, ref, path string) ([]byte, error)
	// UpsertComment creates the PR/MR comment that holds marker, or edits it
	// in place when a comment by podium's own account already holds it.
	UpsertComment(ctx context.Context, number int, marker, body string) (*Comment, error)
	// SetStatus sets a commit status (GitHub status / GitLab pipeline status).
	SetStatus(ctx context.Context, sha string, st Status) error
	// ProposeChange commits Files onto Branch (created from Base when
	// missing) in one commit and opens or updates the PR/MR from it. Reruns
	// update, never duplicate.
	ProposeChange(ctx context.Context, ch ChangeRequest) (*PullRequest, error)
	// Trigger starts a workflow (GitHub workflow_dispatch) or pipeline
	// (GitLab) on ref.
	Trigger(ctx context.Context, workflow, ref string, inputs map[string]string) (*TriggerResult, error)
}

// Comment is a PR/MR comment.
type Comment struct {
	ID      int64  `json:"id"`
	URL     string `json:"url"`
	Created bool   `json:"created"` // false when an existing comment was edited
}

// State of a commit status.
type State string

// Commit status states, common to both hosts.
const (
	StatePending State = "pending"
	StateSuccess State = "success"
	StateFailure State = "failure"
	StateError   State = "error"
)

// Status is a commit status.
type Status struct {
	Context     string // e.g. podium/gate
	State       State
	Description string // one line; each host's backend cuts it to its limit (Truncate)
	TargetURL   string
}

// File is one file to write in a proposed change. Path is relative to the
// repository root, with forward slashes.
type File struct {
	Path    string
	Content []byte
}

// ChangeRequest is a deployment PR/MR to find or open.
type ChangeRequest struct {
	Base          string // target branch; "" means the default branch
	Branch        string // head branch podium owns
	Files         []File
	CommitMessage string
	Title         string
	Body          string
	Labels        []string
}

// PullRequest is an opened or updated PR/MR.
type PullRequest struct {
	Number  int    `json:"number"`
	URL     string `json:"url"`
	Branch  string `json:"branch"`
	Commit  string `json:"commit"`
	Created bool   `json:"created"` // false when an existing PR/MR was updated
}

// TriggerResult says what Trigger started, when the host tells.
type TriggerResult struct {
	ID  int64  `json:"id,omitempty"`
	URL string `json:"url,omitempty"`
}

// ErrNotFound is returned by ReadFile for a missing file or ref.
var ErrNotFound = errors.New("not found")

// PermissionError is a write the host refused because the token may not
// make it: a fork's read-only GITHUB_TOKEN ("Resource not accessible by
// integration"), a GitLab CI_JOB_TOKEN, a token without the scope. It
// names what to configure; the API's answer is kept short (status and
// message), never its raw body.
type PermissionError struct {
	// Action is what was refused: "comment on #12", "push branch x".
	Action string
	// Status and Message are the host's answer (403, "Resource not
	// accessible by integration"); Status 0 when podium knew beforehand.
	Status  int
	Message string
	// Need says which permission or token would do.
	Need string
	Err  error
}

func (e *PermissionError) Error() string {
	msg := "the token may not " + e.Action
	switch {
	case e.Status != 0 && e.Message != "":
		msg += fmt.Sprintf(" (%d %s)", e.Status, e.Message)
	case e.Status != 0:
		msg += fmt.Sprintf(" (%d)", e.Status)
	}
	if e.Need != "" {
		msg += ": " + e.Need
	}
	return msg
}

func (e *PermissionError) Unwrap() error { return e.Err }

// Identity is who podium's comments are authored by. Login is the
// account's login ("podium-bot", "my-app[bot]"); when the token cannot
// say (an installation token or GITHUB_TOKEN, for which GET /user is
// 403) Login is empty and Bot is true: podium's comments are then the
// marked ones a bot account wrote, and the first comment podium creates
// tells the login.
type Identity struct {
	Login string
	Bot   bool
}

// PullRequestFinder is a Host that can find a pull request by its head:
// what a workflow_run job knows of a fork's pull request, whose number
// the event does not carry.
type PullRequestFinder interface {
	// FindPullRequest returns the number of the open pull request from
	// branch of headRepo (owner/name) whose head commit is sha, or 0.
	FindPullRequest(ctx context.Context, headRepo, branch, sha string) (int, error)
}
