// Package schemas embeds podium's JSON Schemas (pipeline, run, compare,
// registry, record) and compiles them offline: a $ref to any URL that is
// not one of the embedded files fails closed, and formats are asserted.
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/podium-ml/podium/internal/third_party/jsonschema"
)

//go:embed *.json
var files embed.FS

// baseURL is the $id prefix of every embedded schema.
const baseURL = "https://podium-ml.dev/schemas/"

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Raw returns the bytes of an embedded schema file, e.g. "pipeline.schema.json".
func Raw(name string) ([]byte, error) {
	return files.ReadFile(name)
}

// Names lists the embedded schema files.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Get compiles (once) and returns the embedded schema name.
func Get(name string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[name]; ok {
		return s, nil
	}
	s, err := newCompiler(true).Compile(baseURL + name)
	if err != nil {
		return nil, fmt.Errorf("failed to compile schema %s: %w", name, err)
	}
	compiled[name] = s
	return s, nil
}

// newCompiler returns the compiler for the embedded schemas. trusted
// skips the meta-schemas, which cost every command that reads a spec 5 ms
// to compile and as much again to check a schema against: the schemas
// are podium's own, and TestEmbeddedSchemasAreValid checks each against
// its meta-schema.
func newCompiler(trusted bool) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Trusted = trusted
	c.AssertFormat = true
	c.AssertContent = true
	// Only embedded files resolve; http://, file:// and everything else fail.
	c.LoadURL = func(url string) (io.ReadCloser, error) {
		if rest, ok := strings.CutPrefix(url, baseURL); ok {
			data, err := files.ReadFile(rest)
			if err != nil {
				return nil, fmt.Errorf("no embedded schema %q", rest)
			}
			return io.NopCloser(bytes.NewReader(data)), nil
		}
		return nil, fmt.Errorf("refusing to load schema %q: only embedded schemas resolve", url)
	}
	return c
}

// Validate checks a freshly decoded JSON value (from json.Unmarshal into
// any, or yaml decoded to the same shapes) against the embedded schema
// name. It refuses NaN and ±Inf before validating, because jsonschema v5
// panics on them against minimum/maximum.
func Validate(name string, v any) error {
	if path, ok := findNonFinite(v, ""); ok {
		return fmt.Errorf("%s: not a finite number", path)
	}
	s, err := Get(name)
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func findNonFinite(v any, path string) (string, bool) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if path == "" {
				path = "/"
			}
			return path, true
		}
	case map[string]any:
		for k, e := range x {
			if p, ok := findNonFinite(e, path+"/"+k); ok {
				return p, true
			}
		}
	case []any:
		for i, e := range x {
			if p, ok := findNonFinite(e, fmt.Sprintf("%s/%d", path, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}
