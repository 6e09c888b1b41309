//go:build runners

package runners

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// podiumPin is the commit the shipped workflows pin podium's actions at.
var podiumPin = regexp.MustCompile(`podium-ml/podium(?:/[a-z/]+)?@([0-9a-f]{40})`)

// actRepo is a user's repository for act: a clone of the fake's, whose
// "upstream" remote names the fake's owner/repo so act fills the github
// context from it.
type actRepo struct {
	t    *testing.T
	fake *scmtest.GitHub
	dir  string
	tmp  string
	// env is act's own environment; args are the flags every run passes.
	env  []string
	args []string
	// kubectlLog is where the kubectl stand-in writes its arguments.
	kubectlLog string
}

func newActRepo(t *testing.T, example string, extra map[string]string) *actRepo {
	t.Helper()
	act := tool(t, "PODIUM_ACT")
	actions := tool(t, "PODIUM_ACTIONS_DIR")
	files := exampleFiles(t, example, extra)
	var workflows []string
	for _, w := range []string{"model-review.yml", "retrain.yml", "deploy.yml"} {
		files[".github/workflows/"+w] = shipped(t, ".github/workflows/"+w)
		workflows = append(workflows, w)
	}
	fake := scmtest.NewGitHub(t, scmtest.GitHubOptions{Files: files, Workflows: workflows, AppToken: true})
	tmp := t.TempDir()
	r := &actRepo{t: t, fake: fake, dir: filepath.Join(tmp, "repo"), tmp: tmp}
	git(t, tmp, "clone", "-q", fake.Dir, r.dir)
	git(t, r.dir, "remote", "add", "upstream", "https://github.com/"+fake.Owner+"/"+fake.Repo)

	// podium's actions, at the commit the workflows pin: only the files an
	// action repository serves.
	m := podiumPin.FindStringSubmatch(shipped(t, ".github/workflows/model-review.yml"))
	if m == nil {
		t.Fatal("model-review.yml pins no podium action")
	}
	self := filepath.Join(tmp, "podium-action")
	writeFile(t, filepath.Join(self, "action.yml"), shipped(t, "action.yml"), 0o644)
	cp := exec.Command("cp", "-r", filepath.Join(repoRoot, "actions"), self)
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}

	// kubectl stands in for the cluster: deploy.yml's last step.
	shims := makeShims(t, tmp)
	r.kubectlLog = filepath.Join(shims, "kubectl.log")

	home := filepath.Join(tmp, "home")
	r.env = append([]string{
		"PATH=" + shims + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		// The example's steps build Go code: the machine's caches keep
		// that quick, and GOFLAGS lets its go.mod stand alone.
		"GOCACHE=" + goEnv(t, "GOCACHE"),
		"GOMODCACHE=" + goEnv(t, "GOMODCACHE"),
		"GOFLAGS=-mod=mod",
		"GOTOOLCHAIN=local",
	}, gitEnv...)
	r.args = []string{
		"-P", "ubuntu-24.04=-self-hosted",
		"--action-offline-mode",
		"--remote-name", "upstream",
		"--artifact-server-path", filepath.Join(tmp, "artifacts"),
		"--artifact-server-addr", "127.0.0.1",
		"--cache-server-path", filepath.Join(tmp, "cache"),
		"--cache-server-addr", "127.0.0.1",
		"--local-repository", "podium-ml/podium@" + m[1] + "=" + self,
		// What the runner would give the job: the fake's API and token, and
		// podium's binary from a directory laid out as the release's assets.
		"--env", "GITHUB_API_URL=" + fake.URL,
		"--env", "PODIUM_DIST=" + dist,
		"-s", "GITHUB_TOKEN=" + fake.Token,
	}
	entries, err := os.ReadDir(actions)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// actions/checkout@<sha> serves actions/checkout at <sha>.
		r.args = append(r.args, "--local-repository", "actions/"+e.Name()+"="+filepath.Join(actions, e.Name()))
	}
	_ = act
	return r
}

