package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// The tiny pipeline trains nothing: its steps are shell commands that
// write a "model" and metrics from the params, so a PR that raises the
// accuracy param beats the champion in milliseconds.
const tinySpec = `version: 1
model: tiny
params:
  accuracy: 0.90
pipeline:
  - name: train
    run: |
      mkdir -p model && printf 'weights for %s\n' "$PODIUM_PARAM_ACCURACY" > model/weights.txt
    inputs: [data/train.csv]
    outputs: [model/]
  - name: evaluate
    run: |
      printf '{"accuracy": %s, "latency_ms": {"p95": 3}}\n' "$PODIUM_PARAM_ACCURACY" > metrics.json
    needs: [train]
    inputs: [model/, data/test.csv]
    outputs: [metrics.json]
metrics: metrics.json
artifact: model/
evaluation_data: [data/test.csv]
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5, min_delta: 0.01}
    - {metric: latency_ms.p95, direction: lower, max_value: 10}
deploy:
  manifest: deploy/inference.yaml
  field: spec.predictor.model.storageUri
  value: "gs://acme-models/{{ .Model }}/{{ .Version }}"
  labels: [model-deploy]
`

const tinyManifest = `# Production inference service for tiny.
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: tiny   # keep in sync with podium.yaml
spec:
  predictor:
    minReplicas: 2
    model:
      modelFormat: {name: sklearn}
      # Set by podium propose.
      storageUri: "gs://acme-models/tiny/aaaaaaaaaaaa"   # champion
`

const (
	trainCSV     = "x,y\n1,0\n2,1\n"
	testCSV      = "x,y\n3,1\n4,0\n"
	championSHA  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	deployBranch = "podium/deploy/tiny"
)

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// seedFiles is the default branch of the repository: the spec, the
// manifest, the data and the champion's pointer.
func seedFiles(t *testing.T) map[string]string {
	t.Helper()
	ptr, err := registry.Marshal(&registry.Pointer{
		Model: "tiny", Version: "aaaaaaaaaaaa",
		Metrics:        map[string]float64{"accuracy": 0.90, "latency_ms.p95": 3},
		Artifacts:      map[string]string{"model/": digest("champion model")},
		EvaluationData: map[string]string{"data/test.csv": digest(testCSV)},
		Commit:         championSHA,
		PromotedAt:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"podium.yaml":                tinySpec,
		"deploy/inference.yaml":      tinyManifest,
		"data/train.csv":             trainCSV,
		"data/test.csv":              testCSV,
		".gitignore":                 "model/\nmetrics.json\n.podium/cache/\n.podium/run/\n",
		".podium/registry/tiny.json": string(ptr),
	}
}

// candidate clones the fake's repository, commits a better accuracy on
// branch "improve", pushes it and opens the PR. It returns the clone, the
// PR number and the candidate commit.
func candidate(t *testing.T, h fakeHost) (work string, pr int, sha string) {
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
	pr = h.openPR(t, "improve", "Raise the accuracy")
	return work, pr, sha
}

type compareDoc struct {
	Model    string `json:"model"`
	Decision string `json:"decision"`
	Champion *struct {
		Version string `json:"version"`
	} `json:"champion"`
}

func decision(t *testing.T, res result) compareDoc {
	t.Helper()
	var doc compareDoc
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("compare --json printed no JSON document: %v\n%s", err, res.stdout)
	}
	return doc
}

// deployPRs are the open or merged PRs from podium's deploy branch.
func deployPRs(h fakeHost) []scmtest.PullRequest {
	var out []scmtest.PullRequest
	for _, p := range h.pulls() {
		if p.Head == deployBranch {
			out = append(out, p)
		}
	}
	return out
}

// fault plans the faults one scenario injects, command by command.
type faultPlan struct {
	report  func(h fakeHost, pr int)
	propose func(h fakeHost)
	// injected is how many faults the plan injects: every one must have
	// been met, or the scenario did not test them.
	injected int
}

