package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// The tests here run the podium binary with the tokens people really
// use: a personal or fine-grained token, a workflow's GITHUB_TOKEN, a
// GitHub App's installation token, a fork's read-only GITHUB_TOKEN, a
// GitLab project access token (a bot user) and a CI_JOB_TOKEN.

const reportMarker = "<!-- podium:report model=tiny -->"

func newGitHubWith(t *testing.T, opts scmtest.GitHubOptions) *github {
	if opts.Token == "" {
		opts.Token = githubCanary
	}
	opts.Files = seedFiles(t)
	return &github{scmtest.NewGitHub(t, opts)}
}

// reviewRun trains and compares the candidate of a new PR on h (opened
// by a person, whatever h's token may do) and returns the work tree, the
// PR, its head and the run directory.
func reviewRun(t *testing.T, h fakeHost) (work string, pr int, sha, runDir string) {
	t.Helper()
	work = filepath.Join(t.TempDir(), "work")
	gittest.Git(t, filepath.Dir(work), "clone", "-q", h.gitDir(), work)
	gittest.Git(t, work, "checkout", "-q", "-b", "improve")
	spec, err := os.ReadFile(filepath.Join(work, "podium.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gittest.WriteFile(t, work, "podium.yaml", strings.Replace(string(spec), "accuracy: 0.90", "accuracy: 0.95", 1))
	sha = gittest.Commit(t, work, "Raise the accuracy")
	gittest.Git(t, work, "push", "-q", "origin", "improve")
	switch f := h.(type) {
	case *github:
		pr, _ = f.OpenPR(t, "improve", nil)
	case *gitlab:
		pr, _ = f.OpenMR(t, "improve", nil)
	}
	env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", t.TempDir())...)
	runDir = filepath.Join(t.TempDir(), "run")
	mustPodium(t, work, env, "train", "--run-dir", runDir)
	mustPodium(t, work, env, "compare", "--run-dir", runDir)
	return work, pr, sha, runDir
}

// byAuthor is the marked comments on pr, by author.
func byAuthor(comments []scmtest.Comment) map[string]int {
	out := map[string]int{}
	for _, c := range comments {
		if strings.Contains(c.Body, reportMarker) {
			out[c.Author]++
		}
	}
	return out
}

// Three reruns of report --comment leave one comment, whatever the token,
// and a marked comment by a person is never edited.
func TestReportCommentEveryTokenKind(t *testing.T) {
	skipShort(t)
	tests := []struct {
		name   string
		host   func(t *testing.T) fakeHost
		env    []string
		author string
	}{
		{"github personal token", func(t *testing.T) fakeHost { return newGitHubWith(t, scmtest.GitHubOptions{}) }, nil, "podium-bot"},
		{"github fine-grained token", func(t *testing.T) fakeHost {
			return newGitHubWith(t, scmtest.GitHubOptions{Token: "github_pat_CANARY0e2e_" + strings.Repeat("a1", 20)})
		}, nil, "podium-bot"},
		{"GITHUB_TOKEN", func(t *testing.T) fakeHost { return newGitHubWith(t, scmtest.GitHubOptions{AppToken: true}) }, nil, "github-actions[bot]"},
		{"github App installation token", func(t *testing.T) fakeHost {
			return newGitHubWith(t, scmtest.GitHubOptions{Token: "ghs_CANARY0e2e" + strings.Repeat("b2", 15), App: "podium-deployer"})
		}, nil, "podium-deployer[bot]"},
		{"github App token, PODIUM_BOT_LOGIN", func(t *testing.T) fakeHost {
			return newGitHubWith(t, scmtest.GitHubOptions{Token: "ghs_CANARY0e2e" + strings.Repeat("b2", 15), App: "podium-deployer"})
		}, []string{"PODIUM_BOT_LOGIN=podium-deployer[bot]"}, "podium-deployer[bot]"},
		{"gitlab project access token", func(t *testing.T) fakeHost {
			return &gitlab{scmtest.NewGitLab(t, scmtest.GitLabOptions{Token: gitlabCanary, Files: seedFiles(t), Username: "project_42_bot_3f2a", Bot: true})}
		}, nil, "project_42_bot_3f2a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.host(t)
			work, pr, sha, runDir := reviewRun(t, h)
			spoof := "mallory"
			switch f := h.(type) {
			case *github:
				f.AddComment(pr, spoof, reportMarker+"\nspoofed report")
			case *gitlab:
				f.AddNote(pr, spoof, reportMarker+"\nspoofed report", false)
			}
			env := append(append(baseEnv(t), h.ciEnv(pr, sha, "improve", t.TempDir())...), tt.env...)
			for range 3 {
				res := mustPodium(t, work, env, "report", "--run-dir", runDir, "--comment")
				if !strings.Contains(res.stdout, "#") {
					t.Errorf("stdout = %q, want the comment's URL", res.stdout)
				}
			}
			want := map[string]int{tt.author: 1, spoof: 1}
			if got := byAuthor(h.comments(pr)); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("marked comments by author = %v, want %v", got, want)
			}
			for _, c := range h.comments(pr) {
				if c.Author == spoof && c.Body != reportMarker+"\nspoofed report" {
					t.Errorf("podium edited the spoofed comment: %q", c.Body)
				}
			}
		})
	}
}

