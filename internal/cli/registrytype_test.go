package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistryTypeIsTheSpecs pins that the spec refuses a registry type
// podium does not know, for every command that opens the registry: the
// commands do not check it again.
func TestRegistryTypeIsTheSpecs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "podium.yaml")
	spec := "version: 1\nmodel: m\nregistry: {type: s3}\npipeline:\n  - {name: a, run: 'true'}\n"
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	for _, args := range [][]string{
		{"registry", "show", "--spec", specPath},
		{"registry", "history", "--spec", specPath},
		{"compare", "--spec", specPath, "--run-dir", runDir},
		{"report", "--spec", specPath, "--run-dir", runDir},
		{"propose", "--spec", specPath, "--run-dir", runDir, "--dry-run"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			t.Parallel()
			f, io := newTestFactory(t, nil)
			if code := runCLI(t, f, args...); code != ExitInvalid {
				t.Errorf("exit code = %d, want %d\nstderr: %s", code, ExitInvalid, io.Err)
			}
			if want := `podium.yaml:3:18: registry.type: value must be "git"`; !strings.Contains(io.Err.String(), want) {
				t.Errorf("stderr = %q, want it to contain %q", io.Err, want)
			}
		})
	}
}
