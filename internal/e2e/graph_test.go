package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStepGraphRefusedOnce: the built binary's validate and train refuse
// two steps racing over one output with one positioned message, exit 2,
// and train runs no step.
func TestStepGraphRefusedOnce(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := t.TempDir()
	spec := "version: 1\nmodel: m\npipeline:\n" +
		"  - {name: a, run: touch ran, outputs: [model/]}\n" +
		"  - {name: b, run: touch ran, outputs: [model/]}\n"
	if err := os.WriteFile(filepath.Join(dir, "podium.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = `podium.yaml:5:41: pipeline[1].outputs[0]: step "b" writes "model/", which step "a" writes too, and neither needs the other (they would race: add one to the other's needs)` + "\n"
	for _, verb := range []string{"validate", "train"} {
		res := podium(t, dir, baseEnv(t), verb)
		if res.code != 2 || res.stderr != want {
			t.Errorf("podium %s: exit %d, stderr:\n%s\nwant exit 2, stderr:\n%s", verb, res.code, res.stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("a step ran")
	}
}
