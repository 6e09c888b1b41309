package spec

import (
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/schemas"
)

// YAMLFile is a YAML file other than podium.yaml (a data schema), decoded
// to JSON-shaped values and validated against an embedded JSON Schema with
// the same positioned problems podium.yaml gets.
type YAMLFile struct {
	File  string
	Value any
	doc   *document
}

// ParseYAMLFile reads data as one YAML document and validates it against
// the embedded schema named schemaName. The error is a diag.List of every
// problem, positioned.
func ParseYAMLFile(file string, data []byte, schemaName string) (*YAMLFile, error) {
	y := &YAMLFile{File: file}
	if probs := checkText(data); len(probs) > 0 {
		return nil, y.list(probs)
	}
	root, perr := parseYAML(data)
	if perr != nil {
		return nil, y.list([]problem{*perr})
	}
	doc, probs := newDocument(root)
	y.doc = doc
	if len(probs) > 0 {
		return nil, y.list(probs)
	}
	if _, ok := doc.value.(map[string]any); !ok {
		return nil, y.list([]problem{{line: 1, col: 1, msg: "expected a mapping at the top level"}})
	}
	if err := schemas.Validate(schemaName, doc.value); err != nil {
		leaves := schemas.Leaves(err)
		if leaves == nil {
			return nil, y.list([]problem{{msg: err.Error()}})
		}
		seen := map[string]bool{}
		for _, e := range leaves {
			for _, p := range schemaProblems(schemaName, e, doc.value) {
				if k := p.ptr + "\x00" + p.msg; !seen[k] {
					seen[k] = true
					probs = append(probs, p)
				}
			}
		}
		return nil, y.list(probs)
	}
	y.Value = doc.value
	return y, nil
}

// Problem returns a positioned problem at the value at JSON pointer ptr.
func (y *YAMLFile) Problem(ptr, msg string) *diag.Error {
	pos := y.doc.at(ptr)
	return &diag.Error{File: y.File, Line: pos.line, Col: pos.col, Field: fieldPath(ptr), Msg: msg}
}

func (y *YAMLFile) list(probs []problem) error {
	var list diag.List
	for _, p := range probs {
		e := &diag.Error{File: y.File, Line: p.line, Col: p.col, Field: fieldPath(p.ptr), Msg: p.msg}
		if e.Line == 0 && y.doc != nil {
			pos := y.doc.at(p.ptr)
			if p.key {
				pos = y.doc.keyAt(p.ptr)
			}
			e.Line, e.Col = pos.line, pos.col
		}
		list = append(list, e)
	}
	list.Sort()
	return list.Err()
}
