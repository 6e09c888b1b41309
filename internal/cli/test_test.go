package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
)

const testSpec = `version: 1
model: demo
components:
  - {name: features, path: features, build: "echo built features", test: "test -f ok"}
  - {name: train, build: "true", test: "echo failing >&2; exit 5"}
  - {name: serve, test: "true"}
`

func TestTestCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantResult map[string][2]string // component -> build, test
		wantErr    string
	}{
		{
			name:     "all components, one fails",
			wantCode: ExitFailure,
			wantResult: map[string][2]string{
				"features": {"ok", "ok"}, "train": {"ok", "failed"}, "serve": {"none", "ok"},
			},
			wantErr: "components failed: train (test, exit 5)",
		},
		{
			name:       "fail fast",
			args:       []string{"--fail-fast"},
			wantCode:   ExitFailure,
			wantResult: map[string][2]string{"features": {"ok", "ok"}, "train": {"ok", "failed"}, "serve": {"none", "skipped"}},
		},
		{
			name:       "one component",
			args:       []string{"--component", "serve"},
			wantCode:   ExitOK,
			wantResult: map[string][2]string{"serve": {"none", "ok"}},
		},
		{
			name:     "unknown component",
			args:     []string{"--component", "nope"},
			wantCode: ExitInvalid,
			wantErr:  `unknown component "nope"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"podium.yaml": testSpec, "features/ok": ""})
			platform := &citest.Platform{}
			f, io := newTestFactory(t, nil)
			f.Platform = func() ci.Platform { return platform }
			args := append([]string{"test", "--spec", filepath.Join(dir, "podium.yaml"), "--json"}, tt.args...)
			code := runCLI(t, f, args...)
			if code != tt.wantCode {
				t.Errorf("exit = %d, want %d\nstderr: %s", code, tt.wantCode, io.Err)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, io.Err)
			}
			if tt.wantResult == nil {
				return
			}
			var doc testResult
			if err := json.Unmarshal(io.Out.Bytes(), &doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, io.Out)
			}
			got := map[string][2]string{}
			for _, c := range doc.Components {
				got[c.Name] = [2]string{c.Build, c.Test}
			}
			if diff := cmp.Diff(tt.wantResult, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			wantOut := "success"
			if tt.wantCode != ExitOK {
				wantOut = "failure"
			}
			if platform.Outputs()["result"] != wantOut || doc.Result != wantOut {
				t.Errorf("result output = %q, document %q; want %q", platform.Outputs()["result"], doc.Result, wantOut)
			}
			if groups := platform.Groups(); len(groups) == 0 || !strings.HasPrefix(groups[0], "component ") {
				t.Errorf("groups = %v", groups)
			}
			if !strings.Contains(platform.Summary(), "| component | build | test | duration |") {
				t.Errorf("summary = %q", platform.Summary())
			}
		})
	}
}

func TestTestCommandTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"podium.yaml": testSpec, "features/ok": ""})
	f, io := newTestFactory(t, nil)
	runCLI(t, f, "test", "--spec", filepath.Join(dir, "podium.yaml"))
	lines := strings.Split(strings.TrimSpace(io.Out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "COMPONENT  BUILD  TEST    DURATION") || !strings.HasPrefix(lines[2], "train      ok     failed") {
		t.Errorf("table:\n%s", io.Out)
	}
	if !strings.Contains(io.Err.String(), "built features\n") || !strings.Contains(io.Err.String(), "failing\n") {
		t.Errorf("the commands' output is not on stderr:\n%s", io.Err)
	}
}
