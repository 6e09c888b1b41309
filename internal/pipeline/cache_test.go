package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/spec"
)

func cachedProject(t *testing.T) *project {
	t.Helper()
	p := newProject(t,
		spec.Step{
			Name: "prepare", Run: "tr a-z A-Z < data/raw.csv > data/clean.csv",
			Inputs: []string{"data/raw.csv"}, Outputs: []string{"data/clean.csv"},
		},
		spec.Step{
			Name: "train", Run: `mkdir -p model && { cat data/clean.csv; echo "seed=$PODIUM_PARAM_SEED"; } > model/weights`,
			Needs: []string{"prepare"}, Inputs: []string{"data/clean.csv"}, Outputs: []string{"model/"},
		},
		spec.Step{
			Name: "evaluate", Run: `printf '{"accuracy": 0.9, "rows": %d}' "$(wc -l < data/test.csv)" > metrics.json`,
			Needs: []string{"train"}, Inputs: []string{"model/", "data/test.csv"}, Outputs: []string{"metrics.json"},
		},
		spec.Step{Name: "lint", Run: "test -s data/raw.csv", Inputs: []string{"data/raw.csv"}},
	)
	p.spec.Metrics = "metrics.json"
	p.write("data/raw.csv", "a,b\n1,2\n")
	p.write("data/test.csv", "a,b\n3,4\n")
	return p
}

func TestRunCache(t *testing.T) {
	t.Parallel()
	all := func(status string) map[string]string {
		return map[string]string{"prepare": status, "train": status, "evaluate": status, "lint": status}
	}
	tests := []struct {
		name   string
		change func(p *project, o *Options)
		want   map[string]string
	}{
		{
			name:   "nothing changed",
			change: func(p *project, o *Options) {},
			want:   all("cached"),
		},
		{
			name:   "an input changed",
			change: func(p *project, o *Options) { p.write("data/raw.csv", "a,b\n5,6\n") },
			want:   all("ok"),
		},
		{
			// prepare re-runs and writes the same bytes: its dependents'
			// input digests are unchanged, so they stay cached.
			name:   "an input changed but its step's output did not",
			change: func(p *project, o *Options) { p.write("data/raw.csv", "A,B\n1,2\n") },
			want:   map[string]string{"prepare": "ok", "train": "cached", "evaluate": "cached", "lint": "ok"},
		},
		{
			name:   "an input of the last step changed",
			change: func(p *project, o *Options) { p.write("data/test.csv", "a,b\n3,4\n7,8\n") },
			want:   map[string]string{"prepare": "cached", "train": "cached", "evaluate": "ok", "lint": "cached"},
		},
		{
			// Every step sees every param (PODIUM_PARAM_*), so all re-run.
			name:   "a param changed",
			change: func(p *project, o *Options) { p.spec.Params["seed"] = float64(7) },
			want:   all("ok"),
		},
		{
			name: "a command changed",
			change: func(p *project, o *Options) {
				p.spec.Pipeline[1].Run = `mkdir -p model && { cat data/clean.csv; echo v2; } > model/weights`
			},
			want: map[string]string{"prepare": "cached", "train": "ok", "evaluate": "ok", "lint": "cached"},
		},
		{
			name:   "a step's env changed",
			change: func(p *project, o *Options) { p.spec.Pipeline[2].Env = map[string]string{"THREADS": "2"} },
			want:   map[string]string{"prepare": "cached", "train": "cached", "evaluate": "ok", "lint": "cached"},
		},
		{
			// train re-creates identical bytes, so evaluate stays cached.
			name:   "an output was deleted",
			change: func(p *project, o *Options) { os.RemoveAll(filepath.Join(p.dir, "model")) },
			want:   map[string]string{"prepare": "cached", "train": "ok", "evaluate": "cached", "lint": "cached"},
		},
		{
			name:   "an output was edited",
			change: func(p *project, o *Options) { p.write("metrics.json", `{"accuracy": 1}`) },
			want:   map[string]string{"prepare": "cached", "train": "cached", "evaluate": "ok", "lint": "cached"},
		},
		{
			name:   "a cache entry is damaged",
			change: func(p *project, o *Options) { p.write(".podium/cache/steps/train.json", "{not json") },
			want:   map[string]string{"prepare": "cached", "train": "ok", "evaluate": "cached", "lint": "cached"},
		},
		{
			name:   "force",
			change: func(p *project, o *Options) { o.Force = true },
			want:   all("ok"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := cachedProject(t)
			if _, err := p.run(t.Context()); err != nil {
				t.Fatalf("first run: %v\n%s", err, p.out.String())
			}
			if diff := cmp.Diff(all("ok"), statuses(t, p.runDir())); diff != "" {
				t.Fatalf("first run statuses (-want +got):\n%s", diff)
			}
			first := readRun(t, p.runDir())

			opts := p.options()
			tt.change(p, &opts)
			if _, err := Run(t.Context(), opts); err != nil {
				t.Fatalf("second run: %v\n%s", err, p.out.String())
			}
			if diff := cmp.Diff(tt.want, statuses(t, p.runDir())); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			// A cached step reports the same digests as the run that made it.
			second := readRun(t, p.runDir())
			for i, s := range second.Steps {
				if s.Status != "cached" {
					continue
				}
				if diff := cmp.Diff(first.Steps[i].Outputs, s.Outputs); diff != "" {
					t.Errorf("%s outputs (-first +cached):\n%s", s.Name, diff)
				}
				if diff := cmp.Diff(first.Steps[i].Inputs, s.Inputs); diff != "" {
					t.Errorf("%s inputs (-first +cached):\n%s", s.Name, diff)
				}
			}
			if second.Metrics["accuracy"] == 0 {
				t.Errorf("metrics = %v, want accuracy read after the last step", second.Metrics)
			}
		})
	}
}

func TestRunCachedStepLog(t *testing.T) {
	t.Parallel()
	p := cachedProject(t)
	for range 2 {
		if _, err := p.run(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got := readLog(t, p.runDir(), "lint")
	if !strings.HasPrefix(got, "podium: cached: command, env, params and input digests unchanged and outputs intact; not run (key sha256:") {
		t.Errorf("logs/lint.log = %q", got)
	}
}

func TestCacheKey(t *testing.T) {
	t.Parallel()
	p := cachedProject(t)
	res, err := p.run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.CacheKey, "podium-demo-") || len(res.CacheKey) != len("podium-demo-")+32 {
		t.Errorf("cache key = %q, want podium-demo-<32 hex>", res.CacheKey)
	}
	again, err := p.run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if again.CacheKey != res.CacheKey {
		t.Errorf("cache key changed between identical runs: %s, %s", res.CacheKey, again.CacheKey)
	}
	// Outputs of steps do not feed the key (they are what the cache holds);
	// inputs from outside the pipeline do.
	p.write("data/clean.csv", "edited")
	if k, _ := p.run(t.Context()); k.CacheKey != res.CacheKey {
		t.Errorf("cache key changed with a step's output")
	}
	p.write("data/test.csv", "other")
	if k, _ := p.run(t.Context()); k.CacheKey == res.CacheKey {
		t.Errorf("cache key did not change with an input")
	}
}
