package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"
)

// FuzzPatch checks that Patch never panics and that whatever it returns
// re-parses, holds the new string at the field, and is otherwise the same
// document: the same bytes before and after the value, and the same data
// once decoded (checked by decoding, independently of Patch's own check).
func FuzzPatch(f *testing.F) {
	f.Add(inference, "spec.predictor.model.storageUri", "gs://x/y")
	f.Add(inference, "spec.containers[1].image", "it's \"quoted\"")
	f.Add(inference, "spec.predictor.model.args[2]", "a,b]")
	f.Add("a: &x {b: 1}\nc: *x\n", "a.b", "2")
	f.Add("- |\n  x\n- y\n", "[0]", "z\n")
	f.Add("a: 'x'\n---\nb: \"y\"\n", "b", "#")
	f.Add("a:\n  - b: c d\n    e\n", "a[0].b", "")
	f.Add("\ufeffa: b # c\r\n", "a", "\u2028")
	files, _ := filepath.Glob(filepath.Join("testdata", "patch", "*.yaml"))
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		first, _, _ := strings.Cut(string(src), "\n")
		field, value, _ := strings.Cut(strings.TrimPrefix(first, "# podium-test: "), " = ")
		f.Add(string(src), field, value)
	}
	f.Fuzz(func(t *testing.T, src, field, value string) {
		if len(src) > 1<<16 || len(field) > 256 || len(value) > 1024 {
			return
		}
		out, start, end, err := patch("m.yaml", []byte(src), field, value)
		if err != nil {
			return
		}
		if !bytes.Equal(out[:start], []byte(src[:start])) || !bytes.HasSuffix(out, []byte(src[end:])) {
			t.Fatalf("bytes outside the value changed:\n%q\n%q", src, out)
		}
		path, err := ParsePath(field)
		if err != nil {
			t.Fatalf("Patch accepted a path ParsePath rejects: %v", err)
		}
		before, err := decodeAll([]byte(src))
		if err != nil {
			// yaml.v3 reads some documents as nodes but not as Go values
			// (duplicate keys, for one); Patch's own node check covered it.
			return
		}
		after, err := decodeAll(out)
		if err != nil {
			t.Fatalf("patched manifest does not decode: %v\n%q", err, out)
		}
		set := 0
		for i := range before {
			if v, ok := setAt(before[i], path, value); ok {
				before[i] = v
				set++
			}
		}
		if set != 1 {
			t.Fatalf("the field resolves in %d documents of the decoded original, want 1", set)
		}
		if diff := cmp.Diff(before, after, cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("more than the value changed (-want +got):\n%s\nsrc %q\nout %q", diff, src, out)
		}
	})
}

func decodeAll(src []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, v)
	}
}

// setAt returns v with the value at path replaced by value.
func setAt(v any, path Path, value string) (any, bool) {
	if len(path) == 0 {
		if _, ok := v.(string); ok || v == nil || isScalar(v) {
			return value, true
		}
		return nil, false
	}
	seg := path[0]
	switch x := v.(type) {
	case map[string]any:
		if seg.IsIndex {
			return nil, false
		}
		child, ok := x[seg.Key]
		if !ok {
			return nil, false
		}
		nv, ok := setAt(child, path[1:], value)
		if ok {
			x[seg.Key] = nv
		}
		return x, ok
	case map[any]any:
		if seg.IsIndex {
			return nil, false
		}
		for k, child := range x {
			ks, isStr := k.(string)
			if (isStr && ks == seg.Key) || (!isStr && yamlScalar(k) == seg.Key) {
				nv, ok := setAt(child, path[1:], value)
				if ok {
					x[k] = nv
				}
				return x, ok
			}
		}
		return nil, false
	case []any:
		if !seg.IsIndex || seg.Index >= len(x) {
			return nil, false
		}
		nv, ok := setAt(x[seg.Index], path[1:], value)
		if ok {
			x[seg.Index] = nv
		}
		return x, ok
	}
	return nil, false
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, map[any]any, []any:
		return false
	}
	return true
}