// 8 report --comment processes at once on one PR leave exactly one
// comment, round after round.
func TestConcurrentReportComment(t *testing.T) {
	skipShort(t)
	for _, tt := range []struct {
		name   string
		host   func(t *testing.T) fakeHost
		rounds int
	}{
		{"github App token", func(t *testing.T) fakeHost {
			return newGitHubWith(t, scmtest.GitHubOptions{Token: "ghs_CANARY0e2e" + strings.Repeat("b2", 15), App: "podium-deployer"})
		}, 20},
		{"gitlab", func(t *testing.T) fakeHost { return newGitLab(t, gitlabCanary, seedFiles(t)) }, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.host(t)
			work, _, sha, runDir := reviewRun(t, h)
			// The spec alone, outside git: the report then reads no
			// champion history, and each process does little besides
			// its requests, so the processes overlap.
			bare := t.TempDir()
			spec, err := os.ReadFile(filepath.Join(work, "podium.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			gittest.WriteFile(t, bare, "podium.yaml", string(spec))
			start := time.Now()
			for round := range tt.rounds {
				var pr int
				switch f := h.(type) {
				case *github:
					pr, _ = f.OpenPR(t, fmt.Sprintf("round-%d", round), map[string]string{"r.txt": fmt.Sprint(round)})
				case *gitlab:
					pr, _ = f.OpenMR(t, fmt.Sprintf("round-%d", round), map[string]string{"r.txt": fmt.Sprint(round)})
				}
				env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", t.TempDir())...)
				var wg sync.WaitGroup
				results := make([]result, 8)
				for i := range results {
					wg.Add(1)
					go func() {
						defer wg.Done()
						results[i] = podiumQuiet(t, bare, env, "report", "--run-dir", runDir, "--comment")
					}()
				}
				wg.Wait()
				for i, res := range results {
					if res.code != 0 {
						t.Fatalf("round %d, process %d: exit %d\n%s", round, i, res.code, res.stderr)
					}
				}
				if got := byAuthor(h.comments(pr)); len(got) != 1 || sum(got) != 1 {
					t.Fatalf("round %d: marked comments by author = %v, want exactly one", round, got)
				}
			}
			t.Logf("%d rounds of 8 processes in %v", tt.rounds, time.Since(start).Round(time.Millisecond))
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// podiumQuiet is podium without the per-call log line, for the many
// processes of a race.
func podiumQuiet(t *testing.T, dir string, env []string, args ...string) result {
	cmd := exec.Command(podiumBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		res.code = -1
		res.stderr += err.Error()
	}
	return res
}
