package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// strictKind labels the errors of DecodeJSON.
const strictKind = "json"

// DecodeJSON decodes data, the JSON document called name, into v after
// refusing what encoding/json would let through silently or report
// without a position: a UTF-8 byte order mark, bytes that are not UTF-8,
// duplicate keys and keys that differ only in case (encoding/json lets the
// last one win and matches struct fields case-insensitively), NaN and
// Infinity (Python's defaults), numbers beyond float64, nesting deeper than
// MaxDepth and data after the document. Every error is a *diag.Error with
// name, line and column: invalid input.
//
// It is the metrics reader's JSON walk without the flattening and the
// metric limits, for podium's own documents (run.json, compare.json) that
// a later job reads back from an artifact it cannot trust.
func DecodeJSON(name string, data []byte, v any) error {
	if err := CheckJSON(name, data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		p := &parser{file: name, kind: strictKind, data: data}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return p.errOff(int(typeErr.Offset), typeErr.Field, "a JSON %s cannot be a %s", typeErr.Value, typeErr.Type)
		}
		return p.errAt(0, 0, "", "%s", err.Error())
	}
	return nil
}

// CheckJSON reports the first problem DecodeJSON would refuse, or nil.
func CheckJSON(name string, data []byte) error {
	p := &parser{file: name, kind: strictKind, data: data}
	if !utf8.Valid(data) {
		off := invalidUTF8(data)
		return p.errOff(off, "", "invalid UTF-8 byte 0x%02x", data[off])
	}
	if bytes.HasPrefix(data, bom) {
		return p.errAt(1, 1, "", "file starts with a UTF-8 byte order mark, which JSON does not allow")
	}
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		return p.errAt(0, 0, "", "file is empty: expected a JSON document")
	}
	jp := &jsonParser{parser: p, dec: json.NewDecoder(bytes.NewReader(data))}
	jp.dec.UseNumber()
	if err := jp.strictValue("", 0); err != nil {
		return err
	}
	start := skipSeparators(data, int(jp.dec.InputOffset()))
	tok, err := jp.dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return p.errOff(start, "", "unexpected data after the document: a file holds one JSON value")
	}
	return p.errOff(start, "", "unexpected %s after the document: a file holds one JSON value", describe(tok))
}

// strictValue reads one value named name (a dotted path, for messages).
func (jp *jsonParser) strictValue(name string, depth int) error {
	start, tok, err := jp.next(name)
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return jp.errOff(start, name, "nesting is deeper than %d levels", MaxDepth)
		}
		if v == '{' {
			return jp.strictObject(name, depth+1)
		}
		for i := 0; jp.dec.More(); i++ {
			if err := jp.strictValue(join(name, strconv.Itoa(i)), depth+1); err != nil {
				return err
			}
		}
		_, _, err := jp.next(name) // the ']' (or the syntax error)
		return err
	case json.Number:
		if _, msg := number(string(v)); msg != "" {
			return jp.errOff(start, name, "%s", msg)
		}
	}
	return nil
}

// strictObject reads the members of an object whose '{' was just read.
func (jp *jsonParser) strictObject(prefix string, depth int) error {
	keys := map[string]seenName{} // folded key -> first, for this object
	for {
		start, tok, err := jp.next(prefix)
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			return nil
		}
		key := tok.(string) // the decoder only returns a string or '}' here
		at := pos{off: start}
		name := join(prefix, key)
		folded := fold(key)
		if prev, ok := keys[folded]; ok {
			line, col := jp.resolve(prev.pos)
			if prev.name == key {
				return jp.errPos(at, name, "duplicate key %q (first at line %d, column %d)", key, line, col)
			}
			return jp.errPos(at, name, "key %q differs from %q (line %d, column %d) only in case: keys must be unique ignoring case", key, prev.name, line, col)
		}
		keys[folded] = seenName{name: key, pos: at}
		if err := jp.strictValue(name, depth); err != nil {
			return err
		}
	}
}
