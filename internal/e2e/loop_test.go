package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/rundir"
)

// loopSpec is a three-step pipeline whose steps declare the params they
// use: prepare none, train seed, evaluate none.
const loopSpec = `version: 1
model: loop
params: {seed: 1, threshold: 0.5}
components:
  - {name: code, path: src}
pipeline:
  - name: prepare
    run: mkdir -p data && tr a-z A-Z < raw.csv > data/clean.csv
    inputs: [raw.csv]
    outputs: [data/clean.csv]
    params: []
  - name: train
    run: mkdir -p model && { cat data/clean.csv src/train.py; echo "seed=$PODIUM_PARAM_SEED"; } > model/weights
    needs: [prepare]
    inputs: [data/clean.csv, src/train.py]
    outputs: [model/]
    params: [seed]
  - name: evaluate
    run: |
      printf '{"accuracy": 0.9298245614035088, "loss": 0.25}' > metrics.json
    needs: [train]
    inputs: [model/]
    outputs: [metrics.json]
    params: []
metrics: metrics.json
artifact: model/
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5}
deploy:
  manifest: deploy.yaml
  field: spec.uri
  value: "s3://models/{{ .Version }}"
`

// loopRepo is a committed project with loopSpec; the outputs are ignored.
func loopRepo(t *testing.T) (dir string, env []string) {
	t.Helper()
	dir = t.TempDir()
	files := map[string]string{
		"podium.yaml":      loopSpec,
		"raw.csv":          "a,b\n1,2\n",
		"src/train.py":     "print('train')\n",
		"requirements.txt": "numpy==2.1.0\n",
		"deploy.yaml":      "spec:\n  uri: s3://models/none\n",
		".gitignore":       ".podium/\ndata/\nmodel/\nmetrics.json\n",
	}
	for name, content := range files {
		gittest.WriteFile(t, dir, name, content)
	}
	gittest.Git(t, dir, "init", "-q", "-b", "main")
	gittest.Git(t, dir, "add", "-A")
	gittest.Git(t, dir, "commit", "-qm", "loop")
	return dir, baseEnv(t)
}

