package metrics

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/podium-ml/podium/internal/diag"
)

func TestParse(t *testing.T) {
	t.Parallel()
	emptyObjects := "{" + manyKeys(20000, "{}") + "}"
	tests := []struct {
		name    string
		file    string
		data    string
		want    *Result
		wantErr string
	}{
		{
			name: "nested JSON flattens objects and arrays",
			file: "m.json",
			data: `{"accuracy": 0.9, "latency_ms": {"p95": 41, "p50": 12}, "per": [0.5, {"a": 1}]}`,
			want: &Result{Metrics: Set{"accuracy": 0.9, "latency_ms.p50": 12, "latency_ms.p95": 41, "per.0": 0.5, "per.1.a": 1}},
		},
		{
			name: "JSON strings, booleans and nulls are skipped",
			file: "m.json",
			data: `{"model": "rf", "ok": true, "n": null, "a": {"z": "x"}, "loss": 0.1}`,
			want: &Result{Metrics: Set{"loss": 0.1}, Skipped: []string{"a.z", "model", "n", "ok"}},
		},
		{
			name: "JSON negative zero and exact values",
			file: "m.json",
			data: `{"a": -0, "b": 9007199254740992, "c": 1e-300, "d": 0.1, "e": 1.50, "f": 12E2, "g": 0.30000000000000004}`,
			want: &Result{Metrics: Set{"a": math.Copysign(0, -1), "b": 9007199254740992, "c": 1e-300, "d": 0.1, "e": 1.5, "f": 1200, "g": 0.30000000000000004}},
		},
		{
			name:    "JSON integer above 2^53 is refused, not rounded",
			file:    "m.json",
			data:    `{"b": 9007199254740993}`,
			wantErr: "m.json:1:7: b: 9007199254740993 cannot be kept exactly: a 64-bit float holds it as 9007199254740992 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [metrics]",
		},
		{
			name:    "JSON decimal with more digits than a float64 keeps",
			file:    "m.json",
			data:    `{"b": 0.12345678901234567890123}`,
			wantErr: "m.json:1:7: b: 0.12345678901234567890123 cannot be kept exactly: a 64-bit float holds it as 0.12345678901234568 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [metrics]",
		},
		{
			name:    "JSON underflow to zero is refused",
			file:    "m.json",
			data:    `{"c": 1e-400}`,
			wantErr: "m.json:1:7: c: 1e-400 cannot be kept exactly: a 64-bit float holds it as 0 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [metrics]",
		},
		{
			name:    "a huge literal is quoted by a short prefix",
			file:    "m.json",
			data:    `{"c": 1.` + strings.Repeat("3", 1<<20) + `}`,
			wantErr: "m.json:1:7: c: 1." + strings.Repeat("3", 62) + "… (1048578 bytes) cannot be kept exactly: a 64-bit float holds it as 1.3333333333333333 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [metrics]",
		},
		{
			name:    "YAML integer above 2^53",
			file:    "m.yaml",
			data:    "b: 9007199254740993\n",
			wantErr: "m.yaml:1:4: b: 9007199254740993 cannot be kept exactly: a 64-bit float holds it as 9007199254740992 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [metrics]",
		},
		{
			name:    "CSV decimal with too many digits",
			file:    "m.csv",
			data:    "b,0.12345678901234567890123\n",
			wantErr: "m.csv:1:3: b: 0.12345678901234567890123 cannot be kept exactly: a 64-bit float holds it as 0.12345678901234568 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [metrics]",
		},
		{
			name: "empty JSON object is an empty set",
			file: "m.json",
			data: "{}\n",
			want: &Result{Metrics: Set{}},
		},
		{
			name:    "NaN",
			file:    "m.json",
			data:    `{"a": NaN}`,
			wantErr: "m.json:1:7: a: NaN: JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite [metrics]",
		},
		{
			name:    "Infinity",
			file:    "m.json",
			data:    `{"a": {"b": Infinity}}`,
			wantErr: "m.json:1:13: a.b: Infinity: JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite [metrics]",
		},
		{
			name:    "-Infinity on a later line",
			file:    "m.json",
			data:    "{\n  \"a\": -Infinity}",
			wantErr: "m.json:2:8: a: -Infinity: JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite [metrics]",
		},
		{
			name:    "NaN in an array",
			file:    "m.json",
			data:    `{"a": [1, NaN]}`,
			wantErr: "m.json:1:11: a.1: NaN: JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite [metrics]",
		},
		{
			name:    "overflow",
			file:    "m.json",
			data:    `{"a": 1e309}`,
			wantErr: "m.json:1:7: a: 1e309 is out of the range of a 64-bit float [metrics]",
		},
		{
			name:    "duplicate key",
			file:    "m.json",
			data:    `{"a": 1, "a": 2}`,
			wantErr: `m.json:1:10: a: duplicate key "a" (first at line 1, column 2) [metrics]`,
		},
		{
			name:    "case variant",
			file:    "m.json",
			data:    `{"accuracy":0.1,"Accuracy":0.99}`,
			wantErr: `m.json:1:17: Accuracy: key "Accuracy" differs from "accuracy" (line 1, column 2) only in case: keys must be unique ignoring case [metrics]`,
		},
		{
			name:    "Kelvin sign folds to k",
			file:    "m.json",
			data:    "{\"k\":1,\"\u212a\":2}",
			wantErr: "m.json:1:8: \u212a: key \"\u212a\" differs from \"k\" (line 1, column 2) only in case: keys must be unique ignoring case [metrics]",
		},
		{
			name:    "two spellings flatten to one name",
			file:    "m.json",
			data:    `{"a.b": 1, "a": {"b": 2}}`,
			wantErr: "m.json:1:18: a.b: duplicate metric (first defined at line 1, column 2) [metrics]",
		},
		{
			name:    "flattened case variant",
			file:    "m.json",
			data:    `{"a.b": 1, "A": {"b": 2}}`,
			wantErr: `m.json:1:18: A.b: metric differs from "a.b" (line 1, column 2) only in case: names must be unique ignoring case [metrics]`,
		},
		{
			name:    "empty file",
			file:    "m.json",
			data:    "",
			wantErr: "m.json: file is empty: expected a JSON object of metrics [metrics]",
		},
		{
			name:    "whitespace only",
			file:    "m.json",
			data:    " \n\t\n",
			wantErr: "m.json: file is empty: expected a JSON object of metrics [metrics]",
		},
		{
			name:    "truncated",
			file:    "m.json",
			data:    "{\"a\": 1,\n \"b\": ",
			wantErr: "m.json:2:7: b: unexpected end of file: the JSON is truncated [metrics]",
		},
		{
			name:    "truncated in a string",
			file:    "m.json",
			data:    `{"a": 1, "b`,
			wantErr: "m.json:1:12: unexpected end of file: the JSON is truncated [metrics]",
		},
		{
			name:    "BOM",
			file:    "m.json",
			data:    "\xef\xbb\xbf{\"a\": 1}",
			wantErr: `m.json:1:1: file starts with a UTF-8 byte order mark, which JSON does not allow: save it without one (Python: encoding="utf-8", not "utf-8-sig") [metrics]`,
		},
		{
			name:    "trailing second object",
			file:    "m.json",
			data:    "{\"a\": 1}\n{\"a\": 2}\n",
			wantErr: "m.json:2:1: unexpected '{' after the top-level object: a metrics file holds one object [metrics]",
		},
		{
			name:    "trailing garbage",
			file:    "m.json",
			data:    `{"a": 1} x`,
			wantErr: "m.json:1:10: unexpected data after the top-level object: a metrics file holds one object [metrics]",
		},
		{
			name:    "trailing number",
			file:    "m.json",
			data:    `{"a": 1} 2`,
			wantErr: "m.json:1:10: unexpected a number after the top-level object: a metrics file holds one object [metrics]",
		},
		{
			name:    "non-UTF-8 key",
			file:    "m.json",
			data:    "{\"a\xff\": 1}",
			wantErr: "m.json:1:4: invalid UTF-8 byte 0xff: save the file as UTF-8 [metrics]",
		},
		{
			name:    "UTF-16 file",
			file:    "m.json",
			data:    "\xff\xfe{\x00}\x00",
			wantErr: "m.json:1:1: invalid UTF-8 byte 0xff: save the file as UTF-8 [metrics]",
		},
		{
			name:    "top-level array",
			file:    "m.json",
			data:    `[1, 2]`,
			wantErr: "m.json:1:1: the top level must be an object of metrics, found an array [metrics]",
		},
		{
			name:    "top-level number",
			file:    "m.json",
			data:    `0.9`,
			wantErr: "m.json:1:1: the top level must be an object of metrics, found a number [metrics]",
		},
		{
			name:    "missing colon",
			file:    "m.json",
			data:    `{"a" 1}`,
			wantErr: "m.json:1:6: a: invalid character '1' after object key [metrics]",
		},
		{
			name:    "trailing comma",
			file:    "m.json",
			data:    `{"a": {"b": 1,}}`,
			wantErr: "m.json:1:15: a: invalid character '}' looking for beginning of object key string [metrics]",
		},
		{
			name:    "empty key",
			file:    "m.json",
			data:    `{"a": {"": 1}}`,
			wantErr: "m.json:1:8: a: empty key [metrics]",
		},
		{
			name:    "control character in a key",
			file:    "m.json",
			data:    `{"a\n::error::x": 1}`,
			wantErr: `m.json:1:2: key "a\n::error::x" contains a control character [metrics]`,
		},
		{
			name:    "too deep",
			file:    "m.json",
			data:    `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "}",
			wantErr: "m.json:1:" + itoa(6+MaxDepth-1) + ": a" + strings.Repeat(".0", MaxDepth-1) + ": nesting is deeper than 64 levels [metrics]",
		},
		{
			name:    "too many values",
			file:    "m.json",
			data:    `{"a": [` + strings.Repeat("1,", 1000000) + `1]}`,
			wantErr: "m.json:1:" + itoa(8+2*(MaxValues-1)) + ": a." + itoa(MaxValues-1) + ": more than 10000 values: a metrics file is limited to 10000 keys and array elements [metrics]",
		},
		{
			name:    "too many empty objects",
			file:    "m.json",
			data:    emptyObjects,
			wantErr: "m.json:1:" + itoa(strings.Index(emptyObjects, `"k10000"`)+1) + ": k10000: more than 10000 values: a metrics file is limited to 10000 keys and array elements [metrics]",
		},
		{
			name: "YAML",
			file: "m.yaml",
			data: "accuracy: 0.9\nlatency_ms:\n  p95: 41\n  p50: 0x10\nname: x\nok: true\nn: ~\nper: [1, 2]\n",
			want: &Result{Metrics: Set{"accuracy": 0.9, "latency_ms.p50": 16, "latency_ms.p95": 41, "per.0": 1, "per.1": 2},
				Skipped: []string{"n", "name", "ok"}},
		},
		{
			name: "YAML .yml with BOM and quoted number",
			file: "m.yml",
			data: "\xef\xbb\xbfa: 1\nb: \"2\"\n",
			want: &Result{Metrics: Set{"a": 1}, Skipped: []string{"b"}},
		},
		{
			name:    "YAML .nan",
			file:    "m.yaml",
			data:    "a: .nan\n",
			wantErr: "m.yaml:1:4: a: .nan is not a finite number [metrics]",
		},
		{
			name:    "YAML -.inf",
			file:    "m.yaml",
			data:    "a:\n  b: -.Inf\n",
			wantErr: "m.yaml:2:6: a.b: -.Inf is not a finite number [metrics]",
		},
		{
			name:    "YAML overflow",
			file:    "m.yaml",
			data:    "a: 1e309\n",
			wantErr: "m.yaml:1:4: a: 1e309 is out of the range of a 64-bit float [metrics]",
		},
		{
			name:    "YAML duplicate key",
			file:    "m.yaml",
			data:    "a: 1\na: 2\n",
			wantErr: `m.yaml:2:1: a: duplicate key "a" (first at line 1, column 1) [metrics]`,
		},
		{
			name:    "YAML case variant",
			file:    "m.yaml",
			data:    "accuracy: 0.1\nAccuracy: 0.99\n",
			wantErr: `m.yaml:2:1: Accuracy: key "Accuracy" differs from "accuracy" (line 1, column 1) only in case: keys must be unique ignoring case [metrics]`,
		},
		{
			name:    "YAML empty",
			file:    "m.yaml",
			data:    "",
			wantErr: "m.yaml: file is empty: expected a YAML mapping of metrics [metrics]",
		},
		{
			name:    "YAML comments only",
			file:    "m.yaml",
			data:    "# nothing\n",
			wantErr: "m.yaml: file is empty: expected a YAML mapping of metrics [metrics]",
		},
		{
			name:    "YAML second document",
			file:    "m.yaml",
			data:    "a: 1\n---\nb: 2\n",
			wantErr: "m.yaml:2:1: more than one YAML document: a metrics file holds one mapping [metrics]",
		},
		{
			name:    "YAML syntax error",
			file:    "m.yaml",
			data:    "a: [1\n",
			wantErr: "m.yaml:1: did not find expected ',' or ']' [metrics]",
		},
		{
			name:    "YAML alias",
			file:    "m.yaml",
			data:    "a: &x 1\nb: *x\n",
			wantErr: "m.yaml:1:4: a: YAML anchors and aliases are not supported in a metrics file [metrics]",
		},
		{
			name:    "YAML merge key",
			file:    "m.yaml",
			data:    "a:\n  <<: {b: 1}\n",
			wantErr: "m.yaml:2:3: a: YAML merge keys (<<) are not supported in a metrics file [metrics]",
		},
		{
			name:    "YAML top-level sequence",
			file:    "m.yaml",
			data:    "- 1\n",
			wantErr: "m.yaml:1:1: the top level must be a mapping of metrics, found a sequence [metrics]",
		},
		{
			name:    "YAML mapping key",
			file:    "m.yaml",
			data:    "? {a: 1}\n: 2\n",
			wantErr: "m.yaml:1:3: a key must be a plain name, found a mapping [metrics]",
		},
		{
			name:    "YAML too deep",
			file:    "m.yaml",
			data:    "a: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n",
			wantErr: "m.yaml:1:" + itoa(4+MaxDepth-1) + ": a" + strings.Repeat(".0", MaxDepth-1) + ": nesting is deeper than 64 levels [metrics]",
		},
		{
			name:    "YAML non-UTF-8",
			file:    "m.yaml",
			data:    "a: 1\nb\xc3: 2\n",
			wantErr: "m.yaml:2:2: invalid UTF-8 byte 0xc3: save the file as UTF-8 [metrics]",
		},
		{
			name: "CSV with header",
			file: "m.csv",
			data: "name,value\naccuracy,0.9\n\"latency_ms.p95\", 41 \nmodel,rf\n",
			want: &Result{Metrics: Set{"accuracy": 0.9, "latency_ms.p95": 41}, Skipped: []string{"model"}},
		},
		{
			name: "CSV without header, CRLF, BOM",
			file: "m.csv",
			data: "\xef\xbb\xbfaccuracy,0.9\r\nf1,0.8\r\nempty,\r\n",
			want: &Result{Metrics: Set{"accuracy": 0.9, "f1": 0.8}, Skipped: []string{"empty"}},
		},
		{
			name: "CSV header only",
			file: "m.csv",
			data: "metric,value\n",
			want: &Result{Metrics: Set{}},
		},
		{
			name: "CSV quoted field with a comma",
			file: "m.csv",
			data: "\"acc,at k\",0.5\n",
			want: &Result{Metrics: Set{"acc,at k": 0.5}},
		},
		{
			name:    "CSV NaN",
			file:    "m.csv",
			data:    "accuracy,0.9\nloss,nan\n",
			wantErr: "m.csv:2:6: loss: nan is not a finite number [metrics]",
		},
		{
			name:    "CSV Infinity",
			file:    "m.csv",
			data:    "loss,-Infinity\n",
			wantErr: "m.csv:1:6: loss: -Infinity is not a finite number [metrics]",
		},
		{
			name:    "CSV overflow",
			file:    "m.csv",
			data:    "a,1e309\n",
			wantErr: "m.csv:1:3: a: 1e309 is out of the range of a 64-bit float [metrics]",
		},
		{
			name:    "CSV wrong field count",
			file:    "m.csv",
			data:    "a,1\nb,1,2\n",
			wantErr: "m.csv:2:1: expected 2 fields (name,value), found 3 [metrics]",
		},
		{
			name:    "CSV duplicate",
			file:    "m.csv",
			data:    "name,value\na,1\na,2\n",
			wantErr: "m.csv:3:1: a: duplicate metric (first defined at line 2, column 1) [metrics]",
		},
		{
			name:    "CSV case variant",
			file:    "m.csv",
			data:    "a,1\nA,2\n",
			wantErr: `m.csv:2:1: A: metric differs from "a" (line 1, column 1) only in case: names must be unique ignoring case [metrics]`,
		},
		{
			name:    "CSV bad quote",
			file:    "m.csv",
			data:    "a,1\nb,\"1\n",
			wantErr: "m.csv:2:6: extraneous or missing \" in quoted-field [metrics]",
		},
		{
			name:    "CSV empty",
			file:    "m.csv",
			data:    "\n",
			wantErr: "m.csv: file is empty: expected name,value rows [metrics]",
		},
		{
			name:    "CSV empty name",
			file:    "m.csv",
			data:    "a,1\n,2\n",
			wantErr: "m.csv:2:1: empty key [metrics]",
		},
		{
			name: "sniffed JSON",
			file: "metrics",
			data: "  {\"a\": 1}",
			want: &Result{Metrics: Set{"a": 1}},
		},
		{
			name: "sniffed CSV",
			file: "metrics",
			data: "accuracy,0.9\n",
			want: &Result{Metrics: Set{"accuracy": 0.9}},
		},
		{
			name: "sniffed YAML",
			file: "metrics.txt",
			data: "accuracy: 0.9\n",
			want: &Result{Metrics: Set{"accuracy": 0.9}},
		},
		{
			name: "extension is case-insensitive",
			file: "M.JSON",
			data: `{"a": 1}`,
			want: &Result{Metrics: Set{"a": 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.file, []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse() = %v, want error %q", got, tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("Parse() error:\n got %s\nwant %s", err, tt.wantErr)
				}
				var d *diag.Error
				if !errors.As(err, &d) || !errors.Is(err, diag.ErrInvalidInput) {
					t.Errorf("Parse() error %T is not a *diag.Error (invalid input)", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNegativeZeroKeepsSign(t *testing.T) {
	t.Parallel()
	got, err := Parse("m.json", []byte(`{"a": -0}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Metrics["a"]; v != 0 || !math.Signbit(v) {
		t.Errorf("a = %v (signbit %v), want -0", v, math.Signbit(v))
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		want    *Result
		wantErr string
	}{
		{
			name: "nested JSON",
			file: "nested.json",
			want: &Result{
				Metrics: Set{"accuracy": 0.93, "latency_ms.p50": 12.5, "latency_ms.p95": 41,
					"accuracy_by_location.Seattle": 0.91, "accuracy_by_location.New York": 0.95,
					"per_class_f1.0": 0.9, "per_class_f1.1": 0.8, "per_class_f1.2": 0.7},
				Skipped: []string{"calibrated", "model", "notes"},
			},
		},
		{
			name: "nested YAML gives the same set",
			file: "nested.yaml",
			want: &Result{
				Metrics: Set{"accuracy": 0.93, "latency_ms.p50": 12.5, "latency_ms.p95": 41,
					"accuracy_by_location.Seattle": 0.91, "accuracy_by_location.New York": 0.95,
					"per_class_f1.0": 0.9, "per_class_f1.1": 0.8, "per_class_f1.2": 0.7},
				Skipped: []string{"calibrated", "model", "notes"},
			},
		},
		{
			name: "CSV with header",
			file: "header.csv",
			want: &Result{Metrics: Set{"accuracy": 0.93, "latency_ms.p95": 41, "accuracy_by_location.New York": 0.95},
				Skipped: []string{"model"}},
		},
		{
			name: "CSV without header",
			file: "noheader.csv",
			want: &Result{Metrics: Set{"accuracy": 0.93, "latency_ms.p95": 41}},
		},
		{
			name:    "NaN",
			file:    "nan.json",
			wantErr: "testdata/nan.json:1:14: accuracy: NaN: JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite [metrics]",
		},
		{
			name:    "case variant",
			file:    "case.json",
			wantErr: `testdata/case.json:1:19: Accuracy: key "Accuracy" differs from "accuracy" (line 1, column 2) only in case: keys must be unique ignoring case [metrics]`,
		},
		{
			name:    "BOM",
			file:    "bom.json",
			wantErr: `testdata/bom.json:1:1: file starts with a UTF-8 byte order mark, which JSON does not allow: save it without one (Python: encoding="utf-8", not "utf-8-sig") [metrics]`,
		},
		{
			name:    "trailing",
			file:    "trailing.json",
			wantErr: "testdata/trailing.json:2:1: unexpected '{' after the top-level object: a metrics file holds one object [metrics]",
		},
		{
			name:    "truncated",
			file:    "truncated.json",
			wantErr: "testdata/truncated.json:1:27: loss: unexpected end of file: the JSON is truncated [metrics]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadFile(filepath.Join("testdata", tt.file))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ReadFile() error:\n got %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadFile() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ReadFile() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFileLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.json")
	if _, err := ReadFile(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) error = %v, want os.ErrNotExist", err)
	}

	// A sparse file past the limit: only MaxFileSize+1 bytes are read.
	huge := filepath.Join(dir, "huge.json")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := huge + ": file is larger than the 64 MiB limit for a metrics file [metrics]"
	if _, err := ReadFile(huge); err == nil || err.Error() != want {
		t.Errorf("ReadFile(huge) error = %v, want %s", err, want)
	}

	// A stream past the limit (a pipe, /dev/zero) stops reading there.
	if _, err := readLimited(strings.NewReader(strings.Repeat("x", 101)), 100); !errors.Is(err, errTooLarge) {
		t.Errorf("readLimited(101 bytes, 100) error = %v, want errTooLarge", err)
	}
	if data, err := readLimited(strings.NewReader(strings.Repeat("x", 100)), 100); err != nil || len(data) != 100 {
		t.Errorf("readLimited(100 bytes, 100) = %d bytes, %v; want 100 bytes", len(data), err)
	}

	bigYAML := "a: [" + strings.Repeat("1,", MaxYAMLSize/2) + "1]\n"
	wantYAML := "m.yaml: file is larger than the 1 MiB limit for a YAML metrics file [metrics]"
	if _, err := Parse("m.yaml", []byte(bigYAML)); err == nil || err.Error() != wantYAML {
		t.Errorf("Parse(big YAML) error = %v, want %s", err, wantYAML)
	}
}

func TestSetNames(t *testing.T) {
	t.Parallel()
	s := Set{"b": 1, "a.z": 2, "a": 3, "B": 4}
	want := []string{"B", "a", "a.z", "b"}
	if diff := cmp.Diff(want, s.Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParseMetrics(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Ext(e.Name()), data)
	}
	f.Add(".json", []byte(`{"a": NaN, "b": [1, {"c": 2}]}`))
	f.Add(".yaml", []byte("a: .inf\nb: [1, {c: 2}]\n"))
	f.Add(".csv", []byte("a,1e309\n"))
	f.Add("", []byte("a: 1\n"))
	f.Fuzz(func(t *testing.T, ext string, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		got, err := Parse("fuzz"+ext, data)
		if err != nil {
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("Parse() error %T %v is not a *diag.Error", err, err)
			}
			return
		}
		for name, v := range got.Metrics {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("Parse() kept non-finite %s = %v", name, v)
			}
			if name == "" {
				t.Fatal("Parse() kept an empty name")
			}
		}
		if !sort.StringsAreSorted(got.Skipped) {
			t.Fatalf("Skipped not sorted: %q", got.Skipped)
		}
		for _, name := range got.Skipped {
			if _, ok := got.Metrics[name]; ok {
				t.Fatalf("%q is both a metric and skipped", name)
			}
		}
		if n := len(got.Metrics) + len(got.Skipped); n > MaxValues {
			t.Fatalf("Parse() returned %d names, over the limit %d", n, MaxValues)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func manyKeys(n int, value string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + value)
	}
	return b.String()
}
