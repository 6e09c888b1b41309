package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"

	"github.com/podium-ml/podium/internal/diag"
)

// MaxDepth bounds the nesting of objects and arrays a Reader walks.
const MaxDepth = 64

// nonFinite are the tokens Python's json module writes for NaN and ±Inf
// unless told allow_nan=False.
var nonFinite = []string{"NaN", "Infinity", "-Infinity"}

// allowNaNAdvice follows a NaN or Infinity in an error message.
const allowNaNAdvice = "JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite"

// Reader reads one JSON document token by token with the position of each
// token: encoding/json's Decoder checks the syntax, and reading token by
// token is what shows duplicate keys, positions and depth, which decoding
// into a map hides. Its errors are *diag.Error naming the file, the dotted
// path of the value (a.b.0) and the kind in brackets.
type Reader struct {
	file, kind string
	data       []byte
	dec        *json.Decoder
}

// NewReader returns a Reader of data, the document called file; kind is
// shown in brackets after each error ("json", "metrics").
func NewReader(file, kind string, data []byte) *Reader {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return &Reader{file: file, kind: kind, data: data, dec: dec}
}

// ErrorAt returns a positioned error about field (may be ""); a zero line
// or column leaves it out.
func (r *Reader) ErrorAt(line, col int, field, format string, args ...any) error {
	return &diag.Error{File: r.file, Line: line, Col: col, Field: ShortName(field), Kind: r.kind,
		Msg: fmt.Sprintf(format, args...)}
}

// Errorf is ErrorAt at a byte offset into the document.
func (r *Reader) Errorf(off int, field, format string, args ...any) error {
	line, col := Position(r.data, off)
	return r.ErrorAt(line, col, field, format, args...)
}

// Next reads a token and returns where it starts. It turns the decoder's
// errors into positioned ones naming field, the value being read.
func (r *Reader) Next(field string) (int, json.Token, error) {
	start := skipSeparators(r.data, int(r.dec.InputOffset()))
	tok, err := r.dec.Token()
	if err == nil {
		return start, tok, nil
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return start, nil, r.Errorf(len(r.data), field, "unexpected end of file: the JSON is truncated")
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		rest := r.data[start:]
		for _, t := range nonFinite {
			if bytes.HasPrefix(rest, []byte(t)) {
				return start, nil, r.Errorf(start, field, "%s: %s", t, allowNaNAdvice)
			}
		}
		off := max(start, int(syn.Offset))
		if off > start && off > 0 && off <= len(r.data) {
			off-- // Offset counts the offending byte itself
		}
		return start, nil, r.Errorf(off, field, "%s", syn.Error())
	}
	return start, nil, r.Errorf(start, field, "%s", err.Error())
}

// End refuses anything after the document the Reader has read: the
// decoder reads a stream of values, a file holds one. The message says
// "unexpected ... after <after>: <holds>".
func (r *Reader) End(after, holds string) error {
	start := skipSeparators(r.data, int(r.dec.InputOffset()))
	tok, err := r.dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return r.Errorf(start, "", "unexpected data after %s: %s", after, holds)
	}
	return r.Errorf(start, "", "unexpected %s after %s: %s", Describe(tok), after, holds)
}

// Visitor is told what a walk reads, for a reader that builds more than a
// check (the metrics reader flattens the document into named numbers).
// Offsets are into the document.
type Visitor interface {
	// Member is called for each object key, before it is checked for
	// duplicates; prefix is the object's path.
	Member(prefix, key string, at int) error
	// Element is called for each array element, named prefix.i.
	Element(name string, at int) error
	// Leaf is called for each scalar: value is the number, nil for a
	// string, boolean or null; at is where its key or element starts.
	Leaf(name string, value *float64, at int) error
}

// Members walks the members of the top-level object whose '{' Next has
// just returned, telling v what it reads, and refuses duplicate keys, keys
// that differ only in case, numbers a float64 does not hold as written and
// nesting deeper than MaxDepth.
func (r *Reader) Members(v Visitor) error {
	w := &walker{Reader: r, visit: v}
	return w.object("", 1, nil)
}

