package pipeline

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

func TestRunMissingInputStopsBeforeAnythingRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		steps   []spec.Step
		wantErr string // with FILE for the spec's path
	}{
		{
			name: "input nobody writes",
			steps: []spec.Step{
				{Name: "prepare", Run: "touch ran", Inputs: []string{"data/raw.csv"}, Outputs: []string{"data/clean.csv"}},
				{Name: "train", Run: "touch ran", Needs: []string{"prepare"}, Inputs: []string{"data/clean.csv", "data/labels.csv"}},
			},
			wantErr: `FILE: pipeline[0].inputs[0]: step "prepare": input "data/raw.csv" does not exist, and no step writes it [pipeline]` + "\n" +
				`FILE: pipeline[1].inputs[1]: step "train": input "data/labels.csv" does not exist, and no step writes it [pipeline]`,
		},
		{
			name: "input written by a step it does not need",
			steps: []spec.Step{
				{Name: "train", Run: "touch ran", Outputs: []string{"model/"}},
				{Name: "evaluate", Run: "touch ran", Inputs: []string{"model/weights.bin"}},
			},
			wantErr: `FILE: pipeline[1].inputs[0]: step "evaluate" reads "model/weights.bin", which step "train" writes, but does not need "train" (add it to needs)`,
		},
		{
			name:    "input that leaves the spec's directory",
			steps:   []spec.Step{{Name: "train", Run: "touch ran", Inputs: []string{"../secrets"}}},
			wantErr: `FILE: pipeline[0].inputs[0]: "../secrets": path leaves the spec's directory [pipeline]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t, tt.steps...)
			_, err := p.run(t.Context())
			if err == nil {
				t.Fatal("want an error")
			}
			if got, want := err.Error(), strings.ReplaceAll(tt.wantErr, "FILE", p.spec.File); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			if !errors.Is(err, diag.ErrInvalidInput) {
				t.Errorf("error is not invalid input (exit 2): %T", err)
			}
			for _, name := range []string{"ran", filepath.Join(".podium", "run", rundir.RunFile)} {
				if _, err := os.Stat(filepath.Join(p.dir, name)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s exists: something ran or was written", name)
				}
			}
		})
	}
}

func TestRunMissingOutputFailsTheStep(t *testing.T) {
	t.Parallel()
	p := newProject(t,
		spec.Step{Name: "train", Run: "mkdir -p model", Outputs: []string{"model/weights.bin"}},
		spec.Step{Name: "evaluate", Run: "true", Needs: []string{"train"}},
	)
	_, err := p.run(t.Context())
	if got, want := err.Error(), "pipeline failed: train (exited with status 0 but did not write its declared output model/weights.bin)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	want := map[string]string{"train": "failed", "evaluate": "skipped"}
	if diff := cmp.Diff(want, statuses(t, p.runDir())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got, want := readLog(t, p.runDir(), "train"), "podium: exited with status 0 but did not write its declared output model/weights.bin\n"; got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(p.dir, ".podium/cache/steps/train.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed step left a cache entry")
	}
}

func TestRunWarnsAboutUndeclaredWrites(t *testing.T) {
	t.Parallel()
	p := newProject(t,
		spec.Step{Name: "train", Run: "mkdir -p model tmp && echo w > model/w && echo x > notes.txt && echo y > tmp/scratch && echo z > $PODIUM_RUN_DIR/fine", Outputs: []string{"model/"}},
		spec.Step{Name: "evaluate", Run: "echo '{}' > metrics.json && rm data.csv", Needs: []string{"train"}, Outputs: []string{"metrics.json"}},
		spec.Step{Name: "quiet", Run: "cat data.csv > /dev/null || true", Needs: []string{"evaluate"}},
	)
	p.write("data.csv", "keep me")
	res, err := p.run(t.Context(), func(o *Options) { o.Jobs = 1 })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`step "train" changed files outside its declared outputs: notes.txt, tmp/scratch (declare them in outputs, or write scratch files under $PODIUM_RUN_DIR or $TMPDIR)`,
		`step "evaluate" changed files outside its declared outputs: data.csv (declare them in outputs, or write scratch files under $PODIUM_RUN_DIR or $TMPDIR)`,
	}
	if diff := cmp.Diff(want, p.warn); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, res.Warnings); diff != "" {
		t.Errorf("result warnings (-want +got):\n%s", diff)
	}
}

func TestRunMetrics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		metrics     string
		want        map[string]float64
		wantErr     string
		wantInvalid bool
	}{
		{
			name:    "nested",
			metrics: `{"accuracy": 0.93, "latency_ms": {"p95": 41}}`,
			want:    map[string]float64{"accuracy": 0.93, "latency_ms.p95": 41},
		},
		{
			name:        "NaN",
			metrics:     `{"accuracy": NaN}`,
			wantInvalid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProject(t, spec.Step{Name: "evaluate", Run: "cat metrics.src > metrics.json", Outputs: []string{"metrics.json"}})
			p.spec.Metrics = "metrics.json"
			p.write("metrics.src", tt.metrics)
			_, err := p.run(t.Context())
			if got := errors.Is(err, diag.ErrInvalidInput); got != tt.wantInvalid {
				t.Fatalf("invalid input = %v, want %v (error %v)", got, tt.wantInvalid, err)
			}
			if !tt.wantInvalid && err != nil {
				t.Fatal(err)
			}
			run := readRun(t, p.runDir()) // written either way
			want := tt.want
			if want == nil {
				want = map[string]float64{}
			}
			if diff := cmp.Diff(want, run.Metrics); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunClearsStaleDocuments(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{Name: "a", Run: "true"})
	p.write(".podium/run/compare.json", `{"decision":"promote"}`)
	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.runDir(), rundir.CompareFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a previous run's compare.json survived a new run")
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{Name: "train", Run: "mkdir -p model && printf w > model/w", Inputs: []string{"data.csv"}, Outputs: []string{"model/"}})
	p.write("data.csv", "x\n")
	if _, err := p.run(t.Context(), func(o *Options) { o.Commit = strings.Repeat("c", 40) }); err != nil {
		t.Fatal(err)
	}
	got := readRun(t, p.runDir())
	want := &rundir.Run{
		Model: "demo", SpecDigest: p.spec.Digest, Commit: strings.Repeat("c", 40),
		Params:    map[string]any{"learning_rate": 0.1, "seed": float64(42)},
		StartedAt: got.StartedAt, FinishedAt: got.FinishedAt,
		Steps: []rundir.Step{{
			Name: "train", Status: "ok", ExitCode: 0, DurationS: 0,
			// sha256sum of "x\n", and of the listing of model/ (one file, w).
			Inputs:  map[string]string{"data.csv": "sha256:73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"},
			Outputs: map[string]string{"model/": "sha256:06866b00730f1f8afc533604d7667a0edec9dcc41ce1abe3782b52de8cbadfb0"},
		}},
		Metrics: map[string]float64{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run.json (-want +got):\n%s", diff)
	}
}

func TestRunRecordsDurations(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{Name: "a", Run: "true"}, spec.Step{Name: "b", Run: "true", Needs: []string{"a"}})
	var mu sync.Mutex
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	if _, err := p.run(t.Context(), func(o *Options) { o.Now = tick }); err != nil {
		t.Fatal(err)
	}
	for _, s := range readRun(t, p.runDir()).Steps {
		if s.DurationS <= 0 {
			t.Errorf("step %s: duration %v, want it measured", s.Name, s.DurationS)
		}
	}
}
