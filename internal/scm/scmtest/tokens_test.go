package scmtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/scm/scmtest"
)

func send(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// The fakes answer each kind of token as the real APIs do.
func TestFakeTokenKinds(t *testing.T) {
	t.Parallel()
	type answer struct {
		Status  int
		Message string
	}
	decode := func(code int, body string) answer {
		var m struct {
			Message string `json:"message"`
		}
		json.Unmarshal([]byte(body), &m)
		return answer{code, m.Message}
	}

	app := scmtest.NewGitHub(t, scmtest.GitHubOptions{App: "deployer"})
	fork := scmtest.NewGitHub(t, scmtest.GitHubOptions{ReadOnly: true})
	job := scmtest.NewGitLab(t, scmtest.GitLabOptions{})
	auth := func(g *scmtest.GitHub) []string { return []string{"Authorization", "Bearer " + g.Token} }

	appPR, _ := app.OpenPR(t, "x", map[string]string{"x": "1"})
	forkPR, _ := fork.OpenPR(t, "x", map[string]string{"x": "1"})
	mr, _ := job.OpenMR(t, "x", map[string]string{"x": "1"})
	appComments := app.URL + "/repos/octo/models/issues/" + strconv.Itoa(appPR) + "/comments"
	forkComments := fork.URL + "/repos/octo/models/issues/" + strconv.Itoa(forkPR) + "/comments"
	notes := job.URL + "/projects/42/merge_requests/" + strconv.Itoa(mr) + "/notes"
	jobAuth := []string{"JOB-TOKEN", job.JobToken}

	got := map[string]answer{
		"app GET /user":          decode(send(t, "GET", app.URL+"/user", "", auth(app)...)),
		"app POST comment":       decode(send(t, "POST", appComments, `{"body":"hi"}`, auth(app)...)),
		"fork GET /user":         decode(send(t, "GET", fork.URL+"/user", "", auth(fork)...)),
		"fork GET comments":      decode(send(t, "GET", forkComments, "", auth(fork)...)),
		"fork POST comment":      decode(send(t, "POST", forkComments, `{"body":"hi"}`, auth(fork)...)),
		"job GET /user":          decode(send(t, "GET", job.URL+"/user", "", jobAuth...)),
		"job GET notes":          decode(send(t, "GET", notes, "", jobAuth...)),
		"job POST note":          decode(send(t, "POST", notes, `{"body":"hi"}`, jobAuth...)),
		"job POST merge request": decode(send(t, "POST", job.URL+"/projects/42/merge_requests", `{"title":"t","source_branch":"x","target_branch":"main"}`, jobAuth...)),
	}
	want := map[string]answer{
		"app GET /user":          {403, "Resource not accessible by integration"},
		"app POST comment":       {201, ""},
		"fork GET /user":         {403, "Resource not accessible by integration"},
		"fork GET comments":      {200, ""},
		"fork POST comment":      {403, "Resource not accessible by integration"},
		"job GET /user":          {401, "401 Unauthorized"},
		"job GET notes":          {403, "403 Forbidden"},
		"job POST note":          {403, "403 Forbidden"},
		"job POST merge request": {403, "403 Forbidden"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	// An App's comment is by "<slug>[bot]", a Bot, through the App.
	_, body := send(t, "GET", appComments, "", auth(app)...)
	var comments []struct {
		User struct{ Login, Type string }
		App  *struct{ Slug string } `json:"performed_via_github_app"`
	}
	if err := json.Unmarshal([]byte(body), &comments); err != nil || len(comments) != 1 {
		t.Fatalf("comments = %s (%v)", body, err)
	}
	c := comments[0]
	if c.User.Login != "deployer[bot]" || c.User.Type != "Bot" || c.App == nil || c.App.Slug != "deployer" {
		t.Errorf("comment = %+v, want by deployer[bot], a Bot, via the deployer App", c)
	}
}
