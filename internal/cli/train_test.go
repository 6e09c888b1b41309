package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
)

const trainSpec = `version: 1
model: demo
params: {seed: 42}
pipeline:
  - name: prepare
    run: tr a-z A-Z < data/raw.csv > data/clean.csv
    inputs: [data/raw.csv]
    outputs: [data/clean.csv]
  - name: train
    run: mkdir -p model && cat data/clean.csv > model/w && echo "$PODIUM_PARAM_SEED" >> model/w
    needs: [prepare]
    inputs: [data/clean.csv]
    outputs: [model/]
  - name: evaluate
    run: |
      echo '{"accuracy": 0.91, "latency_ms": {"p95": 12}}' > metrics.json
    needs: [train]
    inputs: [model/]
    outputs: [metrics.json]
metrics: metrics.json
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTrainTwiceCachesEveryStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"podium.yaml": trainSpec, "data/raw.csv": "a,b\n1,2\n"})
	specPath := filepath.Join(dir, "podium.yaml")

	for i, want := range []string{"ok", "cached"} {
		platform := &citest.Platform{}
		f, io := newTestFactory(t, nil)
		f.Platform = func() ci.Platform { return platform }
		if code := runCLI(t, f, "train", "--spec", specPath, "--json"); code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s", i, code, io.Err)
		}
		var got struct {
			RunDir   string             `json:"run_dir"`
			CacheKey string             `json:"cache_key"`
			Metrics  map[string]float64 `json:"metrics"`
			Steps    []struct {
				Name, Status string
			} `json:"steps"`
		}
		if err := json.Unmarshal(io.Out.Bytes(), &got); err != nil {
			t.Fatalf("stdout is not one JSON document: %v\n%s", err, io.Out)
		}
		for _, s := range got.Steps {
			if s.Status != want {
				t.Errorf("run %d: step %s is %s, want %s", i, s.Name, s.Status, want)
			}
		}
		if diff := cmp.Diff(map[string]float64{"accuracy": 0.91, "latency_ms.p95": 12}, got.Metrics); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
		wantOutputs := map[string]string{
			"run-dir": filepath.Join(dir, ".podium", "run"), "cache-key": got.CacheKey, "result": "success",
		}
		if diff := cmp.Diff(wantOutputs, platform.Outputs()); diff != "" {
			t.Errorf("CI outputs (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(got.CacheKey, "podium-demo-") {
			t.Errorf("cache key = %q", got.CacheKey)
		}
		if !strings.Contains(platform.Summary(), "| train | "+want+" | ") {
			t.Errorf("summary lacks the train row:\n%s", platform.Summary())
		}
	}
}

func TestTrainExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		files    map[string]string
		runDir   string // --run-dir, relative to the spec's directory
		wantCode int
		wantErr  string // substring of stderr
		wantOut  string // substring of stdout
	}{
		{
			name:     "missing input",
			files:    map[string]string{"podium.yaml": trainSpec},
			wantCode: ExitInvalid,
			wantErr:  `podium.yaml: pipeline[0].inputs[0]: step "prepare": input "data/raw.csv" does not exist, and no step writes it [pipeline]`,
		},
		{
			name: "failing step",
			files: map[string]string{
				"podium.yaml":  strings.Replace(trainSpec, "cat data/clean.csv > model/w", "exit 7", 1),
				"data/raw.csv": "x",
			},
			wantCode: ExitFailure,
			wantErr:  "pipeline failed: train (exited with status 7)",
			wantOut:  "evaluate  skipped  -",
		},
		{
			name: "invalid metrics",
			files: map[string]string{
				"podium.yaml":  strings.Replace(trainSpec, `"accuracy": 0.91`, `"accuracy": NaN`, 1),
				"data/raw.csv": "x",
			},
			wantCode: ExitInvalid,
			wantErr:  "NaN",
		},
		{
			name:     "bad spec",
			files:    map[string]string{"podium.yaml": "version: 1\nmodel: m\npipeline:\n  - {name: a, run: x, needs: [b]}\n"},
			wantCode: ExitInvalid,
			wantErr:  `unknown step "b"`,
		},
		{
			name:     "run dir is a file",
			files:    map[string]string{"podium.yaml": trainSpec, "data/raw.csv": "x", "run.json": "{}"},
			runDir:   "run.json",
			wantCode: ExitInvalid,
			wantErr:  "run.json: --run-dir is not a directory\n",
		},
		{
			name:     "run dir under a file",
			files:    map[string]string{"podium.yaml": trainSpec, "data/raw.csv": "x", "file": "x"},
			runDir:   "file/run",
			wantCode: ExitInvalid,
			wantErr:  "file/run: --run-dir is not a directory (",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			f, io := newTestFactory(t, nil)
			args := []string{"train", "--spec", filepath.Join(dir, "podium.yaml")}
			if tt.runDir != "" {
				args = append(args, "--run-dir", filepath.Join(dir, tt.runDir))
			}
			code := runCLI(t, f, args...)
			if code != tt.wantCode {
				t.Errorf("exit = %d, want %d\nstderr: %s", code, tt.wantCode, io.Err)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, io.Err)
			}
			if !strings.Contains(io.Out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, io.Out)
			}
		})
	}
}
