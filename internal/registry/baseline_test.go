package registry

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/gittest"
)

// identifyLines is the Identify of these tests: the "model: x" and
// "registry: y" lines of the default branch's spec, or the change's model
// and registry when it has none.
func identifyLines(model, registryPath string) Identify {
	return func(_ string, spec []byte) (string, string, error) {
		if spec == nil {
			return model, registryPath, nil
		}
		model, registryPath := "", ""
		for line := range strings.SplitSeq(string(spec), "\n") {
			if v, ok := strings.CutPrefix(line, "model: "); ok {
				model = v
			}
			if v, ok := strings.CutPrefix(line, "registry: "); ok {
				registryPath = v
			}
		}
		return model, registryPath, nil
	}
}

// countGit puts a git on PATH that logs each call's subcommand before it
// runs the real one, and returns the log's path. Not for parallel tests.
func countGit(t *testing.T) string {
	t.Helper()
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$1\" >> '" + calls + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return calls
}

// TestReadBaselineIsTheSequentialReads: whatever ran at once, and whether
// the log started for the change's own model was kept, the baseline is
// what reading one thing after another gives (OpenGit, the spec, then
// Champion and History of the model it names), in each kind of checkout.
// The log of the guessed pointer is kept exactly when it read the pointer
// and the commit the default branch resolved to.
func TestReadBaselineIsTheSequentialReads(t *testing.T) {
	gittest.SetEnv(t)
	up := upstream(t)
	// sub puts the spec, with a registry relative to it, in a directory.
	sub := func(up string) {
		gittest.Git(t, up, "checkout", "-q", "main")
		gittest.WriteFile(t, up, "models/iris/podium.yaml", "version: 1\nmodel: iris\nregistry: reg\n")
		data, _ := Marshal(testPointer("v3", 0.95))
		gittest.WriteFile(t, up, "models/iris/reg/iris.json", string(data))
		gittest.Commit(t, up, "iris moves")
		gittest.Git(t, up, "checkout", "-q", "pr")
		gittest.Git(t, up, "merge", "-q", "main")
	}
	tests := []struct {
		name string
		// setup returns the checkout and the spec's directory in it.
		setup               func(t *testing.T, up string) (dir, specDir string)
		defaultBranch       string
		model, registryPath string // the change's
		want                []string
		wantLogs            int // 0: the guessed log may or may not have started
	}{
		{
			name:  "full clone",
			setup: clone("--branch", "pr"),
			model: "iris", want: []string{"v2", "v1"}, wantLogs: 1,
		},
		{
			name:  "full clone, default branch given",
			setup: clone("--branch", "pr"), defaultBranch: "main",
			model: "iris", want: []string{"v2", "v1"}, wantLogs: 1,
		},
		{
			name: "detached HEAD",
			setup: func(t *testing.T, up string) (string, string) {
				dir, _ := clone("--branch", "pr")(t, up)
				gittest.Git(t, dir, "checkout", "-q", "--detach")
				return dir, dir
			},
			model: "iris", want: []string{"v2", "v1"}, wantLogs: 1,
		},
		{
			name:  "shallow clone: main is fetched, the guessed log found nothing",
			setup: clone("--depth=1", "--branch", "pr", "file://"),
			model: "iris", want: []string{"v2"}, wantLogs: 2,
		},
		{
			name: "no remote: the working tree",
			setup: func(t *testing.T, up string) (string, string) {
				dir, _ := clone("--branch", "pr")(t, up)
				gittest.Git(t, dir, "remote", "remove", "origin")
				return dir, dir
			},
			model: "iris", want: []string{"pr-edit", "v2", "v1"}, wantLogs: 2,
		},
		{
			name: "origin/HEAD is an older commit, not a link to main",
			setup: func(t *testing.T, up string) (string, string) {
				dir, _ := clone("--branch", "pr")(t, up)
				gittest.Git(t, dir, "update-ref", "--no-deref", "-d", "refs/remotes/origin/HEAD")
				gittest.Git(t, dir, "update-ref", "refs/remotes/origin/HEAD", "origin/main~1")
				return dir, dir
			},
			model: "iris", want: []string{"v2", "v1"}, wantLogs: 2,
		},
		{
			name:  "the change renames the model",
			setup: clone("--branch", "pr"),
			model: "iris-v2", want: []string{"v2", "v1"},
		},
		{
			name:  "the change moves the registry",
			setup: clone("--branch", "pr"),
			model: "iris", registryPath: "elsewhere", want: []string{"v2", "v1"},
		},
		{
			name: "spec in a subdirectory, registry relative to it",
			setup: func(t *testing.T, _ string) (string, string) {
				up := upstream(t)
				sub(up)
				dir := t.TempDir()
				gittest.Git(t, dir, "clone", "-q", "--branch", "pr", up, ".")
				return dir, filepath.Join(dir, "models", "iris")
			},
			model: "iris", registryPath: "reg", want: []string{"v3"}, wantLogs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			// The same checkout twice: the sequential reads may fetch.
			seqDir, seqSpecDir := tt.setup(t, up)
			g0, err := OpenGit(ctx, seqSpecDir, tt.registryPath, tt.defaultBranch)
			if err != nil {
				t.Fatal(err)
			}
			source := g0.Source(ctx)
			specPath, _ := g0.RepoPath(filepath.Join(seqSpecDir, "podium.yaml"))
			spec, err := g0.read(ctx, specPath)
			if err != nil {
				t.Fatal(err)
			}
			model, registryPath, _ := identifyLines(tt.model, tt.registryPath)(source, spec)
			g, err := OpenGit(ctx, seqSpecDir, registryPath, tt.defaultBranch)
			if err != nil {
				t.Fatal(err)
			}
			want := &Baseline{Source: source, Fallback: source == "working tree", Warnings: g0.warnings, SpecPath: specPath, Spec: spec, Model: model, Registry: g.Dir}
			if want.Champion, err = g.Champion(ctx, model); err != nil {
				t.Fatal(err)
			}
			want.History, want.HistoryErr = g.History(ctx, model, 20)

			dir, specDir := tt.setup(t, up)
			calls := countGit(t)
			got, err := ReadBaseline(ctx, BaselineOptions{
				SpecFile: filepath.Join(specDir, "podium.yaml"), SpecDir: specDir,
				Model: tt.model, RegistryPath: tt.registryPath, DefaultBranch: tt.defaultBranch,
				Identify: identifyLines(tt.model, tt.registryPath), HistoryLimit: 20,
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadBaseline differs from the reads one after another (-want +got):\n%s", diff)
			}
			var versions []string
			for _, e := range got.History {
				versions = append(versions, e.Pointer.Version)
			}
			if diff := cmp.Diff(tt.want, versions); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			if seq, _ := os.ReadFile(filepath.Join(seqDir, ".git", "shallow")); seq != nil {
				if now, _ := os.ReadFile(filepath.Join(dir, ".git", "shallow")); !bytes.Equal(seq, now) {
					t.Errorf("the clones differ after the fetch: shallow %q vs %q", seq, now)
				}
			}
			data, err := os.ReadFile(calls)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(data), "log\n"); tt.wantLogs != 0 && n != tt.wantLogs {
				t.Errorf("%d git log calls, want %d (calls: %q)", n, tt.wantLogs, data)
			}
		})
	}
}

