package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/oci/registrytest"
	"github.com/podium-ml/podium/internal/rundir"
)

// weatherOrigin makes a bare repository holding examples/weather as a
// user would commit it (sources, data, spec; no outputs), and returns its
// path. Each job of the test clones it: a clean checkout of one commit.
func weatherOrigin(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("../../examples/weather")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, sub := range []string{"podium.yaml", "data.schema.yaml", "pipeline", "data/weather.csv", "deploy"} {
		copyTree(t, filepath.Join(src, sub), filepath.Join(work, sub))
	}
	// The example's Go code lives in podium's module; on its own it needs
	// a go.mod (standard library only).
	gittest.WriteFile(t, work, "go.mod", "module github.com/podium-ml/podium/examples/weather\n\ngo 1.26\n")
	gittest.WriteFile(t, work, ".gitignore", ".podium/\nbin/\nmodel/\nreports/\nmetrics.json\ndata/train.csv\ndata/test.csv\n")
	gittest.Git(t, work, "init", "-q", "-b", "main")
	gittest.Git(t, work, "add", "-A")
	gittest.Git(t, work, "commit", "-qm", "weather")
	origin := filepath.Join(t.TempDir(), "origin.git")
	gittest.Git(t, work, "clone", "-q", "--bare", work, origin)
	return origin
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkout clones origin afresh: another machine, another job.
func checkout(t *testing.T, origin string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "weather")
	gittest.Git(t, filepath.Dir(dir), "clone", "-q", origin, dir)
	return dir
}

// goEnv lets the weather example's build step use this machine's Go
// caches, offline.
func goEnv(t *testing.T) []string {
	t.Helper()
	env := baseEnv(t)
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOROOT"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, k+"="+strings.TrimSpace(string(out)))
	}
	return append(env, "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
}

// runDigests is what must match between runs of the same commit: every
// step's input and output digests, the metrics, spec digest and commit.
type runDigests struct {
	SpecDigest string
	Commit     string
	Steps      map[string][2]map[string]string
	Metrics    map[string]float64
}

func readDigests(t *testing.T, dir string) (runDigests, map[string]string) {
	t.Helper()
	run, err := rundir.ReadRun(filepath.Join(dir, ".podium", "run"))
	if err != nil {
		t.Fatal(err)
	}
	d := runDigests{SpecDigest: run.SpecDigest, Commit: run.Commit, Steps: map[string][2]map[string]string{}, Metrics: run.Metrics}
	status := map[string]string{}
	for _, s := range run.Steps {
		d.Steps[s.Name] = [2]map[string]string{s.Inputs, s.Outputs}
		status[s.Name] = s.Status
	}
	return d, status
}

// TestWeatherFanOut runs the weather example as a fanned-out plan against
// a real registry: one job per step, each on its own clean checkout,
// pushing its outputs; then an assembling job on another clean checkout
// restores every step without running one, and its run.json has the
// digests of a single-machine run of the same commit.
func TestWeatherFanOut(t *testing.T) {
	skipShort(t)
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	origin := weatherOrigin(t)
	env := goEnv(t)
	remote := "oci://" + reg.Host + "/podium/weather-cache"

	single := checkout(t, origin)
	mustPodium(t, single, env, "train")
	want, _ := readDigests(t, single)

	// The plan's waves: build; prepare; train and profile; evaluate.
	for _, wave := range [][]string{{"build"}, {"prepare"}, {"train", "profile"}, {"evaluate"}} {
		for _, step := range wave {
			dir := checkout(t, origin)
			res := mustPodium(t, dir, env, "train", "--step", step, "--cache-remote", remote, "--cache-write")
			_, status := readDigests(t, dir)
			if status[step] != "ok" {
				t.Fatalf("job %s: status %q, want ok\n%s", step, status[step], res.stderr)
			}
			for name, st := range status {
				if name != step && st != "cached" {
					t.Errorf("job %s: needed step %s is %q, want cached (restored)", step, name, st)
				}
			}
			if !strings.Contains(res.stderr, step+": pushed to the remote cache") {
				t.Errorf("job %s did not push:\n%s", step, res.stderr)
			}
		}
	}

	assemble := checkout(t, origin)
	res := mustPodium(t, assemble, env, "train", "--cache-remote", remote)
	got, status := readDigests(t, assemble)
	for name, st := range status {
		if st != "cached" {
			t.Errorf("assembly: step %s is %q, want cached\n%s", name, st, res.stderr)
		}
	}
	if len(status) != 5 {
		t.Errorf("assembly ran %d steps, want 5", len(status))
	}
	// evaluate times one prediction (latency_ms.p95): that figure, and so
	// metrics.json's digest, differ between any two runs, fanned out or
	// not. Everything else must be identical.
	for _, d := range []*runDigests{&want, &got} {
		delete(d.Metrics, "latency_ms.p95")
		delete(d.Steps["evaluate"][1], "metrics.json")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fanned-out run.json differs from the single-machine run (-single +fanned out):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(assemble, "model")); err != nil {
		t.Errorf("the model was not restored: %v", err)
	}
}

