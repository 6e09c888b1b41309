package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// fakeHost is what the scenario needs from a fake GitHub or GitLab.
type fakeHost interface {
	name() string
	// gitDir is the bare repository behind the fake: clones push to it.
	gitDir() string
	token() string
	// env reaches the fake with a token; ciEnv adds what a CI job on PR
	// number pr, at commit sha of branch, would set, writing outputs and
	// the summary below dir.
	env() []string
	ciEnv(pr int, sha, branch, dir string) []string
	// openPR opens the candidate's PR/MR from branch into main.
	openPR(t *testing.T, branch, title string) int
	pulls() []scmtest.PullRequest
	comments(pr int) []scmtest.Comment
	statuses(sha string) []scmtest.CommitStatus
	merge(t *testing.T, pr int) string
	head(branch string) string
	parents(sha string) []string
	inject(method, pattern string, faults ...scmtest.Fault)
	requests() []scmtest.Request
	count(method, pattern string) int
	// prPath is the API path of the PR/MR collection, for fault patterns.
	prPath() string
	// commentPath is the API path of the comments of PR/MR pr.
	commentPath(pr int) string
	outputFile(dir string) string
	summaryFile(dir string) string
}

type github struct{ *scmtest.GitHub }

func newGitHub(t *testing.T, token string, files map[string]string) *github {
	return &github{scmtest.NewGitHub(t, scmtest.GitHubOptions{Token: token, Files: files})}
}

func (g *github) name() string   { return "github" }
func (g *github) gitDir() string { return g.Dir }
func (g *github) token() string  { return g.Token }
func (g *github) env() []string  { return g.Env() }

func (g *github) ciEnv(pr int, sha, branch, dir string) []string {
	return append(g.Env(),
		"GITHUB_ACTIONS=true",
		"GITHUB_EVENT_NAME=pull_request",
		fmt.Sprintf("GITHUB_REF=refs/pull/%d/merge", pr),
		"GITHUB_HEAD_REF="+branch,
		"GITHUB_SHA="+sha,
		"GITHUB_RUN_ID=4242",
		"GITHUB_SERVER_URL=https://github.example",
		"GITHUB_OUTPUT="+g.outputFile(dir),
		"GITHUB_STEP_SUMMARY="+g.summaryFile(dir),
	)
}

func (g *github) outputFile(dir string) string  { return filepath.Join(dir, "github_output") }
func (g *github) summaryFile(dir string) string { return filepath.Join(dir, "step_summary.md") }

func (g *github) openPR(t *testing.T, branch, title string) int {
	t.Helper()
	var pr struct{ Number int }
	apiPost(t, g.URL+"/repos/"+g.Owner+"/"+g.Repo+"/pulls", map[string]string{"Authorization": "Bearer " + g.Token},
		map[string]any{"title": title, "head": branch, "base": "main"}, &pr)
	return pr.Number
}

func (g *github) pulls() []scmtest.PullRequest               { return g.PullRequests() }
func (g *github) comments(pr int) []scmtest.Comment          { return g.Comments(pr) }
func (g *github) statuses(sha string) []scmtest.CommitStatus { return g.Statuses(sha) }
func (g *github) merge(t *testing.T, pr int) string          { return g.Merge(t, pr) }
func (g *github) head(branch string) string                  { return g.Head(branch) }
func (g *github) parents(sha string) []string                { return g.Parents(sha) }
func (g *github) inject(method, pattern string, faults ...scmtest.Fault) {
	g.Inject(method, pattern, faults...)
}
func (g *github) requests() []scmtest.Request      { return g.Requests() }
func (g *github) count(method, pattern string) int { return g.Count(method, pattern) }
func (g *github) prPath() string                   { return "/repos/" + g.Owner + "/" + g.Repo + "/pulls" }
func (g *github) commentPath(pr int) string {
	return fmt.Sprintf("/repos/%s/%s/issues/%d/comments", g.Owner, g.Repo, pr)
}

type gitlab struct{ *scmtest.GitLab }

func newGitLab(t *testing.T, token string, files map[string]string) *gitlab {
	return &gitlab{scmtest.NewGitLab(t, scmtest.GitLabOptions{Token: token, Files: files})}
}

func (g *gitlab) name() string   { return "gitlab" }
func (g *gitlab) gitDir() string { return g.Dir }
func (g *gitlab) token() string  { return g.Token }
func (g *gitlab) env() []string  { return g.Env() }

func (g *gitlab) ciEnv(pr int, sha, branch, dir string) []string {
	return append(g.Env(),
		"GITLAB_CI=true",
		"CI_PIPELINE_SOURCE=merge_request_event",
		"CI_MERGE_REQUEST_IID="+strconv.Itoa(pr),
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME="+branch,
		"CI_COMMIT_REF_NAME="+branch,
		"CI_COMMIT_SHA="+sha,
		"CI_DEFAULT_BRANCH=main",
		"CI_PIPELINE_ID=4242",
		"CI_JOB_URL=https://gitlab.example/acme/models/-/jobs/4242",
		"CI_SERVER_URL=https://gitlab.example",
		"PODIUM_DOTENV="+g.outputFile(dir),
	)
}

func (g *gitlab) outputFile(dir string) string  { return filepath.Join(dir, "podium.env") }
func (g *gitlab) summaryFile(dir string) string { return "" }

func (g *gitlab) openPR(t *testing.T, branch, title string) int {
	t.Helper()
	var mr struct{ IID int }
	apiPost(t, fmt.Sprintf("%s/projects/%d/merge_requests", g.URL, g.ProjectID), map[string]string{"PRIVATE-TOKEN": g.Token},
		map[string]any{"title": title, "source_branch": branch, "target_branch": "main"}, &mr)
	return mr.IID
}

func (g *gitlab) pulls() []scmtest.PullRequest               { return g.MergeRequests() }
func (g *gitlab) comments(pr int) []scmtest.Comment          { return userNotes(g.Notes(pr)) }
func (g *gitlab) statuses(sha string) []scmtest.CommitStatus { return g.Statuses(sha) }
func (g *gitlab) merge(t *testing.T, pr int) string          { return g.Merge(t, pr) }
func (g *gitlab) head(branch string) string                  { return g.Head(branch) }
func (g *gitlab) parents(sha string) []string                { return g.Parents(sha) }
func (g *gitlab) inject(method, pattern string, faults ...scmtest.Fault) {
	g.Inject(method, pattern, faults...)
}
func (g *gitlab) requests() []scmtest.Request      { return g.Requests() }
func (g *gitlab) count(method, pattern string) int { return g.Count(method, pattern) }
func (g *gitlab) prPath() string                   { return fmt.Sprintf("/projects/%d/merge_requests", g.ProjectID) }
func (g *gitlab) commentPath(pr int) string {
	return fmt.Sprintf("/projects/%d/merge_requests/%d/notes", g.ProjectID, pr)
}

// userNotes drops GitLab's system notes ("added 1 commit").
func userNotes(notes []scmtest.Comment) []scmtest.Comment {
	var out []scmtest.Comment
	for _, n := range notes {
		if !n.System {
			out = append(out, n)
		}
	}
	return out
}

// apiPost sends a JSON POST to a fake as the test's own client (to open
// the candidate's PR the way a person would) and decodes the answer.
func apiPost(t *testing.T, url string, headers map[string]string, body, out any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var msg bytes.Buffer
		msg.ReadFrom(resp.Body)
		t.Fatalf("POST %s: %s: %s", url, resp.Status, msg.String())
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
