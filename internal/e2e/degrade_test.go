package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// jobTokenEnv is ciEnv with the CI_JOB_TOKEN in place of GITLAB_TOKEN.
func jobTokenEnv(g *gitlab, pr int, sha, dir string) []string {
	var env []string
	for _, kv := range g.ciEnv(pr, sha, "improve", dir) {
		if strings.HasPrefix(kv, "GITLAB_TOKEN=") {
			kv = "CI_JOB_TOKEN=" + g.JobToken
		}
		env = append(env, kv)
	}
	return env
}

var noticeLine = regexp.MustCompile(`(?m)^::notice |^notice: |: notice: `)

// A token that may not comment (a fork's read-only GITHUB_TOKEN, a GitLab
// CI_JOB_TOKEN): report --comment keeps the whole report where the job
// shows it, prints one notice saying why and what to configure, and
// exits 0; --require-comment makes it exit 1. propose fails naming the
// permission, never with the API's raw body.
func TestNoWriteAccess(t *testing.T) {
	skipShort(t)
	t.Run("github fork token", func(t *testing.T) {
		t.Parallel()
		h := newGitHubWith(t, scmtest.GitHubOptions{ReadOnly: true})
		work, pr, sha, runDir := reviewRun(t, h)
		out := t.TempDir()
		env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", out)...)
		res := podium(t, work, env, "report", "--run-dir", runDir, "--comment")
		if res.code != 0 {
			t.Fatalf("report --comment: exit %d, want 0\n%s", res.code, res.stderr)
		}
		if n := len(noticeLine.FindAllString(res.stderr, -1)); n != 1 || !strings.Contains(res.stderr, "pull-requests: write") ||
			!strings.Contains(res.stderr, "Resource not accessible by integration") {
			t.Errorf("want one notice naming pull-requests: write and GitHub's refusal, got:\n%s", res.stderr)
		}
		summary, err := os.ReadFile(h.summaryFile(out))
		if err != nil || !strings.Contains(string(summary), reportMarker) || !strings.Contains(string(summary), "promote `tiny`") {
			t.Errorf("the step summary lacks the report (%v):\n%s", err, summary)
		}
		if res.stdout != "" {
			t.Errorf("stdout = %q, want nothing: no comment URL", res.stdout)
		}

		res = podium(t, work, env, "report", "--run-dir", runDir, "--comment", "--require-comment")
		if res.code != 1 || !strings.Contains(res.stderr, "pull-requests: write") {
			t.Errorf("report --require-comment: exit %d, want 1 naming the permission\n%s", res.code, res.stderr)
		}
		res = podium(t, work, env, "propose", "--run-dir", runDir)
		if res.code != 1 || !strings.Contains(res.stderr, "contents: write") || !strings.Contains(res.stderr, "pull-requests: write") ||
			strings.Contains(res.stderr, "documentation_url") {
			t.Errorf("propose: exit %d, want 1 naming contents: write and pull-requests: write, no raw body\n%s", res.code, res.stderr)
		}
		if c := h.comments(pr); len(c) != 0 {
			t.Errorf("comments = %+v, want none", c)
		}
	})
	t.Run("gitlab job token", func(t *testing.T) {
		t.Parallel()
		h := newGitLab(t, gitlabCanary, seedFiles(t))
		work, pr, sha, runDir := reviewRun(t, h)
		env := append(baseEnv(t), jobTokenEnv(h, pr, sha, t.TempDir())...)
		res := podium(t, work, env, "report", "--run-dir", runDir, "--comment")
		if res.code != 0 {
			t.Fatalf("report --comment: exit %d, want 0\n%s", res.code, res.stderr)
		}
		if n := len(noticeLine.FindAllString(res.stderr, -1)); n != 1 || !strings.Contains(res.stderr, "project access token") {
			t.Errorf("want one notice naming a project access token, got:\n%s", res.stderr)
		}
		if !strings.Contains(res.stderr, reportMarker) || !strings.Contains(res.stderr, "promote `tiny`") {
			t.Errorf("the job log lacks the report:\n%s", res.stderr)
		}
		res = podium(t, work, env, "propose", "--run-dir", runDir)
		if res.code != 1 || !strings.Contains(res.stderr, "project access token") || !strings.Contains(res.stderr, "api scope") ||
			strings.Contains(res.stderr, "{message") {
			t.Errorf("propose: exit %d, want 1 naming a project access token with the api scope, no raw body\n%s", res.code, res.stderr)
		}
		if c := userNotes(h.Notes(pr)); len(c) != 0 {
			t.Errorf("notes = %+v, want none", c)
		}
	})
}