// walker walks one document. t, in its methods, is the Go type the value
// decodes into, nil when any shape is allowed.
type walker struct {
	*Reader
	visit Visitor // may be nil
	// allowUnknown skips keys that are no field of the target struct
	// (DecodeExtensible).
	allowUnknown bool
}

type seenKey struct {
	key string
	off int
}

// value reads one value named name, at the given depth of its container;
// at is where its key (or the element) starts.
func (w *walker) value(name string, depth int, t reflect.Type, at int) error {
	start, tok, err := w.Next(name)
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return w.Errorf(start, name, "nesting is deeper than %d levels", MaxDepth)
		}
		t = indirect(t)
		if v == '{' {
			return w.object(name, depth+1, t)
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		return w.array(name, depth+1, elem)
	case json.Number:
		// An integer field takes integers exactly, beyond 2^53 too; any
		// other number becomes a float64 and must keep its written value.
		if t = indirect(t); t != nil {
			switch t.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				if _, err := strconv.ParseInt(string(v), 10, t.Bits()); err != nil {
					return w.Errorf(start, name, "%s is not an integer that fits a %s", Short(string(v)), t.Kind())
				}
				return nil
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				if _, err := strconv.ParseUint(string(v), 10, t.Bits()); err != nil {
					return w.Errorf(start, name, "%s is not an integer that fits a %s", Short(string(v)), t.Kind())
				}
				return nil
			}
		}
		f, msg := Number(string(v))
		if msg != "" {
			return w.Errorf(start, name, "%s", msg)
		}
		return w.leaf(name, &f, at)
	default: // string, bool, nil
		return w.leaf(name, nil, at)
	}
}

func (w *walker) leaf(name string, value *float64, at int) error {
	if w.visit == nil {
		return nil
	}
	return w.visit.Leaf(name, value, at)
}

// object reads the members of an object whose '{' was just read.
func (w *walker) object(prefix string, depth int, t reflect.Type) error {
	keys := map[string]seenKey{} // folded key -> first, for this object
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
		start, tok, err := w.Next(prefix)
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			return nil
		}
		key := tok.(string) // the decoder only returns a string or '}' here
		name := join(prefix, key)
		if w.visit != nil {
			if err := w.visit.Member(prefix, key, start); err != nil {
				return err
			}
		}
		folded := Fold(key)
		if prev, ok := keys[folded]; ok {
			line, col := Position(w.data, prev.off)
			if prev.key == key {
				return w.Errorf(start, name, "duplicate key %q (first at line %d, column %d)", Short(key), line, col)
			}
			return w.Errorf(start, name, "key %q differs from %q (line %d, column %d) only in case: keys must be unique ignoring case", Short(key), Short(prev.key), line, col)
		}
		keys[folded] = seenKey{key: key, off: start}
		vt := elem
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				if known := fieldFolding(fields, folded); known != "" {
					return w.Errorf(start, name, "key %q is not %q: field names are case-sensitive", Short(key), known)
				}
				if !w.allowUnknown {
					return w.Errorf(start, name, "unknown field %q", Short(key))
				}
			}
			vt = ft // nil for an unknown field: any shape
		}
		if err := w.value(name, depth, vt, start); err != nil {
			return err
		}
	}
}

// array reads the elements of an array whose '[' was just read; element i
// is named prefix.i.
func (w *walker) array(prefix string, depth int, elem reflect.Type) error {
	for i := 0; ; i++ {
		off := int(w.dec.InputOffset())
		if !w.dec.More() {
			_, _, err := w.Next(prefix) // the ']' (or the syntax error)
			return err
		}
		at := skipSeparators(w.data, off)
		name := join(prefix, strconv.Itoa(i))
		if w.visit != nil {
			if err := w.visit.Element(name, at); err != nil {
				return err
			}
		}
		if err := w.value(name, depth, elem, at); err != nil {
			return err
		}
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// skipSeparators returns the offset of the next token at or after off: the
// decoder reports offsets after the previous token, before whitespace and
// the ',' or ':' it consumes on its own.
func skipSeparators(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// Describe names a token's kind for a message ("an array", "a string").
func Describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "'" + v.String() + "'"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}
