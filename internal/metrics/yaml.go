package metrics

import (
	"bytes"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/podium-ml/podium/internal/strictjson"
	"gopkg.in/yaml.v3"
)

// yamlErrLine pulls the line out of yaml.v3's "yaml: line N: msg" errors.
var yamlErrLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// parseYAML reads the file as yaml.v3 Nodes, which keep positions and show
// duplicate keys (decoding into a map would reject some and hide others).
// Aliases and merge keys are refused: metrics files are written by
// programs that do not use them, and expanding them is how a small file
// becomes a huge one.
func (p *parser) parseYAML() error {
	if len(p.data) > MaxYAMLSize {
		return p.errAt(0, 0, "", "file is larger than the %d MiB limit for a YAML metrics file", MaxYAMLSize>>20)
	}
	data := bytes.TrimPrefix(p.data, bom)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if err == io.EOF {
		return p.errAt(0, 0, "", "file is empty: expected a YAML mapping of metrics")
	}
	if err != nil {
		return p.yamlError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return p.errAt(extra.Line, extra.Column, "", "more than one YAML document: a metrics file holds one mapping")
	case err != io.EOF:
		return p.yamlError(err)
	}
	if len(doc.Content) == 0 {
		return p.errAt(0, 0, "", "file is empty: expected a YAML mapping of metrics")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return p.errAt(top.Line, top.Column, "", "the top level must be a mapping of metrics, found %s", yamlKind(top))
	}
	return p.yamlNode("", top, 1, pos{line: top.Line, col: top.Column})
}

func (p *parser) yamlError(err error) error {
	if m := yamlErrLine().FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return p.errAt(line, 0, "", "%s", m[2])
	}
	return p.errAt(0, 0, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// yamlNode adds the metrics under n, named name; depth counts the
// containers n is in, at is where n's key starts.
func (p *parser) yamlNode(name string, n *yaml.Node, depth int, at pos) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return p.errAt(n.Line, n.Column, name, "YAML anchors and aliases are not supported in a metrics file")
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && depth > MaxDepth {
		return p.errAt(n.Line, n.Column, name, "nesting is deeper than %d levels", MaxDepth)
	}
	switch n.Kind {
	case yaml.MappingNode:
		keys := map[string]seenName{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kat := pos{line: k.Line, col: k.Column}
			if k.Kind != yaml.ScalarNode {
				return p.errPos(kat, name, "a key must be a plain name, found %s", yamlKind(k))
			}
			if k.Tag == "!!merge" {
				return p.errPos(kat, name, "YAML merge keys (<<) are not supported in a metrics file")
			}
			child := join(name, k.Value)
			if err := p.enter(child, kat); err != nil {
				return err
			}
			if msg := checkKey(k.Value); msg != "" {
				return p.errPos(kat, name, "%s", msg)
			}
			folded := strictjson.Fold(k.Value)
			if prev, ok := keys[folded]; ok {
				if prev.name == k.Value {
					return p.errPos(kat, child, "duplicate key %q (first at line %d, column %d)", k.Value, prev.pos.line, prev.pos.col)
				}
				return p.errPos(kat, child, "key %q differs from %q (line %d, column %d) only in case: keys must be unique ignoring case", k.Value, prev.name, prev.pos.line, prev.pos.col)
			}
			keys[folded] = seenName{name: k.Value, pos: kat}
			if err := p.yamlNode(child, v, depth+1, kat); err != nil {
				return err
			}
		}
		return nil
	case yaml.SequenceNode:
		for i, v := range n.Content {
			child := join(name, strconv.Itoa(i))
			vat := pos{line: v.Line, col: v.Column}
			if err := p.enter(child, vat); err != nil {
				return err
			}
			if err := p.yamlNode(child, v, depth+1, vat); err != nil {
				return err
			}
		}
		return nil
	}
	// A scalar.
	switch n.ShortTag() {
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return p.errAt(n.Line, n.Column, name, "%q is not a number", strictjson.Short(n.Value))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return p.errAt(n.Line, n.Column, name, "%s is not a finite number", strictjson.Short(n.Value))
		}
		if !strictjson.Exact(strings.ReplaceAll(n.Value, "_", ""), f) {
			_, msg := strictjson.Number(strings.ReplaceAll(n.Value, "_", ""))
			return p.errAt(n.Line, n.Column, name, "%s", msg)
		}
		return p.add(name, &f, at)
	case "!!str":
		// yaml.v3 reads a plain number too large for a float64 (1e309) as
		// a string; it is a number the writer meant, and it overflowed.
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			if _, err := strconv.ParseFloat(n.Value, 64); errors.Is(err, strconv.ErrRange) {
				return p.errAt(n.Line, n.Column, name, "%s is out of the range of a 64-bit float", strictjson.Short(n.Value))
			}
		}
	}
	return p.add(name, nil, at)
}

func yamlKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!str":
		return "a string"
	case "!!bool":
		return "a boolean"
	}
	return "a scalar"
}
