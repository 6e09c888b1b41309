package deploy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/podium-ml/podium/internal/diag"
	"gopkg.in/yaml.v3"
)

const inference = `# Production inference service for iris.
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: iris   # keep in sync with the model name
  annotations:
    example.com/owner: "ml-platform"
spec:
  predictor:
    minReplicas: 2
    model:
      modelFormat: {name: sklearn, version: "1"}
      # Set by podium propose; do not edit by hand.
      storageUri: gs://acme-models/iris/0123456789ab   # champion
      args: [--workers, "4", '--log=info']
  containers:
        - name: kserve-container
          image: "ghcr.io/acme/iris:v1"
        - name: sidecar
          image: 'ghcr.io/acme/proxy:2'
`

func TestPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		field string
		value string
		want  string // the changed line(s) as they read after patching
		old   string // the same line(s) before
	}{
		{
			name:  "nested maps, plain value, line comment kept",
			src:   inference,
			field: "spec.predictor.model.storageUri",
			value: "gs://acme-models/iris/fedcba987654",
			old:   "      storageUri: gs://acme-models/iris/0123456789ab   # champion\n",
			want:  "      storageUri: gs://acme-models/iris/fedcba987654   # champion\n",
		},
		{
			name:  "sequence index, double-quoted value stays double-quoted",
			src:   inference,
			field: "spec.containers[0].image",
			value: "ghcr.io/acme/iris:v2",
			old:   `          image: "ghcr.io/acme/iris:v1"` + "\n",
			want:  `          image: "ghcr.io/acme/iris:v2"` + "\n",
		},
		{
			name:  "second item, single-quoted value stays single-quoted",
			src:   inference,
			field: "spec.containers[1].image",
			value: "ghcr.io/acme/proxy:it's",
			old:   "          image: 'ghcr.io/acme/proxy:2'\n",
			want:  "          image: 'ghcr.io/acme/proxy:it''s'\n",
		},
		{
			name:  "flow mapping",
			src:   inference,
			field: "spec.predictor.model.modelFormat.version",
			value: "2",
			old:   `      modelFormat: {name: sklearn, version: "1"}` + "\n",
			want:  `      modelFormat: {name: sklearn, version: "2"}` + "\n",
		},
		{
			name:  "flow sequence, plain value that needs quotes in flow",
			src:   inference,
			field: "spec.predictor.model.args[0]",
			value: "--workers,8",
			old:   `      args: [--workers, "4", '--log=info']` + "\n",
			want:  `      args: ["--workers,8", "4", '--log=info']` + "\n",
		},
		{
			name:  "quoted key holding dots and a slash",
			src:   inference,
			field: `metadata.annotations["example.com/owner"]`,
			value: `team "red"`,
			old:   `    example.com/owner: "ml-platform"` + "\n",
			want:  `    example.com/owner: "team \"red\""` + "\n",
		},
		{
			name:  "plain value that would read as a number is quoted",
			src:   inference,
			field: "spec.predictor.minReplicas",
			value: "3",
			old:   "    minReplicas: 2\n",
			want:  "    minReplicas: \"3\"\n",
		},
		{
			name:  "plain value that would read as a bool is quoted",
			src:   "enabled: false\n",
			field: "enabled",
			value: "true",
			old:   "enabled: false\n",
			want:  "enabled: \"true\"\n",
		},
		{
			name:  "value with a comment marker and a colon is quoted",
			src:   "a: b\n",
			field: "a",
			value: "x: y #z",
			old:   "a: b\n",
			want:  "a: \"x: y #z\"\n",
		},
		{
			name:  "value with a newline and control characters is escaped",
			src:   "a: b\n",
			field: "a",
			value: "line1\nline2\t\x01\u2028",
			old:   "a: b\n",
			want:  "a: \"line1\\nline2\\t\\x01\\u2028\"\n",
		},
		{
			name:  "empty value is written as an empty string",
			src:   "a: b\n",
			field: "a",
			value: "",
			old:   "a: b\n",
			want:  "a: \"\"\n",
		},
		{
			name:  "key with no value",
			src:   "a:\nb: 1\n",
			field: "a",
			value: "v",
			old:   "a:\n",
			want:  "a: v\n",
		},
		{
			name:  "null value",
			src:   "a: ~\n",
			field: "a",
			value: "v",
			old:   "a: ~\n",
			want:  "a: v\n",
		},
		{
			name:  "anchor and tag are kept",
			src:   "a: &m !!str old\n",
			field: "a",
			value: "new",
			old:   "a: &m !!str old\n",
			want:  "a: &m !!str new\n",
		},
		{
			name:  "literal block scalar becomes a quoted scalar, header comment kept",
			src:   "- script: |  # run it\n    echo one\n\n    echo two\n  after: 1\n",
			field: "[0].script",
			value: "echo three",
			old:   "- script: |  # run it\n    echo one\n\n    echo two\n",
			want:  "- script: \"echo three\"  # run it\n",
		},
		{
			name:  "folded plain scalar over two lines",
			src:   "a: this is\n  long text\nb: 1\n",
			field: "a",
			value: "short",
			old:   "a: this is\n  long text\n",
			want:  "a: short\n",
		},
		{
			name:  "CRLF line endings",
			src:   "a:\r\n  b: old\r\n  c: 1\r\n",
			field: "a.b",
			value: "new",
			old:   "  b: old\r\n",
			want:  "  b: new\r\n",
		},
		{
			name:  "byte order mark and multi-byte characters before the value",
			src:   "\ufeffé: ü\nnäme: vålue # ok\n",
			field: "näme",
			value: "ñew",
			old:   "näme: vålue # ok\n",
			want:  "näme: ñew # ok\n",
		},
		{
			name:  "second document of a multi-document manifest",
			src:   "kind: Service\nspec:\n  port: 80\n---\nkind: Deployment\nspec:\n  image: old\n",
			field: "spec.image",
			value: "new",
			old:   "  image: old\n",
			want:  "  image: new\n",
		},
		{
			name:  "numeric mapping key",
			src:   "ports:\n  80: http\n",
			field: "ports.80",
			value: "web",
			old:   "  80: http\n",
			want:  "  80: web\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(tt.src, tt.old) {
				t.Fatalf("test case: old %q is not in src", tt.old)
			}
			got, err := Patch("deploy.yaml", []byte(tt.src), tt.field, tt.value)
			if err != nil {
				t.Fatalf("Patch: %v", err)
			}
			want := strings.Replace(tt.src, tt.old, tt.want, 1)
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("Patch mismatch (-want +got):\n%s", diff)
			}
			if v := valueAt(t, got, tt.field); v != tt.value {
				t.Errorf("value at %s = %q, want %q", tt.field, v, tt.value)
			}
		})
	}
}

