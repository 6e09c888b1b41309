package shipping

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemaKey is one property of the spec's schema, named as docs/spec.md
// heads its section: registry.path, pipeline[].params.
type schemaKey struct {
	name   string
	schema map[string]any
}

// schemaKeys walks the pipeline schema's properties, resolving local $refs:
// an object's properties nest with ".", an array of objects' with "[].";
// a map (additionalProperties without properties) is one key.
func schemaKeys(t *testing.T, root map[string]any) []schemaKey {
	t.Helper()
	defs, _ := root["$defs"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		for {
			ref, ok := s["$ref"].(string)
			if !ok {
				return s
			}
			name, ok := strings.CutPrefix(ref, "#/$defs/")
			if !ok {
				t.Fatalf("schema: non-local $ref %q", ref)
			}
			def, ok := defs[name].(map[string]any)
			if !ok {
				t.Fatalf("schema: $ref %q names nothing", ref)
			}
			merged := map[string]any{}
			for k, v := range def {
				merged[k] = v
			}
			for k, v := range s {
				if k != "$ref" {
					merged[k] = v
				}
			}
			s = merged
		}
	}
	var keys []schemaKey
	var walk func(prefix string, s map[string]any)
	walk = func(prefix string, s map[string]any) {
		s = resolve(s)
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			ps, ok := p.(map[string]any)
			if !ok {
				t.Fatalf("schema: %s%s is not an object", prefix, name)
			}
			full := prefix + name
			keys = append(keys, schemaKey{full, ps})
			rp := resolve(ps)
			if _, ok := rp["properties"]; ok {
				walk(full+".", rp)
			}
			if items, ok := rp["items"].(map[string]any); ok {
				if _, ok := resolve(items)["properties"]; ok {
					walk(full+"[].", items)
				}
			}
		}
	}
	walk("", root)
	slices.SortFunc(keys, func(a, b schemaKey) int { return strings.Compare(a.name, b.name) })
	return keys
}

var specDocHeading = regexp.MustCompile("(?m)^#{2,4} `([^`]+)`\\s*$")

// TestSpecDocMatchesSchema: docs/spec.md documents every key of
// schemas/pipeline.schema.json and no other, each with its type, its
// default (the schema's, when it has one) and an example; and every
// property of the schema has a description, so editors show it.
func TestSpecDocMatchesSchema(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "schemas", "pipeline.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	keys := schemaKeys(t, schema)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "spec.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	var documented []string
	matches := specDocHeading.FindAllStringSubmatchIndex(string(doc), -1)
	for i, m := range matches {
		name := string(doc[m[2]:m[3]])
		end := len(doc)
		if i+1 < len(matches) {
			end = matches[i+1][0]
		}
		// A section runs to the next documented key or the next heading.
		body := string(doc[m[1]:end])
		if j := strings.Index(body, "\n## "); j >= 0 {
			body = body[:j]
		}
		sections[name] = body
		documented = append(documented, name)
	}
	slices.Sort(documented)
	var inSchema []string
	for _, k := range keys {
		inSchema = append(inSchema, k.name)
	}
	if diff := cmp.Diff(inSchema, documented); diff != "" {
		t.Errorf("docs/spec.md keys (-schema +documented):\n%s", diff)
	}
	for _, k := range keys {
		if d, _ := k.schema["description"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("schemas/pipeline.schema.json: %s has no description", k.name)
		}
		body, ok := sections[k.name]
		if !ok {
			continue
		}
		for _, label := range []string{"Type: ", "Default: ", "Example: "} {
			if !strings.Contains(body, label) {
				t.Errorf("docs/spec.md: %s does not say its %s", k.name, strings.TrimSuffix(label, ": "))
			}
		}
		if def, ok := k.schema["default"]; ok {
			if want := fmt.Sprintf("Default: `%v`", def); !strings.Contains(body, want) {
				t.Errorf("docs/spec.md: %s: want %q, as the schema says", k.name, want)
			}
		}
	}
}
