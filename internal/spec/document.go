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
	d := &document{pos: map[string]position{}, keys: map[string]position{}}
	var probs []problem
	var conv func(n *yaml.Node, ptr string, depth int) any
	conv = func(n *yaml.Node, ptr string, depth int) any {
		d.pos[ptr] = position{n.Line, n.Column}
		if depth > 64 {
			probs = append(probs, problem{ptr: ptr, msg: "nesting too deep (more than 64 levels)"})
			return nil
		}
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			return conv(n.Content[0], ptr, depth)
		case yaml.AliasNode:
			// Aliases could expand exponentially ("billion laughs"); a spec
			// has no need for them.
			probs = append(probs, problem{ptr: ptr, msg: "YAML aliases (*name) are not supported in podium.yaml"})
			return nil
		case yaml.MappingNode:
			m := make(map[string]any, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Kind != yaml.ScalarNode {
					probs = append(probs, problem{ptr: ptr, line: k.Line, col: k.Column, msg: "mapping keys must be plain strings"})
					continue
				}
				if k.Tag == "!!merge" {
					probs = append(probs, problem{ptr: ptr, line: k.Line, col: k.Column, msg: "YAML merge keys (<<) are not supported in podium.yaml"})
					continue
				}
				child := ptr + "/" + escapePointer(k.Value)
				if first, dup := d.keys[child]; dup {
					// yaml.v3 only catches duplicates when decoding into Go
					// values; a node tree keeps both, and the last would win.
					probs = append(probs, problem{ptr: child, line: k.Line, col: k.Column,
						msg: fmt.Sprintf("duplicate key %q (first defined at line %d)", k.Value, first.line)})
					continue
				}
				d.keys[child] = position{k.Line, k.Column}
				m[k.Value] = conv(v, child, depth+1)
			}
			return m
		case yaml.SequenceNode:
			s := make([]any, len(n.Content))
			for i, c := range n.Content {
				s[i] = conv(c, ptr+"/"+strconv.Itoa(i), depth+1)
			}
			return s
		case yaml.ScalarNode:
			var v any
			if err := n.Decode(&v); err != nil {
				probs = append(probs, problem{ptr: ptr, msg: err.Error()})
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
					probs = append(probs, problem{ptr: ptr, msg: fmt.Sprintf("%s is not a finite number", n.Value)})
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
		return nil
	}
	d.value = conv(root, "", 0)
	return d, probs
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
