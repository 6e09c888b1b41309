package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/schemas"
)

// project is a spec directory for a test, with a fixed clock so
// run.json is stable.
type project struct {
	t    *testing.T
	dir  string
	spec *spec.Spec
	out  bytes.Buffer
	mu   sync.Mutex
	warn []string
	log  []string
}

func newProject(t *testing.T, steps ...spec.Step) *project {
	t.Helper()
	dir := t.TempDir()
	return &project{t: t, dir: dir, spec: &spec.Spec{
		File:     filepath.Join(dir, "podium.yaml"),
		Dir:      dir,
		Digest:   "sha256:" + strings.Repeat("ab", 32),
		Version:  1,
		Model:    "demo",
		Cache:    spec.Cache{Path: ".podium/cache"},
		Params:   map[string]any{"learning_rate": 0.1, "seed": float64(42)},
		Pipeline: steps,
	}}
}

func (p *project) write(name, content string) {
	p.t.Helper()
	path := filepath.Join(p.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *project) read(name string) string {
	p.t.Helper()
	data, err := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(name)))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(data)
}

func (p *project) runDir() string { return filepath.Join(p.dir, ".podium", "run") }

func (p *project) options() Options {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return Options{
		Spec:      p.spec,
		RunDir:    p.runDir(),
		Jobs:      4,
		Environ:   os.Environ(),
		Out:       &lockedBuffer{mu: &p.mu, b: &p.out},
		Now:       func() time.Time { return clock },
		KillGrace: 2 * time.Second,
		Logf: func(format string, args ...any) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.log = append(p.log, fmt.Sprintf(format, args...))
		},
		Warn: func(msg string) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.warn = append(p.warn, msg)
		},
	}
}

func (p *project) run(ctx context.Context, edit ...func(*Options)) (*Result, error) {
	p.t.Helper()
	opts := p.options()
	for _, e := range edit {
		e(&opts)
	}
	return Run(ctx, opts)
}

// statuses maps each step of run.json to its status.
func statuses(t *testing.T, dir string) map[string]string {
	t.Helper()
	run := readRun(t, dir)
	got := map[string]string{}
	for _, s := range run.Steps {
		got[s.Name] = s.Status
	}
	return got
}

