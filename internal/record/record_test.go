package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The fixture: testdata/workspace holds the files a run read and wrote,
// testdata/run its run.json and compare.json.
const (
	workspace = "testdata/workspace"
	runDir    = "testdata/run"
)

func fixtureCI() ci.Run {
	return ci.Run{
		Provider: "github-actions", Commit: "4041f29e4af4bb0564141ac12f9b981a39eed2ef",
		Ref: "refs/pull/7/merge", Branch: "better-features", Repository: "acme/iris",
		PullRequest: 7, RunID: "123456789", RunURL: "https://github.com/acme/iris/actions/runs/123456789",
		Workflow: "train", Job: "train", Attempt: 2, EventName: "pull_request", Actor: "octocat",
		ImageDigest: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
	}
}

func fixtureEnv() Environment {
	return Environment{PodiumVersion: "v1.2.3", OS: "linux", Arch: "amd64"}
}

// fixtureSource reads the fixture run and measures the workspace as the
// CLI does.
func fixtureSource(t *testing.T, withCompare bool) Source {
	t.Helper()
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	var cmp *rundir.Compare
	if withCompare {
		if cmp, err = rundir.ReadCompare(runDir); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	for _, s := range run.Steps {
		for p := range s.Inputs {
			paths = append(paths, p)
		}
		for p := range s.Outputs {
			paths = append(paths, p)
		}
	}
	sizes, err := Sizes(workspace, paths)
	if err != nil {
		t.Fatal(err)
	}
	artifact, err := InspectArtifact(t.Context(), workspace, "model/", run.Steps[0].Outputs["model/"])
	if err != nil {
		t.Fatal(err)
	}
	env := fixtureEnv()
	env.ImageDigest = fixtureCI().ImageDigest
	return Source{
		Run: run, Compare: cmp, CI: fixtureCI(), Env: env,
		PrimaryMetric: PrimaryMetric([]string{"accuracy", "latency_ms.p95"}, run.Metrics),
		Artifact:      artifact, Sizes: sizes,
	}
}

func build(t *testing.T, src Source) *Record {
	t.Helper()
	r, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(prettyJSON(t, want), prettyJSON(t, got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s: bytes differ from the golden file (formatting)", name)
	}
}

func prettyJSON(t *testing.T, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		withCompare bool
		format      string
		file        string
	}{
		{name: "podium record with the gate", withCompare: true, format: FormatPodium, file: "record.golden.json"},
		{name: "podium record without compare", withCompare: false, format: FormatPodium, file: "record-nocompare.golden.json"},
		{name: "in-toto statement", withCompare: true, format: FormatInToto, file: "statement.golden.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := build(t, fixtureSource(t, tt.withCompare))
			var got []byte
			var err error
			if tt.format == FormatInToto {
				got, err = NewStatement(r).Marshal()
			} else {
				got, err = r.Marshal()
			}
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, got)
		})
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	t.Parallel()
	// Many params and metrics, so that map order would show if it leaked.
	var first []byte
	for i := range 20 {
		src := fixtureSource(t, true)
		for k := range 50 {
			src.Run.Params[fmt.Sprintf("p%02d", k)] = float64(k)
			src.Run.Metrics[fmt.Sprintf("m%02d", k)] = float64(k) / 7
		}
		got, err := build(t, src).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
			continue
		}
		if !bytes.Equal(first, got) {
			t.Fatalf("build %d differs from the first:\n%s\n%s", i, first, got)
		}
	}
}

func TestMarshalIsOneLine(t *testing.T) {
	t.Parallel()
	got, err := build(t, fixtureSource(t, true)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(got, []byte("\n")) != 1 || got[len(got)-1] != '\n' {
		t.Errorf("canonical record is not one line ended by a newline:\n%s", got)
	}
}

func TestRoundTripThroughSchema(t *testing.T) {
	t.Parallel()
	for _, withCompare := range []bool{true, false} {
		r := build(t, fixtureSource(t, withCompare))
		data, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		if err := schemas.Validate(SchemaName, v); err != nil {
			t.Fatalf("schema: %v", err)
		}
		back, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Errorf("decode(marshal(r)) != r (-want +got):\n%s", diff)
		}
		again, err := back.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, again) {
			t.Errorf("re-encoding changed the bytes:\n%s\n%s", data, again)
		}
	}
}