// The two-phase review of a fork's pull request: the pull_request run
// leaves its run directory (with the record) as an artifact; the
// workflow_run job publishes it from a checkout of the default branch.
// An artifact that names another pull request is refused; a good one
// gets one comment and one commit status, on the PR and head the event
// names.
func TestPublishFromArtifact(t *testing.T) {
	skipShort(t)
	h := newGitHubWith(t, scmtest.GitHubOptions{AppToken: true})
	// A victim PR of the repository's own, then the fork's.
	victim, _ := h.OpenPR(t, "other", map[string]string{"other.txt": "x"})
	seed := seedFiles(t)
	fork, headSHA := h.OpenForkPR(t, "eve", "improve", map[string]string{
		"podium.yaml": strings.Replace(seed["podium.yaml"], "accuracy: 0.90", "accuracy: 0.95", 1),
	})

	// Phase 1: the fork's code, in the pull_request job.
	work := filepath.Join(t.TempDir(), "fork")
	gittest.Git(t, filepath.Dir(work), "clone", "-q", h.gitDir(), work)
	gittest.Git(t, work, "fetch", "-q", "origin", "refs/pull/"+itoa(fork)+"/head")
	gittest.Git(t, work, "checkout", "-q", "-b", "improve", "FETCH_HEAD")
	artifact := func(claimedPR int) string {
		env := append(baseEnv(t), h.ciEnv(claimedPR, headSHA, "improve", t.TempDir())...)
		runDir := filepath.Join(t.TempDir(), "podium-run")
		mustPodium(t, work, env, "train", "--run-dir", runDir)
		mustPodium(t, work, env, "compare", "--run-dir", runDir)
		mustPodium(t, work, env, "record", "--run-dir", runDir)
		return runDir
	}

	// Phase 2: the default branch's code, in the workflow_run job.
	trusted := filepath.Join(t.TempDir(), "trusted")
	gittest.Git(t, filepath.Dir(trusted), "clone", "-q", h.gitDir(), trusted)
	event := filepath.Join(t.TempDir(), "event.json")
	data, err := json.Marshal(map[string]any{"workflow_run": map[string]any{
		"id": 777, "event": "pull_request", "head_sha": headSHA, "head_branch": "improve",
		"html_url":        "https://github.example/octo/models/actions/runs/777",
		"head_repository": map[string]any{"full_name": "eve/models"},
		"repository":      map[string]any{"full_name": "octo/models"},
		"pull_requests":   []any{}, // GitHub leaves it empty for a fork
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(event, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env := append(baseEnv(t), h.Env()...)
	env = append(env, "GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=workflow_run", "GITHUB_EVENT_PATH="+event,
		"GITHUB_SHA="+h.Head("main"), "GITHUB_REF=refs/heads/main", "GITHUB_RUN_ID=778",
		"GITHUB_OUTPUT="+h.outputFile(out), "GITHUB_STEP_SUMMARY="+h.summaryFile(out))

	forged := podium(t, trusted, env, "report", "--run-dir", artifact(victim), "--from-artifact")
	if forged.code != 2 || !strings.Contains(forged.stderr, "refused: the artifact says it is for pull request "+itoa(victim)) {
		t.Errorf("forged artifact: exit %d, want 2 and a refusal\n%s", forged.code, forged.stderr)
	}
	if c := append(h.comments(victim), h.comments(fork)...); len(c) != 0 {
		t.Errorf("comments after the forged artifact = %+v, want none", c)
	}
	if st := h.statuses(headSHA); len(st) != 0 {
		t.Errorf("statuses after the forged artifact = %+v, want none", st)
	}

	before := h.count("*", "*")
	mustPodium(t, trusted, env, "report", "--run-dir", artifact(fork), "--from-artifact")
	// The fork's PR found by its head (1), GET /user (1), the comments
	// listed, the comment created, listed again (3), the status (1).
	if n := h.count("*", "*") - before; n != 6 {
		t.Errorf("publish (comment + status) made %d requests, want 6", n)
	}
	if got := byAuthor(h.comments(fork)); got["github-actions[bot]"] != 1 || len(got) != 1 {
		t.Errorf("marked comments on the fork's PR = %v, want one", got)
	}
	st := h.statuses(headSHA)
	if len(st) != 1 || st[0].Context != "podium/gate" || st[0].State != "success" || st[0].TargetURL != "https://github.example/octo/models/actions/runs/777" {
		t.Errorf("statuses on the head = %+v, want one podium/gate success", st)
	}
	if c := h.comments(victim); len(c) != 0 {
		t.Errorf("comments on the victim = %+v, want none", c)
	}

	// The fork's job can write any compare.json: one that says promote
	// for metrics the default branch's gate rejects is decided again.
	forgedRun := artifact(fork)
	setMetric(t, filepath.Join(forgedRun, "run.json"), "accuracy", 0.5)
	res := podium(t, trusted, env, "report", "--run-dir", forgedRun, "--from-artifact")
	if res.code != 0 || !strings.Contains(res.stderr, "the artifact's compare.json said promote; decided again from the default branch's rules and champion: reject") {
		t.Errorf("forged decision: exit %d, want 0 and a warning naming both decisions\n%s", res.code, res.stderr)
	}
	st = h.statuses(headSHA)
	if last := st[len(st)-1]; last.State != "failure" || !strings.HasPrefix(last.Description, "reject:") {
		t.Errorf("the last podium/gate status = %+v, want failure: reject", last)
	}
	if c := h.comments(fork); len(c) != 1 || !strings.Contains(c[0].Body, "reject `tiny`") {
		t.Errorf("the fork's comment after a forged decision = %+v, want one, saying reject", c)
	}
}

// setMetric rewrites one metric in a run.json, as a pull request's job
// could before uploading its run directory.
func setMetric(t *testing.T, path, name string, v float64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var run map[string]any
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatal(err)
	}
	run["metrics"].(map[string]any)[name] = v
	if data, err = json.Marshal(run); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// --timeout bounds the whole command: a host that never answers ends it
// after the deadline, not after every attempt's own 30 s budget.
func TestTimeoutBoundsTheCommand(t *testing.T) {
	skipShort(t)
	h := newGitHubWith(t, scmtest.GitHubOptions{})
	work, pr, sha, runDir := reviewRun(t, h)
	env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", t.TempDir())...)
	for _, args := range [][]string{
		{"report", "--run-dir", runDir, "--comment", "--timeout", "2s"},
		{"propose", "--run-dir", runDir, "--timeout", "2s"},
		{"trigger", "--workflow", "retrain.yml", "--timeout", "2s"},
	} {
		h.inject("*", "*", scmtest.Hang(), scmtest.Hang(), scmtest.Hang())
		start := time.Now()
		res := podium(t, work, env, args...)
		took := time.Since(start)
		if res.code != 1 || !strings.Contains(res.stderr, "gave up after --timeout 2s") {
			t.Errorf("podium %s: exit %d, want 1 naming the timeout\n%s", args[0], res.code, res.stderr)
		}
		if took > 15*time.Second {
			t.Errorf("podium %s took %v, want about 2s", args[0], took)
		}
		h.ClearFaults()
	}
}
