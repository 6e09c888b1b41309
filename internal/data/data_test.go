package data

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// refSchema infers the schema of testdata/ref.csv with id as the key.
func refSchema(t *testing.T) (*Inferred, *Schema) {
	t.Helper()
	inf, err := Infer(context.Background(), []string{"testdata/ref.csv"}, InferOptions{Keys: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse("ref.schema.yaml", inf.YAML())
	if err != nil {
		t.Fatalf("the inferred schema does not load: %v", err)
	}
	return inf, s
}

func TestInferGolden(t *testing.T) {
	t.Parallel()
	inf, _ := refSchema(t)
	golden(t, "ref.schema.yaml", string(inf.YAML()))
	var types []string
	for _, c := range inf.Schema.Columns {
		types = append(types, c.Name+":"+string(c.Type))
	}
	want := []string{"id:integer", "when:timestamp", "temp:number", "count:integer", "sky:category", "ok:boolean", "note:string"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("types mismatch (-want +got):\n%s", diff)
	}
}

// TestInferredSchemaPassesItsReference: the reference always passes the
// schema inferred from it.
func TestInferredSchemaPassesItsReference(t *testing.T) {
	t.Parallel()
	_, s := refSchema(t)
	res, err := Check(context.Background(), s, []string{"testdata/ref.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || len(res.Violations) != 0 || res.Passed != res.Checks || res.Checks < 20 {
		t.Errorf("reference against its own schema: %d of %d passed, violations %+v", res.Passed, res.Checks, res.Violations)
	}
}

func TestCheckGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		golden string
	}{
		{"testdata/broken.csv", "broken.csv.txt"},
		{"testdata/broken.jsonl", "broken.jsonl.txt"},
		{"testdata/empty.csv", "empty.csv.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			_, s := refSchema(t)
			res, err := Check(context.Background(), s, []string{tt.file})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() {
				t.Error("OK() = true for a file that breaks the schema")
			}
			golden(t, tt.golden, res.Text())
		})
	}
}

// TestCheckSameAcrossFormats: the same data as CSV and as JSON Lines gets
// the same violations (lines aside: JSON Lines has no header line).
func TestCheckSameAcrossFormats(t *testing.T) {
	t.Parallel()
	_, s := refSchema(t)
	strip := func(path string) []Violation {
		res, err := Check(context.Background(), s, []string{path})
		if err != nil {
			t.Fatal(err)
		}
		var out []Violation
		for _, v := range res.Violations {
			v.File = ""
			for i := range v.Examples {
				v.Examples[i].Line = 0
			}
			if v.Check == "readable" || v.Check == CheckUnique {
				v.Examples = nil // reasons and earlier lines differ by format
			}
			out = append(out, v)
		}
		return out
	}
	if diff := cmp.Diff(strip("testdata/broken.csv"), strip("testdata/broken.jsonl")); diff != "" {
		t.Errorf("CSV and JSON Lines disagree (-csv +jsonl):\n%s", diff)
	}
}

func TestSeverityOverride(t *testing.T) {
	t.Parallel()
	schema := `version: 1
columns:
  - name: temp
    type: number
    required: false
    max_missing: 0.5
    min: 0
    max: 10
    severity: {range: warning}
  - name: sky
    type: category
    values: [sun, rain, fog]
    max_unseen: 0.2
    severity: warning
`
	s, err := Parse("s.yaml", []byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Check(context.Background(), s, []string{"testdata/ref.csv"})
	if err != nil {
		t.Fatal(err)
	}
	type vs struct{ Column, Check, Severity string }
	var got []vs
	for _, v := range res.Violations {
		got = append(got, vs{v.Column, v.Check, string(v.Severity)})
	}
	// temp has -3.25, 12.5, 15 and 20 outside [0, 10]: a warning; the
	// extra columns are a warning by default. Nothing rejects.
	want := []vs{{"", "columns", "warning"}, {"temp", "range", "warning"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations mismatch (-want +got):\n%s", diff)
	}
	if !res.OK() || res.Warnings != 2 {
		t.Errorf("OK() = %v, warnings %d; want true, 2", res.OK(), res.Warnings)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown type", "version: 1\ncolumns:\n  - name: a\n    type: float\n", []string{"s.yaml:4:11: columns[0].type: value must be one of"}},
		{"unknown key", "version: 1\ncolumns:\n  - name: a\n    type: number\n    maximum: 3\n", []string{`s.yaml:5:5: columns[0].maximum: unknown key "maximum"`}},
		{"min above max", "version: 1\ncolumns:\n  - name: a\n    type: number\n    min: 3\n    max: 1\n", []string{"s.yaml:5:10: columns[0].min: min 3 is above max 1"}},
		{"category without values", "version: 1\ncolumns:\n  - name: a\n    type: category\n", []string{"s.yaml:3:5: columns[0]: a category column needs values"}},
		{"range on a string", "version: 1\ncolumns:\n  - name: a\n    type: string\n    min: 1\n", []string{"s.yaml:4:11: columns[0].type: min and max need a number or integer column"}},
		{"duplicate column", "version: 1\ncolumns:\n  - {name: a, type: string}\n  - {name: a, type: number}\n", []string{`s.yaml:4:12: columns[1].name: column "a" is also columns[0]`}},
		{"bad pattern", "version: 1\ncolumns:\n  - name: a\n    type: string\n    pattern: '(['\n", []string{"columns[0].pattern"}},
		{"no columns", "version: 1\ncolumns: []\n", []string{"s.yaml:2:10: columns: minimum 1 items"}},
		{"not yaml", "version: [1\n", []string{"invalid YAML"}},
		{"max_missing on a required column", "version: 1\ncolumns:\n  - name: a\n    type: string\n    max_missing: 0.1\n", []string{"max_missing needs required: false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("s.yaml", []byte(tt.yaml))
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("Parse() error = %v, want a diag.List", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCheckUnreadableFile(t *testing.T) {
	t.Parallel()
	_, s := refSchema(t)
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"blank.csv", "", "file is empty"},
		{"dup.csv", "a,a\n1,2\n", `header: column 2: "a" is also column 1`},
		{"bad.jsonl", "[1,2]\n", "the first object: not a JSON object"},
		{"bad.parquet", "PAR1 not really", "not a readable Parquet file"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Check(context.Background(), s, []string{path})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if !errors.Is(err, diag.ErrInvalidInput) {
			t.Errorf("%s: error %v is not invalid input", tt.name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\ncolumns:\n  - {name: a, type: number, min: 0, max: 1}\n"))
	f.Add([]byte("version: 1\ncolumns:\n  - {name: c, type: category, values: [x, y], severity: {domain: warning}}\n"))
	f.Add([]byte("version: 1\nrows: {min: 1, max: 0}\ncolumns:\n  - {name: s, type: string, pattern: '^a+$'}\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Parse("f.yaml", raw)
		if err != nil {
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("Parse() error %T %v is not a diag.List", err, err)
			}
			return
		}
		if len(s.Columns) == 0 {
			t.Fatal("a schema without columns loaded")
		}
	})
}
