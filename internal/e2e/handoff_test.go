package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/rundir"
)

const handoffSpec = `version: 1
model: tiny
params:
  accuracy: 0.95
pipeline:
  - name: train
    run: |
      mkdir -p model && printf 'weights %s\n' "$PODIUM_PARAM_ACCURACY" > model/weights.txt
    inputs: [data/train.csv]
    outputs: [model/]
  - name: evaluate
    run: |
      printf '{"accuracy": %s}\n' "$PODIUM_PARAM_ACCURACY" > metrics.json
    needs: [train]
    inputs: [model, data/test.csv]
    outputs: [metrics.json]
metrics: metrics.json
artifact: model
evaluation_data: [data/test.csv]
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5, min_delta: 0.01}
`

func handoffPointer(t *testing.T, version string, accuracy float64, data string) string {
	t.Helper()
	out, err := registry.Marshal(&registry.Pointer{
		Model: "tiny", Version: version, Metrics: map[string]float64{"accuracy": accuracy},
		EvaluationData: map[string]string{"data/test.csv": digest(data)},
		Commit:         strings.Repeat("a", 40), PromotedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestReportCannotContradictCompare: compare decides once and writes the
// whole hand-off to compare.json. Changing the evaluation data and the
// registry (a new champion) afterwards must not change what report shows:
// it renders the run directory alone, byte for byte compare's report.
func TestReportCannotContradictCompare(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "podium.yaml", handoffSpec)
	gittest.WriteFile(t, dir, "data/train.csv", trainCSV)
	gittest.WriteFile(t, dir, "data/test.csv", testCSV)
	gittest.WriteFile(t, dir, ".podium/registry/tiny.json", handoffPointer(t, "v1", 0.9, testCSV))
	gittest.WriteFile(t, dir, ".gitignore", "run/\nmodel/\nmetrics.json\n.podium/cache/\n")
	gittest.Commit(t, dir, "champion v1")
	env := baseEnv(t)

	mustPodium(t, dir, env, "train", "--run-dir", "run")
	mustPodium(t, dir, env, "compare", "--run-dir", "run", "--allow-local-champion")
	cmpData, err := os.ReadFile(filepath.Join(dir, "run", rundir.CompareFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc rundir.Compare
	if err := json.Unmarshal(cmpData, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Decision != "promote" || doc.Champion == nil || doc.Champion.Version != "v1" || len(doc.Checks) != 1 ||
		doc.Checks[0].Rule == nil || doc.Checks[0].Rule.Text != "higher · ≥ 0.5 · Δ ≥ +0.01" {
		t.Fatalf("compare.json: %s", cmpData)
	}
	if doc.Candidate.Digests == nil || doc.Candidate.Digests.Artifacts["model"] == "" ||
		doc.Candidate.Digests.EvaluationData["data/test.csv"] != digest(testCSV) {
		t.Fatalf("compare.json lacks the candidate's digests: %s", cmpData)
	}
	compared, err := os.ReadFile(filepath.Join(dir, "run", "report.md"))
	if err != nil {
		t.Fatal(err)
	}

	// After compare: other evaluation data, and a new, stronger champion
	// that the candidate would not beat.
	gittest.WriteFile(t, dir, "data/test.csv", "x,y\n9,9\n")
	gittest.WriteFile(t, dir, ".podium/registry/tiny.json", handoffPointer(t, "v2", 0.99, "x,y\n9,9\n"))
	gittest.Commit(t, dir, "champion v2")

	res := mustPodium(t, dir, env, "report", "--run-dir", "run")
	if res.stdout != string(compared) {
		t.Errorf("report differs from the report compare rendered:\n--- compare\n%s\n--- report\n%s", compared, res.stdout)
	}
	for _, want := range []string{"### ✅ promote `tiny`", "against champion `v1`", "| `accuracy` | 0.9 | 0.95 | +0.05 | higher · ≥ 0.5 · Δ ≥ +0.01 | ✅ pass |"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "v2") || strings.Contains(res.stdout, digest("x,y\n9,9\n")[:19]) {
		t.Errorf("report shows the registry or data as they are now, not as compare saw them:\n%s", res.stdout)
	}
	var out struct{ Decision string }
	if err := json.Unmarshal([]byte(mustPodium(t, dir, env, "report", "--run-dir", "run", "--json").stdout), &out); err != nil || out.Decision != doc.Decision {
		t.Errorf("report --json decision %q (%v), want compare.json's %q", out.Decision, err, doc.Decision)
	}

}

// TestArtifactDigestOneAnswer: with artifact: model and outputs: [model/],
// record and propose (through compare.json's candidate digests) take the
// same digest from run.json. Before, record matched the exact string,
// found none and so did not notice an artifact changed after training.
func TestArtifactDigestOneAnswer(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "podium.yaml", handoffSpec)
	gittest.WriteFile(t, dir, "data/train.csv", trainCSV)
	gittest.WriteFile(t, dir, "data/test.csv", testCSV)
	gittest.WriteFile(t, dir, ".gitignore", "run/\nmodel/\nmetrics.json\n.podium/cache/\n")
	gittest.Commit(t, dir, "spec")
	env := baseEnv(t)
	mustPodium(t, dir, env, "train", "--run-dir", "run")
	mustPodium(t, dir, env, "compare", "--run-dir", "run")
	cmpData, err := os.ReadFile(filepath.Join(dir, "run", rundir.CompareFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc rundir.Compare
	if err := json.Unmarshal(cmpData, &doc); err != nil || doc.Candidate.Digests == nil {
		t.Fatalf("compare.json (%v): %s", err, cmpData)
	}
	want := doc.Candidate.Digests.Artifacts["model"]
	var rec struct {
		Artifact struct{ Digest string } `json:"artifact"`
	}
	path := strings.TrimSpace(mustPodium(t, dir, env, "record", "--run-dir", "run").stdout)
	data, err := os.ReadFile(filepath.Join(dir, path))
	if err != nil || json.Unmarshal(data, &rec) != nil {
		t.Fatalf("record %s: %v", path, err)
	}
	if want == "" || rec.Artifact.Digest != want {
		t.Errorf("record's artifact digest %q, compare.json's (propose's) %q", rec.Artifact.Digest, want)
	}
	// The run recorded model/'s digest, so a model changed since is refused.
	gittest.WriteFile(t, dir, "model/weights.txt", "tampered\n")
	res := podium(t, dir, env, "record", "--run-dir", "run")
	if res.code != 2 || !strings.Contains(res.stderr, "it changed after `podium train`") {
		t.Errorf("record of a changed artifact: exit %d, stderr %s", res.code, res.stderr)
	}
}
