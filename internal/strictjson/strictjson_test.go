package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	type doc struct {
		Model   string             `json:"model"`
		Steps   []struct{ N int }  `json:"steps"`
		Metrics map[string]float64 `json:"metrics"`
	}
	tests := []struct {
		name    string
		data    string
		want    doc
		wantErr string
	}{
		{
			name: "a document decodes",
			data: `{"model": "m", "steps": [{"N": 1}], "metrics": {"a.b": 0.5, "c": -0}}`,
			want: doc{Model: "m", Steps: []struct{ N int }{{N: 1}}, Metrics: map[string]float64{"a.b": 0.5, "c": 0}},
		},
		{
			name:    "duplicate key in a nested object",
			data:    "{\"model\": \"m\",\n \"metrics\": {\"a\": 0.1, \"a\": 0.99}}",
			wantErr: `run.json:2:24: metrics.a: duplicate key "a" (first at line 2, column 14) [json]`,
		},
		{
			name:    "case variant of a struct field",
			data:    `{"model": "m", "Model": "x"}`,
			wantErr: `run.json:1:16: Model: key "Model" differs from "model" (line 1, column 2) only in case: keys must be unique ignoring case [json]`,
		},
		{
			name:    "duplicate key in an array element",
			data:    `{"steps": [{"N": 1}, {"N": 2, "N": 3}]}`,
			wantErr: `run.json:1:31: steps.1.N: duplicate key "N" (first at line 1, column 23) [json]`,
		},
		{
			name:    "NaN",
			data:    "{\"metrics\": {\"a\": NaN}}",
			wantErr: "run.json:1:19: metrics.a: NaN: " + allowNaNAdvice + " [json]",
		},
		{
			name:    "-Infinity",
			data:    "{\"metrics\": {\"a\": -Infinity}}",
			wantErr: "run.json:1:19: metrics.a: -Infinity: " + allowNaNAdvice + " [json]",
		},
		{
			name:    "overflow",
			data:    `{"metrics": {"a": 1e309}}`,
			wantErr: "run.json:1:19: metrics.a: 1e309 is out of the range of a 64-bit float [json]",
		},
		{
			name:    "byte order mark",
			data:    "\ufeff{}",
			wantErr: "run.json:1:1: file starts with a UTF-8 byte order mark, which JSON does not allow [json]",
		},
		{
			name:    "trailing document",
			data:    "{}\n{}",
			wantErr: "run.json:2:1: unexpected '{' after the document: a file holds one JSON value [json]",
		},
		{
			name:    "trailing garbage",
			data:    "{} x",
			wantErr: "run.json:1:4: unexpected data after the document: a file holds one JSON value [json]",
		},
		{
			name:    "empty",
			data:    " \n",
			wantErr: "run.json: file is empty: expected a JSON document [json]",
		},
		{
			name:    "truncated",
			data:    `{"model": "m"`,
			wantErr: "run.json:1:14: unexpected end of file: the JSON is truncated [json]",
		},
		{
			name:    "not UTF-8",
			data:    "{\"model\": \"\xff\"}",
			wantErr: "run.json:1:12: invalid UTF-8 byte 0xff [json]",
		},
		{
			name:    "wrong type",
			data:    `{"model": 3}`,
			wantErr: "run.json:1:12: model: a JSON number cannot be a string [json]",
		},
		{
			name:    "a key that is a field but for its case",
			data:    `{"model": "m", "MetRics": {}}`,
			wantErr: `run.json:1:16: MetRics: key "MetRics" is not "metrics": field names are case-sensitive [json]`,
		},
		{
			name:    "an unknown field",
			data:    `{"model": "m", "steps": [{"N": 1, "x": 2}]}`,
			wantErr: `run.json:1:35: steps.0.x: unknown field "x" [json]`,
		},
		{
			name:    "an integer above 2^53 in a float field",
			data:    `{"metrics": {"a": 9007199254740993}}`,
			wantErr: "run.json:1:19: metrics.a: 9007199254740993 cannot be kept exactly: a 64-bit float holds it as 9007199254740992 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [json]",
		},
		{
			name: "an integer above 2^53 in an integer field is exact",
			data: `{"steps": [{"N": 9007199254740993}]}`,
			want: doc{Steps: []struct{ N int }{{N: 9007199254740993}}},
		},
		{
			name:    "too deep",
			data:    `{"metrics": {"x": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}}`,
			wantErr: "run.json:1:81: metrics.x.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: nesting is deeper than 64 levels [json]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got doc
			err := Decode("run.json", []byte(tt.data), &got)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Decode() = nil, want error %q", tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("Decode() error:\n got %s\nwant %s", err, tt.wantErr)
				}
				var de *diag.Error
				if !errors.As(err, &de) || !errors.Is(err, diag.ErrInvalidInput) {
					t.Errorf("Decode() error %T is not invalid input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}]}`, `{"a":1,"A":2}`, `[NaN]`, "\ufeff{}", `{} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		var v any
		err := Decode("f.json", data, &v)
		if err == nil {
			// What the strict reader accepts, encoding/json accepts too.
			var w any
			if jerr := json.Unmarshal(data, &w); jerr != nil {
				t.Fatalf("Decode accepted what encoding/json refuses: %v", jerr)
			}
			return
		}
		var de *diag.Error
		if !errors.As(err, &de) {
			t.Fatalf("error %T is not a *diag.Error: %v", err, err)
		}
	})
}
