package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
)

func TestGraphAllowsOrderedSteps(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src string }{
		{
			name: "reads what an indirect need writes",
			src:  base + "pipeline:\n  - {name: a, run: x, outputs: [model/]}\n  - {name: b, run: y, needs: [a]}\n  - {name: c, run: z, needs: [b], inputs: [model/w.bin]}\n",
		},
		{
			name: "an ordered step writes inside another's output",
			src:  base + "pipeline:\n  - {name: a, run: x, outputs: [model/]}\n  - {name: b, run: y, needs: [a], outputs: [model/card.md]}\n",
		},
		{
			name: "a step reads its own output",
			src:  base + "pipeline:\n  - {name: a, run: x, inputs: [model/w.bin], outputs: [model/]}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse("podium.yaml", []byte(tt.src)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

// TestCheckGraphSaysWhatLoadSays: a Spec built in code gets the messages
// Load gives for the same steps, without positions.
func TestCheckGraphSaysWhatLoadSays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []Step
		want  []string
	}{
		{
			name:  "duplicate name",
			steps: []Step{{Name: "a", Run: "x"}, {Name: "a", Run: "y"}},
			want:  []string{`podium.yaml: pipeline[1].name: duplicate step name "a" (also pipeline[0])`},
		},
		{
			name:  "unknown need",
			steps: []Step{{Name: "train", Run: "x"}, {Name: "evaluate", Run: "y", Needs: []string{"trian"}}},
			want:  []string{`podium.yaml: pipeline[1].needs[0]: unknown step "trian" (did you mean "train"?)`},
		},
		{
			name:  "cycle",
			steps: []Step{{Name: "a", Run: "x", Needs: []string{"b"}}, {Name: "b", Run: "y", Needs: []string{"a"}}},
			want:  []string{`podium.yaml: pipeline[0].needs: dependency cycle: a -> b -> a`},
		},
		{
			name: "read without need",
			steps: []Step{
				{Name: "train", Run: "x", Outputs: []string{"model/"}},
				{Name: "evaluate", Run: "y", Inputs: []string{"model/weights.bin"}},
			},
			want: []string{`podium.yaml: pipeline[1].inputs[0]: step "evaluate" reads "model/weights.bin", which step "train" writes, but does not need "train" (add it to needs)`},
		},
		{
			name:  "same output twice",
			steps: []Step{{Name: "a", Run: "x", Outputs: []string{"model"}}, {Name: "b", Run: "y", Outputs: []string{"model/"}}},
			want:  []string{`podium.yaml: pipeline[1].outputs[0]: step "b" writes "model/", which step "a" writes too, and neither needs the other (they would race: add one to the other's needs)`},
		},
		{
			name:  "a valid graph",
			steps: []Step{{Name: "a", Run: "x", Outputs: []string{"model/"}}, {Name: "b", Run: "y", Needs: []string{"a"}, Inputs: []string{"model/"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckGraph(&Spec{File: "podium.yaml", Pipeline: tt.steps})
			var got []string
			for _, d := range diag.All(err) {
				got = append(got, d.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if err != nil && !isInvalid(err) {
				t.Errorf("error %T is not invalid input", err)
			}
		})
	}
}