// act runs one event of one workflow and returns the outcome.
func (r *actRepo) act(event, workflow string, payload map[string]any) run {
	r.t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		r.t.Fatal(err)
	}
	eventFile := filepath.Join(r.tmp, event+".json")
	writeFile(r.t, eventFile, string(data), 0o644)
	args := append([]string{event, "-W", ".github/workflows/" + workflow, "-e", eventFile}, r.args...)
	res := runTool(r.t, r.dir, r.env, 15*time.Minute, os.Getenv("PODIUM_ACT"), args...)
	logFile := filepath.Join(os.Getenv("PODIUM_E2E_LOGS"), "act-"+strings.TrimSuffix(workflow, ".yml")+"-"+event+".log")
	if os.Getenv("PODIUM_E2E_LOGS") != "" {
		_ = os.WriteFile(logFile, []byte(res.log), 0o644)
	}
	return res
}

func (r *actRepo) repository() map[string]any {
	return map[string]any{
		"full_name":      r.fake.Owner + "/" + r.fake.Repo,
		"name":           r.fake.Repo,
		"owner":          map[string]any{"login": r.fake.Owner},
		"default_branch": "main",
	}
}

// openPR opens a pull request from branch to main through the fake's API,
// as a person would, and returns its number.
func (r *actRepo) openPR(branch, title string) int {
	r.t.Helper()
	var pr struct{ Number int }
	apiJSON(r.t, "POST", r.fake.URL+"/repos/"+r.fake.Owner+"/"+r.fake.Repo+"/pulls", "Authorization", "Bearer "+r.fake.Token,
		map[string]string{"title": title, "head": branch, "base": "main"}, &pr)
	return pr.Number
}

// checkout moves the clone to the fake's branch.
func (r *actRepo) checkout(branch string) string {
	r.t.Helper()
	git(r.t, r.dir, "fetch", "-q", "origin")
	git(r.t, r.dir, "checkout", "-q", "-B", branch, "origin/"+branch)
	return git(r.t, r.dir, "rev-parse", "HEAD")
}

func (r *actRepo) pullRequestEvent(number int, branch, sha string) map[string]any {
	repo := r.repository()
	return map[string]any{
		"action": "synchronize", "number": number, "repository": repo,
		"pull_request": map[string]any{
			"number": number,
			"head":   map[string]any{"ref": branch, "sha": sha, "repo": repo},
			"base":   map[string]any{"ref": "main", "repo": repo},
		},
	}
}

func (r *actRepo) pushEvent(before, after string) map[string]any {
	return map[string]any{"ref": "refs/heads/main", "before": before, "after": after, "repository": r.repository()}
}

// deployPRs returns the open deployment pull requests.
func (r *actRepo) deployPRs() []scmtest.PullRequest {
	var out []scmtest.PullRequest
	for _, p := range r.fake.PullRequests() {
		if strings.HasPrefix(p.Head, "podium/deploy/") && p.State == "open" {
			out = append(out, p)
		}
	}
	return out
}

func mustSucceed(t *testing.T, what string, res run) {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("%s: exit %d\n%s", what, res.code, tail(res.log, 150))
	}
}

// The delivery loop on GitHub, in act, with the shipped workflows: review
// a model change in its pull request, merge it, let the default branch
// propose the deployment, retrain on request, merge the deployment and
// apply it.
func TestActDeliveryLoop(t *testing.T) {
	t.Run("weather (Go)", func(t *testing.T) {
		testActLoop(t, "weather", map[string]string{
			// The example's Go code lives in podium's module; on its own it
			// needs a go.mod (standard library only).
			"go.mod": "module github.com/podium-ml/podium/examples/weather\n\ngo 1.26\n",
		})
	})
	t.Run("churn (Python)", func(t *testing.T) {
		testActLoop(t, "python", nil)
	})
}

