package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/rundir"
)

// TestRecordHint pins the messages `podium record` prints for the record
// package's errors: the package says what is wrong, the CLI adds the
// command that fixes it.
func TestRecordHint(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "model.bin"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := fingerprint.Bytes([]byte("old"))
	_, changed := record.InspectArtifact(t.Context(), root, "model.bin", old)
	_, gone := record.InspectArtifact(t.Context(), root, "gone.bin", "")
	_, empty := record.InspectArtifact(t.Context(), root, "empty", "")
	_, listed := record.Sizes(root, []string{"data.csv"})
	incomplete := record.CheckRun("D", []byte(`{}`), &rundir.Run{})

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"artifact changed", changed, "model.bin: digest is " + fingerprint.Bytes([]byte("new")) + " but run.json records " + old + "; it changed after `podium train` (train again, or restore it)"},
		{"artifact gone", gone, "gone.bin: no such file or directory (the spec's artifact; record in the job that ran `podium train`, or restore it first)"},
		{"artifact directory empty", empty, "empty: no such file or directory (the artifact directory holds no files)"},
		{"a listed file gone", listed, "data.csv: no such file or directory (run.json lists it; record in the job that ran `podium train`, or restore it first)"},
		{"run.json incomplete", incomplete, "D/run.json: missing fields: model, spec_digest, params, commit, started_at, finished_at, steps, metrics (run podium train --run-dir D first)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.err == nil {
				t.Fatal("the case built no error")
			}
			if got := recordHint(tt.err).Error(); got != tt.want {
				t.Errorf("recordHint()\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
