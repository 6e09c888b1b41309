package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// nonFinite are the tokens Python's json module writes for NaN and ±Inf
// unless told allow_nan=False.
var nonFinite = []string{"NaN", "Infinity", "-Infinity"}

const allowNaNAdvice = "JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite"

// jsonParser walks the token stream of encoding/json's Decoder: the
// decoder checks the syntax, and reading token by token is what lets us see
// duplicate keys, positions and depth, which decoding into a map hides.
type jsonParser struct {
	*parser
	dec *json.Decoder
	// allowUnknown lets the strict walk skip keys that are no field of
	// the target struct (DecodeJSONExtensible).
	allowUnknown bool
}

func (p *parser) parseJSON() error {
	if bytes.HasPrefix(p.data, bom) {
		return p.errAt(1, 1, "", `file starts with a UTF-8 byte order mark, which JSON does not allow: save it without one (Python: encoding="utf-8", not "utf-8-sig")`)
	}
	if len(bytes.TrimLeft(p.data, " \t\r\n")) == 0 {
		return p.errAt(0, 0, "", "file is empty: expected a JSON object of metrics")
	}
	jp := &jsonParser{parser: p, dec: json.NewDecoder(bytes.NewReader(p.data))}
	jp.dec.UseNumber()

	start, tok, err := jp.next("")
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return p.errOff(start, "", "the top level must be an object of metrics, found %s", describe(tok))
	}
	if err := jp.object("", 1); err != nil {
		return err
	}
	// The decoder reads a stream of values; a metrics file is exactly one.
	start = skipSeparators(p.data, int(jp.dec.InputOffset()))
	tok, err = jp.dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return p.errOff(start, "", "unexpected data after the top-level object: a metrics file holds one object")
	}
	return p.errOff(start, "", "unexpected %s after the top-level object: a metrics file holds one object", describe(tok))
}

// object reads the members of an object whose '{' was just read.
func (jp *jsonParser) object(prefix string, depth int) error {
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
		if err := jp.enter(name, at); err != nil {
			return err
		}
		if msg := checkKey(key); msg != "" {
			return jp.errPos(at, prefix, "%s", msg)
		}
		folded := fold(key)
		if prev, ok := keys[folded]; ok {
			line, col := jp.resolve(prev.pos)
			if prev.name == key {
				return jp.errPos(at, name, "duplicate key %q (first at line %d, column %d)", key, line, col)
			}
			return jp.errPos(at, name, "key %q differs from %q (line %d, column %d) only in case: keys must be unique ignoring case", key, prev.name, line, col)
		}
		keys[folded] = seenName{name: key, pos: at}
		if err := jp.value(name, depth, at); err != nil {
			return err
		}
	}
}

// array reads the elements of an array whose '[' was just read; element i
// is named prefix.i.
func (jp *jsonParser) array(prefix string, depth int) error {
	for i := 0; ; i++ {
		off := int(jp.dec.InputOffset())
		if !jp.dec.More() {
			_, _, err := jp.next(prefix) // the ']' (or the syntax error)
			return err
		}
		at := pos{off: skipSeparators(jp.data, off)}
		name := join(prefix, strconv.Itoa(i))
		if err := jp.enter(name, at); err != nil {
			return err
		}
		if err := jp.value(name, depth, at); err != nil {
			return err
		}
	}
}

// value reads one value named name, at the given depth of its container;
// at is where its key (or the element) starts.
func (jp *jsonParser) value(name string, depth int, at pos) error {
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
			return jp.object(name, depth+1)
		}
		return jp.array(name, depth+1)
	case json.Number:
		f, msg := number(string(v))
		if msg != "" {
			return jp.errOff(start, name, "%s", msg)
		}
		return jp.add(name, &f, at)
	default: // string, bool, nil
		return jp.add(name, nil, at)
	}
}

// next reads a token and returns where it starts. It turns the decoder's
// errors into positioned ones and names the metric being read.
func (jp *jsonParser) next(metric string) (int, json.Token, error) {
	start := skipSeparators(jp.data, int(jp.dec.InputOffset()))
	tok, err := jp.dec.Token()
	if err == nil {
		return start, tok, nil
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return start, nil, jp.errOff(len(jp.data), metric, "unexpected end of file: the JSON is truncated")
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		rest := jp.data[start:]
		for _, t := range nonFinite {
			if bytes.HasPrefix(rest, []byte(t)) {
				return start, nil, jp.errOff(start, metric, "%s: %s", t, allowNaNAdvice)
			}
		}
		off := max(start, int(syn.Offset))
		if off > start && off > 0 && off <= len(jp.data) {
			off-- // Offset counts the offending byte itself
		}
		return start, nil, jp.errOff(off, metric, "%s", syn.Error())
	}
	return start, nil, jp.errOff(start, metric, "%s", err.Error())
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

func describe(tok json.Token) string {
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
