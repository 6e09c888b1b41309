package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// position is where a value (or a mapping key) sits in the YAML file.
type position struct{ line, col int }

// document is a YAML file decoded to JSON-shaped values (map[string]any,
// []any, string, float64, bool, nil) for schema validation, with the
// position of every value and every mapping key by JSON pointer.
type document struct {
	value any
	pos   map[string]position // JSON pointer -> value position
	keys  map[string]position // JSON pointer of a key ("/pipeline/0/nme") -> key position
}

// newDocument converts a parsed YAML document node. Problems that make a
// value unrepresentable in JSON (NaN, non-string keys, aliases) are returned
// as problems, positioned.
func newDocument(root *yaml.Node) (*document, []problem) {
	c := &converter{d: &document{pos: map[string]position{}, keys: map[string]position{}}}
	c.d.value = c.conv(root, "", 0)
	return c.d, c.probs
}

// converter is one run of newDocument.
type converter struct {
	d     *document
	probs []problem
}

func (c *converter) conv(n *yaml.Node, ptr string, depth int) any {
	c.d.pos[ptr] = position{n.Line, n.Column}
	if depth > 64 {
		c.probs = append(c.probs, problem{ptr: ptr, msg: "nesting too deep (more than 64 levels)"})
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.conv(n.Content[0], ptr, depth)
	case yaml.AliasNode:
		// Aliases could expand exponentially ("billion laughs"); a spec
		// has no need for them.
		c.probs = append(c.probs, problem{ptr: ptr, msg: "YAML aliases (*name) are not supported in podium.yaml"})
		return nil
	case yaml.MappingNode:
		return c.mapping(n, ptr, depth)
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, e := range n.Content {
			s[i] = c.conv(e, ptr+"/"+strconv.Itoa(i), depth+1)
		}
		return s
	case yaml.ScalarNode:
		return c.scalar(n, ptr)
	}
	return nil
}

func (c *converter) mapping(n *yaml.Node, ptr string, depth int) map[string]any {
	m := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.probs = append(c.probs, problem{ptr: ptr, line: k.Line, col: k.Column, msg: "mapping keys must be plain strings"})
			continue
		}
		if k.Tag == "!!merge" {
			c.probs = append(c.probs, problem{ptr: ptr, line: k.Line, col: k.Column, msg: "YAML merge keys (<<) are not supported in podium.yaml"})
			continue
		}
		child := ptr + "/" + escapePointer(k.Value)
		if first, dup := c.d.keys[child]; dup {
			// yaml.v3 only catches duplicates when decoding into Go
			// values; a node tree keeps both, and the last would win.
			c.probs = append(c.probs, problem{ptr: child, line: k.Line, col: k.Column,
				msg: fmt.Sprintf("duplicate key %q (first defined at line %d)", k.Value, first.line)})
			continue
		}
		c.d.keys[child] = position{k.Line, k.Column}
		m[k.Value] = c.conv(v, child, depth+1)
	}
	return m
}

func (c *converter) scalar(n *yaml.Node, ptr string) any {
	var v any
	if err := n.Decode(&v); err != nil {
		c.probs = append(c.probs, problem{ptr: ptr, msg: err.Error()})
		return nil
	}
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			c.probs = append(c.probs, problem{ptr: ptr, msg: fmt.Sprintf("%s is not a finite number", n.Value)})
			return nil
		}
		return x
	case string, bool, nil:
		return x
	default:
		// Timestamps and binary: keep the text as written.
		return n.Value
	}
}

// position of the value at ptr, or of its closest ancestor.
func (d *document) at(ptr string) position {
	for {
		if p, ok := d.pos[ptr]; ok {
			return p
		}
		i := strings.LastIndex(ptr, "/")
		if i < 0 {
			return position{}
		}
		ptr = ptr[:i]
	}
}

// keyAt is the position of the key for ptr, falling back to the value.
func (d *document) keyAt(ptr string) position {
	if p, ok := d.keys[ptr]; ok {
		return p
	}
	return d.at(ptr)
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// fieldPath turns a JSON pointer (/pipeline/1/needs/0) into the field path
// users read (pipeline[1].needs[0]).
func fieldPath(ptr string) string {
	if ptr == "" {
		return ""
	}
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = unescapePointer(tok)
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}