var (
	noFaults   = faultPlan{report: func(fakeHost, int) {}, propose: func(fakeHost) {}}
	withFaults = faultPlan{
		report: func(h fakeHost, pr int) {
			// The comment list fails once with a 500, the comment's
			// creation is rate limited once (429, Retry-After: 1).
			h.inject("GET", h.commentPath(pr), scmtest.Status(500))
			h.inject("POST", h.commentPath(pr), scmtest.TooManyRequests(1))
		},
		propose: func(h fakeHost) {
			// The PR is created but the answer is lost (connection reset),
			// the next lookup fails with a 502, and a later request is
			// rate limited.
			h.inject("POST", h.prPath(), scmtest.ConnectionReset().AfterHandling())
			h.inject("GET", h.prPath(), scmtest.Status(502))
			h.inject("*", "*", scmtest.TooManyRequests(1))
		},
		injected: 5,
	}
)

func TestDelivery(t *testing.T) {
	skipShort(t)
	hosts := []struct {
		name string
		new  func(t *testing.T) fakeHost
	}{
		{"github", func(t *testing.T) fakeHost { return newGitHub(t, githubCanary, seedFiles(t)) }},
		{"gitlab", func(t *testing.T) fakeHost { return newGitLab(t, gitlabCanary, seedFiles(t)) }},
	}
	plans := []struct {
		name string
		plan faultPlan
	}{
		{"clean", noFaults},
		{"faults", withFaults},
	}
	for _, host := range hosts {
		for _, plan := range plans {
			t.Run(host.name+"/"+plan.name, func(t *testing.T) {
				t.Parallel()
				deliver(t, host.new(t), plan.plan)
			})
		}
	}
}

