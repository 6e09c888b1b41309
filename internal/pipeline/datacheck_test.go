package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/spec"
)

const dataSchema = `version: 1
columns:
  - {name: x, type: number, min: 0, max: 10}
  - {name: c, type: category, values: [a, b]}
`

// dataProject is a one-step pipeline whose input data.csv the spec's data
// section guards.
func dataProject(t *testing.T, csv string) *project {
	p := newProject(t, spec.Step{Name: "train", Run: "echo trained > out.txt", Inputs: []string{"data.csv"}, Outputs: []string{"out.txt"}})
	p.spec.Data = &spec.Data{Schema: "data.schema.yaml", Inputs: []string{"data.csv"}}
	p.write("data.schema.yaml", dataSchema)
	p.write("data.csv", csv)
	return p
}

func TestDataCheckPassesThenIsCached(t *testing.T) {
	t.Parallel()
	p := dataProject(t, "x,c\n1,a\n2,b\n")
	res, err := p.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Data == nil || !res.Data.OK() || res.DataCached {
		t.Fatalf("first run: data %+v cached %v, want a fresh pass", res.Data, res.DataCached)
	}
	run := readRun(t, p.runDir())
	if run.Data == nil || run.Data.Passed != run.Data.Checks || run.Data.Cached || run.Data.Inputs["data.csv"] == "" {
		t.Fatalf("run.json data = %+v, want the fresh pass with the input's digest", run.Data)
	}
	res, err = p.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.DataCached {
		t.Error("second run with the same schema and data: the check was not cached")
	}
	if run2 := readRun(t, p.runDir()); run2.Data == nil || !run2.Data.Cached || run2.Data.Checks != run.Data.Checks {
		t.Errorf("cached run.json data = %+v, want the first summary marked cached", run2.Data)
	}
	// A changed schema is a cache miss.
	p.write("data.schema.yaml", dataSchema+"rows: {min: 1}\n")
	if res, err = p.run(context.Background()); err != nil || res.DataCached {
		t.Errorf("after a schema change: err %v, cached %v; want a fresh check", err, res.DataCached)
	}
}

func TestDataCheckFailureStopsTheRun(t *testing.T) {
	t.Parallel()
	p := dataProject(t, "x,c\n1,a\n20,z\n")
	p.write(".podium/run/run.json", "{}") // a previous run's
	res, err := p.run(context.Background())
	var rejected *DataRejectedError
	if !errors.As(err, &rejected) || res != nil {
		t.Fatalf("Run() = %v, %v; want a DataRejectedError and no result", res, err)
	}
	var got []string
	for _, v := range rejected.Result.Violations {
		got = append(got, v.Column+"/"+v.Check)
	}
	if diff := cmp.Diff([]string{"x/range", "c/domain"}, got); diff != "" {
		t.Errorf("violations mismatch (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "out.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the step ran after a failed data check (out.txt: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(p.runDir(), "run.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a stale run.json outlived a failed data check: %v", err)
	}
}
