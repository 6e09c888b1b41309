package shipping

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/podium-ml/podium/internal/fanout"
	"github.com/podium-ml/podium/internal/spec"
)

// The fan-out examples: a GitHub workflow (wave jobs fed by podium plan's
// matrices) and a GitLab parent pipeline that triggers the child
// pipeline podium plan generates.
const (
	fanoutWorkflow = "examples/fanout/github-workflow.yml"
	fanoutGitLab   = "examples/fanout/gitlab-ci.yml"
)

func TestFanoutWorkflowActionlint(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	var out bytes.Buffer
	l := newLinter(t, &out, root)
	errs, err := l.LintFiles([]string{filepath.Join(root, fanoutWorkflow)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint found %d problems in %s:\n%s", len(errs), fanoutWorkflow, out.String())
	}
}

// The workflow has a job per wave, each fed the output podium plan sets,
// and passes --max-waves to match: a plan with more waves fails loudly
// instead of silently dropping steps.
func TestFanoutWorkflowWaves(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, fanoutWorkflow))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Outputs  map[string]string `yaml:"outputs"`
			Strategy struct {
				Matrix string `yaml:"matrix"`
			} `yaml:"strategy"`
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	waves := 0
	for name, job := range wf.Jobs {
		if strings.HasPrefix(name, "wave-") {
			waves++
			want := "${{ fromJSON(needs.plan.outputs." + name + ") }}"
			if job.Strategy.Matrix != want {
				t.Errorf("job %s: matrix %q, want %q", name, job.Strategy.Matrix, want)
			}
			if _, ok := wf.Jobs["plan"].Outputs[name]; !ok {
				t.Errorf("the plan job does not output %s", name)
			}
		}
	}
	var planRun string
	for _, st := range wf.Jobs["plan"].Steps {
		if strings.HasPrefix(st.Run, "podium plan") {
			planRun = st.Run
		}
	}
	if want := "--max-waves " + string(rune('0'+waves)); !strings.Contains(planRun, want) {
		t.Errorf("the plan step runs %q; with %d wave jobs it must pass %s", planRun, waves, want)
	}
}

func TestFanoutGitLabSchema(t *testing.T) {
	t.Parallel()
	dir := externalSchemas(t)
	root := repoRoot(t)
	s := compileSchema(t, filepath.Join(dir, "gitlab-ci.json"))

	_, docs := decodeYAML(t, filepath.Join(root, fanoutGitLab))
	if err := s.Validate(asJSON(t, docs[0])); err != nil {
		t.Errorf("%s does not validate against gitlab-ci.json:\n%#v", fanoutGitLab, err)
	}

	// The child pipeline podium plan writes for the weather example, with
	// a GPU tag on one step.
	sp, err := spec.Load(filepath.Join(root, "examples", "weather", "podium.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sp.Pipeline[2].RunsOn = []string{"gpu"}
	p, err := fanout.New(sp)
	if err != nil {
		t.Fatal(err)
	}
	child := p.GitLab(fanout.GitLabOptions{Image: "ghcr.io/podium-ml/podium:v0.1.0", Spec: "ml/podium.yaml", RunDir: "ml/.podium/run"})
	var v any
	if err := yaml.Unmarshal([]byte(child), &v); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(asJSON(t, v)); err != nil {
		t.Errorf("the generated child pipeline does not validate against gitlab-ci.json:\n%#v\n%s", err, child)
	}
}
