// Package deploy turns a promotion into file changes: it patches one value
// in a deploy manifest while keeping every other byte of the file (comments,
// key order, indentation, quoting), renders the deploy templates and checks
// the branch name they produce.
//
// Patching does not re-encode the YAML: yaml.v3 re-encoding changes
// indentation and quoting. Instead the value's node is located with yaml.v3
// (for its line and column), its extent in the source bytes is measured, and
// the new value, quoted as a YAML string, is spliced in its place. The result
// is parsed again and compared with the original: unless the target now
// holds the new string and every other node, comment and document is
// unchanged, Patch fails rather than write it.
//
// Multi-document manifests (documents separated by ---): the field path
// must resolve in exactly one document. A path found in none is an error
// naming the document where it got furthest; a path found in several is an
// error naming them, since patching all of them or the first would be a
// guess.
package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/podium-ml/podium/internal/diag"
)

// MaxManifestSize is the largest manifest Patch reads. Deploy manifests are
// a few KiB.
const MaxManifestSize = 4 << 20

const diagKind = "deploy"

// Patch returns src, the YAML manifest named file, with the scalar at field
// set to the string value. Only the bytes of that scalar change. Errors
// about the manifest or the path are diag.Errors (invalid input) naming the
// file, the line and the field.
func Patch(file string, src []byte, field, value string) ([]byte, error) {
	out, _, _, err := patch(file, src, field, value)
	return out, err
}

// patch is Patch that also returns the replaced span of src, for tests.
func patch(file string, src []byte, field, value string) (out []byte, start, end int, err error) {
	fail := func(line, col int, format string, args ...any) ([]byte, int, int, error) {
		return nil, 0, 0, &diag.Error{File: file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...), Kind: diagKind}
	}
	path, err := ParsePath(field)
	if err != nil {
		return fail(0, 0, "%s", err.(*PathError).Msg)
	}
	if len(src) > MaxManifestSize {
		return fail(0, 0, "manifest is %d bytes; podium patches manifests up to %d", len(src), MaxManifestSize)
	}
	if !utf8.Valid(src) {
		return fail(0, 0, "manifest is not valid UTF-8")
	}
	if !utf8.ValidString(value) {
		return fail(0, 0, "the new value is not valid UTF-8")
	}
	docs, err := parseDocuments(file, src)
	if err != nil {
		return nil, 0, 0, err
	}

	t, err := find(file, docs, path, field)
	if err != nil {
		return nil, 0, 0, err
	}
	for _, a := range t.anchors {
		if hasAlias(docs[t.doc], a) {
			what := "the value is"
			if a != t.node.Anchor {
				what = "a mapping or sequence holding the value is"
			}
			return fail(t.node.Line, t.node.Column, "%s anchored (&%s) and used through *%s elsewhere; patching it would change those too", what, a, a)
		}
	}

	sp, err := locate(src, t)
	if err != nil {
		return fail(t.node.Line, t.node.Column, "%v", err)
	}
	var lastErr error
	for _, q := range candidates(value, t, sp) {
		var buf bytes.Buffer
		buf.Grow(len(src) + len(q))
		buf.Write(src[:sp.start])
		buf.WriteString(q)
		buf.Write(sp.keep)
		buf.Write(src[sp.end:])
		out := buf.Bytes()
		if lastErr = verify(out, docs, t, value); lastErr == nil {
			return out, sp.start, sp.end, nil
		}
	}
	return fail(t.node.Line, t.node.Column, "cannot set the value without changing the rest of the document: %v", lastErr)
}

// parseDocuments decodes every YAML document of src as nodes.
func parseDocuments(file string, src []byte) ([]*yaml.Node, error) {
	docs, err := decodeNodes(src)
	if err != nil {
		return nil, yamlError(file, err)
	}
	if len(docs) == 0 {
		return nil, &diag.Error{File: file, Msg: "manifest is empty", Kind: diagKind}
	}
	return docs, nil
}

// decodeNodes decodes every YAML document of src as nodes: the manifest
// before patching, and the result again to verify it.
func decodeNodes(src []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// find resolves path in exactly one of docs; field is path as written.
func find(file string, docs []*yaml.Node, path Path, field string) (*target, error) {
	fail := func(line, col int, format string, args ...any) error {
		return &diag.Error{File: file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...), Kind: diagKind}
	}
	var found []*target
	var best *lookupError
	var bestDoc int
	for i, doc := range docs {
		t, lerr := lookup(doc, path)
		if lerr != nil {
			if best == nil || lerr.depth > best.depth {
				best, bestDoc = lerr, i
			}
			continue
		}
		t.doc = i
		found = append(found, t)
	}
	switch {
	case len(found) == 0:
		msg := best.msg
		if len(docs) > 1 {
			msg += fmt.Sprintf(" (document %d of %d, where the path got furthest)", bestDoc+1, len(docs))
		}
		return nil, fail(best.line, best.col, "%s", msg)
	case len(found) > 1:
		nums := make([]string, len(found))
		for i, t := range found {
			nums[i] = fmt.Sprintf("%d (line %d)", t.doc+1, t.node.Line)
		}
		return nil, fail(found[0].node.Line, found[0].node.Column,
			"the field is in %d documents of the manifest: %s; podium patches exactly one value", len(found), strings.Join(nums, ", "))
	}
	return found[0], nil
}

// yamlError turns a yaml.v3 error ("yaml: line 3: mapping values are not
// allowed in this context") into a positioned diag.Error.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if _, serr := fmt.Sscanf(n, "%d", &line); serr == nil {
				msg = after
			}
		}
	}
	return &diag.Error{File: file, Line: line, Msg: "not valid YAML: " + msg, Kind: "syntax"}
}

