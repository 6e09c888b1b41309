// Package strictjson decodes podium's own JSON documents (run.json,
// compare.json, the champion pointer, the record) that a later job reads
// back from an artifact or a branch it cannot trust. It refuses what
// encoding/json would let through silently or report without a position:
// a UTF-8 byte order mark, bytes that are not UTF-8, duplicate keys and
// keys that differ only in case (encoding/json lets the last one win and
// matches struct fields case-insensitively), NaN and Infinity (Python's
// defaults), numbers a float64 does not hold as written, nesting deeper
// than MaxDepth and data after the document. Every error is a *diag.Error
// with the file, line and column: invalid input.
//
// Its Reader, the token-by-token walk with positions, is also what the
// metrics package reads users' JSON metrics files with.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"unicode/utf8"
)

// kind labels the errors of Decode and Check.
const kind = "json"

var bom = []byte("\xef\xbb\xbf")

// Decode decodes data, the JSON document called name, into v after
// refusing what the package documentation lists.
//
// When v points to a struct, every object key must also be the exact name
// of a field at that place (its json tag): a key that differs from a field
// only in case ("ArtifACts", which encoding/json would match to Artifacts)
// and a key no field has are refused, at any depth. Maps and interfaces
// take any key.
func Decode(name string, data []byte, v any) error {
	return decode(name, data, v, false)
}

// DecodeExtensible is Decode for a document whose format promises that
// readers ignore fields they do not know (the record, an in-toto
// predicate): an unknown key is skipped, but a key that differs from a
// field only in case is still refused.
func DecodeExtensible(name string, data []byte, v any) error {
	return decode(name, data, v, true)
}

func decode(name string, data []byte, v any, allowUnknown bool) error {
	if err := check(name, data, reflect.TypeOf(v), allowUnknown); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		r := NewReader(name, kind, data)
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return r.Errorf(int(typeErr.Offset), typeErr.Field, "a JSON %s cannot be a %s", typeErr.Value, typeErr.Type)
		}
		return r.ErrorAt(0, 0, "", "%s", err.Error())
	}
	return nil
}

// Check reports the first problem Decode would refuse for a document of
// any shape, or nil.
func Check(name string, data []byte) error {
	return check(name, data, nil, false)
}

// CheckAs is Check for a document that decodes into v: it also refuses
// keys that are no field of v's structs (see Decode).
func CheckAs(name string, data []byte, v any) error {
	return check(name, data, reflect.TypeOf(v), false)
}

func check(name string, data []byte, t reflect.Type, allowUnknown bool) error {
	r := NewReader(name, kind, data)
	if !utf8.Valid(data) {
		off := InvalidUTF8(data)
		return r.Errorf(off, "", "invalid UTF-8 byte 0x%02x", data[off])
	}
	if bytes.HasPrefix(data, bom) {
		return r.ErrorAt(1, 1, "", "file starts with a UTF-8 byte order mark, which JSON does not allow")
	}
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		return r.ErrorAt(0, 0, "", "file is empty: expected a JSON document")
	}
	w := &walker{Reader: r, allowUnknown: allowUnknown}
	if err := w.value("", 0, t, 0); err != nil {
		return err
	}
	return r.End("the document", "a file holds one JSON value")
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
		if Fold(name) == folded {
			return name
		}
	}
	return ""
}
