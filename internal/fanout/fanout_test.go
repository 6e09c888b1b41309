package fanout_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/podium-ml/podium/internal/fanout"
	"github.com/podium-ml/podium/internal/spec"
)

func steps(defs ...string) *spec.Spec {
	s := &spec.Spec{Model: "m"}
	for _, d := range defs {
		name, needs, _ := strings.Cut(d, ":")
		st := spec.Step{Name: name, Run: "true"}
		if needs != "" {
			st.Needs = strings.Split(needs, ",")
		}
		s.Pipeline = append(s.Pipeline, st)
	}
	return s
}

func waveNames(p *fanout.Plan) [][]string {
	out := [][]string{}
	for _, w := range p.Waves {
		names := []string{}
		for _, j := range w {
			names = append(names, j.Step)
		}
		out = append(out, names)
	}
	return out
}

func TestWaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec *spec.Spec
		want [][]string
	}{
		{"chain", steps("a", "b:a", "c:b"), [][]string{{"a"}, {"b"}, {"c"}}},
		{"weather", steps("build", "prepare:build", "train:prepare", "profile:prepare", "evaluate:train"),
			[][]string{{"build"}, {"prepare"}, {"train", "profile"}, {"evaluate"}}},
		{"independent", steps("a", "b", "c"), [][]string{{"a", "b", "c"}}},
		// A step waits for its latest need, not its first.
		{"diamond with a long side", steps("a", "b:a", "c:b", "d:a,c"), [][]string{{"a"}, {"b"}, {"c"}, {"d"}}},
		{"declared before its needs", steps("d:c", "c", "e:d"), [][]string{{"c"}, {"d"}, {"e"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := fanout.New(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := waveNames(p)
			// Order within a wave follows the spec.
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("waves (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRefusesCycles(t *testing.T) {
	t.Parallel()
	for _, s := range []*spec.Spec{steps("a:b", "b:a"), steps("a:a"), steps("a:zz")} {
		if _, err := fanout.New(s); err == nil {
			t.Errorf("New(%v) planned a broken DAG", s.Pipeline)
		}
	}
}

func TestMatrix(t *testing.T) {
	t.Parallel()
	s := steps("prepare", "train:prepare", "profile:prepare")
	s.Pipeline[1].RunsOn = []string{"self-hosted", "gpu"}
	p, err := fanout.New(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"include":[{"step":"train","runs-on":["self-hosted","gpu"]},{"step":"profile","runs-on":["ubuntu-24.04"]}]}`
	if got := p.Matrix(1, []string{"ubuntu-24.04"}); got != want {
		t.Errorf("Matrix(1) = %s, want %s", got, want)
	}
}

func TestGitLab(t *testing.T) {
	t.Parallel()
	s := steps("prepare", "train:prepare", "profile:prepare", "evaluate:train")
	s.Pipeline[1].RunsOn = []string{"gpu", "it's: odd"}
	p, err := fanout.New(s)
	if err != nil {
		t.Fatal(err)
	}
	out := p.GitLab(fanout.GitLabOptions{Image: "registry.example.com/ml:1", Spec: "ml dir/podium.yaml", RunDir: "ml dir/.podium/run"})
	type job struct {
		Stage  string   `yaml:"stage"`
		Needs  []string `yaml:"needs"`
		Tags   []string `yaml:"tags"`
		Script []string `yaml:"script"`
	}
	var nodes map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(out), &nodes); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	doc := map[string]job{}
	for name, n := range nodes {
		if strings.HasPrefix(name, "podium:") {
			var j job
			if err := n.Decode(&j); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			doc[name] = j
		}
	}
	train := doc["podium:train"]
	if diff := cmp.Diff([]string{"podium:prepare"}, train.Needs); diff != "" {
		t.Errorf("train needs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"gpu", "it's: odd"}, train.Tags); diff != "" {
		t.Errorf("train tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`podium train --spec 'ml dir/podium.yaml' --step train`}, train.Script); diff != "" {
		t.Errorf("train script (-want +got):\n%s", diff)
	}
	if got := doc["podium:prepare"].Needs; got == nil || len(got) != 0 {
		t.Errorf("prepare needs = %#v, want [] (start at once)", got)
	}
	asm := doc["podium:assemble"]
	if len(asm.Needs) != 4 || asm.Stage != "assemble" || asm.Script[0] != `podium train --spec 'ml dir/podium.yaml'` {
		t.Errorf("assemble = %+v", asm)
	}
}
