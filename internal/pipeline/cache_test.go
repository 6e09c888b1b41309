package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/fingerprint"
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
			// The cache restores model/ from its objects.
			name:   "an output was deleted",
			change: func(p *project, o *Options) { os.RemoveAll(filepath.Join(p.dir, "model")) },
			want:   all("cached"),
		},
		{
			name:   "an output was edited",
			change: func(p *project, o *Options) { p.write("metrics.json", `{"accuracy": 1}`) },
			want:   all("cached"),
		},
		{
			// A fresh checkout: nothing but the inputs and the cache.
			name: "every output is gone",
			change: func(p *project, o *Options) {
				for _, d := range []string{"data/clean.csv", "model", "metrics.json"} {
					os.RemoveAll(filepath.Join(p.dir, d))
				}
			},
			want: all("cached"),
		},
		{
			// train re-creates identical bytes, so evaluate stays cached.
			name: "a cache entry is damaged and its output gone",
			change: func(p *project, o *Options) {
				damage(p, ".podium/cache/steps/train/*.json", "{not json")
				os.RemoveAll(filepath.Join(p.dir, "model"))
			},
			want: map[string]string{"prepare": "cached", "train": "ok", "evaluate": "cached", "lint": "cached"},
		},
		{
			// A damaged object is not restored: the step runs.
			name: "a stored object is damaged and its output gone",
			change: func(p *project, o *Options) {
				damage(p, ".podium/cache/objects/sha256/*/*", "tampered")
				os.RemoveAll(filepath.Join(p.dir, "model"))
			},
			want: map[string]string{"prepare": "cached", "train": "ok", "evaluate": "cached", "lint": "cached"},
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
			if second.Metrics["accuracy"] != 0.9 {
				t.Errorf("metrics = %v, want the accuracy the step wrote (0.9)", second.Metrics)
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
	if !strings.HasPrefix(got, "podium: cached: command, env, params and input digests unchanged; not run (key sha256:") {
		t.Errorf("logs/lint.log = %q", got)
	}
	// The cached step's log carries the log of the run that produced it.
	if got := readLog(t, p.runDir(), "train"); !strings.Contains(got, "the log of the run that produced the outputs (2026-01-02T03:04:05Z") {
		t.Errorf("logs/train.log = %q, want the producing run's log", got)
	}
	run := readRun(t, p.runDir())
	if cf := run.Steps[0].CachedFrom; cf == nil || !cf.FinishedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("cached_from = %+v, want the producing run's times", cf)
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

// damage overwrites every file matching the glob (relative to the project).
func damage(p *project, glob, content string) {
	p.t.Helper()
	matches, err := filepath.Glob(filepath.Join(p.dir, filepath.FromSlash(glob)))
	if err != nil || len(matches) == 0 {
		p.t.Fatalf("nothing matches %s (%v)", glob, err)
	}
	for _, m := range matches {
		os.Chmod(m, 0o644)
		if err := os.WriteFile(m, []byte(content), 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

// TestRunCacheStepParams: a step that declares the params it uses is keyed
// on those alone, and the cache keeps an entry per key, so going back to an
// earlier value is a hit.
func TestRunCacheStepParams(t *testing.T) {
	t.Parallel()
	p := cachedProject(t)
	p.spec.Pipeline[0].Params = []string{}                // prepare uses none
	p.spec.Pipeline[1].Params = []string{"seed"}          // train uses seed
	p.spec.Pipeline[2].Params = []string{"learning_rate"} // evaluate uses another
	// lint says nothing: every param enters its key.
	steps := func(seed float64) map[string]string {
		p.t.Helper()
		p.spec.Params["seed"] = seed
		if _, err := p.run(t.Context()); err != nil {
			t.Fatal(err)
		}
		return statuses(t, p.runDir())
	}
	steps(42)
	tests := []struct {
		seed float64
		want map[string]string
	}{
		// evaluate re-runs because model/ changed, not because of the param.
		{7, map[string]string{"prepare": "cached", "train": "ok", "evaluate": "ok", "lint": "ok"}},
		{42, map[string]string{"prepare": "cached", "train": "cached", "evaluate": "cached", "lint": "cached"}},
		{7, map[string]string{"prepare": "cached", "train": "cached", "evaluate": "cached", "lint": "cached"}},
	}
	for i, tt := range tests {
		if diff := cmp.Diff(tt.want, steps(tt.seed)); diff != "" {
			t.Errorf("run %d (seed %v) statuses (-want +got):\n%s", i+2, tt.seed, diff)
		}
		if got, want := p.read("model/weights"), fmt.Sprintf("A,B\n1,2\nseed=%v\n", tt.seed); got != want {
			t.Errorf("run %d: model/weights = %q, want %q", i+2, got, want)
		}
	}
}

// TestRunCacheRestoresModes: restored files keep their permission bits.
func TestRunCacheRestoresModes(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{
		Name: "build", Run: "mkdir -p bin && printf '#!/bin/sh\\necho hi\\n' > bin/tool && chmod 750 bin/tool && printf x > bin/data",
		Outputs: []string{"bin/"},
	})
	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(p.dir, "bin"))
	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"build": "cached"}, statuses(t, p.runDir())); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	for name, want := range map[string]os.FileMode{"bin/tool": 0o750, "bin/data": 0o644} {
		fi, err := os.Stat(filepath.Join(p.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
}

// TestCacheEviction: past max_size the least recently used entries go,
// the newest entry of each step stays, and objects nobody names are removed
// once older than the grace period.
func TestCacheEviction(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{
		Name: "train", Run: `mkdir -p model && yes "$PODIUM_PARAM_SEED" | head -c 1000 > model/w`,
		Outputs: []string{"model/"},
	})
	for _, seed := range []string{"1", "2", "3"} {
		p.spec.Params["seed"] = seed
		if _, err := p.run(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	c := stepCache{dir: filepath.Join(p.dir, ".podium", "cache"), maxBytes: 2500}
	entries := func() int {
		m, _ := filepath.Glob(filepath.Join(c.dir, "steps", "train", "*.json"))
		return len(m)
	}
	if got := entries(); got != 3 {
		t.Fatalf("%d entries under a large limit, want 3", got)
	}
	// Make the entries' access times distinct and in run order.
	m, _ := filepath.Glob(filepath.Join(c.dir, "steps", "train", "*.json"))
	for _, f := range m {
		var e cacheEntry
		data, _ := os.ReadFile(f)
		json.Unmarshal(data, &e)
		os.Chtimes(f, e.FinishedAt, e.FinishedAt)
	}
	// 1000 bytes a model, plus small logs: two entries fit in 2500.
	dropped, removed, err := c.gc(time.Now().Add(2 * objectGrace))
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 1 || entries() != 2 {
		t.Errorf("gc dropped %d entries, %d left; want 1 dropped, 2 left", dropped, entries())
	}
	if removed < 1 {
		t.Errorf("gc removed %d objects, want the dropped entry's model and log", removed)
	}
	// A limit below one entry still keeps the newest.
	c.maxBytes = 1
	if _, _, err := c.gc(time.Now().Add(2 * objectGrace)); err != nil {
		t.Fatal(err)
	}
	if entries() != 1 {
		t.Errorf("%d entries left under a 1-byte limit, want the newest", entries())
	}
	os.RemoveAll(filepath.Join(p.dir, "model"))
	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"train": "cached"}, statuses(t, p.runDir())); diff != "" {
		t.Errorf("the kept entry restores (-want +got):\n%s", diff)
	}
}

// TestCacheConcurrentStores: runs sharing one cache directory store,
// evict and restore at the same time; every entry left is whole and
// restores.
func TestCacheConcurrentStores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := stepCache{dir: filepath.Join(dir, "cache"), maxBytes: 1 << 20}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			work := filepath.Join(dir, fmt.Sprint("w", i))
			os.MkdirAll(filepath.Join(work, "model"), 0o755)
			// Half the runs write the same bytes: their objects collide.
			os.WriteFile(filepath.Join(work, "model", "w"), []byte(fmt.Sprint("weights ", i%2)), 0o644)
			files, err := c.putOutputs(work, []string{"model"})
			if err == nil {
				err = c.store(&cacheEntry{Version: cacheVersion, Step: "train", Key: fingerprint.Bytes([]byte{byte(i)}), Outputs: files})
			}
			if err == nil {
				_, _, err = c.gc(time.Now())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		e := c.load("train", fingerprint.Bytes([]byte{byte(i)}))
		if e == nil {
			t.Fatalf("entry %d missing", i)
		}
		out := filepath.Join(dir, fmt.Sprint("r", i))
		if err := c.restore(out, []string{"model"}, e.Outputs); err != nil {
			t.Fatalf("restore %d: %v", i, err)
		}
		got, _ := os.ReadFile(filepath.Join(out, "model", "w"))
		if want := fmt.Sprint("weights ", i%2); string(got) != want {
			t.Errorf("restored %d = %q, want %q", i, got, want)
		}
	}
}
