package shipping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/podium-ml/podium/internal/third_party/jsonschema"
)

// externalSchemas is where the public schemas are kept as test data: the
// shared directory beside the repository, as CI lays it out.
func externalSchemas(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", "schemas-external")
	if _, err := os.Stat(filepath.Join(dir, "github-action.json")); err != nil {
		t.Skipf("the public JSON Schemas are not beside the repository (%s): %v", dir, err)
	}
	return dir
}

// compileSchema compiles one draft-07 schema file offline: a reference to
// any other URL fails instead of reaching the network.
func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.LoadURL = func(url string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("refusing to load %s: schemas are compiled offline", url)
	}
	url := "file:///" + filepath.Base(path)
	if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

// asJSON turns a decoded YAML value into what json.Unmarshal (UseNumber)
// would give, the only form the validator is meant to see.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSchemas(t *testing.T) {
	t.Parallel()
	dir := externalSchemas(t)
	root := repoRoot(t)
	tests := []struct {
		schema   string
		patterns []string
		// document is the YAML document to validate: a GitLab component
		// template's jobs are its second document, after the spec header.
		document int
	}{
		{schema: "github-action.json", patterns: actionFiles},
		{schema: "github-workflow.json", patterns: workflowFiles},
		{schema: "gitlab-ci.json", patterns: templateFiles, document: 1},
		{schema: "gitlab-ci.json", patterns: gitlabFiles},
	}
	for _, tt := range tests {
		s := compileSchema(t, filepath.Join(dir, tt.schema))
		for _, file := range glob(t, root, tt.patterns...) {
			t.Run(file, func(t *testing.T) {
				t.Parallel()
				_, docs := decodeYAML(t, filepath.Join(root, file))
				if len(docs) <= tt.document {
					t.Fatalf("%s has %d YAML documents, want at least %d", file, len(docs), tt.document+1)
				}
				doc := docs[tt.document]
				if tt.document == 1 {
					doc = withArrayDefaults(docs[0], doc)
				}
				if err := s.Validate(asJSON(t, doc)); err != nil {
					t.Errorf("%s does not validate against %s:\n%#v", file, tt.schema, err)
				}
				// The header of a component validates too (the schema has
				// a top-level spec), so a typo in it is caught as well.
				if tt.document == 1 {
					if err := s.Validate(asJSON(t, docs[0])); err != nil {
						t.Errorf("%s: the spec header does not validate against %s:\n%#v", file, tt.schema, err)
					}
				}
			})
		}
	}
}

// The schemas must reject what is wrong, or TestSchemas proves nothing.
func TestSchemasRejectMistakes(t *testing.T) {
	t.Parallel()
	dir := externalSchemas(t)
	tests := []struct {
		name, schema, doc string
	}{
		{name: "docker action without image", schema: "github-action.json",
			doc: "name: x\ndescription: y\nruns:\n  using: docker\n"},
		{name: "unknown branding color", schema: "github-action.json",
			doc: "name: x\ndescription: y\nbranding: {icon: award, color: pink}\nruns: {using: docker, image: docker://a}\n"},
		{name: "job without runs-on", schema: "github-workflow.json",
			doc: "on: push\njobs:\n  a:\n    steps:\n      - run: echo\n"},
		{name: "unknown permission scope", schema: "github-workflow.json",
			doc: "on: push\npermissions: {models: admin}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"},
		{name: "artifacts when typo", schema: "gitlab-ci.json",
			doc: "job:\n  script: [echo]\n  artifacts:\n    when: allways\n"},
		{name: "dotenv report as a number", schema: "gitlab-ci.json",
			doc: "job:\n  script: [echo]\n  artifacts:\n    reports:\n      dotenv: 5\n"},
	}
	schemas := map[string]*jsonschema.Schema{}
	for _, tt := range tests {
		if schemas[tt.schema] == nil {
			schemas[tt.schema] = compileSchema(t, filepath.Join(dir, tt.schema))
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v any
			if err := yaml.Unmarshal([]byte(tt.doc), &v); err != nil {
				t.Fatal(err)
			}
			if err := schemas[tt.schema].Validate(asJSON(t, v)); err == nil {
				t.Errorf("%s accepted a document with a mistake:\n%s", tt.schema, tt.doc)
			}
		})
	}
}

// wholeInput matches a value that is one component input and nothing else,
// which GitLab replaces by the input's value with its type.
var wholeInput = regexp.MustCompile(`^\$\[\[ inputs\.([a-z_]+) \]\]$`)

// withArrayDefaults renders, as GitLab does, each value of doc that is a
// whole array-typed input by that input's default from the component's
// spec header, so `paths: $[[ inputs.cache_paths ]]` is validated as the
// list it becomes rather than as a string.
func withArrayDefaults(header, doc any) any {
	defaults := map[string]any{}
	if h, ok := header.(map[string]any); ok {
		spec, _ := h["spec"].(map[string]any)
		inputs, _ := spec["inputs"].(map[string]any)
		for name, in := range inputs {
			if in, ok := in.(map[string]any); ok && in["type"] == "array" {
				defaults[name] = in["default"]
			}
		}
	}
	var render func(v any) any
	render = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, e := range v {
				out[k] = render(e)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = render(e)
			}
			return out
		case string:
			if m := wholeInput.FindStringSubmatch(v); m != nil {
				if d, ok := defaults[m[1]]; ok {
					return d
				}
			}
		}
		return v
	}
	return render(doc)
}
