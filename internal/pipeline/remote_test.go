package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

// memRemote is a Remote in memory: entries by key, outputs as file trees.
type memRemote struct {
	mu      sync.Mutex
	entries map[string]*RemoteEntry
	files   map[string]map[string][]byte // key -> path -> bytes
	stores  []string
	fail    error
}

func newMemRemote() *memRemote {
	return &memRemote{entries: map[string]*RemoteEntry{}, files: map[string]map[string][]byte{}}
}

func (m *memRemote) Fetch(_ context.Context, step, key, dir string) (*RemoteEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	e, ok := m.entries[key]
	if !ok {
		return nil, nil
	}
	for p, data := range m.files[key] {
		abs := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(abs), 0o755)
		if err := os.WriteFile(abs, data, 0o644); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (m *memRemote) Store(_ context.Context, step, key, dir string, e *RemoteEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	files := map[string][]byte{}
	for out := range e.Outputs {
		root := filepath.Join(dir, filepath.FromSlash(out))
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = data
			return err
		})
		if err != nil {
			return err
		}
	}
	m.entries[key], m.files[key] = e, files
	m.stores = append(m.stores, step)
	return nil
}

func remoteSteps() []spec.Step {
	return []spec.Step{
		{Name: "prepare", Run: "mkdir -p data && tr a-z A-Z < raw.txt > data/clean.txt", Inputs: []string{"raw.txt"}, Outputs: []string{"data/"}},
		{Name: "train", Run: "mkdir -p model && cat data/clean.txt data/clean.txt > model/m.txt", Needs: []string{"prepare"}, Inputs: []string{"data/"}, Outputs: []string{"model/"}},
		{Name: "evaluate", Run: `echo '{"accuracy": 0.5}' > metrics.json`, Needs: []string{"train"}, Inputs: []string{"model/"}, Outputs: []string{"metrics.json"}},
	}
}

func remoteProject(t *testing.T) *project {
	p := newProject(t, remoteSteps()...)
	p.spec.Metrics = "metrics.json"
	p.write("raw.txt", "some weather\n")
	return p
}

func digests(run *rundir.Run) map[string][2]map[string]string {
	out := map[string][2]map[string]string{}
	for _, s := range run.Steps {
		out[s.Name] = [2]map[string]string{s.Inputs, s.Outputs}
	}
	return out
}

func TestRemoteRestoresOnACleanCheckout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	remote := newMemRemote()
	writer := func(o *Options) { o.Remote, o.RemoteWrite = remote, true }

	first := remoteProject(t)
	if _, err := first.run(ctx, writer); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"evaluate", "prepare", "train"}, slices.Sorted(slices.Values(remote.stores))); diff != "" {
		t.Errorf("pushed steps (-want +got):\n%s", diff)
	}

	// Another machine: same sources, no outputs, no local cache.
	second := remoteProject(t)
	if _, err := second.run(ctx, writer); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"prepare": "cached", "train": "cached", "evaluate": "cached"}
	if diff := cmp.Diff(want, statuses(t, second.runDir())); diff != "" {
		t.Errorf("second machine's statuses (-want +got):\n%s", diff)
	}
	if got := second.read("model/m.txt"); got != "SOME WEATHER\nSOME WEATHER\n" {
		t.Errorf("restored model/m.txt = %q", got)
	}
	r1, r2 := readRun(t, first.runDir()), readRun(t, second.runDir())
	if diff := cmp.Diff(digests(r1), digests(r2)); diff != "" {
		t.Errorf("digests differ between the machines (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(r1.Metrics, r2.Metrics); diff != "" {
		t.Errorf("metrics differ (-first +second):\n%s", diff)
	}
	if len(remote.stores) != 3 {
		t.Errorf("a fully restored run pushed again: %v", remote.stores)
	}
	// The restored entries went into the local cache: a third run needs no remote.
	if _, err := second.run(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, statuses(t, second.runDir())); diff != "" {
		t.Errorf("local rerun statuses (-want +got):\n%s", diff)
	}
}

func TestRemoteReadOnlyDoesNotStore(t *testing.T) {
	t.Parallel()
	remote := newMemRemote()
	p := remoteProject(t)
	if _, err := p.run(context.Background(), func(o *Options) { o.Remote = remote }); err != nil {
		t.Fatal(err)
	}
	if len(remote.stores) != 0 {
		t.Errorf("a read-only run stored %v", remote.stores)
	}
}

func TestRemoteFailureIsAMiss(t *testing.T) {
	t.Parallel()
	remote := newMemRemote()
	remote.fail = errors.New("registry answered 503")
	p := remoteProject(t)
	if _, err := p.run(context.Background(), func(o *Options) { o.Remote = remote }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"prepare": "ok", "train": "ok", "evaluate": "ok"}
	if diff := cmp.Diff(want, statuses(t, p.runDir())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if len(p.warn) != 3 || !strings.Contains(p.warn[0], "503") {
		t.Errorf("warnings = %q, want one per step naming the failure", p.warn)
	}
}

func TestRunOneStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	remote := newMemRemote()
	job := func(step string) func(*Options) {
		return func(o *Options) { o.Remote, o.RemoteWrite, o.Step = remote, true, step }
	}

	// train's job before prepare's: prepare is not in any cache.
	early := remoteProject(t)
	_, err := early.run(ctx, job("train"))
	var failed *StepsFailedError
	if !errors.As(err, &failed) || len(failed.Steps) != 1 || failed.Steps[0].Name != "prepare" ||
		!strings.Contains(failed.Steps[0].Reason, "not in the cache") {
		t.Fatalf("train before prepare: error = %v, want prepare failed as not cached", err)
	}

	// Each job on its own clean checkout, in the plan's order.
	for i, step := range []string{"prepare", "train", "evaluate"} {
		p := remoteProject(t)
		if _, err := p.run(ctx, job(step)); err != nil {
			t.Fatalf("job %s: %v", step, err)
		}
		got := statuses(t, p.runDir())
		if len(got) != i+1 || got[step] != "ok" {
			t.Errorf("job %s: statuses %v, want its needs cached and itself ok", step, got)
		}
	}
	// The assembling job restores every step.
	p := remoteProject(t)
	res, err := p.run(ctx, func(o *Options) { o.Remote = remote })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"prepare": "cached", "train": "cached", "evaluate": "cached"}, statuses(t, p.runDir())); diff != "" {
		t.Errorf("assembly statuses (-want +got):\n%s", diff)
	}
	if res.Run.Metrics["accuracy"] != 0.5 {
		t.Errorf("assembled metrics = %v", res.Run.Metrics)
	}

	_, err = remoteProject(t).run(ctx, job("nope"))
	if err == nil || !strings.Contains(err.Error(), `no step "nope"`) {
		t.Errorf("unknown step error = %v", err)
	}
}