// readRun reads run.json and checks it against the schema.
func readRun(t *testing.T, dir string) *rundir.Run {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, rundir.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := schemas.Validate("run.schema.json", doc); err != nil {
		t.Fatalf("run.json does not match its schema: %v\n%s", err, data)
	}
	run, err := rundir.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// events reads the lines steps appended to $PODIUM_RUN_DIR/events.
func events(t *testing.T, runDir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(runDir, "events"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

// traced wraps a script so it appends start:<step> and end:<step> to the
// events file around it.
func traced(script string) string {
	return `echo "start:$PODIUM_STEP" >> "$PODIUM_RUN_DIR/events"; ` + script + `; s=$?; echo "end:$PODIUM_STEP" >> "$PODIUM_RUN_DIR/events"; exit $s`
}

// rendezvous makes a step wait (bounded) until the other step has started:
// it can only finish when both run at the same time.
func rendezvous(me, other string) string {
	return fmt.Sprintf(`touch "$PODIUM_RUN_DIR/%s.up"; i=0; while [ ! -e "$PODIUM_RUN_DIR/%s.up" ]; do i=$((i+1)); [ $i -gt 1000 ] && exit 9; sleep 0.01; done`, me, other)
}

func TestRunDAGOrderAndConcurrency(t *testing.T) {
	t.Parallel()
	p := newProject(t,
		spec.Step{Name: "a", Run: traced("true")},
		spec.Step{Name: "b", Run: traced(rendezvous("b", "c")), Needs: []string{"a"}},
		spec.Step{Name: "c", Run: traced(rendezvous("c", "b")), Needs: []string{"a"}},
		spec.Step{Name: "d", Run: traced("echo done-d"), Needs: []string{"b", "c"}},
	)
	if _, err := p.run(t.Context()); err != nil {
		t.Fatalf("run: %v\n%s", err, p.out.String())
	}
	ev := events(t, p.runDir())
	pos := func(e string) int {
		i := slices.Index(ev, e)
		if i < 0 {
			t.Fatalf("no %s in %v", e, ev)
		}
		return i
	}
	for _, order := range [][2]string{
		{"end:a", "start:b"}, {"end:a", "start:c"}, {"end:b", "start:d"}, {"end:c", "start:d"},
		// b and c overlap: each started before the other ended.
		{"start:b", "end:c"}, {"start:c", "end:b"},
	} {
		if pos(order[0]) > pos(order[1]) {
			t.Errorf("%s came after %s: %v", order[0], order[1], ev)
		}
	}
	want := map[string]string{"a": "ok", "b": "ok", "c": "ok", "d": "ok"}
	if diff := cmp.Diff(want, statuses(t, p.runDir())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	// Concurrent steps' lines are prefixed; the log keeps them bare.
	if !strings.Contains(p.out.String(), "[d] done-d\n") {
		t.Errorf("output lacks the prefixed line %q:\n%s", "[d] done-d", p.out.String())
	}
	if got, _ := os.ReadFile(rundir.LogPath(p.runDir(), "d")); string(got) != "done-d\n" {
		t.Errorf("logs/d.log = %q, want %q", got, "done-d\n")
	}
}

func TestRunOneJobRunsStepsOneAtATime(t *testing.T) {
	t.Parallel()
	p := newProject(t,
		spec.Step{Name: "a", Run: traced("echo from-a")},
		spec.Step{Name: "b", Run: traced("true")},
		spec.Step{Name: "c", Run: traced("true")},
	)
	var groups []string
	_, err := p.run(t.Context(), func(o *Options) {
		o.Jobs = 1
		o.Group = func(title string) func() {
			groups = append(groups, title)
			return func() {}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"start:a", "end:a", "start:b", "end:b", "start:c", "end:c"}
	if diff := cmp.Diff(want, events(t, p.runDir())); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if !strings.Contains(p.out.String(), "from-a\n") || strings.Contains(p.out.String(), "[a]") {
		t.Errorf("serial output should be unprefixed:\n%s", p.out.String())
	}
}

func TestRunFailureStopsDependentsOnly(t *testing.T) {
	t.Parallel()
	p := newProject(t,
		spec.Step{Name: "prepare", Run: "true"},
		spec.Step{Name: "train", Run: "echo boom >&2; exit 3", Needs: []string{"prepare"}},
		spec.Step{Name: "evaluate", Run: "true", Needs: []string{"train"}},
		spec.Step{Name: "publish", Run: "true", Needs: []string{"evaluate"}},
		spec.Step{Name: "lint", Run: "true", Needs: []string{"prepare"}},
	)
	_, err := p.run(t.Context())
	var failed *StepsFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("error = %v, want *StepsFailedError", err)
	}
	if got, want := err.Error(), "pipeline failed: train (exited with status 3)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	want := map[string]string{"prepare": "ok", "train": "failed", "evaluate": "skipped", "publish": "skipped", "lint": "ok"}
	if diff := cmp.Diff(want, statuses(t, p.runDir())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	run := readRun(t, p.runDir())
	if run.Steps[1].ExitCode != 3 || run.Steps[2].ExitCode != -1 {
		t.Errorf("exit codes = %d, %d; want 3, -1", run.Steps[1].ExitCode, run.Steps[2].ExitCode)
	}
	if got, want := readLog(t, p.runDir(), "train"), "boom\npodium: exited with status 3\n"; got != want {
		t.Errorf("logs/train.log = %q, want %q", got, want)
	}
}

func readLog(t *testing.T, runDir, step string) string {
	t.Helper()
	data, err := os.ReadFile(rundir.LogPath(runDir, step))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// alive reports whether pid is a live process (a zombie waiting for its
// parent to reap it counts as dead).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func pidFrom(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitGone waits (bounded) for pid to die: SIGKILL is asynchronous.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 500 {
		if !alive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d (started by the step) is still running", pid)
}

func TestRunTimeoutKillsTheProcessGroup(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	p := newProject(t,
		// The background sleep is a grandchild: only a group kill reaches it.
		spec.Step{Name: "train", Run: `sleep 300 & echo $! > "$PODIUM_RUN_DIR/bg.tmp" && mv "$PODIUM_RUN_DIR/bg.tmp" "$PODIUM_RUN_DIR/bg.pid"; sleep 300`, Timeout: 2 * time.Second},
		spec.Step{Name: "evaluate", Run: "true", Needs: []string{"train"}},
		spec.Step{Name: "lint", Run: "true"},
	)
	_, err := p.run(t.Context())
	if got, want := fmt.Sprint(err), "pipeline failed: train (timed out after 2s)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	want := map[string]string{"train": "timeout", "evaluate": "skipped", "lint": "ok"}
	if diff := cmp.Diff(want, statuses(t, p.runDir())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	waitGone(t, pidFrom(t, filepath.Join(p.runDir(), "bg.pid")))
	if got, want := readLog(t, p.runDir(), "train"), "podium: timed out after 2s; its process group was stopped\n"; got != want {
		t.Errorf("logs/train.log = %q, want %q", got, want)
	}
}

func TestRunCancelStopsStepsAndWritesRunJSON(t *testing.T) {
	t.Parallel()
	p := newProject(t,
		spec.Step{Name: "train", Run: `sleep 300 & echo $! > "$PODIUM_RUN_DIR/bg.tmp" && mv "$PODIUM_RUN_DIR/bg.tmp" "$PODIUM_RUN_DIR/bg.pid"; sleep 300`},
		spec.Step{Name: "evaluate", Run: "true", Needs: []string{"train"}},
	)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// SIGTERM reaches podium as a cancelled context (signal.NotifyContext).
		for range 1000 {
			if _, err := os.Stat(filepath.Join(p.runDir(), "bg.pid")); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	_, err := p.run(ctx)
	var interrupted *InterruptedError
	if !errors.As(err, &interrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want *InterruptedError wrapping context.Canceled", err)
	}
	want := map[string]string{"train": "interrupted", "evaluate": "skipped"}
	if diff := cmp.Diff(want, statuses(t, p.runDir())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got := readRun(t, p.runDir()).Failure; got != "pipeline interrupted (Ctrl-C or SIGTERM)" {
		t.Errorf("run.json failure = %q, want the interruption", got)
	}
	if code := readRun(t, p.runDir()).Steps[0].ExitCode; code != 128+15 {
		t.Errorf("exit code = %d, want 143 (SIGTERM)", code)
	}
	waitGone(t, pidFrom(t, filepath.Join(p.runDir(), "bg.pid")))
}

func TestRunEnvironment(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{
		Name: "show",
		Run:  `echo "$PODIUM_STEP|$PODIUM_PARAM_LEARNING_RATE|$PODIUM_PARAM_SEED|$PODIUM_PARAM_USE_GPU|$PODIUM_PARAM_MODEL_NAME|$GREETING|$(pwd)"; echo "$PODIUM_RUN_DIR"`,
		Env:  map[string]string{"GREETING": "hello world"},
	})
	p.spec.Params["use_gpu"] = false
	p.spec.Params["model-name"] = "iris v2"
	if _, err := p.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("show|0.1|42|false|iris v2|hello world|%s\n%s\n", p.dir, p.runDir())
	if got := readLog(t, p.runDir(), "show"); got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	// Logs are as readable as run.json (CreateTemp alone makes them 0600).
	for _, name := range []string{rundir.LogPath(p.runDir(), "show"), filepath.Join(p.runDir(), rundir.RunFile)} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o644 {
			t.Errorf("%s mode = %v, want 0644", filepath.Base(name), got)
		}
	}
}

func TestParamEnvName(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"learning_rate", "PODIUM_PARAM_LEARNING_RATE"},
		{"seed", "PODIUM_PARAM_SEED"},
		{"model-name", "PODIUM_PARAM_MODEL_NAME"},
		{"a.b", "PODIUM_PARAM_A_B"},
		{"x1", "PODIUM_PARAM_X1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ParamEnvName(tt.name); got != tt.want {
				t.Errorf("ParamEnvName(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestRunParamCollision(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{Name: "a", Run: "true"})
	p.spec.Params = map[string]any{"lr": 1.0, "LR": 2.0}
	_, err := p.run(t.Context())
	want := p.spec.File + `: params: params "LR" and "lr" are both exported as PODIUM_PARAM_LR; rename one [pipeline]`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}
