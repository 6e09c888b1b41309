package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDataSection(t *testing.T) {
	t.Parallel()
	const head = `version: 1
model: m
pipeline:
  - {name: prep, run: 'true', inputs: [raw.csv], outputs: [train.csv]}
  - {name: train, run: 'true', needs: [prep], inputs: [train.csv]}
`
	tests := []struct {
		name, data string
		want       string // "" for valid
	}{
		{"guards a source input", "data: {schema: data.schema.yaml, inputs: [raw.csv]}\n", ""},
		{"not a step input", "data: {schema: data.schema.yaml, inputs: [other.csv]}\n",
			`podium.yaml:6:43: data.inputs[0]: "other.csv" is not an input of any step`},
		{"an output", "data: {schema: data.schema.yaml, inputs: [train.csv]}\n",
			`podium.yaml:6:43: data.inputs[0]: "train.csv" is an output of step "prep", but the data check runs before any step`},
		{"outside the directory", "data: {schema: ../s.yaml, inputs: [raw.csv]}\n", `podium.yaml:6:16: data.schema: path "../s.yaml" leaves`},
		{"no inputs", "data: {schema: s.yaml}\n", `missing required key "inputs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("podium.yaml", []byte(head+tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(&Data{Schema: "data.schema.yaml", Inputs: []string{"raw.csv"}}, s.Data); diff != "" {
					t.Errorf("Data mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
