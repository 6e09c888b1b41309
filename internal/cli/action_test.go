package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci/citest"
)

func TestRelativeTo(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// A link to the workspace: the same directory by another name.
	link := filepath.Join(t.TempDir(), "ws")
	if err := os.Symlink(ws, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, path, want string
	}{
		{"absolute, inside", ws, filepath.Join(ws, ".podium", "run"), ".podium/run"},
		{"the workspace itself", ws, ws, "."},
		{"outside stays absolute", ws, "/elsewhere/run", "/elsewhere/run"},
		{"a sibling that shares the prefix", ws, ws + "-other/run", ws + "-other/run"},
		{"relative to the working directory", wd, filepath.Join("testdata", "x"), "testdata/x"},
		{"through a link to the workspace", ws, filepath.Join(link, "run", "report.md"), "run/report.md"},
		{"a path not made yet, through the link", link, filepath.Join(ws, "new", "dir"), "new/dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := relativeTo(tt.dir, tt.path); got != tt.want {
				t.Errorf("relativeTo(%q, %q) = %q, want %q", tt.dir, tt.path, got, tt.want)
			}
		})
	}
}

// Only the path outputs are rewritten, and only in CI.
func TestWorkspaceOutputs(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	env := map[string]string{"CI_PROJECT_DIR": ws}
	p := &citest.Platform{}
	w := workspaceOutputs(p, func(k string) string { return env[k] })
	for name, value := range map[string]string{
		"run-dir":  filepath.Join(ws, ".podium", "run"),
		"record":   filepath.Join(ws, ".podium", "run", "rec.json"),
		"report":   "/tmp/elsewhere.md",
		"decision": filepath.Join(ws, "not-a-path-output"),
	} {
		if err := w.SetOutput(name, value); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"run-dir":  ".podium/run",
		"record":   ".podium/run/rec.json",
		"report":   "/tmp/elsewhere.md",
		"decision": filepath.Join(ws, "not-a-path-output"),
	}
	if diff := cmp.Diff(want, p.Outputs()); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if got := workspaceOutputs(p, func(string) string { return "" }); got != p {
		t.Errorf("with no workspace, the platform is wrapped: %T", got)
	}
}
