package schemas

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestEmbeddedSchemasAreValid compiles every embedded schema with its
// meta-schema checked: Get skips that check (trusted), so this is where a
// broken schema is caught.
func TestEmbeddedSchemasAreValid(t *testing.T) {
	t.Parallel()
	names := Names()
	if len(names) < 5 {
		t.Fatalf("%d embedded schemas: the embed is broken", len(names))
	}
	for _, name := range names {
		if _, err := newCompiler(false).Compile(baseURL + name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTrustedIsTheSameSchema: a schema compiled trusted (no meta-schema)
// judges documents as the same schema compiled with its meta-schema, the
// formats (date-time, uri, regex) included.
func TestTrustedIsTheSameSchema(t *testing.T) {
	t.Parallel()
	docs := []string{
		`null`, `{}`, `[]`, `"x"`, `1.5`,
		`{"version": 1}`,
		`{"version": 1, "model": 5, "steps": "x"}`,
		`{"model": "m", "spec_digest": "sha256:00", "params": {}, "commit": "x", "started_at": "not a time", "finished_at": "2026-01-02T03:04:05Z", "steps": [], "metrics": {}}`,
		`{"model": "m", "spec_digest": "sha256:00", "params": {}, "commit": "x", "started_at": "2026-01-02T03:04:05Z", "finished_at": "2026-01-02T03:04:05Z", "steps": [], "metrics": {}}`,
		`{"source": "http://a b", "pattern": "(", "extra": true}`,
	}
	judge := func(trusted bool, name, doc string) string {
		s, err := newCompiler(trusted).Compile(baseURL + name)
		if err != nil {
			t.Fatalf("%s (trusted %v): %v", name, trusted, err)
		}
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		var leaves []string
		for _, e := range Leaves(s.Validate(v)) {
			// Where and which keyword: the messages list properties in
			// map order.
			leaves = append(leaves, e.InstanceLocation+" "+e.KeywordLocation)
		}
		slices.Sort(leaves)
		return strings.Join(leaves, "\n")
	}
	formats := 0
	for _, name := range Names() {
		for _, doc := range docs {
			trusted, checked := judge(true, name, doc), judge(false, name, doc)
			if trusted != checked {
				t.Errorf("%s, %s:\ntrusted: %s\nchecked: %s", name, doc, trusted, checked)
			}
			if strings.Contains(trusted, "/format") {
				formats++
			}
		}
	}
	if formats == 0 {
		t.Error("no document was refused for its date-time format: the comparison misses formats")
	}
}
