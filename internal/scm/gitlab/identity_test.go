package gitlab_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/scm/gitlab"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// newHost is another podium process's Host on the same fake.
func newHost(t *testing.T, f fixture, botLogin string) *gitlab.Host {
	t.Helper()
	hc := httpclient.New(httpclient.Options{Clock: f.clock, Jitter: func(time.Duration) time.Duration { return 0 }})
	t.Cleanup(hc.CloseIdleConnections)
	h, err := gitlab.New(gitlab.Config{
		APIURL: f.fake.URL, Project: "42", Token: f.fake.Token,
		HTTPClient: hc, Clock: f.clock, BotLogin: botLogin,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A project access token is a bot user: its notes are found on reruns,
// and marked notes by people are left alone, with the username from GET
// /user or configured.
func TestUpsertNoteBotUser(t *testing.T) {
	t.Parallel()
	const marker = "<!-- podium:report model=iris -->"
	for _, botLogin := range []string{"", "project_42_bot_3f2a"} {
		t.Run("login="+botLogin, func(t *testing.T) {
			t.Parallel()
			f := setup(t, setupOpts{fake: scmtest.GitLabOptions{Username: "project_42_bot_3f2a", Bot: true}})
			mr, _ := f.fake.OpenMR(t, "candidate", map[string]string{"m.txt": "1"})
			f.fake.AddNote(mr, "mallory", marker+"\nspoof", false)
			for _, body := range []string{"accuracy 0.95", "accuracy 0.96"} {
				if _, err := newHost(t, f, botLogin).UpsertComment(t.Context(), mr, marker, body); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string]string{}
			for _, n := range f.fake.Notes(mr) {
				got[n.Author] = strings.TrimPrefix(n.Body, marker+"\n")
			}
			want := map[string]string{"mallory": "spoof", "project_42_bot_3f2a": "accuracy 0.96"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("notes by author (-want +got):\n%s", diff)
			}
			wantUser := 2 // once a run
			if botLogin != "" {
				wantUser = 0
			}
			if n := f.fake.Count("GET", "/user"); n != wantUser {
				t.Errorf("GET /user sent %d times, want %d", n, wantUser)
			}
		})
	}
}

// Processes that comment on one MR at once leave exactly one note.
func TestUpsertNoteConcurrentRunsConverge(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{})
	open := func(branch string) int {
		mr, _ := f.fake.OpenMR(t, branch, map[string]string{"m.txt": branch})
		return mr
	}
	scmtest.ConcurrentUpserts(t, open, f.fake.Notes, func() scm.Host { return newHost(t, f, "") })
}

// A CI_JOB_TOKEN may not push or open a merge request: the error names
// the token to use instead, not GitLab's raw answer.
func TestJobTokenProposeIsPermissionError(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOpts{jobToken: true})
	_, err := f.host.ProposeChange(t.Context(), change(deployFiles))
	want := "the token may not push branch podium/deploy/iris and open its merge request (403 Forbidden): set GITLAB_TOKEN to a project access token (role Developer or above) with the api scope"
	var pe *scm.PermissionError
	if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant a *scm.PermissionError starting %q", err, want)
	}
	if strings.Contains(err.Error(), "{message") {
		t.Errorf("error holds the raw body: %v", err)
	}
}