// TestPullRequestCannotWriteRemoteCache runs train in a GitHub pull
// request's context against a real registry: it reads, and writes nothing.
func TestPullRequestCannotWriteRemoteCache(t *testing.T) {
	skipShort(t)
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	dir := t.TempDir()
	gittest.WriteFile(t, dir, "podium.yaml", `version: 1
model: tiny
cache: {remote: "oci://`+reg.Host+`/podium/pr-cache"}
pipeline:
  - {name: train, run: "mkdir -p model && echo weights > model/w.txt", outputs: [model/]}
`)
	event := filepath.Join(t.TempDir(), "event.json")
	gittest.WriteFile(t, filepath.Dir(event), "event.json", `{"pull_request": {"number": 7}, "repository": {"default_branch": "main"}}`)
	env := append(baseEnv(t),
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request", "GITHUB_REF=refs/pull/7/merge",
		"GITHUB_EVENT_PATH="+event, "GITHUB_REF_PROTECTED=true",
		"GITHUB_OUTPUT="+filepath.Join(t.TempDir(), "out"), "GITHUB_STEP_SUMMARY="+filepath.Join(t.TempDir(), "sum"))

	res := mustPodium(t, dir, env, "train")
	if !strings.Contains(res.stderr, "read-only") {
		t.Errorf("train did not say the remote cache is read-only:\n%s", res.stderr)
	}
	if strings.Contains(res.stderr, "pushed to the remote cache") {
		t.Errorf("a pull request pushed:\n%s", res.stderr)
	}
	resp, err := http.Get("http://" + reg.Host + "/v2/podium/pr-cache/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tags struct {
		Tags []string `json:"tags"`
	}
	json.NewDecoder(resp.Body).Decode(&tags)
	if resp.StatusCode != http.StatusNotFound || len(tags.Tags) != 0 {
		t.Errorf("the registry has tags %v (status %d) after a pull request's run, want none", tags.Tags, resp.StatusCode)
	}

	// The same run with the explicit override writes.
	res = mustPodium(t, dir, env, "train", "--force", "--cache-write")
	if !strings.Contains(res.stderr, "train: pushed to the remote cache") {
		t.Errorf("--cache-write did not push:\n%s", res.stderr)
	}
}

// TestPlanGitHubOutputs runs `podium plan --format github` as the plan job
// of the example workflow does: one matrix output per wave job.
func TestPlanGitHubOutputs(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := t.TempDir()
	gittest.WriteFile(t, dir, "podium.yaml", `version: 1
model: tiny
pipeline:
  - {name: prepare, run: "true"}
  - {name: train, run: "true", needs: [prepare], runs_on: [self-hosted, gpu]}
  - {name: profile, run: "true", needs: [prepare]}
`)
	out := filepath.Join(t.TempDir(), "github_output")
	env := append(baseEnv(t), "GITHUB_ACTIONS=true", "GITHUB_OUTPUT="+out)
	mustPodium(t, dir, env, "plan", "--format", "github", "--max-waves", "3")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		`{"include":[{"step":"prepare","runs-on":["ubuntu-24.04"]}]}`,
		`{"include":[{"step":"train","runs-on":["self-hosted","gpu"]},{"step":"profile","runs-on":["ubuntu-24.04"]}]}`,
		"wave-2<<", "waves<<",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, got)
		}
	}
	// Fewer wave jobs than waves: invalid input, nothing silently dropped.
	res := podium(t, dir, env, "plan", "--format", "github", "--max-waves", "1")
	if res.code != 2 || !strings.Contains(res.stderr, "more than --max-waves 1") {
		t.Errorf("plan with too few wave jobs: exit %d, stderr %q; want 2 naming --max-waves", res.code, res.stderr)
	}
}

// TestProposePushArtifact renders {{ .Artifact.OCI }} from the model
// pushed to a real registry: --dry-run gives the reference a push would
// give and sends nothing.
func TestProposePushArtifact(t *testing.T) {
	skipShort(t)
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "podium.yaml", `version: 1
model: tiny
pipeline:
  - name: train
    run: |
      mkdir -p model && echo weights > model/w.txt && echo '{"accuracy": 0.9}' > metrics.json
    outputs: [model/, metrics.json]
metrics: metrics.json
artifact: model/
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5}
deploy:
  manifest: deploy/inference.yaml
  field: spec.predictor.model.storageUri
  value: "{{ .Artifact.OCI }}"
`)
	gittest.WriteFile(t, dir, "deploy/inference.yaml", "spec:\n  predictor:\n    model:\n      storageUri: \"none\"\n")
	gittest.WriteFile(t, dir, ".gitignore", ".podium/\nmodel/\nmetrics.json\n")
	gittest.Commit(t, dir, "tiny")
	env := baseEnv(t)
	mustPodium(t, dir, env, "train")
	// No origin here: the champion can only be read from the work tree.
	mustPodium(t, dir, env, "compare", "--run-dir", ".podium/run", "--allow-local-champion")

	// Without --push-artifact a template that needs the reference is refused.
	res := podium(t, dir, env, "propose", "--run-dir", ".podium/run", "--dry-run")
	if res.code != 2 || !strings.Contains(res.stderr, "--push-artifact") {
		t.Errorf("propose without --push-artifact: exit %d, stderr %q; want 2 naming the flag", res.code, res.stderr)
	}
	remote := "oci://" + reg.Host + "/acme/tiny"
	res = mustPodium(t, dir, env, "propose", "--run-dir", ".podium/run", "--dry-run", "--push-artifact", remote)
	if !strings.Contains(res.stdout, `storageUri: "`+remote+`@sha256:`) {
		t.Errorf("the diff does not set the artifact's digest reference:\n%s\n%s", res.stdout, res.stderr)
	}
	resp, err := http.Get("http://" + reg.Host + "/v2/acme/tiny/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a dry run pushed (tags/list answered %d)", resp.StatusCode)
	}
}
