package provenance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/rundir"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		out  string
		want *rundir.Worktree
	}{
		{"clean", "", &rundir.Worktree{Clean: true, Changed: []string{}}},
		{"modified, staged and deleted", " M src/train.py\x00M  podium.yaml\x00 D old.csv\x00MM src/train.py\x00",
			&rundir.Worktree{Changed: []string{"old.csv", "podium.yaml", "src/train.py"}}},
		{"a name with spaces and a newline", " M a b\nc.py\x00", &rundir.Worktree{Changed: []string{"a b\nc.py"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, parseStatus([]byte(tt.out))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	var many strings.Builder
	for i := range rundir.MaxChanged + 5 {
		many.WriteString(" M f" + strings.Repeat("x", i) + "\x00")
	}
	if wt := parseStatus([]byte(many.String())); len(wt.Changed) != rundir.MaxChanged || !wt.Truncated {
		t.Errorf("%d changed, truncated %v; want %d and true", len(wt.Changed), wt.Truncated, rundir.MaxChanged)
	}
}

func TestWorktree(t *testing.T) {
	t.Parallel()
	if Worktree(t.Context(), t.TempDir()) != nil {
		t.Error("a directory outside git has a work tree state")
	}
	dir := t.TempDir()
	gittest.Git(t, dir, "init", "-q")
	gittest.WriteFile(t, dir, "sub/train.py", "v1\n")
	gittest.Git(t, dir, "add", "-A")
	gittest.Git(t, dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
	if wt := Worktree(t.Context(), filepath.Join(dir, "sub")); wt == nil || !wt.Clean {
		t.Errorf("committed tree = %+v, want clean", wt)
	}
	gittest.WriteFile(t, dir, "sub/train.py", "v2\n")
	gittest.WriteFile(t, dir, "untracked.csv", "x\n")
	want := &rundir.Worktree{Changed: []string{"sub/train.py"}}
	if diff := cmp.Diff(want, Worktree(t.Context(), filepath.Join(dir, "sub"))); diff != "" {
		t.Errorf("edited tree (-want +got):\n%s", diff)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	bin := t.TempDir()
	write := func(p, s string, mode os.FileMode) {
		t.Helper()
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "requirements.txt"), "numpy==2\n", 0o644)
	write(filepath.Join(root, "uv.lock"), "lock\n", 0o644)
	write(filepath.Join(root, "go.mod"), "module x\n", 0o644)
	// The runtimes the steps would find: on the PATH given, not podium's.
	write(filepath.Join(bin, "python3"), "#!/bin/sh\necho 'Python 3.12.4'\n", 0o755)
	write(filepath.Join(bin, "go"), "#!/bin/sh\necho go1.26.8\n", 0o755)
	env := Environment(t.Context(), dir, root, []string{"PATH=" + bin})
	want := &rundir.Environment{
		Runtimes: map[string]string{"python": "Python 3.12.4", "go": "go1.26.8"},
		Lockfiles: []rundir.Lockfile{
			{Path: "../uv.lock", Digest: fingerprint.Bytes([]byte("lock\n"))},
			{Path: "requirements.txt", Digest: fingerprint.Bytes([]byte("numpy==2\n"))},
		},
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("Environment (-want +got):\n%s", diff)
	}
	if got := Environment(t.Context(), t.TempDir(), "", []string{"PATH=" + bin}); len(got.Runtimes)+len(got.Lockfiles) != 0 {
		t.Errorf("no lockfile, yet %+v", got)
	}
}
