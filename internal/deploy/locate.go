package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// span is the part of the source a scalar occupies. The replacement is
// src[:start] + prefix + quoted value + keep + src[end:].
type span struct {
	start, end int
	// prefix goes before the new value (a space after "key:" when the
	// value was empty).
	prefix string
	// keep is source text inside [start, end) that must stay: a block
	// scalar header's comment.
	keep []byte
}

// offset converts yaml.v3's 1-based line and column (counted in
// characters; a leading byte order mark is not counted) to a byte offset.
func offset(src []byte, line, col int) (int, error) {
	if line < 1 || col < 1 {
		return 0, fmt.Errorf("no position for the value")
	}
	i := 0
	if bytes.HasPrefix(src, []byte("\ufeff")) {
		i = 3
	}
	for l := 1; l < line; l++ {
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			return 0, fmt.Errorf("line %d is past the end of the file", line)
		}
		i += nl + 1
	}
	for c := 1; c < col; c++ {
		if i >= len(src) || src[i] == '\n' {
			return 0, fmt.Errorf("column %d is past the end of line %d", col, line)
		}
		_, size := utf8.DecodeRune(src[i:])
		i += size
	}
	return i, nil
}

// locate measures the scalar t.node in src.
func locate(src []byte, t *target) (span, error) {
	n := t.node
	p, err := offset(src, n.Line, n.Column)
	if err != nil {
		return span{}, err
	}
	// The node's position is that of its anchor or tag, when it has them:
	// both stay, the value after them is replaced.
	for p < len(src) && (src[p] == '&' || src[p] == '!') {
		for p < len(src) && !isBlank(src[p]) && src[p] != '\n' {
			p++
		}
		for p < len(src) && isSpace(src[p]) {
			p++
		}
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		end, err := scanDoubleQuoted(src, p)
		return span{start: p, end: end}, err
	case n.Style&yaml.SingleQuotedStyle != 0:
		end, err := scanSingleQuoted(src, p)
		return span{start: p, end: end}, err
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return scanBlock(src, p, t.parentIndent)
	case n.Value == "" && n.ShortTag() == "!!null":
		// "key:" with nothing after it: insert the value after the colon.
		sp := span{start: p, end: p}
		if p > 0 && !isSpace(src[p-1]) {
			sp.prefix = " "
		}
		return sp, nil
	default:
		end, err := scanPlain(src, p, n.Value)
		return span{start: p, end: end}, err
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func scanDoubleQuoted(src []byte, p int) (int, error) {
	if p >= len(src) || src[p] != '"' {
		return 0, errors.New("double-quoted value not found where the parser put it")
	}
	for i := p + 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errors.New("unterminated double-quoted value")
}

func scanSingleQuoted(src []byte, p int) (int, error) {
	if p >= len(src) || src[p] != '\'' {
		return 0, errors.New("single-quoted value not found where the parser put it")
	}
	for i := p + 1; i < len(src); i++ {
		if src[i] == '\'' {
			if i+1 < len(src) && src[i+1] == '\'' {
				i++
				continue
			}
			return i + 1, nil
		}
	}
	return 0, errors.New("unterminated single-quoted value")
}

// scanPlain finds the end of a plain (unquoted) scalar whose parsed value
// is value. On one line the source text is the value itself; a value
// folded over several lines is matched word by word, a line break in the
// source standing for a space (or n-1 newlines for n breaks).
func scanPlain(src []byte, p int, value string) (int, error) {
	if bytes.HasPrefix(src[p:], []byte(value)) {
		return p + len(value), nil
	}
	i, j := p, 0
	for j < len(value) {
		if i >= len(src) {
			return 0, errors.New("plain value runs past the end of the file")
		}
		if isSpace(src[i]) {
			k, breaks := i, 0
			for k < len(src) && isSpace(src[k]) {
				if src[k] == '\n' {
					breaks++
				}
				k++
			}
			if breaks > 0 {
				want := " "
				if breaks > 1 {
					want = string(bytes.Repeat([]byte("\n"), breaks-1))
				}
				if !bytes.HasPrefix([]byte(value[j:]), []byte(want)) {
					return 0, errors.New("cannot match the folded plain value to the source")
				}
				i, j = k, j+len(want)
				continue
			}
		}
		if src[i] != value[j] {
			return 0, errors.New("cannot match the plain value to the source")
		}
		i++
		j++
	}
	return i, nil
}

// scanBlock measures a literal (|) or folded (>) block scalar whose header
// starts at p. The header's indicators and the content lines are replaced;
// a comment on the header line stays.
func scanBlock(src []byte, p, parentIndent int) (span, error) {
	if p >= len(src) || (src[p] != '|' && src[p] != '>') {
		return span{}, errors.New("block scalar header not found where the parser put it")
	}
	tokEnd := p + 1
	for tokEnd < len(src) && (src[tokEnd] == '+' || src[tokEnd] == '-' || (src[tokEnd] >= '0' && src[tokEnd] <= '9')) {
		tokEnd++
	}
	nl := bytes.IndexByte(src[tokEnd:], '\n')
	if nl < 0 {
		// A header with no content line: nothing more to remove.
		return span{start: p, end: tokEnd}, nil
	}
	headerNL := tokEnd + nl
	keep := bytes.Clone(src[tokEnd:headerNL])
	lastEnd := headerNL
	contentIndent := -1
	i := headerNL + 1
	for i < len(src) {
		lineEnd := bytes.IndexByte(src[i:], '\n')
		if lineEnd < 0 {
			lineEnd = len(src)
		} else {
			lineEnd += i
		}
		line := src[i:lineEnd]
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		if len(bytes.TrimRight(line, " \t\r")) == 0 {
			// Blank lines belong to the block only if content follows.
			i = lineEnd + 1
			continue
		}
		if contentIndent < 0 {
			if indent <= parentIndent {
				break
			}
			contentIndent = indent
		}
		if indent < contentIndent {
			break
		}
		lastEnd = lineEnd
		i = lineEnd + 1
	}
	return span{start: p, end: lastEnd, keep: keep}, nil
}
