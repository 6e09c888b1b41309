package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStepGraphOneMessage: validate and train refuse a bad step graph with
// the same positioned message (spec.CheckGraph's), exit 2, and train runs
// nothing.
func TestStepGraphOneMessage(t *testing.T) {
	t.Parallel()
	const head = "version: 1\nmodel: m\npipeline:\n"
	tests := []struct {
		name, steps, want string
	}{
		{
			name:  "cycle",
			steps: "  - {name: a, run: touch ran, needs: [b]}\n  - {name: b, run: touch ran, needs: [a]}\n",
			want:  `:4:38: pipeline[0].needs: dependency cycle: a -> b -> a`,
		},
		{
			name:  "unknown need",
			steps: "  - {name: train, run: touch ran}\n  - {name: evaluate, run: touch ran, needs: [trian]}\n",
			want:  `:5:46: pipeline[1].needs[0]: unknown step "trian" (did you mean "train"?)`,
		},
		{
			name:  "duplicate name",
			steps: "  - {name: a, run: touch ran}\n  - {name: a, run: touch ran}\n",
			want:  `:5:12: pipeline[1].name: duplicate step name "a" (also pipeline[0])`,
		},
		{
			name:  "duplicate output",
			steps: "  - {name: a, run: touch ran, outputs: [model/]}\n  - {name: b, run: touch ran, outputs: [model/]}\n",
			want:  `:5:41: pipeline[1].outputs[0]: step "b" writes "model/", which step "a" writes too, and neither needs the other (they would race: add one to the other's needs)`,
		},
		{
			name:  "read without need",
			steps: "  - {name: a, run: touch ran, outputs: [model/]}\n  - {name: b, run: touch ran, inputs: [model/w]}\n",
			want:  `:5:40: pipeline[1].inputs[0]: step "b" reads "model/w", which step "a" writes, but does not need "a" (add it to needs)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			spec := filepath.Join(dir, "podium.yaml")
			writeFiles(t, dir, map[string]string{"podium.yaml": head + tt.steps})
			for _, verb := range []string{"validate", "train"} {
				f, io := newTestFactory(t, nil)
				if code := runCLI(t, f, verb, "--spec", spec); code != ExitInvalid {
					t.Errorf("%s: exit = %d, want %d", verb, code, ExitInvalid)
				}
				if diff := cmp.Diff(spec+tt.want+"\n", io.Err.String()); diff != "" {
					t.Errorf("%s: stderr (-want +got):\n%s", verb, diff)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
				t.Error("a step ran")
			}
		})
	}
}
