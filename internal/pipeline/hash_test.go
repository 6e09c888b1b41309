package pipeline

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/spec"
)

// TestCachedRunHashesEachPathOnceAndScansNothing: in a re-run where every
// step is cached, each path is hashed once, though it is the output of one
// step and the input of two, and the spec's directory is not walked for
// undeclared writes (nothing ran that could write).
func TestCachedRunHashesEachPathOnceAndScansNothing(t *testing.T) {
	// Not parallel: it sets the package's hooks.
	p := newProject(t,
		spec.Step{Name: "a", Run: "mkdir -p mid && cat raw.txt > mid/a", Inputs: []string{"raw.txt"}, Outputs: []string{"mid/a"}},
		spec.Step{Name: "b", Run: "cat mid/a mid/a > mid/b", Needs: []string{"a"}, Inputs: []string{"mid/a"}, Outputs: []string{"mid/b"}},
		spec.Step{Name: "c", Run: "cat mid/a mid/b > out", Needs: []string{"b"}, Inputs: []string{"mid/a", "mid/b"}, Outputs: []string{"out"}},
	)
	p.write("raw.txt", "data")
	var mu sync.Mutex
	hashed := map[string]int{}
	takes := 0
	digestHook = func(clean string) {
		mu.Lock()
		defer mu.Unlock()
		hashed[clean]++
	}
	takeHook = func() {
		mu.Lock()
		defer mu.Unlock()
		takes++
	}
	t.Cleanup(func() { digestHook, takeHook = nil, nil })

	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if takes == 0 {
		t.Fatalf("the first run, which ran steps, took no snapshot for undeclared writes")
	}
	clear(hashed)
	takes = 0
	if _, err := p.run(t.Context(), func(o *Options) { o.NoStatCache = true }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "cached", "b": "cached", "c": "cached"}, statuses(t, p.runDir())); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	want := map[string]int{"raw.txt": 1, "mid/a": 1, "mid/b": 1, "out": 1}
	if diff := cmp.Diff(want, hashed); diff != "" {
		t.Errorf("times each path was hashed in a cached run (-want +got):\n%s", diff)
	}
	if takes != 0 {
		t.Errorf("a run where every step was cached walked the spec's directory %d times", takes)
	}
}

// TestDigestAfterACommandRanIsFresh: a digest remembered before a step's
// command ran is not reused after it: the command may have rewritten the
// path.
func TestDigestAfterACommandRanIsFresh(t *testing.T) {
	t.Parallel()
	p := newProject(t,
		spec.Step{Name: "write", Run: "echo one > data.txt", Outputs: []string{"data.txt"}},
		spec.Step{Name: "read", Run: "cat data.txt > copy.txt", Needs: []string{"write"}, Inputs: []string{"data.txt"}, Outputs: []string{"copy.txt"}},
	)
	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := readRun(t, p.runDir()).Steps[1].Inputs["data.txt"]
	p.spec.Pipeline[0].Run = "echo two > data.txt"
	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	run := readRun(t, p.runDir())
	if got := run.Steps[1].Inputs["data.txt"]; got == first || got != run.Steps[0].Outputs["data.txt"] {
		t.Errorf("read's input digest %s: want the new output %s, not the old %s", got, run.Steps[0].Outputs["data.txt"], first)
	}
	if run.Steps[1].Status != "ok" {
		t.Errorf("read is %s after its input changed, want ok", run.Steps[1].Status)
	}
}
