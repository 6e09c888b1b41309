package github_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/scm/github"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// newHost is another podium process's Host on the same fake: it shares
// nothing with the fixture's (no login learnt, no cache).
func newHost(t *testing.T, f fixture, botLogin string) *github.Host {
	t.Helper()
	hc := httpclient.New(httpclient.Options{Clock: f.clock, Jitter: func(time.Duration) time.Duration { return 0 }})
	t.Cleanup(hc.CloseIdleConnections)
	h, err := github.New(github.Config{
		APIURL: f.fake.URL, Repo: f.fake.Owner + "/" + f.fake.Repo, Token: f.fake.Token,
		HTTPClient: hc, Clock: f.clock, BotLogin: botLogin,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Every kind of token finds podium's own comment on a rerun, by a new
// process, and leaves alone the marked comments of people and of other
// bots when it knows its login.
func TestUpsertCommentEveryTokenKind(t *testing.T) {
	t.Parallel()
	const marker = "<!-- podium:report model=iris -->"
	tests := []struct {
		name     string
		opts     scmtest.GitHubOptions
		botLogin string
		author   string // who podium's comment is by
		// others are marked comments already there: they must stay as
		// they are.
		others map[string]string
	}{
		{name: "personal access token", author: "podium-bot",
			others: map[string]string{"mallory": "spoof", "other-app[bot]": "another bot"}},
		{name: "fine-grained token", opts: scmtest.GitHubOptions{Token: "github_pat_CANARY" + strings.Repeat("x", 30)}, author: "podium-bot",
			others: map[string]string{"mallory": "spoof"}},
		{name: "GITHUB_TOKEN", opts: scmtest.GitHubOptions{AppToken: true}, author: "github-actions[bot]",
			others: map[string]string{"mallory": "spoof"}},
		{name: "App installation token", opts: scmtest.GitHubOptions{App: "podium-deployer"}, author: "podium-deployer[bot]",
			others: map[string]string{"mallory": "spoof", "podium-deployer": "a person named like the App"}},
		{name: "App token with the login configured", opts: scmtest.GitHubOptions{App: "podium-deployer"}, botLogin: "podium-deployer[bot]",
			author: "podium-deployer[bot]", others: map[string]string{"mallory": "spoof", "other-app[bot]": "another bot"}},
		{name: "App token with the slug configured", opts: scmtest.GitHubOptions{App: "podium-deployer"}, botLogin: "podium-deployer",
			author: "podium-deployer[bot]", others: map[string]string{"other-app[bot]": "another bot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tt.opts)
			pr, _ := f.fake.OpenPR(t, "candidate", map[string]string{"m.txt": "1"})
			// Marked comments by others come first, so a careless search
			// would find them before podium's.
			for author, text := range tt.others {
				f.fake.AddComment(pr, author, marker+"\n"+text)
			}
			var ids []int64
			for run, body := range []string{"accuracy 0.95", "accuracy 0.96", "accuracy 0.97"} {
				c, err := newHost(t, f, tt.botLogin).UpsertComment(t.Context(), pr, marker, body)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if c.Created != (run == 0) {
					t.Errorf("run %d: created = %v", run, c.Created)
				}
				ids = append(ids, c.ID)
			}
			if ids[1] != ids[0] || ids[2] != ids[0] {
				t.Errorf("comment ids %v, want one comment edited by the reruns", ids)
			}
			got := map[string]string{}
			for _, c := range f.fake.Comments(pr) {
				got[c.Author] = strings.TrimPrefix(c.Body, marker+"\n")
			}
			want := map[string]string{tt.author: "accuracy 0.97"}
			for author, text := range tt.others {
				want[author] = text
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("comments by author (-want +got):\n%s", diff)
			}
		})
	}
}

// Processes that comment on one PR at once leave exactly one comment,
// whatever the token kind and the interleaving.
func TestUpsertCommentConcurrentRunsConverge(t *testing.T) {
	t.Parallel()
	for _, opts := range []scmtest.GitHubOptions{{}, {AppToken: true}, {App: "podium-deployer"}} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			t.Parallel()
			f := setup(t, opts)
			open := func(branch string) int {
				pr, _ := f.fake.OpenPR(t, branch, map[string]string{"m.txt": branch})
				return pr
			}
			scmtest.ConcurrentUpserts(t, open, f.fake.Comments, func() scm.Host { return newHost(t, f, "") })
		})
	}
}

// A fork's read-only token may not comment, edit, set a status or push:
// each is a *scm.PermissionError naming what to configure, with GitHub's
// message and never its raw body.
func TestReadOnlyTokenIsPermissionError(t *testing.T) {
	t.Parallel()
	f := setup(t, scmtest.GitHubOptions{ReadOnly: true})
	pr, sha := f.fake.OpenPR(t, "candidate", map[string]string{"m.txt": "1"})
	ctx := t.Context()
	_, commentErr := f.host.UpsertComment(ctx, pr, "<!-- m -->", "x")
	statusErr := f.host.SetStatus(ctx, sha, scm.Status{Context: "podium/gate", State: scm.StateSuccess})
	_, proposeErr := f.host.ProposeChange(ctx, change(deployFiles))
	for _, tt := range []struct {
		err  error
		want string
	}{
		{commentErr, "failed to comment on #1: the token may not comment on #1 (403 Resource not accessible by integration): give the job `permissions: pull-requests: write`"},
		{statusErr, "the token may not set commit statuses (403 Resource not accessible by integration): give the job `permissions: statuses: write`"},
		{proposeErr, "the token may not push branch podium/deploy/iris and open its pull request (403 Resource not accessible by integration): give the job `permissions: contents: write` and `pull-requests: write`"},
	} {
		var pe *scm.PermissionError
		if !errors.As(tt.err, &pe) || !strings.HasPrefix(tt.err.Error(), tt.want) {
			t.Errorf("error = %v\nwant a *scm.PermissionError starting %q", tt.err, tt.want)
		}
		if tt.err != nil && strings.Contains(tt.err.Error(), "documentation_url") {
			t.Errorf("error holds the raw body: %v", tt.err)
		}
	}
	if got := f.fake.Comments(pr); len(got) != 0 {
		t.Errorf("comments = %+v, want none", got)
	}
}
