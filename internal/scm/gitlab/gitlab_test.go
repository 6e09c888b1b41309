package gitlab_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/scm/gitlab"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

type fixture struct {
	fake  *scmtest.GitLab
	host  *gitlab.Host
	clock *scmtest.Clock
	log   *scmtest.Log
}

type setupOpts struct {
	fake     scmtest.GitLabOptions
	jobToken bool
	project  func(*scmtest.GitLab) string
}

func setup(t *testing.T, o setupOpts) fixture {
	t.Helper()
	clock := scmtest.NewClock()
	o.fake.Clock = clock
	fake := scmtest.NewGitLab(t, o.fake)
	secrets := &redact.Redactor{}
	secrets.Add(fake.Token)
	secrets.Add(fake.JobToken)
	log := &scmtest.Log{}
	hc := httpclient.New(httpclient.Options{
		Clock:          clock,
		Jitter:         func(time.Duration) time.Duration { return 0 },
		AttemptTimeout: 30 * time.Second,
		Redact:         secrets.String,
		Logf:           log.Logf,
	})
	t.Cleanup(hc.CloseIdleConnections)
	token := fake.Token
	if o.jobToken {
		token = fake.JobToken
	}
	project := "42"
	if o.project != nil {
		project = o.project(fake)
	}
	host, err := gitlab.New(gitlab.Config{
		APIURL:     fake.URL,
		Project:    project,
		Token:      token,
		JobToken:   o.jobToken,
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

// writes lists the requests that were not reads.
func writes(reqs []scmtest.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method != "GET" && r.Method != "HEAD" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestProposeChangeOpensMR(t *testing.T) {
	t.Parallel()
	// An existing manifest is updated, a new pointer file created, and
	// the project is addressed by its path.
	f := setup(t, setupOpts{
		fake:    scmtest.GitLabOptions{Files: map[string]string{"deploy/production/inference.yaml": "old\n", "README.md": "r\n"}},
		project: func(g *scmtest.GitLab) string { return g.Path },
	})
	pr, err := f.host.ProposeChange(t.Context(), change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	head := f.fake.Head("podium/deploy/iris")
	want := &scm.PullRequest{Number: 1, URL: pr.URL, Branch: "podium/deploy/iris", Commit: head, Created: true}
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("MR (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(pr.URL, "/acme/models/-/merge_requests/1") {
		t.Errorf("URL = %q", pr.URL)
	}
	if diff := cmp.Diff([]string{f.fake.Head("main")}, f.fake.Parents(head)); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
	for path, content := range deployFiles {
		if got, _ := f.fake.File(head, path); got != content {
			t.Errorf("%s = %q, want %q", path, got, content)
		}
	}
	wantMR := scmtest.PullRequest{
		Number: 1, Title: "Deploy iris 0123456789ab", Body: "Promote iris to 0123456789ab.",
		Head: "podium/deploy/iris", Base: "main", State: "opened", Labels: []string{"model-deploy"},
		Author: "podium-bot", HeadSHA: head,
	}
	if diff := cmp.Diff([]scmtest.PullRequest{wantMR}, f.fake.MergeRequests()); diff != "" {
		t.Errorf("fake MRs (-want +got):\n%s", diff)
	}
	wantWrites := []string{"POST /projects/acme/models/repository/commits", "POST /projects/acme/models/merge_requests"}
	if diff := cmp.Diff(wantWrites, writes(f.fake.Requests())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

func TestProposeChangeRerun(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	ctx := t.Context()
	first, err := f.host.ProposeChange(ctx, change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	before := f.fake.Total()
	again, err := f.host.ProposeChange(ctx, change(deployFiles))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Number != first.Number || again.Commit != first.Commit {
		t.Errorf("rerun = %+v, want the same MR and commit, not created", again)
	}
	if w := writes(f.fake.Requests()[before:]); len(w) != 0 {
		t.Errorf("the rerun wrote: %v", w)
	}

	ch := change(map[string]string{"deploy/production/inference.yaml": "spec:\n  storageUri: gs://acme/iris/fedcba987654\n"})
	ch.Title = "Deploy iris fedcba987654"
	ch.Labels = append(ch.Labels, "ml")
	updated, err := f.host.ProposeChange(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Created || updated.Number != first.Number || updated.Commit == first.Commit {
		t.Errorf("update = %+v, want the same MR with a new commit", updated)
	}
	mrs := f.fake.MergeRequests()
	if len(mrs) != 1 || mrs[0].Title != "Deploy iris fedcba987654" {
		t.Fatalf("MRs = %+v, want one, retitled", mrs)
	}
	if diff := cmp.Diff([]string{"model-deploy", "ml"}, mrs[0].Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{f.fake.Head("main")}, f.fake.Parents(updated.Commit)); diff != "" {
		t.Errorf("the rebuilt branch is not one commit on main (-want +got):\n%s", diff)
	}
	if _, ok := f.fake.File("podium/deploy/iris", ".podium/registry/iris.json"); ok {
		t.Error("the branch still holds a file from the previous proposal")
	}
}

func TestProposeChangeReconcilesUnknownOutcomes(t *testing.T) {
	t.Parallel()
	mrs := "/projects/42/merge_requests"
	commits := "/projects/42/repository/commits"
	tests := []struct {
		name        string
		method      string
		path        string
		faults      []scmtest.Fault
		wantCreated bool
		wantMRPosts int
		wantCommits int
	}{
		{
			name: "502 after the MR was created", method: "POST", path: mrs,
			faults:      []scmtest.Fault{scmtest.Status(502).AfterHandling()},
			wantCreated: true, wantMRPosts: 1, wantCommits: 1,
		},
		{
			name: "connection reset after the MR was created", method: "POST", path: mrs,
			faults:      []scmtest.Fault{scmtest.ConnectionReset().AfterHandling()},
			wantCreated: true, wantMRPosts: 1, wantCommits: 1,
		},
		{
			name: "500 before the MR was created", method: "POST", path: mrs,
			faults:      []scmtest.Fault{scmtest.Status(500)},
			wantCreated: true, wantMRPosts: 2, wantCommits: 1,
		},
		{
			name: "reset after the commit was made", method: "POST", path: commits,
			faults:      []scmtest.Fault{scmtest.ConnectionReset().AfterHandling()},
			wantCreated: true, wantMRPosts: 1, wantCommits: 1,
		},
		{
			name: "502 before the commit was made", method: "POST", path: commits,
			faults:      []scmtest.Fault{scmtest.Status(502)},
			wantCreated: true, wantMRPosts: 1, wantCommits: 2,
		},
		{
			name: "429 with RateLimit-Reset on the commit", method: "POST", path: commits,
			faults:      []scmtest.Fault{{Status: 429, ResetIn: 12 * time.Second}},
			wantCreated: true, wantMRPosts: 1, wantCommits: 2,
		},
		{
			name: "5xx on HEAD file is retried", method: "HEAD", path: "/projects/42/repository/files/*",
			faults:      []scmtest.Fault{scmtest.Status(503)},
			wantCreated: true, wantMRPosts: 1, wantCommits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, setupOpts{})
			f.fake.Inject(tt.method, tt.path, tt.faults...)
			pr, err := f.host.ProposeChange(t.Context(), change(deployFiles))
			if err != nil {
				t.Fatal(err)
			}
			if pr.Created != tt.wantCreated || pr.Number != 1 {
				t.Errorf("MR = %+v", pr)
			}
			if got := len(f.fake.MergeRequests()); got != 1 {
				t.Errorf("%d MRs, want exactly 1", got)
			}
			if got := f.fake.Count("POST", mrs); got != tt.wantMRPosts {
				t.Errorf("POST %s sent %d times, want %d", mrs, got, tt.wantMRPosts)
			}
			if got := f.fake.Count("POST", commits); got != tt.wantCommits {
				t.Errorf("POST %s sent %d times, want %d", commits, got, tt.wantCommits)
			}
			if head := f.fake.Head("podium/deploy/iris"); head != pr.Commit {
				t.Errorf("branch at %s, MR says %s", head, pr.Commit)
			}
			if got := len(f.fake.Parents(pr.Commit)); got != 1 {
				t.Errorf("the branch commit has %d parents", got)
			}
		})
	}
}

func TestProposeChangeConcurrent(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	scmtest.ConcurrentProposals(t, f.host, f.fake.MergeRequests)
}

func TestUpsertComment(t *testing.T) {
	t.Parallel()
	const marker = "<!-- podium:report iris -->"
	tests := []struct {
		name   string
		others int
		spoof  bool
		system bool
		faults func(*scmtest.GitLab)
	}{
		{name: "plain"},
		{name: "a spoofed marker by someone else is not edited", spoof: true},
		{name: "a system note quoting the marker is ignored", system: true},
		{name: "podium's note on page 3", others: 250},
		{
			name: "502 after the note was posted",
			faults: func(g *scmtest.GitLab) {
				g.Inject("POST", "/projects/42/merge_requests/1/notes", scmtest.Status(502).AfterHandling())
			},
		},
		{
			name: "reset after the note was posted",
			faults: func(g *scmtest.GitLab) {
				g.Inject("POST", "/projects/42/merge_requests/1/notes", scmtest.ConnectionReset().AfterHandling())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, setupOpts{})
			ctx := t.Context()
			if _, err := f.host.ProposeChange(ctx, change(deployFiles)); err != nil {
				t.Fatal(err)
			}
			for i := range tt.others {
				f.fake.AddNote(1, "alice", fmt.Sprintf("note %d", i), false)
			}
			var foreign []int64
			if tt.spoof {
				foreign = append(foreign, f.fake.AddNote(1, "mallory", marker+"\nfake", false))
			}
			if tt.system {
				foreign = append(foreign, f.fake.AddNote(1, "podium-bot", marker+"\nsystem", true))
			}
			if tt.faults != nil {
				tt.faults(f.fake)
			}
			first, err := f.host.UpsertComment(ctx, 1, marker, "accuracy 0.95")
			if err != nil {
				t.Fatal(err)
			}
			if !first.Created || !strings.HasSuffix(first.URL, fmt.Sprintf("/acme/models/-/merge_requests/1#note_%d", first.ID)) {
				t.Errorf("first = %+v", first)
			}
			second, err := f.host.UpsertComment(ctx, 1, marker, "accuracy 0.96")
			if err != nil {
				t.Fatal(err)
			}
			if second.Created || second.ID != first.ID {
				t.Errorf("second = %+v, want note %d edited", second, first.ID)
			}
			var ours []scmtest.Comment
			for _, n := range f.fake.Notes(1) {
				for _, id := range foreign {
					if n.ID == id && strings.Contains(n.Body, "0.96") {
						t.Errorf("note %d (not podium's) was edited", id)
					}
				}
				if n.Author == "podium-bot" && !n.System {
					ours = append(ours, n)
				}
			}
			want := []scmtest.Comment{{ID: first.ID, Author: "podium-bot", Body: marker + "\naccuracy 0.96"}}
			if diff := cmp.Diff(want, ours); diff != "" {
				t.Errorf("podium's notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobTokenLimits(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{jobToken: true})
	ctx := t.Context()
	_, err := f.host.UpsertComment(ctx, 1, "<!-- m -->", "x")
	want := "the token may not comment on merge request !1: set GITLAB_TOKEN to a project access token (role Reporter or above) with the api scope; a CI_JOB_TOKEN cannot write notes or merge requests"
	var pe *scm.PermissionError
	if err == nil || err.Error() != want || !errors.As(err, &pe) {
		t.Errorf("error = %v, want the *scm.PermissionError %s", err, want)
	}
	if n := f.fake.Total(); n != 0 {
		t.Errorf("%d requests sent, want none: a job token cannot write notes", n)
	}
	// Reads and triggers work with it.
	if got, err := f.host.ReadFile(ctx, "", "README.md"); err != nil || string(got) != "# models\n" {
		t.Errorf("ReadFile = %q, %v", got, err)
	}
	res, err := f.host.Trigger(ctx, "retrain", "main", map[string]string{"REASON": "drift"})
	if err != nil {
		t.Fatal(err)
	}
	want2 := []scmtest.Dispatch{{Workflow: "trigger", Ref: "main", Inputs: map[string]string{"REASON": "drift", "PODIUM_WORKFLOW": "retrain"}, ID: res.ID, Triggered: true}}
	if diff := cmp.Diff(want2, f.fake.Pipelines()); diff != "" {
		t.Errorf("pipelines (-want +got):\n%s", diff)
	}
	_, err = f.host.ProposeChange(ctx, change(deployFiles))
	if err == nil || !strings.Contains(err.Error(), "(403 Forbidden)") || strings.Contains(err.Error(), "{message") {
		t.Errorf("ProposeChange with a job token: error = %v, want a 403 without the raw body", err)
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	ctx := t.Context()
	sha := f.fake.Head("main")
	f.fake.Inject("POST", "/projects/42/statuses/"+sha, scmtest.Status(502).AfterHandling())
	st := scm.Status{Context: "podium/gate", State: scm.StateFailure, Description: "accuracy fell", TargetURL: "https://ci/1"}
	if err := f.host.SetStatus(ctx, sha, st); err != nil {
		t.Fatal(err)
	}
	// The same state again: GitLab's "Cannot transition status" is success.
	if err := f.host.SetStatus(ctx, sha, st); err != nil {
		t.Fatal(err)
	}
	want := []scmtest.CommitStatus{{Context: "podium/gate", State: "failed", Description: "accuracy fell", TargetURL: "https://ci/1", Author: "podium-bot"}}
	if diff := cmp.Diff(want, f.fake.Statuses(sha)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got := f.fake.Count("POST", "/projects/42/statuses/*"); got != 3 {
		t.Errorf("%d status POSTs, want 3", got)
	}
}

func TestTrigger(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	ctx := t.Context()
	res, err := f.host.Trigger(ctx, "", "", map[string]string{"B": "2", "A": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.URL, fmt.Sprintf("/acme/models/-/pipelines/%d", res.ID)) {
		t.Errorf("result = %+v", res)
	}
	want := []scmtest.Dispatch{{Workflow: "pipeline", Ref: "main", Inputs: map[string]string{"A": "1", "B": "2"}, ID: res.ID}}
	if diff := cmp.Diff(want, f.fake.Pipelines()); diff != "" {
		t.Errorf("pipelines (-want +got):\n%s", diff)
	}
	f.fake.Inject("POST", "/projects/42/pipeline", scmtest.Status(502).AfterHandling())
	_, err = f.host.Trigger(ctx, "", "main", nil)
	if err == nil || !strings.Contains(err.Error(), "the pipeline on main may or may not have started (not retried)") {
		t.Errorf("error = %v", err)
	}
	if got := f.fake.Count("POST", "/projects/42/pipeline"); got != 2 {
		t.Errorf("%d pipeline POSTs, want 2", got)
	}
	_, err = f.host.Trigger(ctx, "", "nope", nil)
	if err == nil || !strings.Contains(err.Error(), "failed to start a pipeline on nope") || !strings.Contains(err.Error(), "Reference not found") {
		t.Errorf("error = %v", err)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{fake: scmtest.GitLabOptions{Files: map[string]string{".podium/registry/iris.json": `{"version":"a"}`}}})
	scmtest.ReadFileTest(t, f.host, f.fake)
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	ctx := t.Context()
	f.fake.Inject("*", "*", scmtest.EchoToken(500), scmtest.EchoToken(500), scmtest.EchoToken(500),
		scmtest.EchoToken(500), scmtest.EchoToken(500), scmtest.EchoToken(400))
	_, err := f.host.ReadFile(ctx, "main", "README.md")
	_, err2 := f.host.Trigger(ctx, "", "main", nil)
	for _, e := range []error{err, err2} {
		if e == nil {
			t.Fatal("no error")
		}
		msg := e.Error()
		if strings.Contains(msg, "CANARY") {
			t.Errorf("error leaks the token: %s", msg)
		}
		if !strings.Contains(msg, "***") {
			t.Errorf("error %q does not show the masked echo", msg)
		}
	}
	if strings.Contains(f.log.String(), "CANARY") || strings.Contains(strings.ToLower(f.log.String()), "private-token") {
		t.Errorf("log leaks: %s", f.log)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  gitlab.Config
		want string
	}{
		{gitlab.Config{Token: "t"}, "no GitLab project: want its id or group/project path"},
		{gitlab.Config{Project: "1"}, "no GitLab token"},
		{gitlab.Config{Project: "1", Token: "t", APIURL: "gitlab.example.com"}, `invalid GitLab API URL "gitlab.example.com"`},
	}
	for _, tt := range tests {
		if _, err := gitlab.New(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) error = %v, want %s", tt.cfg, err, tt.want)
		}
	}
}
