package github_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/scm/github"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

type fixture struct {
	fake  *scmtest.GitHub
	host  *github.Host
	clock *scmtest.Clock
	log   *scmtest.Log
}

func setup(t *testing.T, opts scmtest.GitHubOptions) fixture {
	t.Helper()
	return setupWith(t, opts, 30*time.Second)
}

func setupWith(t *testing.T, opts scmtest.GitHubOptions, attemptTimeout time.Duration) fixture {
	t.Helper()
	clock := scmtest.NewClock()
	opts.Clock = clock
	fake := scmtest.NewGitHub(t, opts)
	secrets := &redact.Redactor{}
	secrets.Add(fake.Token)
	log := &scmtest.Log{}
	hc := httpclient.New(httpclient.Options{
		Clock:          clock,
		Jitter:         func(time.Duration) time.Duration { return 0 },
		AttemptTimeout: attemptTimeout,
		Redact:         secrets.String,
		Logf:           log.Logf,
	})
	t.Cleanup(hc.CloseIdleConnections)
	host, err := github.New(github.Config{
		APIURL:     fake.URL,
		Repo:       fake.Owner + "/" + fake.Repo,
		Token:      fake.Token,
		HTTPClient: hc,
		Clock:      clock,
		Logf:       log.Logf,
		Redact:     secrets.String,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{fake: fake, host: host, clock: clock, log: log}
}

var (
	change      = scmtest.Change
	deployFiles = scmtest.DeployFiles
)

func TestProposeChangeOpensPR(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	pr, err := f.host.ProposeChange(t.Context(), change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	head := f.fake.Head("podium/deploy/iris")
	want := &scm.PullRequest{Number: 1, URL: pr.URL, Branch: "podium/deploy/iris", Commit: head, Created: true}
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("PR (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(pr.URL, "/octo/models/pull/1") {
		t.Errorf("URL = %q", pr.URL)
	}
	// One commit on top of main, holding the files.
	if diff := cmp.Diff([]string{f.fake.Head("main")}, f.fake.Parents(head)); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
	for path, content := range deployFiles {
		if got, _ := f.fake.File("podium/deploy/iris", path); got != content {
			t.Errorf("%s = %q, want %q", path, got, content)
		}
	}
	if got, _ := f.fake.File("podium/deploy/iris", "README.md"); got != "# models\n" {
		t.Errorf("README.md = %q: the base tree was not kept", got)
	}
	prs := f.fake.PullRequests()
	wantPR := scmtest.PullRequest{
		Number: 1, Title: "Deploy iris 0123456789ab", Body: "Promote iris to 0123456789ab.",
		Head: "podium/deploy/iris", Base: "main", State: "open", Labels: []string{"model-deploy"},
		Author: "podium-bot", HeadSHA: head,
	}
	if diff := cmp.Diff([]scmtest.PullRequest{wantPR}, prs); diff != "" {
		t.Errorf("fake PRs (-want +got):\n%s", diff)
	}
	if got := f.fake.Git(t, "log", "-1", "--format=%s", head); got != "Deploy iris 0123456789ab" {
		t.Errorf("commit message = %q", got)
	}
}

func TestProposeChangeRerun(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	first, err := f.host.ProposeChange(ctx, change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	before := f.fake.Total()

	// The same change again: nothing is written.
	again, err := f.host.ProposeChange(ctx, change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Number != first.Number || again.Commit != first.Commit {
		t.Errorf("rerun = %+v, want the same PR and commit, not created", again)
	}
	for _, r := range f.fake.Requests()[before:] {
		if r.Method != "GET" && !(r.Method == "POST" && r.Path == "/repos/octo/models/git/trees") {
			t.Errorf("rerun wrote: %s %s", r.Method, r.Path)
		}
	}

	// A new version and title: the branch is rebuilt, the PR edited.
	ch := change(map[string]string{"deploy/production/inference.yaml": "spec:\n  storageUri: gs://acme/iris/fedcba987654\n"})
	ch.Title = "Deploy iris fedcba987654"
	updated, err := f.host.ProposeChange(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Created || updated.Number != first.Number || updated.Commit == first.Commit {
		t.Errorf("update = %+v, want the same PR with a new commit", updated)
	}
	prs := f.fake.PullRequests()
	if len(prs) != 1 || prs[0].Title != "Deploy iris fedcba987654" {
		t.Errorf("PRs = %+v, want one, retitled", prs)
	}
	if diff := cmp.Diff([]string{f.fake.Head("main")}, f.fake.Parents(updated.Commit)); diff != "" {
		t.Errorf("the rebuilt branch is not one commit on main (-want +got):\n%s", diff)
	}
	// The file of the first version that this change does not carry is gone:
	// the branch is rebuilt from main, not stacked.
	if _, ok := f.fake.File("podium/deploy/iris", ".podium/registry/iris.json"); ok {
		t.Error("the branch still holds a file from the previous proposal")
	}
}

func TestProposeChangeFollowsMovedBase(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err != nil {
		t.Fatal(err)
	}
	moved := f.fake.Commit(t, "main", map[string]string{"docs/x.md": "x\n"}, "docs")
	pr, err := f.host.ProposeChange(ctx, change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{moved}, f.fake.Parents(pr.Commit)); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
	if got, _ := f.fake.File(pr.Commit, "docs/x.md"); got != "x\n" {
		t.Error("the branch does not hold the new main")
	}
}

// TestProposeChangeRequestCount shows the number of requests does not
// grow with the number of files.
func TestProposeChangeRequestCount(t *testing.T) {
	t.Parallel()
	count := func(n int) (first, rerun int) {
		f := setup(t, scmtest.GitHubOptions{})
		files := map[string]string{}
		for i := range n {
			files[fmt.Sprintf("deploy/file-%02d.yaml", i)] = fmt.Sprintf("n: %d\n", i)
		}
		if _, err := f.host.ProposeChange(t.Context(), change(files)); err != nil {
			t.Fatal(err)
		}
		first = f.fake.Total()
		if _, err := f.host.ProposeChange(t.Context(), change(files)); err != nil {
			t.Fatal(err)
		}
		return first, f.fake.Total() - first
	}
	first1, rerun1 := count(1)
	first20, rerun20 := count(20)
	// New branch and PR: GET repo, GET base ref, GET base commit, POST
	// tree, GET branch ref (404), POST commit, POST ref, GET pulls, POST
	// pulls, POST labels. Rerun: the default branch is known; GET base
	// ref, GET base commit, POST tree, GET branch ref, GET branch commit,
	// GET pulls.
	if first1 != 10 || first20 != 10 || rerun1 != 6 || rerun20 != 6 {
		t.Errorf("requests: 1 file %d then %d, 20 files %d then %d; want 10 then 6 for both", first1, rerun1, first20, rerun20)
	}
}

func TestProposeChangeReconcilesUnknownOutcomes(t *testing.T) {
	t.Parallel()
	pulls := "/repos/octo/models/pulls"
	tests := []struct {
		name        string
		method      string
		path        string
		faults      []scmtest.Fault
		wantCreated bool
		wantPosts   int // POST /pulls
	}{
		{
			name: "502 after the PR was created", method: "POST", path: pulls,
			faults:      []scmtest.Fault{scmtest.Status(502).AfterHandling()},
			wantCreated: true, wantPosts: 1,
		},
		{
			name: "connection reset after the PR was created", method: "POST", path: pulls,
			faults:      []scmtest.Fault{scmtest.ConnectionReset().AfterHandling()},
			wantCreated: true, wantPosts: 1,
		},
		{
			name: "500 before the PR was created", method: "POST", path: pulls,
			faults:      []scmtest.Fault{scmtest.Status(500)},
			wantCreated: true, wantPosts: 2,
		},
		{
			name: "429 on PR create is waited out", method: "POST", path: pulls,
			faults:      []scmtest.Fault{scmtest.TooManyRequests(2)},
			wantCreated: true, wantPosts: 2,
		},
		{
			name: "secondary limit on the tree", method: "POST", path: "/repos/octo/models/git/trees",
			faults:      []scmtest.Fault{scmtest.SecondaryLimit(403)},
			wantCreated: true, wantPosts: 1,
		},
		{
			name: "reset after the ref was created", method: "POST", path: "/repos/octo/models/git/refs",
			faults:      []scmtest.Fault{scmtest.ConnectionReset().AfterHandling()},
			wantCreated: true, wantPosts: 1,
		},
		{
			name: "502 after the commit was created", method: "POST", path: "/repos/octo/models/git/commits",
			faults:      []scmtest.Fault{scmtest.Status(502).AfterHandling()},
			wantCreated: true, wantPosts: 1,
		},
		{
			name: "GitHub lags: no commits between, once", method: "POST", path: pulls,
			faults:      []scmtest.Fault{{Status: 422, Body: `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"No commits between main and podium/deploy/iris"}]}`}},
			wantCreated: true, wantPosts: 2,
		},
		{
			name: "5xx on GET pulls is retried", method: "GET", path: pulls,
			faults:      []scmtest.Fault{scmtest.Status(503), scmtest.Status(500)},
			wantCreated: true, wantPosts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, scmtest.GitHubOptions{})
			f.fake.Inject(tt.method, tt.path, tt.faults...)
			pr, err := f.host.ProposeChange(t.Context(), change(deployFiles))
			if err != nil {
				t.Fatal(err)
			}
			if pr.Created != tt.wantCreated || pr.Number != 1 {
				t.Errorf("PR = %+v", pr)
			}
			if got := len(f.fake.PullRequests()); got != 1 {
				t.Errorf("%d PRs, want exactly 1", got)
			}
			if got := f.fake.Count("POST", pulls); got != tt.wantPosts {
				t.Errorf("POST %s sent %d times, want %d", pulls, got, tt.wantPosts)
			}
			if head := f.fake.Head("podium/deploy/iris"); head != pr.Commit {
				t.Errorf("branch at %s, PR says %s", head, pr.Commit)
			}
			// Retried requests carry identical bodies.
			bodies := map[string]string{}
			for _, r := range f.fake.Requests() {
				if !r.ContentLengthOK {
					t.Errorf("%s %s: Content-Length does not match the body", r.Method, r.Path)
				}
				if r.Path == tt.path && r.Method == tt.method {
					if prev, ok := bodies[r.Path]; ok && prev != r.BodySHA256 && tt.method == "POST" && r.Path != "/repos/octo/models/git/commits" {
						t.Errorf("retry of %s sent a different body", r.Path)
					}
					bodies[r.Path] = r.BodySHA256
				}
			}
		})
	}
}

func TestProposeChangePermanentFailure(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	noCommits := scmtest.Fault{Status: 422, Body: `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"No commits between main and podium/deploy/iris"}]}`}
	f.fake.Inject("POST", "/repos/octo/models/pulls", noCommits, noCommits, noCommits)
	_, err := f.host.ProposeChange(t.Context(), change(deployFiles))
	want := "failed to open a pull request from podium/deploy/iris after 3 attempts: GitHub sees no commits between main and podium/deploy/iris: POST " +
		f.fake.URL + "/repos/octo/models/pulls: 422 Validation Failed [{Resource:PullRequest Field: Code:custom Message:No commits between main and podium/deploy/iris}]"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, f.clock.Sleeps()); diff != "" {
		t.Errorf("pauses (-want +got):\n%s", diff)
	}
}

func TestProposeChangePartialFailureRerun(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	// The branch is pushed, then opening the PR is refused.
	f.fake.Inject("POST", "/repos/octo/models/pulls", scmtest.Status(403))
	if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err == nil {
		t.Fatal("no error when the PR could not be opened")
	}
	branch := f.fake.Head("podium/deploy/iris")
	// Labels fail on the rerun too: the PR still opens.
	f.fake.Inject("POST", "/repos/octo/models/issues/*/labels", scmtest.Fault{Status: 422, Body: `{"message":"Could not resolve to a node with the global id of 'x'"}`})
	pr, err := f.host.ProposeChange(ctx, change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	if pr.Commit != branch {
		t.Errorf("the rerun rebuilt the branch (%s, was %s)", pr.Commit, branch)
	}
	if !strings.Contains(f.log.String(), "warning: could not label pull request #1 with model-deploy: Could not resolve to a node") {
		t.Errorf("no warning about the labels in:\n%s", f.log)
	}
	// A third run adds the missing label.
	if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"model-deploy"}, f.fake.PullRequests()[0].Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}

func TestProposeChangeConcurrent(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	scmtest.ConcurrentProposals(t, f.host, f.fake.PullRequests)
}

func TestProposeChangeInvalid(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	tests := []struct {
		name string
		edit func(*scm.ChangeRequest)
		want string
	}{
		{"branch with a space", func(c *scm.ChangeRequest) { c.Branch = "deploy iris" }, `invalid change request: Branch "deploy iris": is not a valid git branch name (it holds ' ')`},
		{"the default branch", func(c *scm.ChangeRequest) { c.Branch = "main" }, `invalid change request: Branch "main": is the default branch itself`},
		{"path escapes", func(c *scm.ChangeRequest) { c.Files[0].Path = "../x" }, `invalid change request: Files[0].Path "../x": leaves the repository`},
		{"no title", func(c *scm.ChangeRequest) { c.Title = " " }, `invalid change request: Title " ": is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := change(map[string]string{"a.yaml": "a: 1\n"})
			tt.edit(&ch)
			_, err := f.host.ProposeChange(t.Context(), ch)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
			if !errors.Is(err, diag.ErrInvalidInput) {
				t.Error("the error is not marked invalid input")
			}
		})
	}
}

func TestProposeChangeBinaryFile(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ch := change(map[string]string{"model/weights.bin": "\xff\xfe\x00binary"})
	if _, err := f.host.ProposeChange(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.fake.File("podium/deploy/iris", "model/weights.bin"); got != "\xff\xfe\x00binary" {
		t.Errorf("content = %q", got)
	}
	if got := f.fake.Count("POST", "/repos/octo/models/git/blobs"); got != 1 {
		t.Errorf("%d blobs, want 1", got)
	}
}

func TestUpsertComment(t *testing.T) {
	t.Parallel()
	const marker = "<!-- podium:report iris -->"
	tests := []struct {
		name      string
		opts      scmtest.GitHubOptions
		others    int // comments by others before podium's
		spoof     bool
		faults    func(*scmtest.GitHub)
		wantPosts int
	}{
		{name: "plain"},
		{name: "workflow token (GET /user forbidden)", opts: scmtest.GitHubOptions{AppToken: true}},
		{name: "a spoofed marker by someone else is not edited", spoof: true},
		{name: "podium's comment on page 3", others: 250},
		{
			name: "502 after the comment was posted",
			faults: func(g *scmtest.GitHub) {
				g.Inject("POST", "/repos/octo/models/issues/1/comments", scmtest.Status(502).AfterHandling())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tt.opts)
			ctx := t.Context()
			if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err != nil {
				t.Fatal(err)
			}
			for i := range tt.others {
				f.fake.AddComment(1, "alice", fmt.Sprintf("comment %d", i))
			}
			spoofID := int64(0)
			if tt.spoof {
				spoofID = f.fake.AddComment(1, "mallory", marker+"\nfake report")
			}
			if tt.faults != nil {
				tt.faults(f.fake)
			}
			first, err := f.host.UpsertComment(ctx, 1, marker, "accuracy 0.95")
			if err != nil {
				t.Fatal(err)
			}
			if !first.Created {
				t.Errorf("first = %+v, want created", first)
			}
			second, err := f.host.UpsertComment(ctx, 1, marker, "accuracy 0.96")
			if err != nil {
				t.Fatal(err)
			}
			if second.Created || second.ID != first.ID {
				t.Errorf("second = %+v, want comment %d edited", second, first.ID)
			}
			var ours []scmtest.Comment
			for _, c := range f.fake.Comments(1) {
				if c.ID == spoofID && c.Body != marker+"\nfake report" {
					t.Errorf("the spoofed comment was edited: %q", c.Body)
				}
				if c.Author == f.fake.Login {
					ours = append(ours, c)
				}
			}
			want := []scmtest.Comment{{ID: first.ID, Author: f.fake.Login, Body: marker + "\naccuracy 0.96"}}
			if diff := cmp.Diff(want, ours); diff != "" {
				t.Errorf("podium's comments (-want +got):\n%s", diff)
			}
			if got := f.fake.Count("POST", "/repos/octo/models/issues/1/comments"); got != 1 {
				t.Errorf("%d comment POSTs, want 1", got)
			}
		})
	}
}

func TestUpsertCommentUnchangedSendsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.host.UpsertComment(ctx, 1, "<!-- m -->", "<!-- m -->\nbody"); err != nil {
		t.Fatal(err)
	}
	before := f.fake.Total()
	c, err := f.host.UpsertComment(ctx, 1, "<!-- m -->", "<!-- m -->\nbody")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.fake.Requests()[before:] {
		if r.Method != "GET" {
			t.Errorf("an unchanged comment sent %s %s", r.Method, r.Path)
		}
	}
	if c.Created {
		t.Error("Created = true for an unchanged comment")
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	sha := f.fake.Head("main")
	f.fake.Inject("POST", "/repos/octo/models/statuses/"+sha, scmtest.Status(502).AfterHandling())
	long := strings.Repeat("x", 200)
	err := f.host.SetStatus(ctx, sha, scm.Status{Context: "podium/gate", State: scm.StateSuccess, Description: long, TargetURL: "https://ci/run/1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []scmtest.CommitStatus{{
		Context: "podium/gate", State: "success", Description: strings.Repeat("x", 139) + "…",
		TargetURL: "https://ci/run/1", Author: "podium-bot",
	}}
	if diff := cmp.Diff(want, f.fake.Statuses(sha)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if err := f.host.SetStatus(ctx, sha, scm.Status{Context: "x", State: "done"}); err == nil || err.Error() != `invalid status state "done": want pending, success, failure or error` {
		t.Errorf("error = %v", err)
	}
}

func TestTrigger(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	res, err := f.host.Trigger(ctx, "retrain.yml", "", map[string]string{"reason": "drift"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.URL, "/octo/models/actions/workflows/retrain.yml") {
		t.Errorf("URL = %q", res.URL)
	}
	want := []scmtest.Dispatch{{Workflow: "retrain.yml", Ref: "main", Inputs: map[string]string{"reason": "drift"}, ID: 1001}}
	if diff := cmp.Diff(want, f.fake.Dispatches()); diff != "" {
		t.Errorf("dispatches (-want +got):\n%s", diff)
	}

	_, err = f.host.Trigger(ctx, "nope.yml", "main", nil)
	if err == nil || err.Error() != `workflow "nope.yml" not found in octo/models` {
		t.Errorf("error = %v", err)
	}

	// An unknown outcome is reported, never sent twice.
	f.fake.Inject("POST", "/repos/octo/models/actions/workflows/retrain.yml/dispatches", scmtest.Status(502).AfterHandling())
	_, err = f.host.Trigger(ctx, "retrain.yml", "main", nil)
	if err == nil || !strings.Contains(err.Error(), `the dispatch of workflow "retrain.yml" may or may not have started a run (not retried)`) {
		t.Errorf("error = %v", err)
	}
	if got := f.fake.Count("POST", "/repos/octo/models/actions/workflows/retrain.yml/dispatches"); got != 2 {
		t.Errorf("%d dispatch POSTs, want 2", got)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{Files: map[string]string{".podium/registry/iris.json": `{"version":"a"}`}})
	scmtest.ReadFileTest(t, f.host, f.fake)
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	f.fake.Inject("*", "*", scmtest.EchoToken(500), scmtest.EchoToken(500), scmtest.EchoToken(500),
		scmtest.EchoToken(500), scmtest.EchoToken(500), scmtest.EchoToken(422))
	_, err := f.host.ReadFile(ctx, "main", "README.md")
	if err == nil {
		t.Fatal("no error")
	}
	_, err2 := f.host.ProposeChange(ctx, change(deployFiles))
	for _, e := range []error{err, err2} {
		if e == nil {
			t.Fatal("no error")
		}
		msg := e.Error()
		if strings.Contains(msg, f.fake.Token) || strings.Contains(msg, "CANARY") {
			t.Errorf("error leaks the token: %s", msg)
		}
		if !strings.Contains(msg, "***") {
			t.Errorf("error %q does not show the masked echo: was the body seen at all?", msg)
		}
	}
	if strings.Contains(f.log.String(), "CANARY") || strings.Contains(f.log.String(), "Authorization") {
		t.Errorf("log leaks: %s", f.log)
	}
}

func TestEnterprisePrefix(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	if _, err := f.host.ProposeChange(t.Context(), change(deployFiles)); err != nil {
		t.Fatal(err)
	}
	// The fake answers 404 below any other root; every request stayed
	// under /api/v3.
	for _, r := range f.fake.Requests() {
		if !strings.HasPrefix(r.Path, "/repos/octo/models") {
			t.Errorf("request outside the repository: %s %s", r.Method, r.Path)
		}
	}
	host, err := github.New(github.Config{APIURL: strings.TrimSuffix(f.fake.URL, "/api/v3"), Repo: "octo/models", Token: f.fake.Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.DefaultBranch(t.Context()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("without the prefix: error = %v, want a 404", err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  github.Config
		want string
	}{
		{github.Config{Repo: "octo", Token: "t"}, `invalid GitHub repository "octo": want owner/name`},
		{github.Config{Repo: "octo/models"}, "no GitHub token"},
		{github.Config{Repo: "octo/models", Token: "t", APIURL: "ftp://x"}, `invalid GitHub API URL "ftp://x"`},
	}
	for _, tt := range tests {
		if _, err := github.New(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) error = %v, want %s", tt.cfg, err, tt.want)
		}
	}
}

func TestHangingRequestIsRetried(t *testing.T) {
	t.Parallel()
	f := setupWith(t, scmtest.GitHubOptions{}, 300*time.Millisecond)
	f.fake.Inject("GET", "/repos/octo/models", scmtest.Hang())
	branch, err := f.host.DefaultBranch(t.Context())
	if err != nil || branch != "main" {
		t.Fatalf("DefaultBranch = %q, %v", branch, err)
	}
	reqs := f.fake.Requests()
	if len(reqs) < 2 || reqs[0].Fault != "hang" {
		t.Errorf("requests = %+v, want a hang and then a retry", reqs)
	}
}

func TestCommentSearchStopsOnCyclicLinks(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{})
	ctx := t.Context()
	if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		f.fake.AddComment(1, "alice", fmt.Sprintf("comment %d", i))
	}
	// Page 1 links to page 2, which links back to page 1.
	page := func(n int) scmtest.Fault {
		return scmtest.Headers(map[string]string{"Link": fmt.Sprintf(`<%s/repos/octo/models/issues/1/comments?page=%d&per_page=100>; rel="next"`, f.fake.URL, n)})
	}
	f.fake.Inject("GET", "/repos/octo/models/issues/1/comments", page(2), page(1), page(2), page(1))
	if _, err := f.host.UpsertComment(ctx, 1, "<!-- m -->", "body"); err != nil {
		t.Fatal(err)
	}
	// Two pages before the create and two after it (the look for a
	// concurrent run's comment), each listing stopping at the cycle.
	if got := f.fake.Count("GET", "/repos/octo/models/issues/1/comments"); got != 4 {
		t.Errorf("%d pages read, want 4", got)
	}
}

func TestProposeChangeReplaysStaleRefUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults []scmtest.Fault
		want   string // "" for success
	}{
		{name: "422 reference update failed", faults: []scmtest.Fault{{Status: 422, Body: `{"message":"Reference update failed"}`}}},
		{name: "409 is at but expected", faults: []scmtest.Fault{{Status: 409, Body: `{"message":"is at 1111 but expected 2222"}`}}},
		{
			name: "bounded",
			faults: []scmtest.Fault{
				{Status: 422, Body: `{"message":"Reference update failed"}`},
				{Status: 422, Body: `{"message":"Reference update failed"}`},
				{Status: 422, Body: `{"message":"Reference update failed"}`},
			},
			want: "failed to push branch podium/deploy/iris: the branch moved while podium was updating it: PATCH ",
		},
	}
	ref := "/repos/octo/models/git/refs/heads/podium/deploy/iris"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, scmtest.GitHubOptions{})
			ctx := t.Context()
			if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err != nil {
				t.Fatal(err)
			}
			f.fake.Inject("PATCH", ref, tt.faults...)
			next := change(map[string]string{"deploy/production/inference.yaml": "v: 2\n"})
			pr, err := f.host.ProposeChange(ctx, next)
			if tt.want != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
					t.Fatalf("error = %v, want prefix %q", err, tt.want)
				}
				if got := f.fake.Count("PATCH", ref); got != 3 {
					t.Errorf("%d ref updates, want 3", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if head := f.fake.Head("podium/deploy/iris"); head != pr.Commit {
				t.Errorf("branch at %s, PR says %s", head, pr.Commit)
			}
			if got := f.fake.Count("PATCH", ref); got != 2 {
				t.Errorf("%d ref updates, want 2", got)
			}
		})
	}
}
