package shipping

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/ci"
)

const compareSpec = `version: 1
model: iris
pipeline:
  - name: train
    run: "true"
    outputs: [metrics.json]
metrics: metrics.json
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5, min_delta: 0.01}
`

// compareFiles is a workspace where the candidate beats the champion
// (promote) or not (reject).
func compareFiles(candidate string) map[string]string {
	return map[string]string{
		"podium.yaml":    compareSpec,
		"candidate.json": `{"accuracy": ` + candidate + `}`,
		"champion.json":  `{"accuracy": 0.90}`,
	}
}

// The compare action, run as the runner runs it, sets its decision.
func TestCompareActionDecision(t *testing.T) {
	t.Parallel()
	requireActionWord(t)
	action := filepath.Join(repoRoot(t), "actions", "compare", "action.yml")
	tests := []struct {
		name, candidate, failOnReject string
		wantCode                      int
		wantDecision                  string
	}{
		{name: "promote", candidate: "0.93", failOnReject: "true", wantDecision: "promote"},
		{name: "reject", candidate: "0.905", failOnReject: "false", wantDecision: "reject"},
		{name: "reject and fail", candidate: "0.905", failOnReject: "true", wantCode: 3, wantDecision: "reject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws := t.TempDir()
			writeFiles(t, ws, compareFiles(tt.candidate))
			res := runAction(t, action, ws, map[string]string{
				"candidate": "candidate.json", "champion": "champion.json", "run_dir": "",
				"fail_on_reject": tt.failOnReject,
			})
			if res.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstderr:\n%s", res.code, tt.wantCode, res.stderr)
			}
			if got := res.outputs["decision"]; got != tt.wantDecision {
				t.Errorf("decision = %q, want %q", got, tt.wantDecision)
			}
			if !strings.Contains(res.summary, "accuracy") {
				t.Errorf("the step summary does not show the metric:\n%s", res.summary)
			}
		})
	}
}

// inputRef is a component input reference, as GitLab interpolates it.
var inputRef = regexp.MustCompile(`\$\[\[\s*inputs\.([a-z_]+)\s*\]\]`)

// runComponent runs a component's job the way a GitLab runner would: the
// inputs interpolated into the job, its variables in the environment, the
// project directory as the working directory, and each script line run
// by sh, with the podium under test on the PATH as podium's image has it.
func runComponent(t *testing.T, path, project string, with map[string]string) (stepResult, map[string]string) {
	t.Helper()
	comp := loadComponent(t, path)
	values := map[string]string{}
	for name, def := range comp.inputs {
		values[name] = def
		if comp.types[name] == "boolean" && def == "" {
			values[name] = "false"
		}
	}
	for name, v := range with {
		if _, ok := comp.inputs[name]; !ok {
			t.Fatalf("%s has no input %q", path, name)
		}
		values[name] = v
	}
	interp := func(s string) string {
		return inputRef.ReplaceAllStringFunc(s, func(m string) string {
			return values[inputRef.FindStringSubmatch(m)[1]]
		})
	}
	env := []string{
		"PATH=" + filepath.Dir(podiumBinary(t)) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"GITLAB_CI=true",
		"CI=true",
		"CI_PROJECT_DIR=" + project,
		"CI_PROJECT_PATH=acme/iris",
		"CI_PIPELINE_ID=1",
	}
	for k, v := range comp.variables {
		env = append(env, k+"="+interp(v))
	}
	var res stepResult
	for _, line := range comp.script {
		if inputRef.MatchString(line) {
			t.Fatalf("%s: script line %q interpolates an input", path, line)
		}
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = project
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		res = stepResult{stdout: stdout.String(), stderr: stderr.String()}
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			res.code = exit.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		if res.code != 0 {
			break
		}
	}
	dotenv := map[string]string{}
	if data, err := os.ReadFile(filepath.Join(project, "podium.env")); err == nil {
		dotenv, err = ci.ParseDotenv(string(data))
		if err != nil {
			t.Fatalf("GitLab would reject the dotenv report: %v\n%s", err, data)
		}
	}
	if data, err := os.ReadFile(filepath.Join(project, "podium-summary.md")); err == nil {
		res.summary = string(data)
	}
	return res, dotenv
}

// The compare component, run as a GitLab job, leaves its decision in the
// dotenv report for later jobs and the report in podium-summary.md.
func TestCompareComponentDecision(t *testing.T) {
	t.Parallel()
	requireActionWord(t)
	path := filepath.Join(repoRoot(t), "templates", "compare.yml")
	tests := []struct {
		name, candidate, failOnReject string
		wantCode                      int
		wantDecision                  string
	}{
		{name: "promote", candidate: "0.93", failOnReject: "true", wantDecision: "promote"},
		{name: "reject and fail", candidate: "0.905", failOnReject: "true", wantCode: 3, wantDecision: "reject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			project := t.TempDir()
			files := compareFiles(tt.candidate)
			// What an earlier job's artifacts bring along: its summary and
			// dotenv. The job's own replace them, not pile up on them.
			files["podium-summary.md"] = "### podium train: iris\n"
			files["podium.env"] = "PODIUM_OUT_RUN_DIR=.podium/run\n"
			writeFiles(t, project, files)
			res, dotenv := runComponent(t, path, project, map[string]string{
				"candidate": "candidate.json", "champion": "champion.json", "run_dir": "",
				"fail_on_reject": tt.failOnReject,
			})
			if res.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstderr:\n%s", res.code, tt.wantCode, res.stderr)
			}
			if got := dotenv["PODIUM_OUT_DECISION"]; got != tt.wantDecision {
				t.Errorf("PODIUM_OUT_DECISION = %q, want %q (dotenv: %v)", got, tt.wantDecision, dotenv)
			}
			if !strings.Contains(res.summary, "accuracy") || strings.Contains(res.summary, "podium train") {
				t.Errorf("podium-summary.md does not show the metric, or keeps train's section:\n%s", res.summary)
			}
			if _, ok := dotenv["PODIUM_OUT_RUN_DIR"]; ok {
				t.Errorf("the dotenv report keeps an earlier job's output: %v", dotenv)
			}
			if strings.Contains(res.stdout+res.stderr, "::") {
				t.Errorf("GitHub workflow commands in a GitLab log:\n%s", fmt.Sprint(res.stdout, res.stderr))
			}
		})
	}
}
