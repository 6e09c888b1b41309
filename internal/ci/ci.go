// Package ci knows where podium runs: GitHub Actions, GitLab CI or a
// developer's terminal. Commands talk to a Platform and never read CI
// environment variables themselves.
package ci

import "io"

// Platform is the CI system podium runs under.
type Platform interface {
	// Name is "github-actions", "gitlab-ci" or "local".
	Name() string
	// Run describes the current job: commit, ref, PR/MR, run URL.
	Run() Run
	// Input returns the value of a step input (GitHub: INPUT_<NAME>; GitLab
	// and local: PODIUM_<NAME>), or "" when it is unset.
	Input(name string) string
	// SetOutput publishes a step output. Values may hold newlines; the
	// implementation must make delimiter injection impossible.
	SetOutput(name, value string) error
	// AppendSummary adds Markdown to the job summary, when the platform has one.
	AppendSummary(markdown string) error
	// Mask hides a secret in all later log output (line by line for
	// multi-line secrets). It never echoes the secret itself.
	Mask(secret string)
	// Annotate reports a problem, tied to a file position when known.
	Annotate(a Annotation)
	// Group starts a collapsible log section and returns the func that ends it.
	Group(title string) (end func())
	// Relay returns a writer onto w for output podium passes on but did
	// not write (a pipeline step's, a component's build or test), which
	// the platform keeps from issuing workflow commands or log sections
	// (see relay.go). Close it when that output is over.
	Relay(w io.Writer) io.WriteCloser
}

// Level is an annotation's severity.
type Level string

// Annotation levels, named as GitHub names them.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelNotice  Level = "notice"
)

// Annotation is an error, warning or notice, with an optional position.
type Annotation struct {
	Level   Level
	File    string
	Line    int
	Col     int
	Title   string
	Message string
}

// Run describes the CI job podium runs in. Fields the platform does not
// know are empty (zero for numbers).
type Run struct {
	Provider      string `json:"provider"`                 // "github-actions", "gitlab-ci", "local"
	Commit        string `json:"commit,omitempty"`         // full SHA of the commit under test
	Ref           string `json:"ref,omitempty"`            // refs/heads/x, refs/pull/1/merge, ...
	Branch        string `json:"branch,omitempty"`         // source branch name (PR head for PRs)
	DefaultBranch string `json:"default_branch,omitempty"` // the repository's default branch, when known
	Repository    string `json:"repository,omitempty"`     // owner/name or group/project
	PullRequest   int    `json:"pull_request,omitempty"`   // PR number / MR IID, 0 when not a PR/MR
	RunID         string `json:"run_id,omitempty"`
	RunURL        string `json:"run_url,omitempty"`
	Workflow      string `json:"workflow,omitempty"`
	Job           string `json:"job,omitempty"`
	Attempt       int    `json:"attempt,omitempty"`
	EventName     string `json:"event_name,omitempty"` // push, pull_request, merge_request_event, schedule...
	Protected     bool   `json:"protected,omitempty"`  // the ref is protected (GITHUB_REF_PROTECTED, CI_COMMIT_REF_PROTECTED)
	ServerURL     string `json:"server_url,omitempty"` // https://github.com, https://gitlab.example.com
	APIURL        string `json:"api_url,omitempty"`    // https://api.github.com, https://gitlab.example.com/api/v4
	ProjectID     string `json:"project_id,omitempty"` // GitLab numeric project id
	ImageDigest   string `json:"image_digest,omitempty"`
	Actor         string `json:"actor,omitempty"`
}
