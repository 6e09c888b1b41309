package registry

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/podium-ml/podium/internal/diag"
)

const (
	testCommit = "0123456789abcdef0123456789abcdef01234567"
	testDigest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func testPointer(version string, accuracy float64) *Pointer {
	return &Pointer{
		SchemaVersion:  1,
		Model:          "iris",
		Version:        version,
		Metrics:        map[string]float64{"accuracy": accuracy, "latency_ms.p95": 41},
		Params:         map[string]any{"seed": 42.0},
		Artifacts:      map[string]string{"model/": testDigest},
		EvaluationData: map[string]string{"data/test.csv": testDigest},
		RecordDigest:   testDigest,
		Commit:         testCommit,
		PromotedAt:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	p := testPointer("v1", 0.925)
	data, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "schema_version": 1,
  "model": "iris",
  "version": "v1",
  "metrics": {
    "accuracy": 0.925,
    "latency_ms.p95": 41
  },
  "params": {
    "seed": 42
  },
  "artifacts": {
    "model/": "` + testDigest + `"
  },
  "evaluation_data": {
    "data/test.csv": "` + testDigest + `"
  },
  "record_digest": "` + testDigest + `",
  "commit": "` + testCommit + `",
  "promoted_at": "2026-01-02T03:04:05Z"
}
`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	got, err := Parse("iris.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !IsPointer(data) {
		t.Error("IsPointer = false for a pointer")
	}
}

func TestMarshalDefaultsSchemaVersionWithoutMutating(t *testing.T) {
	t.Parallel()
	p := testPointer("v1", 0.9)
	p.SchemaVersion = 0
	p.PromotedAt = time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600))
	data, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"schema_version": 1`) || !strings.Contains(string(data), `"2026-01-02T03:04:05Z"`) {
		t.Errorf("Marshal = %s", data)
	}
	if p.SchemaVersion != 0 || p.PromotedAt.Location().String() != "CET" {
		t.Error("Marshal changed its argument")
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	valid := func(edit func(s string) string) string {
		data, err := Marshal(testPointer("v1", 0.9))
		if err != nil {
			t.Fatal(err)
		}
		return edit(string(data))
	}
	tests := []struct {
		name       string
		data       string
		wantErrMsg string
	}{
		{
			name: "duplicate key",
			data: valid(func(s string) string {
				return strings.Replace(s, `"model": "iris",`, `"model": "iris", "model": "evil",`, 1)
			}),
			wantErrMsg: `iris.json:3:20: model: duplicate key "model" (first at line 3, column 3) [json]`,
		},
		{
			name: "keys differing in case",
			data: valid(func(s string) string {
				return strings.Replace(s, `"accuracy": 0.9,`, `"accuracy": 0.9, "Accuracy": 0.99,`, 1)
			}),
			wantErrMsg: `iris.json:6:22: metrics.Accuracy: key "Accuracy" differs from "accuracy" (line 6, column 5) only in case: keys must be unique ignoring case [json]`,
		},
		{
			name:       "metric not a number",
			data:       valid(func(s string) string { return strings.Replace(s, `"accuracy": 0.9`, `"accuracy": "0.9"`, 1) }),
			wantErrMsg: `iris.json: /metrics/accuracy: expected number, but got string [registry]`,
		},
		{
			name:       "bad digest",
			data:       valid(func(s string) string { return strings.Replace(s, `"model/": "sha256:e3`, `"model/": "md5:e3`, 1) }),
			wantErrMsg: `iris.json: /artifacts/model~1: does not match pattern '^sha256:[0-9a-f]{64}$' [registry]`,
		},
		{
			name:       "missing version",
			data:       valid(func(s string) string { return strings.Replace(s, `"version": "v1",`, ``, 1) }),
			wantErrMsg: `iris.json: /: missing properties: 'version' [registry]`,
		},
		{
			name:       "number out of range",
			data:       valid(func(s string) string { return strings.Replace(s, `"accuracy": 0.9`, `"accuracy": 1e309`, 1) }),
			wantErrMsg: `iris.json:6:17: metrics.accuracy: 1e309 is out of the range of a 64-bit float [json]`,
		},
		{
			// FuzzParse found it: the schema ignored "ArtifACts" as an
			// unknown key, then encoding/json matched it to artifacts and
			// an invalid digest got through.
			name: "a case variant of a field",
			data: valid(func(s string) string {
				return strings.Replace(s, `"artifacts": {`, `"ArtifACts": {"m": "not a digest"}, "x": {`, 1)
			}),
			wantErrMsg: `iris.json:12:3: ArtifACts: key "ArtifACts" is not "artifacts": field names are case-sensitive [json]`,
		},
		{
			name: "an unknown field",
			data: valid(func(s string) string {
				return strings.Replace(s, `"version": "v1",`, `"version": "v1", "champion": true,`, 1)
			}),
			wantErrMsg: `iris.json:4:20: champion: unknown field "champion" [json]`,
		},
		{
			name:       "an integer a float64 cannot hold",
			data:       valid(func(s string) string { return strings.Replace(s, `"accuracy": 0.9`, `"accuracy": 9007199254740993`, 1) }),
			wantErrMsg: `iris.json:6:17: metrics.accuracy: 9007199254740993 cannot be kept exactly: a 64-bit float holds it as 9007199254740992 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [json]`,
		},
		{
			name:       "truncated",
			data:       `{"model": "iris"`,
			wantErrMsg: `iris.json:1:17: unexpected end of file: the JSON is truncated [json]`,
		},
		{
			name:       "bad date",
			data:       valid(func(s string) string { return strings.Replace(s, `2026-01-02T03:04:05Z`, `yesterday`, 1) }),
			wantErrMsg: `iris.json: /promoted_at: 'yesterday' is not valid 'date-time' [registry]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("iris.json", []byte(tt.data))
			if err == nil {
				t.Fatal("Parse succeeded, want error")
			}
			if err.Error() != tt.wantErrMsg {
				t.Errorf("error:\n got: %s\nwant: %s", err, tt.wantErrMsg)
			}
			if !errors.Is(err, diag.ErrInvalidInput) {
				t.Errorf("error %T is not invalid input", err)
			}
		})
	}
}

func TestIsPointer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		data string
		want bool
	}{
		{`{"schema_version":1,"model":"m","metrics":{}}`, true},
		{`{"accuracy":0.9}`, false},
		{`{"model":"m","metrics":{"accuracy":0.9}}`, false},
		{`[1,2]`, false},
		{`accuracy: 0.9`, false},
	}
	for _, tt := range tests {
		if got := IsPointer([]byte(tt.data)); got != tt.want {
			t.Errorf("IsPointer(%s) = %v, want %v", tt.data, got, tt.want)
		}
	}
}

func TestCheckModel(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "../x", "a/b", ".hidden", "-x", strings.Repeat("a", 101), "a b"} {
		if err := CheckModel(bad); err == nil {
			t.Errorf("CheckModel(%q) = nil, want error", bad)
		}
	}
	for _, good := range []string{"iris", "iris-classifier", "m.v2_x"} {
		if err := CheckModel(good); err != nil {
			t.Errorf("CheckModel(%q) = %v", good, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	data, _ := Marshal(testPointer("v1", 0.9))
	f.Add(data)
	f.Add([]byte(`{"schema_version":1,"model":"m","metrics":{"a":1},"a":{"b":[1,{"c":2,"C":3}]}}`))
	f.Add([]byte(`{"a":1}{"b":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		p, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		// What parses marshals and parses back to the same pointer.
		out, err := Marshal(p)
		if err != nil {
			t.Fatalf("Marshal of a parsed pointer: %v", err)
		}
		q, err := Parse("again.json", out)
		if err != nil {
			t.Fatalf("Parse of a marshalled pointer: %v", err)
		}
		// An empty map is written as nothing and reads back as nil.
		if diff := cmp.Diff(p, q, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func TestReadChampionFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pointerData, err := Marshal(testPointer("v1", 0.925))
	if err != nil {
		t.Fatal(err)
	}
	pointer := write("pointer.json", string(pointerData))
	tests := []struct {
		name        string
		path        string
		wantPointer bool
		wantMetrics map[string]float64
		wantErr     string
	}{
		{
			name:        "registry pointer",
			path:        pointer,
			wantPointer: true,
			wantMetrics: map[string]float64{"accuracy": 0.925, "latency_ms.p95": 41},
		},
		{
			name:        "plain metrics file, nested",
			path:        write("m.json", `{"accuracy": 0.9, "latency_ms": {"p95": 40}}`),
			wantMetrics: map[string]float64{"accuracy": 0.9, "latency_ms.p95": 40},
		},
		{
			name:        "a metrics file with a metrics object is not a pointer",
			path:        write("nested.json", `{"metrics": {"accuracy": 0.9}}`),
			wantMetrics: map[string]float64{"metrics.accuracy": 0.9},
		},
		{
			name:        "CSV metrics file",
			path:        write("m.csv", "accuracy,0.8\n"),
			wantMetrics: map[string]float64{"accuracy": 0.8},
		},
		{
			name:    "pointer that the schema refuses",
			path:    write("bad.json", `{"schema_version": 1, "model": "iris", "version": "v1", "metrics": {"accuracy": {"x": 1}}, "commit": "`+testCommit+`", "promoted_at": "2026-01-01T00:00:00Z"}`),
			wantErr: "bad.json: /metrics/accuracy: expected number, but got object [registry]",
		},
		{
			name:    "pointer with a duplicate metric",
			path:    write("dup.json", `{"schema_version": 1, "model": "iris", "version": "v1", "metrics": {"accuracy": 0.1, "accuracy": 0.99}, "commit": "`+testCommit+`", "promoted_at": "2026-01-01T00:00:00Z"}`),
			wantErr: `duplicate key "accuracy"`,
		},
		{
			name:    "metrics file with NaN",
			path:    write("nan.json", `{"accuracy": NaN}`),
			wantErr: "nan.json:1:14: accuracy: NaN",
		},
		{
			name:    "a directory",
			path:    dir,
			wantErr: dir + ": is a directory: name a champion pointer or a metrics file [registry]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadChampionFile(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadChampionFile() error = %v, want it to contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, diag.ErrInvalidInput) {
					t.Errorf("error %T is not invalid input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadChampionFile() error: %v", err)
			}
			if (got.Pointer != nil) != tt.wantPointer {
				t.Errorf("Pointer = %+v, want a pointer: %v", got.Pointer, tt.wantPointer)
			}
			if diff := cmp.Diff(tt.wantMetrics, got.Metrics); diff != "" {
				t.Errorf("Metrics (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, err := ReadChampionFile(filepath.Join(dir, "gone.json"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadChampionFile() error = %v, want fs.ErrNotExist", err)
		}
	})
}
