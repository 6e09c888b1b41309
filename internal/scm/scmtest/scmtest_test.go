package scmtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/scm/github"
	"github.com/podium-ml/podium/internal/scm/gitlab"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestFakesEnforceAuthAndPrefix(t *testing.T) {
	t.Parallel()
	gh := scmtest.NewGitHub(t, scmtest.GitHubOptions{})
	gl := scmtest.NewGitLab(t, scmtest.GitLabOptions{})
	root := strings.TrimSuffix(gh.URL, "/api/v3")
	tests := []struct {
		name     string
		url      string
		header   []string
		wantCode int
		wantBody string
	}{
		{"GitHub without a token", gh.URL + "/repos/octo/models", nil, 401, `"message":"Bad credentials"`},
		{"GitHub with a wrong token", gh.URL + "/repos/octo/models", []string{"Authorization", "Bearer nope"}, 401, "Bad credentials"},
		{"GitHub with token auth", gh.URL + "/repos/octo/models", []string{"Authorization", "token " + gh.Token}, 200, `"default_branch":"main"`},
		{"GitHub without the /api/v3 prefix", root + "/repos/octo/models", []string{"Authorization", "Bearer " + gh.Token}, 404, "Not Found"},
		{"GitHub another repository", gh.URL + "/repos/octo/other", []string{"Authorization", "Bearer " + gh.Token}, 404, "Not Found"},
		{"GitLab without a token", gl.URL + "/projects/42", nil, 401, "401 Unauthorized"},
		{"GitLab by path", gl.URL + "/projects/acme%2Fmodels", []string{"PRIVATE-TOKEN", gl.Token}, 200, `"path_with_namespace":"acme/models"`},
		{"GitLab job token on /user", gl.URL + "/user", []string{"JOB-TOKEN", gl.JobToken}, 401, "401 Unauthorized"},
		{"GitLab Bearer", gl.URL + "/user", []string{"Authorization", "Bearer " + gl.Token}, 200, `"username":"podium-bot"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := get(t, tt.url, tt.header...)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("got %d %s, want %d with %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestInjectAndCount(t *testing.T) {
	t.Parallel()
	gh := scmtest.NewGitHub(t, scmtest.GitHubOptions{})
	auth := []string{"Authorization", "Bearer " + gh.Token}
	gh.Inject("GET", "/repos/octo/*", scmtest.Status(503), scmtest.TooManyRequests(7))
	var codes []int
	for range 3 {
		code, _ := get(t, gh.URL+"/repos/octo/models?x=1", auth...)
		codes = append(codes, code)
	}
	if diff := cmp.Diff([]int{503, 429, 200}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if got := gh.Count("GET", "/repos/octo/models"); got != 3 {
		t.Errorf("Count = %d, want 3", got)
	}
	if got := gh.Count("*", "*"); got != 3 {
		t.Errorf("Count(*, *) = %d, want 3", got)
	}
	reqs := gh.Requests()
	want := scmtest.Request{Method: "GET", Path: "/repos/octo/models", Query: "x=1", ContentLengthOK: true, Fault: "503",
		BodySHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
	if diff := cmp.Diff(want, reqs[0]); diff != "" {
		t.Errorf("first request (-want +got):\n%s", diff)
	}
}

func hostClient() *http.Client {
	return httpclient.New(httpclient.Options{Clock: scmtest.NewClock()})
}

var files = map[string]string{".podium/registry/iris.json": `{"version":"b"}` + "\n"}

func change() scm.ChangeRequest {
	return scm.ChangeRequest{
		Branch: "podium/deploy/iris", CommitMessage: "Deploy iris b", Title: "Deploy iris b",
		Files: []scm.File{{Path: ".podium/registry/iris.json", Content: []byte(files[".podium/registry/iris.json"])}},
	}
}

// TestMerge: a proposal merged with real git lands on the default branch,
// and the next proposal opens a new PR/MR on top of it.
func TestMerge(t *testing.T) {
	t.Parallel()
	gh := scmtest.NewGitHub(t, scmtest.GitHubOptions{Files: map[string]string{".podium/registry/iris.json": `{"version":"a"}` + "\n"}})
	gl := scmtest.NewGitLab(t, scmtest.GitLabOptions{Files: map[string]string{".podium/registry/iris.json": `{"version":"a"}` + "\n"}})
	ghHost, err := github.New(github.Config{APIURL: gh.URL, Repo: "octo/models", Token: gh.Token, HTTPClient: hostClient()})
	if err != nil {
		t.Fatal(err)
	}
	glHost, err := gitlab.New(gitlab.Config{APIURL: gl.URL, Project: "42", Token: gl.Token, HTTPClient: hostClient()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		host   scm.Host
		merge  func(t testing.TB, n int) string
		head   func(string) string
		file   func(ref, path string) (string, bool)
		parent func(string) []string
	}{
		{"github", ghHost, gh.Merge, gh.Head, gh.File, gh.Parents},
		{"gitlab", glHost, gl.Merge, gl.Head, gl.File, gl.Parents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			before := tt.head("main")
			pr, err := tt.host.ProposeChange(ctx, change())
			if err != nil {
				t.Fatal(err)
			}
			merge := tt.merge(t, pr.Number)
			if diff := cmp.Diff([]string{before, pr.Commit}, tt.parent(merge)); diff != "" {
				t.Errorf("merge parents (-want +got):\n%s", diff)
			}
			if got, _ := tt.file("main", ".podium/registry/iris.json"); got != files[".podium/registry/iris.json"] {
				t.Errorf("champion after merge = %q", got)
			}
			// The host reads the new champion through its API too.
			got, err := tt.host.ReadFile(ctx, "", ".podium/registry/iris.json")
			if err != nil || string(got) != files[".podium/registry/iris.json"] {
				t.Errorf("ReadFile = %q, %v", got, err)
			}

			next := change()
			next.Files[0].Content = []byte(`{"version":"c"}` + "\n")
			pr2, err := tt.host.ProposeChange(ctx, next)
			if err != nil {
				t.Fatal(err)
			}
			if pr2.Number != pr.Number+1 || !pr2.Created {
				t.Errorf("next proposal = %+v, want a new PR/MR", pr2)
			}
			if diff := cmp.Diff([]string{merge}, tt.parent(pr2.Commit)); diff != "" {
				t.Errorf("next proposal parents (-want +got):\n%s", diff)
			}
		})
	}
	if prs := gh.PullRequests(); len(prs) != 2 || !prs[0].Merged || prs[0].State != "closed" {
		t.Errorf("GitHub PRs = %+v", prs)
	}
	if mrs := gl.MergeRequests(); len(mrs) != 2 || !mrs[0].Merged || mrs[0].State != "merged" {
		t.Errorf("GitLab MRs = %+v", mrs)
	}
}

// TestHangEndsWithTheServer: a hanging answer does not keep the test
// server from closing.
func TestHangEndsWithTheServer(t *testing.T) {
	t.Parallel()
	gh := scmtest.NewGitHub(t, scmtest.GitHubOptions{})
	gh.Inject("*", "*", scmtest.Hang())
	req, _ := http.NewRequestWithContext(t.Context(), "GET", gh.URL+"/user", nil)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := client.Do(req); err == nil {
		t.Fatal("a hanging answer answered")
	}
	if got := gh.Requests(); len(got) != 1 || got[0].Fault != "hang" {
		t.Errorf("requests = %+v", got)
	}
}