func readRunJSON(t *testing.T, dir string) *rundir.Run {
	t.Helper()
	run, err := rundir.ReadRun(filepath.Join(dir, ".podium", "run"))
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func stepStatuses(run *rundir.Run) map[string]string {
	m := map[string]string{}
	for _, s := range run.Steps {
		m[s.Name] = s.Status
	}
	return m
}

// TestDirtyTree: a run from a dirty tree says so in run.json and the
// record, the report cautions, and propose refuses it unless told.
func TestDirtyTree(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir, env := loopRepo(t)
	gittest.WriteFile(t, dir, "src/train.py", "print('edited, not committed')\n")
	res := mustPodium(t, dir, env, "train")
	if !strings.Contains(res.stderr, "the work tree differs from the commit (src/train.py)") {
		t.Errorf("train does not warn of the dirty tree:\n%s", res.stderr)
	}
	run := readRunJSON(t, dir)
	if diff := cmp.Diff(&rundir.Worktree{Clean: false, Changed: []string{"src/train.py"}}, run.Worktree); diff != "" {
		t.Errorf("run.json worktree (-want +got):\n%s", diff)
	}
	// No origin here: the champion (none) is read from the working tree.
	mustPodium(t, dir, env, "compare", "--run-dir", ".podium/run", "--allow-local-champion")
	mustPodium(t, dir, env, "record", "--run-dir", ".podium/run", "--out", "rec.json")
	var rec struct {
		Commit struct {
			Clean   *bool    `json:"clean"`
			Changed []string `json:"changed"`
		} `json:"commit"`
		Environment struct {
			Lockfiles []rundir.Lockfile `json:"lockfiles"`
		} `json:"environment"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "rec.json"))
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Commit.Clean == nil || *rec.Commit.Clean || !cmp.Equal(rec.Commit.Changed, []string{"src/train.py"}) {
		t.Errorf("record commit clean=%v changed=%v, want false and src/train.py", rec.Commit.Clean, rec.Commit.Changed)
	}
	if len(rec.Environment.Lockfiles) != 1 || rec.Environment.Lockfiles[0].Path != "requirements.txt" ||
		rec.Environment.Lockfiles[0].Digest != digest("numpy==2.1.0\n") {
		t.Errorf("record lockfiles = %+v, want requirements.txt with its digest", rec.Environment.Lockfiles)
	}
	rep := mustPodium(t, dir, env, "report", "--run-dir", ".podium/run")
	if !strings.Contains(rep.stdout, "Trained from a dirty work tree") || !strings.Contains(rep.stdout, "`src/train.py`") {
		t.Errorf("report lacks the caution:\n%s", rep.stdout)
	}
	refused := podium(t, dir, env, "propose", "--run-dir", ".podium/run", "--dry-run")
	if refused.code != 2 || !strings.Contains(refused.stderr, "trained from a work tree that differed from commit") ||
		!strings.Contains(refused.stderr, "--allow-dirty") {
		t.Errorf("propose of a dirty candidate: exit %d\n%s", refused.code, refused.stderr)
	}
	allowed := mustPodium(t, dir, env, "propose", "--run-dir", ".podium/run", "--dry-run", "--allow-dirty")
	if !strings.Contains(allowed.stdout, "s3://models/") {
		t.Errorf("propose --allow-dirty shows no change:\n%s", allowed.stdout)
	}

	// Committed, the tree is clean again.
	gittest.Git(t, dir, "commit", "-qam", "train.py")
	mustPodium(t, dir, env, "train")
	if wt := readRunJSON(t, dir).Worktree; wt == nil || !wt.Clean || len(wt.Changed) != 0 {
		t.Errorf("worktree after commit = %+v, want clean", wt)
	}
}

// TestFailedRunsSayWhy: every command that reads a failed run names the
// real reason.
func TestFailedRunsSayWhy(t *testing.T) {
	skipShort(t)
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(spec string) string
		trainCode int
		trainErr  string
	}{
		{
			name:      "a declared output is not written",
			edit:      func(s string) string { return strings.Replace(s, "> metrics.json", "> /dev/null", 1) },
			trainCode: 1,
			trainErr:  "pipeline failed: evaluate (exited with status 0 but did not write its declared output metrics.json)",
		},
		{
			name:      "NaN in a metric no rule gates",
			edit:      func(s string) string { return strings.Replace(s, `"loss": 0.25`, `"loss": NaN`, 1) },
			trainCode: 2,
			trainErr:  "metrics.json:1:42: loss: NaN: JSON has no NaN or Infinity",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, env := loopRepo(t)
			gittest.WriteFile(t, dir, "podium.yaml", tt.edit(loopSpec))
			gittest.Git(t, dir, "commit", "-qam", "break it")
			res := podium(t, dir, env, "train")
			if res.code != tt.trainCode || !strings.Contains(res.stderr, tt.trainErr) {
				t.Fatalf("train: exit %d, want %d and %q\n%s", res.code, tt.trainCode, tt.trainErr, res.stderr)
			}
			if tt.trainCode == 1 && !strings.Contains(res.stdout, "evaluate  failed  0     ") ||
				tt.trainCode == 1 && !strings.Contains(res.stdout, "did not write its declared output metrics.json") {
				t.Errorf("train's table does not say why evaluate failed:\n%s", res.stdout)
			}
			failure := readRunJSON(t, dir).Failure
			if !strings.Contains(failure, tt.trainErr) {
				t.Errorf("run.json failure = %q, want it to hold %q", failure, tt.trainErr)
			}
			for _, args := range [][]string{
				{"compare", "--run-dir", ".podium/run"},
				{"record", "--run-dir", ".podium/run"},
				{"propose", "--run-dir", ".podium/run", "--dry-run"},
			} {
				got := podium(t, dir, env, args...)
				if got.code != 2 || !strings.Contains(got.stderr, "the run is unusable: "+failure) {
					t.Errorf("podium %s: exit %d, want 2 and the run's failure %q\n%s", args[0], got.code, failure, got.stderr)
				}
				if strings.Contains(got.stderr, "has no metric") {
					t.Errorf("podium %s blames a missing metric:\n%s", args[0], got.stderr)
				}
			}
		})
	}
}

// TestRecordOutsideGit: the cause is "not a git repository", not a
// malformed commit.
func TestRecordOutsideGit(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir, env := loopRepo(t)
	os.RemoveAll(filepath.Join(dir, ".git"))
	mustPodium(t, dir, env, "train")
	res := podium(t, dir, env, "record", "--run-dir", ".podium/run")
	if res.code != 2 || !strings.Contains(res.stderr, "podium train ran outside a git repository") ||
		strings.Contains(res.stderr, `commit ""`) {
		t.Errorf("record without git: exit %d\n%s", res.code, res.stderr)
	}
}

// TestInterrupt: Ctrl-C stops the step, marks it interrupted, and podium
// exits 130.
func TestInterrupt(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir, env := loopRepo(t)
	gittest.WriteFile(t, dir, "podium.yaml", strings.Replace(loopSpec, "run: mkdir -p model &&", "run: touch started && sleep 60 && mkdir -p model &&", 1))
	cmd := exec.Command(podiumBin, "train")
	cmd.Dir, cmd.Env = dir, env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		if i > 3000 {
			cmd.Process.Kill()
			t.Fatal("the step never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("podium exit %d (%v), want 130\n%s", code, err, stderr.String())
	}
	run := readRunJSON(t, dir)
	want := map[string]string{"prepare": "ok", "train": "interrupted", "evaluate": "skipped"}
	if diff := cmp.Diff(want, stepStatuses(run)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	res := podium(t, dir, env, "compare", "--run-dir", ".podium/run")
	if res.code != 2 || !strings.Contains(res.stderr, "the run is unusable: pipeline interrupted (Ctrl-C or SIGTERM)") {
		t.Errorf("compare after Ctrl-C: exit %d\n%s", res.code, res.stderr)
	}
}

// TestStepCache: a param re-runs only the step that uses it, going back
// is a hit, and a fresh checkout gets its outputs back from the cache.
func TestStepCache(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir, env := loopRepo(t)
	train := func(seed string) map[string]string {
		t.Helper()
		gittest.WriteFile(t, dir, "podium.yaml", strings.Replace(loopSpec, "seed: 1", "seed: "+seed, 1))
		mustPodium(t, dir, env, "train")
		return stepStatuses(readRunJSON(t, dir))
	}
	train("1")
	steps := []struct {
		seed string
		want map[string]string
	}{
		{"2", map[string]string{"prepare": "cached", "train": "ok", "evaluate": "ok"}},
		{"1", map[string]string{"prepare": "cached", "train": "cached", "evaluate": "cached"}},
	}
	for _, s := range steps {
		if diff := cmp.Diff(s.want, train(s.seed)); diff != "" {
			t.Errorf("seed %s (-want +got):\n%s", s.seed, diff)
		}
	}
	// A fresh checkout: the outputs are gone, the cache directory is kept.
	for _, p := range []string{"data", "model", "metrics.json"} {
		os.RemoveAll(filepath.Join(dir, p))
	}
	res := mustPodium(t, dir, env, "train")
	if diff := cmp.Diff(map[string]string{"prepare": "cached", "train": "cached", "evaluate": "cached"}, stepStatuses(readRunJSON(t, dir))); diff != "" {
		t.Errorf("fresh checkout (-want +got):\n%s", diff)
	}
	if !strings.Contains(res.stdout, "train     cached  0     ") || !strings.Contains(res.stdout, "made in ") {
		t.Errorf("train's table does not say when the cached outputs were made:\n%s", res.stdout)
	}
	if !strings.Contains(res.stderr, "train: cached; restored model/ from the cache") {
		t.Errorf("train does not say it restored:\n%s", res.stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "model", "weights")); !strings.HasSuffix(string(data), "seed=1\n") {
		t.Errorf("restored model/weights = %q", data)
	}
}

// TestSubdirectoryAndHumanOutput: podium finds podium.yaml above the
// current directory and says so; compare rounds for people.
func TestSubdirectoryAndHumanOutput(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir, env := loopRepo(t)
	sub := filepath.Join(dir, "src")
	res := mustPodium(t, sub, env, "train")
	if !strings.Contains(res.stderr, "podium: using ../podium.yaml") {
		t.Errorf("train from src/ does not name the spec it used:\n%s", res.stderr)
	}
	cmpRes := mustPodium(t, dir, env, "compare", "--run-dir", ".podium/run")
	if !strings.Contains(cmpRes.stdout, "accuracy 0.929825 ≥ min 0.5") {
		t.Errorf("compare does not round for people:\n%s", cmpRes.stdout)
	}
	js := mustPodium(t, dir, env, "compare", "--run-dir", ".podium/run", "--json")
	if !strings.Contains(js.stdout, "0.9298245614035088") {
		t.Errorf("compare --json is not exact:\n%s", js.stdout)
	}
	help := mustPodium(t, dir, env, "action", "--help")
	if !strings.Contains(help.stdout, "podium action <command>") {
		t.Errorf("action --help:\n%s", help.stdout)
	}
}

// TestLogDataColumn: a commit that changes only the code keeps the DATA
// digest; one that changes the data moves it.
func TestLogDataColumn(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir, env := loopRepo(t)
	note := func() {
		t.Helper()
		mustPodium(t, dir, env, "train")
		mustPodium(t, dir, env, "record", "--run-dir", ".podium/run", "--git-note")
	}
	note()
	gittest.WriteFile(t, dir, "src/train.py", "print('train v2')\n")
	gittest.Git(t, dir, "commit", "-qam", "code only")
	note()
	gittest.WriteFile(t, dir, "raw.csv", "a,b\n3,4\n")
	gittest.Git(t, dir, "commit", "-qam", "new data")
	note()
	res := mustPodium(t, dir, env, "log", "--json")
	var log struct {
		Entries []struct {
			DataDigest string `json:"data_digest"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &log); err != nil {
		t.Fatalf("log --json: %v\n%s", err, res.stdout)
	}
	entries := log.Entries
	if len(entries) != 3 {
		t.Fatalf("log has %d entries, want 3:\n%s", len(entries), res.stdout)
	}
	// Newest first: new data, code only, first.
	if entries[1].DataDigest != entries[2].DataDigest {
		t.Errorf("DATA moved with a code-only change: %s -> %s", entries[2].DataDigest, entries[1].DataDigest)
	}
	if entries[0].DataDigest == entries[1].DataDigest || entries[0].DataDigest != digest("a,b\n3,4\n") {
		t.Errorf("DATA after new data = %s, want the digest of raw.csv", entries[0].DataDigest)
	}
}
