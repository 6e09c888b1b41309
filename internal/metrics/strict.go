package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
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
//
// When v points to a struct, every object key must also be the exact name
// of a field at that place (its json tag): a key that differs from a field
// only in case ("ArtifACts", which encoding/json would match to Artifacts)
// and a key no field has are refused, at any depth. Maps and interfaces
// take any key.
func DecodeJSON(name string, data []byte, v any) error {
	return decodeJSON(name, data, v, false)
}

// DecodeJSONExtensible is DecodeJSON for a document whose format promises
// that readers ignore fields they do not know (the record, an in-toto
// predicate): an unknown key is skipped, but a key that differs from a
// field only in case is still refused.
func DecodeJSONExtensible(name string, data []byte, v any) error {
	return decodeJSON(name, data, v, true)
}

func decodeJSON(name string, data []byte, v any, allowUnknown bool) error {
	if err := checkJSON(name, data, reflect.TypeOf(v), allowUnknown); err != nil {
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

// CheckJSON reports the first problem DecodeJSON would refuse for a
// document of any shape, or nil.
func CheckJSON(name string, data []byte) error {
	return checkJSON(name, data, nil, false)
}

// CheckJSONAs is CheckJSON for a document that decodes into v: it also
// refuses keys that are no field of v's structs (see DecodeJSON).
func CheckJSONAs(name string, data []byte, v any) error {
	return checkJSON(name, data, reflect.TypeOf(v), false)
}

func checkJSON(name string, data []byte, t reflect.Type, allowUnknown bool) error {
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
	jp := &jsonParser{parser: p, dec: json.NewDecoder(bytes.NewReader(data)), allowUnknown: allowUnknown}
	jp.dec.UseNumber()
	if err := jp.strictValue("", 0, t); err != nil {
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
// t is the Go type the value decodes into, nil when any shape is allowed.
func (jp *jsonParser) strictValue(name string, depth int, t reflect.Type) error {
	start, tok, err := jp.next(name)
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return jp.errOff(start, name, "nesting is deeper than %d levels", MaxDepth)
		}
		t = indirect(t)
		if v == '{' {
			return jp.strictObject(name, depth+1, t)
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; jp.dec.More(); i++ {
			if err := jp.strictValue(join(name, strconv.Itoa(i)), depth+1, elem); err != nil {
				return err
			}
		}
		_, _, err := jp.next(name) // the ']' (or the syntax error)
		return err
	case json.Number:
		// An integer field takes integers exactly, beyond 2^53 too; any
		// other number becomes a float64 and must keep its written value.
		if t = indirect(t); t != nil {
			switch t.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				if _, err := strconv.ParseInt(string(v), 10, t.Bits()); err != nil {
					return jp.errOff(start, name, "%s is not an integer that fits a %s", short(string(v)), t.Kind())
				}
				return nil
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				if _, err := strconv.ParseUint(string(v), 10, t.Bits()); err != nil {
					return jp.errOff(start, name, "%s is not an integer that fits a %s", short(string(v)), t.Kind())
				}
				return nil
			}
		}
		if _, msg := number(string(v)); msg != "" {
			return jp.errOff(start, name, "%s", msg)
		}
	}
	return nil
}

// strictObject reads the members of an object whose '{' was just read.
func (jp *jsonParser) strictObject(prefix string, depth int, t reflect.Type) error {
	keys := map[string]seenName{} // folded key -> first, for this object
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = jsonFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
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
				return jp.errPos(at, name, "duplicate key %q (first at line %d, column %d)", short(key), line, col)
			}
			return jp.errPos(at, name, "key %q differs from %q (line %d, column %d) only in case: keys must be unique ignoring case", short(key), short(prev.name), line, col)
		}
		keys[folded] = seenName{name: key, pos: at}
		vt := elem
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				if known := fieldFolding(fields, folded); known != "" {
					return jp.errPos(at, name, "key %q is not %q: field names are case-sensitive", short(key), known)
				}
				if !jp.allowUnknown {
					return jp.errPos(at, name, "unknown field %q", short(key))
				}
			}
			vt = ft // nil for an unknown field: any shape
		}
		if err := jp.strictValue(name, depth, vt); err != nil {
			return err
		}
	}
}

// unmarshalerType is implemented by types that decode themselves
// (time.Time): their JSON shape is theirs to check.
var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// indirect returns the type a JSON value fills through t's pointers, or
// nil when any shape is allowed (an interface, a self-decoding type).
func indirect(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	return t
}

// jsonFields maps the JSON names of t's exported fields, embedded structs'
// included, to their types, as encoding/json names them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// fieldFolding returns the field whose name folds to folded, or "".
func fieldFolding(fields map[string]reflect.Type, folded string) string {
	for name := range fields {
		if fold(name) == folded {
			return name
		}
	}
	return ""
}
