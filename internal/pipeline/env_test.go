package pipeline

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/spec"
)

// tokenEnviron is a CI job's environment with every credential podium
// keeps from steps, each holding the canary, plus variables steps need.
func tokenEnviron() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HF_TOKEN=user-owned", "INPUT_SPEC=podium.yaml", "CI_JOB_TOKEN_NOTE=x"}
	for _, name := range []string{
		"GITHUB_TOKEN", "GH_TOKEN", "INPUT_TOKEN", "INPUT_GITHUB_TOKEN", "input_token",
		"GITLAB_TOKEN", "CI_JOB_TOKEN", "PODIUM_TRIGGER_TOKEN", "ACTIONS_RUNTIME_TOKEN",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "CI_REGISTRY_PASSWORD",
		"CI_REPOSITORY_URL", "CI_JOB_JWT_V2",
	} {
		env = append(env, name+"=ghp_CANARY")
	}
	return env
}

// wantVisible is what of tokenEnviron a step may see.
var wantVisible = []string{"CI_JOB_TOKEN_NOTE=x", "HF_TOKEN=user-owned", "INPUT_SPEC=podium.yaml"}

// visible picks the lines of an `env` dump that come from tokenEnviron.
func visible(dump string) []string {
	var got []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.Contains(l, "CANARY") || strings.Contains(l, "TOKEN") || strings.HasPrefix(l, "INPUT_") {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	return got
}

func TestRunStepsDoNotSeeTokens(t *testing.T) {
	t.Parallel()
	p := newProject(t, spec.Step{Name: "dump", Run: "env > env.txt", Outputs: []string{"env.txt"}})
	if _, err := p.run(t.Context(), func(o *Options) { o.Environ = tokenEnviron() }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantVisible, visible(p.read("env.txt"))); diff != "" {
		t.Errorf("step environment (-want +got):\n%s", diff)
	}
}

func TestComponentsDoNotSeeTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	res := TestComponents(t.Context(), []spec.Component{{Name: "c", Path: ".", Build: "env", Test: "env >&2"}},
		TestOptions{Dir: dir, Environ: tokenEnviron(), Out: &out})
	if res[0].Failed() {
		t.Fatalf("component failed: %+v\n%s", res[0], out.String())
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(wantVisible), wantVisible...)))
	if diff := cmp.Diff(want, visible(out.String())); diff != "" {
		t.Errorf("component environment (-want +got):\n%s", diff)
	}
}

func TestIsTokenVar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"GITHUB_TOKEN", true},
		{"INPUT_TOKEN", true},
		{"INPUT_GITLAB_TOKEN", true},
		{"Input_Token", true},
		{"CI_JOB_TOKEN", true},
		{"ACTIONS_ID_TOKEN_REQUEST_URL", true},
		{"PODIUM_TRIGGER_TOKEN", true},
		{"INPUT_RUN_DIR", false},
		{"HF_TOKEN", false}, // the user's own, passed on purpose
		{"PODIUM_PARAM_TOKEN", false},
		{"PATH", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsTokenVar(tt.name); got != tt.want {
				t.Errorf("IsTokenVar(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

// A token-shaped param reaches its step but not run.json, which is
// uploaded and rendered into reports.
func TestRunMasksTokenShapedParamsInRunJSON(t *testing.T) {
	t.Parallel()
	tok := "ghp_CANARY" + strings.Repeat("a", 30)
	p := newProject(t, spec.Step{Name: "use", Run: `test "$PODIUM_PARAM_API" = "` + tok + `" && echo ok > used.txt`, Outputs: []string{"used.txt"}})
	p.spec.Params["api"] = tok
	if _, err := p.run(t.Context()); err != nil {
		t.Fatalf("%v\n%s", err, p.out.String())
	}
	if got := p.read("used.txt"); got != "ok\n" {
		t.Errorf("the step did not see the real param: %q", got)
	}
	got := readRun(t, p.runDir()).Params
	want := map[string]any{"api": "***", "learning_rate": 0.1, "seed": 42.0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run.json params (-want +got):\n%s", diff)
	}
}