func testActLoop(t *testing.T, example string, extra map[string]string) {
	r := newActRepo(t, example, extra)
	base := r.fake.Head("main")

	// 1. A pull request changes the model: the review comments its report.
	spec, _ := r.fake.File("main", "podium.yaml")
	r.fake.Commit(t, "model-change", map[string]string{"podium.yaml": spec + "# reviewed in act\n"}, "model: review in act")
	number := r.openPR("model-change", "Retune the model")
	sha := r.checkout("model-change")
	res := r.act("pull_request", "model-review.yml", r.pullRequestEvent(number, "model-change", sha))
	mustSucceed(t, "model-review on pull_request", res)
	comments := r.fake.Comments(number)
	if len(comments) != 1 {
		t.Fatalf("pull request #%d has %d comments, want the one report\n%s", number, len(comments), tail(res.log, 80))
	}
	if body := comments[0].Body; !strings.Contains(body, "promote") {
		t.Errorf("the report comment does not say promote:\n%s", body)
	}
	if got := r.deployPRs(); len(got) != 0 {
		t.Errorf("the review opened a deployment pull request: %+v", got)
	}
	// Outputs are workspace paths a later step can open, not container paths.
	for _, want := range []string{"run-dir=.podium/run", "decision=promote", "record=.podium/run/podium-record-", "report=.podium/run/report.md"} {
		if !strings.Contains(res.log, "::set-output:: "+want) {
			t.Errorf("no output %s in the review:\n%s", want, grepLines(res.log, "set-output"))
		}
	}
	if strings.Contains(res.log, "/github/workspace") {
		t.Errorf("a step saw a container path:\n%s", grepLines(res.log, "/github/workspace"))
	}
	assertNoOwnedByRoot(t, r.dir)

	// 2. The pull request merges: the default branch proposes the deployment
	// from the review's run, restored from the cache, without retraining.
	merge := r.fake.Merge(t, number)
	r.checkout("main")
	res = r.act("push", "model-review.yml", r.pushEvent(base, merge))
	mustSucceed(t, "model-review on push to main", res)
	prs := r.deployPRs()
	if len(prs) != 1 {
		t.Fatalf("after the merge, %d deployment pull requests are open, want 1\n%s", len(prs), tail(res.log, 80))
	}
	assertRestored(t, res.log)

	// 3. A retrain someone asked for: the same candidate, the same
	// deployment pull request (updated, not a second one).
	res = r.act("workflow_dispatch", "retrain.yml", map[string]any{
		"inputs": map[string]any{"force": "false", "reason": "e2e"}, "ref": "refs/heads/main", "repository": r.repository(),
	})
	mustSucceed(t, "retrain on workflow_dispatch", res)
	if got := r.deployPRs(); len(got) != 1 || got[0].Number != prs[0].Number {
		t.Errorf("after the retrain the deployment pull requests are %+v, want #%d alone", got, prs[0].Number)
	}

	// 4. The deployment merges: deploy.yml shows the champion and applies
	// the manifests.
	before := r.fake.Head("main")
	deployMerge := r.fake.Merge(t, prs[0].Number)
	r.checkout("main")
	res = r.act("push", "deploy.yml", r.pushEvent(before, deployMerge))
	mustSucceed(t, "deploy on push to main", res)
	if !strings.Contains(res.log, "champion") {
		t.Errorf("deploy did not show the champion:\n%s", tail(res.log, 40))
	}
	applied, err := os.ReadFile(r.kubectlLog)
	if err != nil || strings.TrimSpace(string(applied)) != "apply --filename deploy/production/" {
		t.Errorf("kubectl ran with %q (%v), want apply --filename deploy/production/", applied, err)
	}
}

// grepLines returns the lines of s that match the regular expression.
func grepLines(s, expr string) string {
	re := regexp.MustCompile(expr)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if re.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// assertNoOwnedByRoot fails when the job left a file the user does not own
// (a container action writes as root).
func assertNoOwnedByRoot(t *testing.T, dir string) {
	t.Helper()
	uid := os.Getuid()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if st, ok := fileOwner(info); ok && st != uid {
			t.Errorf("%s is owned by uid %d, not the job's user %d", p, st, uid)
		}
		return nil
	})
}
