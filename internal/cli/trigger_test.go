package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci/citest"
)

func TestTrigger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		host         string
		args         []string
		wantCode     int
		wantOut      string
		wantErr      string
		wantTriggers []triggerCall
		wantOutputs  map[string]string
	}{
		{
			name:         "github workflow on the default branch",
			host:         "github",
			args:         []string{"--workflow", "retrain.yml", "--input", "reason=drift", "--input", "psi=0.31"},
			wantOut:      "https://git.example/runs/42\n",
			wantErr:      "Started workflow retrain.yml on main with inputs psi, reason\n",
			wantTriggers: []triggerCall{{Workflow: "retrain.yml", Ref: "main", Inputs: map[string]string{"reason": "drift", "psi": "0.31"}}},
			wantOutputs:  map[string]string{"result": "triggered", "ref": "main", "url": "https://git.example/runs/42", "id": "42"},
		},
		{
			name:         "gitlab pipeline on a ref, value with '='",
			host:         "gitlab",
			args:         []string{"--ref", "release", "--input", "FILTER=a=b"},
			wantOut:      "https://git.example/runs/42\n",
			wantErr:      "Started pipeline on release with inputs FILTER\n",
			wantTriggers: []triggerCall{{Ref: "release", Inputs: map[string]string{"FILTER": "a=b"}}},
			wantOutputs:  map[string]string{"result": "triggered", "ref": "release", "url": "https://git.example/runs/42", "id": "42"},
		},
		{
			name:         "a ref from a step input cannot start a command line",
			host:         "gitlab",
			args:         []string{"--ref", "x\n::stop-commands::t"},
			wantOut:      "https://git.example/runs/42\n",
			wantErr:      `Started pipeline on x\n::stop-commands::t` + "\n",
			wantTriggers: []triggerCall{{Ref: "x\n::stop-commands::t", Inputs: map[string]string{}}},
			wantOutputs:  map[string]string{"result": "triggered", "ref": "x\n::stop-commands::t", "url": "https://git.example/runs/42", "id": "42"},
		},
		{
			name:     "github needs a workflow",
			host:     "github",
			wantCode: ExitInvalid,
			wantErr:  "--workflow is required on GitHub: name the workflow file to start, e.g. retrain.yml\n",
		},
		{
			name:     "input without '='",
			host:     "gitlab",
			args:     []string{"--input", "reason"},
			wantCode: ExitInvalid,
			wantErr:  `--input "reason": want key=value`,
		},
		{
			name:     "input given twice",
			host:     "gitlab",
			args:     []string{"--input", "a=1", "--input", "a=2"},
			wantCode: ExitInvalid,
			wantErr:  `--input "a=2": a is given twice`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host := newFakeHost(tt.host)
			platform := &citest.Platform{}
			f, io, _ := hostFactory(t, host, platform)
			code := runCLI(t, f, append([]string{"trigger"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tt.wantCode, io.Err)
			}
			if got := io.Out.String(); got != tt.wantOut {
				t.Errorf("stdout = %q, want %q", got, tt.wantOut)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", io.Err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantTriggers, host.triggers); diff != "" {
				t.Errorf("triggers (-want +got):\n%s", diff)
			}
			if tt.wantOutputs != nil {
				if diff := cmp.Diff(tt.wantOutputs, platform.Outputs()); diff != "" {
					t.Errorf("outputs (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestTriggerJSON(t *testing.T) {
	t.Parallel()
	host := newFakeHost("github")
	f, io, _ := hostFactory(t, host, &citest.Platform{})
	if code := runCLI(t, f, "trigger", "--workflow", "retrain.yml", "--json"); code != 0 {
		t.Fatalf("exit %d: %s", code, io.Err)
	}
	var got triggerResult
	if err := json.Unmarshal(io.Out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, io.Out)
	}
	want := triggerResult{SchemaVersion: 1, Host: "github", Workflow: "retrain.yml", Ref: "main", Inputs: map[string]string{}, ID: 42, URL: "https://git.example/runs/42"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--json (-want +got):\n%s", diff)
	}
}

func TestTriggerHostError(t *testing.T) {
	t.Parallel()
	host := newFakeHost("gitlab")
	host.err = errors.New("POST /projects/1/pipeline: 403 Forbidden")
	f, io, _ := hostFactory(t, host, &citest.Platform{})
	if code := runCLI(t, f, "trigger"); code != ExitFailure {
		t.Fatalf("exit %d, want 1: %s", code, io.Err)
	}
	if want := "failed to start the retraining: POST /projects/1/pipeline: 403 Forbidden\n"; io.Err.String() != want {
		t.Errorf("stderr = %q, want %q", io.Err, want)
	}
}