// deliver runs the whole loop against h and checks the end state.
func deliver(t *testing.T, h fakeHost, faults faultPlan) {
	work, pr, sha := candidate(t, h)
	out := t.TempDir()
	env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", out)...)
	runDir := filepath.Join(t.TempDir(), "run")
	var transcript []result

	transcript = append(transcript, mustPodium(t, work, env, "train", "--run-dir", runDir))
	cmp := mustPodium(t, work, env, "compare", "--run-dir", runDir, "--json")
	transcript = append(transcript, cmp)
	if d := decision(t, cmp); d.Decision != "promote" || d.Champion == nil || d.Champion.Version != "aaaaaaaaaaaa" {
		t.Fatalf("compare = %+v, want promote against champion aaaaaaaaaaaa\n%s", d, cmp.stdout)
	}
	transcript = append(transcript, mustPodium(t, work, env, "record", "--run-dir", runDir))

	faults.report(h, pr)
	for range 2 {
		transcript = append(transcript, mustPodium(t, work, env, "report", "--run-dir", runDir, "--comment"))
	}
	if got := h.comments(pr); len(got) != 1 {
		t.Fatalf("report --comment twice left %d comments on #%d, want 1", len(got), pr)
	}

	faults.propose(h)
	var prURL string
	for i := range 2 {
		res := mustPodium(t, work, env, "propose", "--run-dir", runDir)
		transcript = append(transcript, res)
		if i == 0 {
			prURL = strings.TrimSpace(res.stdout)
		} else if got := strings.TrimSpace(res.stdout); got != prURL {
			t.Errorf("the second propose printed %q, the first %q", got, prURL)
		}
	}
	if data, err := os.ReadFile(h.outputFile(out)); err != nil || !strings.Contains(string(data), prURL) || !strings.Contains(string(data), deployBranch) {
		t.Errorf("the step outputs do not hold the PR URL %q and branch (%v):\n%s", prURL, err, data)
	}
	prs := deployPRs(h)
	if len(prs) != 1 {
		t.Fatalf("propose twice left %d deployment PRs, want 1: %+v", len(prs), prs)
	}
	deploy := prs[0]
	if deploy.Title != "Deploy tiny "+sha[:12] {
		t.Errorf("deployment PR title = %q", deploy.Title)
	}
	if !contains(deploy.Labels, "model-deploy") {
		t.Errorf("deployment PR labels = %v, want model-deploy", deploy.Labels)
	}
	mainHead := h.head("main")
	branchHead := h.head(deployBranch)
	if got := h.parents(branchHead); len(got) != 1 || got[0] != mainHead {
		t.Fatalf("the deploy branch is not one commit on top of main: parents of %s = %v, main = %s", branchHead, got, mainHead)
	}
	if st := h.statuses(sha); len(st) == 0 || st[len(st)-1].Context != "podium/gate" || st[len(st)-1].State != "success" {
		t.Errorf("statuses on the candidate = %+v, want podium/gate success", st)
	}

	h.merge(t, deploy.Number)
	gittest.Git(t, work, "checkout", "-q", "main")
	gittest.Git(t, work, "pull", "-q", "--ff-only", "origin", "main")

	wantManifest := strings.Replace(tinyManifest, "gs://acme-models/tiny/aaaaaaaaaaaa", "gs://acme-models/tiny/"+sha[:12], 1)
	if got, err := os.ReadFile(filepath.Join(work, "deploy", "inference.yaml")); err != nil || string(got) != wantManifest {
		t.Errorf("manifest on main after the merge:\n%s\nwant:\n%s", got, wantManifest)
	}
	show := mustPodium(t, work, baseEnv(t), "registry", "show", "--model", "tiny", "--json")
	var shown struct {
		Champion *registry.Pointer `json:"champion"`
	}
	if err := json.Unmarshal([]byte(show.stdout), &shown); err != nil || shown.Champion == nil {
		t.Fatalf("registry show --json: %v\n%s", err, show.stdout)
	}
	if shown.Champion.Version != sha[:12] || shown.Champion.Commit != sha {
		t.Errorf("champion after the merge = %s (%s), want %s", shown.Champion.Version, shown.Champion.Commit, sha[:12])
	}
	if !strings.HasPrefix(shown.Champion.RecordDigest, "sha256:") {
		t.Errorf("champion names no record: %q", shown.Champion.RecordDigest)
	}

	// The champion trained again is not a new model: unchanged, and
	// propose has nothing to propose (exit 0, no pull request).
	again := mustPodium(t, work, env, "compare", "--run-dir", runDir, "--json", "--fail-on-reject")
	transcript = append(transcript, again)
	if d := decision(t, again); d.Decision != "unchanged" || d.Champion == nil || d.Champion.Version != sha[:12] {
		t.Errorf("compare of the same candidate after the merge = %+v, want unchanged against %s", d, sha[:12])
	}
	pullsBefore := len(h.pulls())
	none := mustPodium(t, work, env, "propose", "--run-dir", runDir)
	transcript = append(transcript, none)
	if !strings.Contains(none.stderr, "nothing to propose") || none.stdout != "" || len(h.pulls()) != pullsBefore {
		t.Errorf("propose of an unchanged candidate: stdout %q, stderr %q, %d PRs (was %d)", none.stdout, none.stderr, len(h.pulls()), pullsBefore)
	}

	met := 0
	for _, r := range h.requests() {
		if r.Fault != "" {
			met++
		}
	}
	if met != faults.injected {
		t.Errorf("%d requests met a fault, want %d", met, faults.injected)
	}
	assertNoToken(t, h.token(), transcript, out, runDir)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestConcurrentPropose runs two propose processes for the same model at
// the same time: exactly one deployment PR results.
func TestConcurrentPropose(t *testing.T) {
	skipShort(t)
	for _, host := range []struct {
		name string
		new  func(t *testing.T) fakeHost
	}{
		{"github", func(t *testing.T) fakeHost { return newGitHub(t, githubCanary, seedFiles(t)) }},
		{"gitlab", func(t *testing.T) fakeHost { return newGitLab(t, gitlabCanary, seedFiles(t)) }},
	} {
		t.Run(host.name, func(t *testing.T) {
			t.Parallel()
			h := host.new(t)
			work, pr, sha := candidate(t, h)
			env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", t.TempDir())...)
			runDir := filepath.Join(t.TempDir(), "run")
			mustPodium(t, work, env, "train", "--run-dir", runDir)
			mustPodium(t, work, env, "compare", "--run-dir", runDir)

			var wg sync.WaitGroup
			results := make([]result, 2)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = podium(t, work, env, "propose", "--run-dir", runDir)
				}()
			}
			wg.Wait()
			for i, res := range results {
				if res.code != 0 {
					t.Errorf("propose %d: exit %d\n%s", i, res.code, res.stderr)
				}
			}
			if prs := deployPRs(h); len(prs) != 1 {
				t.Fatalf("two concurrent proposes left %d deployment PRs, want 1: %+v", len(prs), prs)
			}
			if results[0].stdout != results[1].stdout {
				t.Errorf("the two runs name different PRs: %q and %q", results[0].stdout, results[1].stdout)
			}
		})
	}
}