// clone returns a setup that clones up with args (a last "file://"
// prefixes its path).
func clone(args ...string) func(t *testing.T, up string) (string, string) {
	return func(t *testing.T, up string) (string, string) {
		dir := t.TempDir()
		a := append([]string{"clone", "-q"}, args...)
		if a[len(a)-1] == "file://" {
			a[len(a)-1] += up
		} else {
			a = append(a, up)
		}
		gittest.Git(t, dir, append(a, ".")...)
		return dir, dir
	}
}

// TestReadBaselineErrors: the errors are OpenGit's (and the order in
// which the reads would fail one after another decides which).
func TestReadBaselineErrors(t *testing.T) {
	t.Parallel()
	up := upstream(t)
	outside := t.TempDir()
	opts := func(specDir, registryPath string) BaselineOptions {
		return BaselineOptions{SpecFile: filepath.Join(specDir, "podium.yaml"), SpecDir: specDir, Model: "iris",
			RegistryPath: registryPath, Identify: identifyLines("iris", registryPath), HistoryLimit: 20}
	}
	_, notRepo := OpenGit(t.Context(), outside, "", "")
	_, escapes := OpenGit(t.Context(), up, "../elsewhere", "")
	if notRepo == nil || escapes == nil {
		t.Fatalf("OpenGit: %v, %v; want errors", notRepo, escapes)
	}
	spec := opts(up, "")
	spec.SpecFile = filepath.Join(outside, "podium.yaml")
	identify := opts(up, "")
	identify.Identify = func(string, []byte) (string, string, error) { return "", "", errors.New("no spec") }
	badModel := opts(up, "")
	badModel.Identify = func(string, []byte) (string, string, error) { return "../iris", "", nil }
	tests := []struct {
		name    string
		opts    BaselineOptions
		want    string
		invalid bool
	}{
		{"not a repository", opts(outside, ""), notRepo.Error(), true},
		{"registry outside the repository", opts(up, "../elsewhere"), escapes.Error(), true},
		{"spec outside the repository", spec, "the git registry needs a git repository at " + spec.SpecFile + ": " + spec.SpecFile + " is outside the repository " + up, true},
		{"identify fails", identify, "no spec", false},
		{"the default branch names a bad model", badModel, `model: "../iris" is not a model name: 1-100 letters, digits, '.', '_' and '-', starting with a letter or digit [registry]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadBaseline(t.Context(), tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant %s", err, tt.want)
			}
			if got := errors.Is(err, diag.ErrInvalidInput); got != tt.invalid {
				t.Errorf("invalid input = %v, want %v", got, tt.invalid)
			}
		})
	}
}

// fakeGit puts a git on PATH that runs script's case for the subcommand
// ($1) and the real git for any other. Not for parallel tests.
func fakeGit(t *testing.T, cases string) {
	t.Helper()
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\ncase \"$1\" in\n" + cases + "\nesac\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestReadBaselineFirstErrorInOrder: the error is the first in the order
// the reads would run one after another, not the first in time, and the
// git processes still running then are stopped, not waited for.
func TestReadBaselineFirstErrorInOrder(t *testing.T) {
	gittest.SetEnv(t)
	dir, _ := clone("--branch", "pr")(t, upstream(t))
	pidFile := filepath.Join(t.TempDir(), "log.pid")
	fakeGit(t, `rev-parse) sleep 0.2; echo "fatal: not a git repository (or any of the parent directories): .git" >&2; exit 128 ;;
symbolic-ref) echo "fatal: broken" >&2; exit 128 ;;
log) echo $$ > '`+pidFile+`'; exec sleep 60 ;;`)
	start := time.Now()
	_, err := ReadBaseline(t.Context(), BaselineOptions{SpecFile: filepath.Join(dir, "podium.yaml"), SpecDir: dir, Model: "iris",
		Identify: identifyLines("iris", ""), HistoryLimit: 20})
	want := "the git registry needs a git repository at " + dir + ": git rev-parse --show-toplevel: fatal: not a git repository (or any of the parent directories): .git"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("ReadBaseline took %v: it waited for the guessed log", d)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the guessed log did not start: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the guessed log (pid %d) still runs: %v", pid, err)
	}
}

// TestReadBaselineCancelled: cancelling the context stops the git reads,
// and the error says so.
func TestReadBaselineCancelled(t *testing.T) {
	gittest.SetEnv(t)
	dir, _ := clone("--branch", "pr")(t, upstream(t))
	fakeGit(t, `rev-parse) exec sleep 60 ;;`)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ReadBaseline(ctx, BaselineOptions{SpecFile: filepath.Join(dir, "podium.yaml"), SpecDir: dir, Model: "iris",
		Identify: identifyLines("iris", ""), HistoryLimit: 20})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the context's", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("ReadBaseline took %v after the context ended", d)
	}
}