// TestPatchKeepsOtherBytes checks the bytes around the replaced span are
// those of the original file, byte for byte.
func TestPatchKeepsOtherBytes(t *testing.T) {
	t.Parallel()
	src := []byte(inference)
	out, start, end, err := patch("deploy.yaml", src, "spec.predictor.model.storageUri", "s3://bucket/model with spaces")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[:start], src[:start]) {
		t.Error("bytes before the value changed")
	}
	if !bytes.HasSuffix(out, src[end:]) {
		t.Error("bytes after the value changed")
	}
	if got, want := string(out[start:len(out)-(len(src)-end)]), `s3://bucket/model with spaces`; got != want {
		t.Errorf("spliced %q, want %q", got, want)
	}
}

func TestPatchErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		field   string
		wantErr string
	}{
		{
			name:    "missing key names the path, the file and the line",
			src:     inference,
			field:   "spec.predictor.model.storageURI",
			wantErr: `deploy/inference.yaml:12:7: spec.predictor.model.storageURI: no key "storageURI" under spec.predictor.model (it has "modelFormat", "storageUri", "args") [deploy]`,
		},
		{
			name:    "missing intermediate key",
			src:     inference,
			field:   "spec.transformer.image",
			wantErr: `deploy/inference.yaml:9:3: spec.transformer.image: no key "transformer" under spec (it has "predictor", "containers") [deploy]`,
		},
		{
			name:    "index out of range",
			src:     inference,
			field:   "spec.containers[2].image",
			wantErr: `deploy/inference.yaml:17:9: spec.containers[2].image: index [2] is out of range: spec.containers has 2 items [deploy]`,
		},
		{
			name:    "index into a mapping",
			src:     inference,
			field:   "spec[0]",
			wantErr: `deploy/inference.yaml:9:3: spec[0]: spec is a mapping, not a sequence: cannot take index [0] [deploy]`,
		},
		{
			name:    "key into a scalar",
			src:     inference,
			field:   "kind.name",
			wantErr: `deploy/inference.yaml:3:7: kind.name: kind is a scalar, not a mapping: cannot find key "name" [deploy]`,
		},
		{
			name:    "target is a mapping",
			src:     inference,
			field:   "spec.predictor",
			wantErr: `deploy/inference.yaml:10:5: spec.predictor: spec.predictor is a mapping, not a scalar value [deploy]`,
		},
		{
			name:    "target is an alias",
			src:     "a: &x 1\nb: *x\n",
			field:   "b",
			wantErr: `deploy/inference.yaml:2:4: b: b is an alias (*x); podium does not patch values shared through anchors [deploy]`,
		},
		{
			name:    "target is anchored and aliased",
			src:     "a: &x 1\nb: *x\n",
			field:   "a",
			wantErr: `deploy/inference.yaml:1:4: a: the value is anchored (&x) and used through *x elsewhere; patching it would change those too [deploy]`,
		},
		{
			name:    "duplicate key",
			src:     "a: 1\na: 2\n",
			field:   "a",
			wantErr: `deploy/inference.yaml:2:1: a: key "a" appears twice under the document root (lines 1 and 2) [deploy]`,
		},
		{
			name:    "merged key",
			src:     "base: &b {image: x}\nsvc:\n  <<: *b\n  port: 1\n",
			field:   "svc.image",
			wantErr: `deploy/inference.yaml:3:3: svc.image: no key "image" under svc (it has "<<", "port"); values merged with << are not patched: patch the anchored mapping [deploy]`,
		},
		{
			name:    "field in two documents",
			src:     "spec:\n  image: a\n---\nspec:\n  image: b\n",
			field:   "spec.image",
			wantErr: `deploy/inference.yaml:2:10: spec.image: the field is in 2 documents of the manifest: 1 (line 2), 2 (line 5); podium patches exactly one value [deploy]`,
		},
		{
			name:    "field in no document",
			src:     "kind: A\n---\nspec:\n  other: 1\n",
			field:   "spec.image",
			wantErr: `deploy/inference.yaml:4:3: spec.image: no key "image" under spec (it has "other") (document 2 of 2, where the path got furthest) [deploy]`,
		},
		{
			name:    "empty manifest",
			src:     "",
			field:   "a",
			wantErr: `deploy/inference.yaml: manifest is empty [deploy]`,
		},
		{
			name:    "not YAML",
			src:     "a: b\n  c: d\n",
			field:   "a",
			wantErr: `deploy/inference.yaml:2: not valid YAML: mapping values are not allowed in this context [syntax]`,
		},
		{
			name:    "bad path",
			src:     "a: b\n",
			field:   "a..b",
			wantErr: `deploy/inference.yaml: a..b: empty key at offset 2 [deploy]`,
		},
		{
			name:    "comment on an empty value would move",
			src:     "a: # set me\n",
			field:   "a",
			wantErr: `deploy/inference.yaml:1:3: a: cannot set the value without changing the rest of the document: line 1: a comment moved [deploy]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Patch("deploy/inference.yaml", []byte(tt.src), tt.field, "v")
			if err == nil {
				t.Fatal("Patch succeeded, want an error")
			}
			if got := err.Error(); got != tt.wantErr {
				t.Errorf("error:\n got %s\nwant %s", got, tt.wantErr)
			}
			if !errors.Is(err, diag.ErrInvalidInput) {
				t.Error("error is not marked as invalid input")
			}
		})
	}
}

// TestPatchGolden patches each testdata/patch/<case>.yaml with the field
// and value on its first line comment and compares with <case>.golden.
func TestPatchGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "patch", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			spec, ok := strings.CutPrefix(first, "# podium-test: ")
			if !ok {
				t.Fatalf("first line must be '# podium-test: <field> = <value>'")
			}
			field, value, _ := strings.Cut(spec, " = ")
			got, err := Patch(file, src, field, value)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("mismatch with %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// valueAt reads the string at field from a (single- or multi-document)
// manifest, independently of Patch's own lookup: it decodes into Go values.
func valueAt(t *testing.T, src []byte, field string) string {
	t.Helper()
	path, err := ParsePath(field)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s not found in the patched manifest (%v)", field, err)
		}
		if v, ok := walk(doc, path); ok {
			s, ok := v.(string)
			if !ok {
				t.Fatalf("value at %s is %T, not a string", field, v)
			}
			return s
		}
	}
}

func walk(v any, path Path) (any, bool) {
	for _, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			if seg.IsIndex {
				return nil, false
			}
			var ok bool
			if v, ok = x[seg.Key]; !ok {
				return nil, false
			}
		case map[any]any:
			if seg.IsIndex {
				return nil, false
			}
			found := false
			for k, val := range x {
				if ks, ok := k.(string); ok && ks == seg.Key {
					v, found = val, true
				} else if !ok && yamlScalar(k) == seg.Key {
					v, found = val, true
				}
			}
			if !found {
				return nil, false
			}
		case []any:
			if !seg.IsIndex || seg.Index >= len(x) {
				return nil, false
			}
			v = x[seg.Index]
		default:
			return nil, false
		}
	}
	return v, true
}

func yamlScalar(v any) string {
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}
