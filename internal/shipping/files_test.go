package shipping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the directory holding go.mod, found from the test's own
// directory so the tests run from any checkout.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// glob returns the files matching the patterns under root, relative to
// root and sorted; it fails the test when a pattern matches nothing.
func glob(t *testing.T, root string, patterns ...string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		matches, err := filepath.Glob(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if len(matches) == 0 {
			t.Fatalf("no file matches %s", p)
		}
		for _, m := range matches {
			rel, err := filepath.Rel(root, m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out
}

// Shipped files, relative to the repository root.
var (
	actionFiles   = []string{"action.yml", "actions/*/action.yml"}
	workflowFiles = []string{".github/workflows/*.yml"}
	templateFiles = []string{"templates/*.yml"}
	gitlabFiles   = []string{"examples/gitlab-ci.yml"}
)

// steps are the commands with an action of their own and a component.
var steps = []string{"test", "train", "compare", "record", "report", "propose", "drift"}

// decodeYAML decodes every document of a YAML file as YAML 1.2 (yaml.v3:
// `on:` stays a string key), each as a yaml.Node and as a plain value.
func decodeYAML(t *testing.T, path string) ([]*yaml.Node, []any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*yaml.Node
	var values []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		nodes = append(nodes, &n)
		values = append(values, v)
	}
	if len(nodes) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return nodes, values
}

// mapping returns v as a map, or nil.
func mapping(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// str returns v as a string ("" if it is not one).
func str(v any) string {
	s, _ := v.(string)
	return s
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pos is "file:line" for a node, for failure messages.
func pos(file string, n *yaml.Node) string {
	return fmt.Sprintf("%s:%d", file, n.Line)
}