// target is the scalar a path resolved to, with what locating it needs.
type target struct {
	doc  int
	node *yaml.Node
	// parentIndent is the indentation of the line holding the value's key
	// (or sequence dash): block scalar content is indented further.
	parentIndent int
	// flow is true inside a flow collection ({...} or [...]).
	flow bool
	// anchors are those of the value and of every node above it.
	anchors []string
}

type lookupError struct {
	line, col int
	depth     int
	msg       string
}

var kindNames = map[yaml.Kind]string{
	yaml.DocumentNode: "document",
	yaml.SequenceNode: "sequence",
	yaml.MappingNode:  "mapping",
	yaml.ScalarNode:   "scalar",
	yaml.AliasNode:    "alias",
}

// lookup walks path from the document's root node.
func lookup(doc *yaml.Node, path Path) (*target, *lookupError) {
	if len(doc.Content) == 0 {
		return nil, &lookupError{line: doc.Line, col: doc.Column, msg: "the document is empty"}
	}
	n := doc.Content[0]
	t := &target{parentIndent: -1}
	for i, seg := range path {
		here := path[:i].String()
		if here == "" {
			here = "the document root"
		}
		if n.Kind == yaml.AliasNode {
			return nil, &lookupError{line: n.Line, col: n.Column, depth: i,
				msg: fmt.Sprintf("%s is an alias (*%s); podium does not patch values shared through anchors", here, n.Value)}
		}
		if n.Style&yaml.FlowStyle != 0 {
			t.flow = true
		}
		if n.Anchor != "" {
			t.anchors = append(t.anchors, n.Anchor)
		}
		if seg.IsIndex {
			if n.Kind != yaml.SequenceNode {
				return nil, &lookupError{line: n.Line, col: n.Column, depth: i,
					msg: fmt.Sprintf("%s is a %s, not a sequence: cannot take index [%d]", here, kindNames[n.Kind], seg.Index)}
			}
			if seg.Index >= len(n.Content) {
				return nil, &lookupError{line: n.Line, col: n.Column, depth: i,
					msg: fmt.Sprintf("index [%d] is out of range: %s has %d items", seg.Index, here, len(n.Content))}
			}
			t.parentIndent = n.Column - 1
			n = n.Content[seg.Index]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return nil, &lookupError{line: n.Line, col: n.Column, depth: i,
				msg: fmt.Sprintf("%s is a %s, not a mapping: cannot find key %q", here, kindNames[n.Kind], seg.Key)}
		}
		key, val, lerr := lookupKey(n, seg.Key, here, i)
		if lerr != nil {
			return nil, lerr
		}
		t.parentIndent = key.Column - 1
		n = val
	}
	if lerr := scalarAt(n, path); lerr != nil {
		return nil, lerr
	}
	if n.Anchor != "" {
		t.anchors = append(t.anchors, n.Anchor)
	}
	t.node = n
	return t, nil
}

// lookupKey finds key in the mapping n, which path reaches at depth (here
// names it in messages).
func lookupKey(n *yaml.Node, key, here string, depth int) (k, v *yaml.Node, _ *lookupError) {
	merged := false
	for j := 0; j+1 < len(n.Content); j += 2 {
		kn := n.Content[j]
		if kn.Kind != yaml.ScalarNode {
			continue
		}
		if kn.Value == "<<" && kn.ShortTag() == "!!merge" {
			merged = true
			continue
		}
		if kn.Value == key {
			if k != nil {
				return nil, nil, &lookupError{line: kn.Line, col: kn.Column, depth: depth,
					msg: fmt.Sprintf("key %q appears twice under %s (lines %d and %d)", key, here, k.Line, kn.Line)}
			}
			k, v = kn, n.Content[j+1]
		}
	}
	if k == nil {
		msg := fmt.Sprintf("no key %q under %s", key, here)
		if keys := mappingKeys(n); keys != "" {
			msg += " (it has " + keys + ")"
		}
		if merged {
			msg += "; values merged with << are not patched: patch the anchored mapping"
		}
		return nil, nil, &lookupError{line: n.Line, col: n.Column, depth: depth, msg: msg}
	}
	return k, v, nil
}

// scalarAt says why n, where path ends, is not a scalar podium patches.
func scalarAt(n *yaml.Node, path Path) *lookupError {
	switch n.Kind {
	case yaml.ScalarNode:
		return nil
	case yaml.AliasNode:
		return &lookupError{line: n.Line, col: n.Column, depth: len(path),
			msg: fmt.Sprintf("%s is an alias (*%s); podium does not patch values shared through anchors", path, n.Value)}
	default:
		return &lookupError{line: n.Line, col: n.Column, depth: len(path),
			msg: fmt.Sprintf("%s is a %s, not a scalar value", path, kindNames[n.Kind])}
	}
}

// mappingKeys lists up to 8 keys of a mapping, for error messages.
func mappingKeys(n *yaml.Node) string {
	var keys []string
	for j := 0; j+1 < len(n.Content); j += 2 {
		if k := n.Content[j]; k.Kind == yaml.ScalarNode {
			keys = append(keys, fmt.Sprintf("%q", k.Value))
		}
	}
	if len(keys) > 8 {
		keys = append(keys[:8], "...")
	}
	return strings.Join(keys, ", ")
}

// hasAlias reports whether an alias to anchor appears under n.
func hasAlias(n *yaml.Node, anchor string) bool {
	if n.Kind == yaml.AliasNode && n.Value == anchor {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c, anchor) {
			return true
		}
	}
	return false
}