func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	base := build(t, fixtureSource(t, true))
	tests := []struct {
		name   string
		mutate func(r *Record)
	}{
		{name: "bad commit sha", mutate: func(r *Record) { r.Commit.SHA = "HEAD" }},
		{name: "bad artifact digest", mutate: func(r *Record) { r.Artifact.Digest = "md5:abc" }},
		{name: "no artifact files", mutate: func(r *Record) { r.Artifact.Files = nil }},
		{name: "bad model name", mutate: func(r *Record) { r.Model = "../etc" }},
		{name: "unknown decision", mutate: func(r *Record) { d := "maybe"; r.Decision = &d }},
		{name: "negative size", mutate: func(r *Record) { r.Inputs[0].Size = -1 }},
		{name: "bad step status", mutate: func(r *Record) { r.Steps[0].Status = "done" }},
		{name: "no ci provider", mutate: func(r *Record) { r.CI.Provider = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, _ := json.Marshal(base)
			var r Record
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			tt.mutate(&r)
			if _, err := r.Marshal(); err == nil || !strings.Contains(err.Error(), "does not match record.schema.json") {
				t.Errorf("Marshal() error = %v, want a schema error", err)
			}
		})
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	t.Parallel()
	r := build(t, fixtureSource(t, true))
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	tree["added_in_v1_5"] = map[string]any{"anything": []any{1.0, "x"}}
	tree["commit"].(map[string]any)["signed"] = true
	tree["artifact"].(map[string]any)["media_type"] = "application/x-onnx"
	newer, _ := json.Marshal(tree)

	// A newer record still validates against this schema and decodes.
	var v any
	_ = json.Unmarshal(newer, &v)
	if err := schemas.Validate(SchemaName, v); err != nil {
		t.Errorf("schema refuses unknown fields: %v", err)
	}
	got, err := Decode(newer)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("Decode with unknown fields (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "not JSON", data: `{"model":`, wantErr: "not a podium record: record:1:10: model: unexpected end of file: the JSON is truncated [json]"},
		{name: "newer schema", data: `{"schema_version":2,"model":"m","commit":{"sha":"a"}}`, wantErr: "record schema_version 2 is not supported (this podium reads 1)"},
		{name: "no schema version", data: `{"model":"m"}`, wantErr: "record schema_version 0 is not supported (this podium reads 1)"},
		{name: "no model", data: `{"schema_version":1,"commit":{"sha":"a"}}`, wantErr: "not a podium record: no model or commit"},
		{name: "wrong type", data: `{"schema_version":1,"model":3}`, wantErr: "not a podium record: record:1:30: model: a JSON number cannot be a string [json]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tt.data))
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Decode() error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	r := build(t, fixtureSource(t, true))

	// Inputs and outputs: each path once, sorted, with sizes from disk.
	wantInputs := []File{
		{Path: "data/test.csv", Digest: "sha256:f4063ba0a61f95ca9f4582d1128d7b547a0c7cebca94923fd3e8eccda29e42d2", Size: 48},
		{Path: "data/train.csv", Digest: "sha256:a775f22b20fa204d3c49645625b444d831e22357d3b85921e8edab0fd4356750", Size: 67},
		{Path: "model/", Digest: "sha256:3b5ae60e56f4983ed9dc51a7bff3cfefed5a96bfb24cf818019c8753783fb52a", Size: 45},
	}
	if diff := cmp.Diff(wantInputs, r.Inputs); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if got := r.StartedAt.Format("2006-01-02T15:04:05.999Z07:00"); got != "2026-01-02T02:04:05.5Z" {
		t.Errorf("started_at = %s, want it in UTC", got)
	}
	if r.Commit.PullRequest != 7 || r.Commit.Ref != "refs/pull/7/merge" || r.CI.Attempt != 2 {
		t.Errorf("commit/ci = %+v %+v", r.Commit, r.CI)
	}
	if r.Decision == nil || *r.Decision != "promote" || r.Gate == nil || len(r.Gate.Checks) != 2 {
		t.Errorf("decision/gate = %v %+v", r.Decision, r.Gate)
	}
	if r.PrimaryMetric == nil || *r.PrimaryMetric != "accuracy" {
		t.Errorf("primary metric = %v", r.PrimaryMetric)
	}

	noCompare := build(t, fixtureSource(t, false))
	if noCompare.Decision != nil || noCompare.Gate != nil {
		t.Errorf("without compare.json: decision %v gate %v, want null", noCompare.Decision, noCompare.Gate)
	}
}

func TestNewRefusesCompareOfAnotherModel(t *testing.T) {
	t.Parallel()
	src := fixtureSource(t, true)
	src.Compare.Model = "other"
	_, err := New(src)
	want := `compare.json is for model "other" but run.json for "iris-classifier"`
	if err == nil || err.Error() != want {
		t.Errorf("New() error = %v, want %q", err, want)
	}
}

func TestNewDropsWhatTheSchemaCannotHold(t *testing.T) {
	t.Parallel()
	src := fixtureSource(t, true)
	src.CI = ci.Run{Provider: "", RunURL: "not a url", PullRequest: -1}
	src.Env.ImageDigest = "ghcr.io/acme/podium:latest"
	r := build(t, src)
	if r.CI.Provider != "local" || r.CI.RunURL != "" || r.Commit.PullRequest != 0 || r.Environment.ImageDigest != "" {
		t.Errorf("ci %+v commit %+v env %+v", r.CI, r.Commit, r.Environment)
	}
	if _, err := r.Marshal(); err != nil {
		t.Error(err)
	}
}

func TestDataDigest(t *testing.T) {
	t.Parallel()
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("2", 64)
	d3 := "sha256:" + strings.Repeat("3", 64)
	listing := sha256.Sum256([]byte(strings.Repeat("1", 64) + "  data/a.csv\n" + strings.Repeat("2", 64) + "  data/b/\n"))
	tests := []struct {
		name    string
		inputs  []File
		outputs []File
		want    *string
	}{
		{name: "none", want: nil},
		{name: "only outputs of other steps", inputs: []File{{Path: "model/x", Digest: d1}}, outputs: []File{{Path: "model/", Digest: d3}}, want: nil},
		{name: "one external input is its own digest", inputs: []File{{Path: "data/a.csv", Digest: d1}, {Path: "model/", Digest: d3}}, outputs: []File{{Path: "model/", Digest: d3}}, want: &d1},
		{name: "several: the sha256sum listing", inputs: []File{{Path: "data/a.csv", Digest: d1}, {Path: "data/b/", Digest: d2}}, want: ptr("sha256:" + hex.EncodeToString(listing[:]))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, dataDigest(dataInputs(tt.inputs, tt.outputs, nil, nil))); diff != "" {
				t.Errorf("dataDigest (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestPrimaryMetric(t *testing.T) {
	t.Parallel()
	metrics := map[string]float64{"accuracy": 1, "by_region.us": 2, "by_region.eu": 3}
	tests := []struct {
		name     string
		patterns []string
		want     string
	}{
		{name: "no rules", want: ""},
		{name: "literal", patterns: []string{"accuracy", "by_region.*"}, want: "accuracy"},
		{name: "glob takes the first match in byte order", patterns: []string{"by_region.*"}, want: "by_region.eu"},
		{name: "nothing matches", patterns: []string{"f1"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PrimaryMetric(tt.patterns, metrics); got != tt.want {
				t.Errorf("PrimaryMetric() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckRun(t *testing.T) {
	t.Parallel()
	valid, err := os.ReadFile(filepath.Join(runDir, rundir.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	const prefix = "D/run.json: "
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "valid", data: string(valid)},
		{name: "null params and metrics are empty", data: edit(func(m map[string]any) { m["params"] = nil; m["metrics"] = nil })},
		{name: "empty object", data: `{}`, wantErr: "missing fields: model, spec_digest, params, commit, started_at, finished_at, steps, metrics"},
		{name: "missing commit", data: edit(func(m map[string]any) { delete(m, "commit") }), wantErr: "missing fields: commit"},
		{name: "null model", data: edit(func(m map[string]any) { m["model"] = nil }), wantErr: "missing fields: model"},
		{name: "short commit", data: edit(func(m map[string]any) { m["commit"] = "4041f29" }), wantErr: `commit "4041f29" is not a full lowercase commit SHA`},
		{name: "model with a slash", data: edit(func(m map[string]any) { m["model"] = "a/b" }), wantErr: `model "a/b" is not a model name (letters, digits, '.', '_', '-')`},
		{name: "bad spec digest", data: edit(func(m map[string]any) { m["spec_digest"] = "abc" }), wantErr: `spec_digest "abc" is not sha256:<64 hex digits>`},
		{name: "zero time", data: edit(func(m map[string]any) { m["started_at"] = "0001-01-01T00:00:00Z" }), wantErr: "started_at is the zero time"},
		{name: "bad step", data: edit(func(m map[string]any) {
			m["steps"] = []any{map[string]any{"name": "train", "status": "done", "duration_s": -1, "inputs": map[string]any{"x": "md5:1"}}}
		}), wantErr: `step train: status "done" is not one of ok, failed, skipped, cached, timeout, interrupted; step train: duration_s is negative; step train: inputs: "x": digest "md5:1" is not sha256:<64 hex digits>`},
		{name: "several problems at once", data: edit(func(m map[string]any) { delete(m, "metrics"); m["commit"] = "x" }), wantErr: `missing fields: metrics; commit "x" is not a full lowercase commit SHA`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var run rundir.Run
			if err := json.Unmarshal([]byte(tt.data), &run); err != nil {
				t.Fatal(err)
			}
			err := CheckRun("D", []byte(tt.data), &run)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckRun() = %v", err)
				}
				return
			}
			var incomplete *rundir.IncompleteError
			if !errors.As(err, &incomplete) || !errors.Is(err, diag.ErrInvalidInput) {
				t.Fatalf("CheckRun() = %v (%T), want an IncompleteError", err, err)
			}
			if got, want := err.Error(), prefix+tt.wantErr; got != want {
				t.Errorf("CheckRun() error\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	sha := "4041f29e4af4bb0564141ac12f9b981a39eed2ef"
	if got, want := FileName("iris", sha, FormatPodium), "podium-record-iris-4041f29e4af4.json"; got != want {
		t.Errorf("FileName() = %q, want %q", got, want)
	}
	if got, want := FileName("iris", sha, FormatInToto), "podium-record-iris-4041f29e4af4.intoto.json"; got != want {
		t.Errorf("FileName() = %q, want %q", got, want)
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	// sha256("") is the well-known e3b0... value.
	if got, want := Digest(nil), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("Digest() = %q, want %q", got, want)
	}
}

// The documents scripts/check-schemas.sh feeds Ajv as invalid are
// invalid for the embedded validator too: the two agree.
func TestInvalidDocumentsAreRejected(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/invalid/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no invalid documents: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			schema := SchemaName
			if strings.HasPrefix(filepath.Base(p), "statement-") {
				schema = StatementSchemaName
			}
			if err := schemas.Validate(schema, v); err == nil {
				t.Errorf("%s accepts %s", schema, p)
			}
		})
	}
}

// TestDataInputs: the data digest follows the data, not the code.
func TestDataInputs(t *testing.T) {
	t.Parallel()
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	inputs := []File{
		{Path: "data/raw.csv", Digest: d("1")},
		{Path: "data/split/test.csv", Digest: d("2")},
		{Path: "pipeline/", Digest: d("3")},
		{Path: "src/train.py", Digest: d("4")},
		{Path: "requirements.txt", Digest: d("5")},
		{Path: "features.parquet", Digest: d("6")},
	}
	outputs := []File{{Path: "data/split/", Digest: d("7")}}
	var got []string
	for _, f := range dataInputs(inputs, outputs, []string{"pipeline", "."}, []string{"data/split/test.csv"}) {
		got = append(got, f.Path)
	}
	want := []string{"data/raw.csv", "data/split/test.csv", "features.parquet"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dataInputs (-want +got):\n%s", diff)
	}
	// A code change leaves the digest alone; a data change moves it.
	base := *dataDigest(dataInputs(inputs, outputs, []string{"pipeline"}, nil))
	inputs[3].Digest = d("8")
	if got := *dataDigest(dataInputs(inputs, outputs, []string{"pipeline"}, nil)); got != base {
		t.Errorf("data digest moved with train.py: %s -> %s", base, got)
	}
	inputs[0].Digest = d("9")
	if got := *dataDigest(dataInputs(inputs, outputs, []string{"pipeline"}, nil)); got == base {
		t.Errorf("data digest did not move with data/raw.csv")
	}
}
