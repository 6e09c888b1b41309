//go:build runners

package runners

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// gclHost is the GitLab instance the user's repository names as origin;
// gitlab-ci-local reads its components from its include cache for it, and
// nothing ever connects to it.
const gclHost = "gitlab.example.com"

// gclRepo is a user's repository for gitlab-ci-local: a clone of the fake
// GitLab's, with examples/gitlab-ci.yml as its .gitlab-ci.yml.
type gclRepo struct {
	t    *testing.T
	fake *scmtest.GitLab
	dir  string
	tmp  string
	env  []string
	// kubectlLog is where the kubectl stand-in writes its arguments.
	kubectlLog string
}

func newGCLRepo(t *testing.T, example string, extra map[string]string) *gclRepo {
	t.Helper()
	tool(t, "PODIUM_GCL")
	tool(t, "PODIUM_NODE")
	files := exampleFiles(t, example, extra)
	files[".gitlab-ci.yml"] = shipped(t, "examples/gitlab-ci.yml")
	// What drift compares: the data the champion was trained on, and a
	// sample of what it serves that has drifted.
	if _, ok := files["data/reference.csv"]; !ok {
		files["data/reference.csv"] = shipped(t, "examples/drift/reference.csv")
		files["data/current.csv"] = shipped(t, "examples/drift/current.csv")
	}
	fake := scmtest.NewGitLab(t, scmtest.GitLabOptions{Path: "acme/models", Files: files})
	tmp := t.TempDir()
	r := &gclRepo{t: t, fake: fake, dir: filepath.Join(tmp, "repo"), tmp: tmp}
	git(t, tmp, "clone", "-q", "--origin", "fake", fake.Dir, r.dir)
	git(t, r.dir, "remote", "add", "origin", "https://"+gclHost+"/"+fake.Path+".git")

	// The components, where gitlab-ci-local looks for
	// $CI_SERVER_FQDN/podium-ml/podium/<name>@0.1.0.
	includes := filepath.Join(r.dir, ".gitlab-ci-local", "includes", gclHost, "podium-ml", "podium", "0.1.0", "templates")
	entries, err := os.ReadDir(filepath.Join(repoRoot, "templates"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		writeFile(t, filepath.Join(includes, e.Name()), shipped(t, "templates/"+e.Name()), 0o644)
	}
	// gitlab-ci-local runs each job in .gitlab-ci-local/builds/<job> but
	// sets CI_PROJECT_DIR to /builds/<path>; GitLab runs it in
	// CI_PROJECT_DIR. This file includes the example as shipped and fixes
	// only that.
	writeFile(t, filepath.Join(r.dir, ".gitlab-ci-local-e2e.yml"), `include:
  - local: .gitlab-ci.yml
default:
  before_script:
    - export CI_PROJECT_DIR="$PWD"
`, 0o644)
	writeFile(t, filepath.Join(r.dir, ".git", "info", "exclude"), ".gitlab-ci-local/\n.gitlab-ci-local-e2e.yml\n", 0o644)

	shims := makeShims(t, tmp)
	r.kubectlLog = filepath.Join(shims, "kubectl.log")
	r.env = append([]string{
		// The jobs in podium's image find podium on the PATH, as the image
		// has it; the others get it from the podium-binary job.
		"PATH=" + shims + string(os.PathListSeparator) + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + filepath.Join(tmp, "home"),
		"GOCACHE=" + goEnv(t, "GOCACHE"),
		"GOMODCACHE=" + goEnv(t, "GOMODCACHE"),
		"GOFLAGS=-mod=mod",
		"GOTOOLCHAIN=local",
	}, gitEnv...)
	return r
}

// pipeline runs the pipeline that source starts on the checked-out commit,
// with vars as the pipeline's variables.
func (r *gclRepo) pipeline(name string, vars map[string]string) run {
	r.t.Helper()
	args := []string{os.Getenv("PODIUM_GCL"),
		"--file", ".gitlab-ci-local-e2e.yml",
		"--force-shell-executor", "--shell-isolation",
		"--no-color",
		"--variable", "GITLAB_CI=true",
		// The fake GitLab's API, project and token (a masked CI/CD
		// variable in the project's settings).
		"--variable", "CI_API_V4_URL=" + r.fake.URL,
		"--variable", "CI_PROJECT_ID=" + strconv.Itoa(r.fake.ProjectID),
		"--variable", "CI_PROJECT_PATH=" + r.fake.Path,
		"--variable", "CI_DEFAULT_BRANCH=main",
		"--variable", "GITLAB_TOKEN=" + r.fake.Token,
	}
	for k, v := range vars {
		args = append(args, "--variable", k+"="+v)
	}
	res := runTool(r.t, r.dir, r.env, 15*time.Minute, os.Getenv("PODIUM_NODE"), args...)
	if logs := os.Getenv("PODIUM_E2E_LOGS"); logs != "" {
		_ = os.WriteFile(filepath.Join(logs, "gitlab-ci-local-"+name+".log"), []byte(res.log), 0o644)
	}
	return res
}

// checkout moves the clone to the fake's branch. origin/main stays where
// the default branch was before: gitlab-ci-local evaluates `rules:changes`
// against it, as GitLab does against the push's previous commit.
func (r *gclRepo) checkout(branch string) string {
	r.t.Helper()
	if out := git(r.t, r.dir, "rev-parse", "--verify", "-q", "fake/main"); out != "" {
		git(r.t, r.dir, "update-ref", "refs/remotes/origin/main", out)
		git(r.t, r.dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
	}
	git(r.t, r.dir, "fetch", "-q", "fake")
	git(r.t, r.dir, "checkout", "-q", "-B", branch, "fake/"+branch)
	return git(r.t, r.dir, "rev-parse", "HEAD")
}

// artifact returns a file a job kept as an artifact.
func (r *gclRepo) artifact(job, rel string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(r.dir, ".gitlab-ci-local", "artifacts", job, filepath.FromSlash(rel)))
	return string(data), err == nil
}

// dotenv returns a job's dotenv report.
func (r *gclRepo) dotenv(job string) map[string]string {
	r.t.Helper()
	data, ok := r.artifact(job, ".gitlab-ci-reports/dotenv/podium.env")
	if !ok {
		r.t.Fatalf("%s kept no dotenv report", job)
	}
	vars, err := ci.ParseDotenv(data)
	if err != nil {
		r.t.Fatal(err)
	}
	return vars
}

func (r *gclRepo) deployMRs() []scmtest.PullRequest {
	var out []scmtest.PullRequest
	for _, p := range r.fake.MergeRequests() {
		if strings.HasPrefix(p.Head, "podium/deploy/") && p.State == "opened" {
			out = append(out, p)
		}
	}
	return out
}

// The delivery loop on GitLab, in gitlab-ci-local, with
// examples/gitlab-ci.yml and the components as shipped.
func TestGitLabCILocalDeliveryLoop(t *testing.T) {
	t.Run("weather (Go)", func(t *testing.T) {
		testGitLabLoop(t, "weather", map[string]string{
			"go.mod": "module github.com/podium-ml/podium/examples/weather\n\ngo 1.26\n",
		})
	})
	t.Run("churn (Python)", func(t *testing.T) {
		reference := shipped(t, "examples/python/data/customers.csv")
		testGitLabLoop(t, "python", map[string]string{
			"data/reference.csv": reference,
			"data/current.csv":   drifted(t, reference),
		})
	})
}

func testGitLabLoop(t *testing.T, example string, extra map[string]string) {
	r := newGCLRepo(t, example, extra)

	// 1. A merge request changes the model: test, train, compare, record
	// (with train's outputs handed on), and the report note.
	spec, _ := r.fake.File("main", "podium.yaml")
	r.fake.Commit(t, "model-change", map[string]string{"podium.yaml": spec + "# reviewed in gitlab-ci-local\n"}, "model: review in gitlab-ci-local")
	r.checkout("model-change")
	iid := openMR(t, r.fake, "model-change")
	res := r.pipeline("merge-request", map[string]string{
		"CI_PIPELINE_SOURCE":   "merge_request_event",
		"CI_MERGE_REQUEST_IID": strconv.Itoa(iid),
		"CI_COMMIT_BRANCH":     "",
		"CI_COMMIT_REF_NAME":   "model-change",
	})
	mustSucceed(t, "merge request pipeline", res)
	notes := r.fake.Notes(iid)
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "promote") {
		t.Fatalf("merge request !%d notes %+v, want one report that says promote\n%s", iid, notes, tail(res.log, 80))
	}
	compare := r.dotenv("podium-compare")
	if compare["PODIUM_OUT_DECISION"] != "promote" || compare["PODIUM_OUT_REPORT"] != ".podium/run/report.md" {
		t.Errorf("compare's outputs %v, want decision promote and a report path relative to the project", compare)
	}
	if got := r.dotenv("podium-train")["PODIUM_OUT_RUN_DIR"]; got != ".podium/run" {
		t.Errorf("train's run-dir output %q, want .podium/run", got)
	}
	if rec := r.dotenv("podium-record")["PODIUM_OUT_RECORD"]; !strings.HasPrefix(rec, ".podium/run/podium-record-") {
		t.Errorf("record's output %q, want a path in .podium/run", rec)
	}
	// Each job's summary artifact holds its own section only.
	summary, _ := r.artifact("podium-compare", "podium-summary.md")
	if !strings.Contains(summary, "promote") || strings.Contains(summary, "### podium train") || strings.Contains(summary, "### podium test") {
		t.Errorf("compare's podium-summary.md holds other jobs' sections:\n%s", summary)
	}
	if len(r.deployMRs()) != 0 {
		t.Errorf("the merge request pipeline opened a deployment merge request")
	}

	// 2. The merge request merges: the default branch's pipeline restores
	// the steps from the cache and opens the deployment merge request.
	r.fake.Merge(t, iid)
	r.checkout("main")
	res = r.pipeline("default-branch", map[string]string{"CI_PIPELINE_SOURCE": "push"})
	mustSucceed(t, "default-branch pipeline", res)
	mrs := r.deployMRs()
	if len(mrs) != 1 {
		t.Fatalf("after the merge, %d deployment merge requests are open, want 1\n%s", len(mrs), tail(res.log, 80))
	}
	assertRestored(t, res.log)

	// 3. The schedule: drift says retrain and starts the retraining
	// pipeline with PODIUM_RETRAIN=true.
	res = r.pipeline("schedule", map[string]string{"CI_PIPELINE_SOURCE": "schedule"})
	mustSucceed(t, "scheduled pipeline", res)
	if got := r.dotenv("podium-drift")["PODIUM_OUT_RETRAIN"]; got != "true" {
		t.Errorf("drift's retrain output %q, want true", got)
	}
	started := r.fake.Pipelines()
	if len(started) != 1 || started[0].Inputs["PODIUM_RETRAIN"] != "true" {
		t.Fatalf("the schedule started pipelines %+v, want one with PODIUM_RETRAIN=true\n%s", started, tail(res.log, 60))
	}

	// 4. The retraining pipeline it started: the same candidate, the same
	// deployment merge request (updated, not a second one).
	res = r.pipeline("retrain", map[string]string{"CI_PIPELINE_SOURCE": "pipeline", "PODIUM_RETRAIN": "true"})
	mustSucceed(t, "retraining pipeline", res)
	if got := r.deployMRs(); len(got) != 1 || got[0].Number != mrs[0].Number {
		t.Errorf("after the retrain the deployment merge requests are %+v, want !%d alone", got, mrs[0].Number)
	}

	// 5. The deployment merges: the default branch's pipeline runs the
	// deploy job only (the model did not change).
	r.fake.Merge(t, mrs[0].Number)
	r.checkout("main")
	res = r.pipeline("deploy", map[string]string{"CI_PIPELINE_SOURCE": "push"})
	mustSucceed(t, "deploy pipeline", res)
	applied, err := os.ReadFile(r.kubectlLog)
	if err != nil || strings.TrimSpace(string(applied)) != "apply --filename deploy/production/" {
		t.Errorf("kubectl ran with %q (%v), want apply --filename deploy/production/", applied, err)
	}
	if strings.Contains(res.log, "podium-train ") {
		t.Errorf("merging the deployment retrained the model:\n%s", grepLines(res.log, "podium-train"))
	}
}

// openMR opens a merge request from branch to main through the fake's API.
func openMR(t *testing.T, fake *scmtest.GitLab, branch string) int {
	t.Helper()
	var mr struct{ IID int }
	apiJSON(t, "POST", fake.URL+"/projects/"+strconv.Itoa(fake.ProjectID)+"/merge_requests", "PRIVATE-TOKEN", fake.Token,
		map[string]string{"source_branch": branch, "target_branch": "main", "title": "Retune the model"}, &mr)
	return mr.IID
}
