package strictjson

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ShortName bounds a name (a dotted path) in a message more loosely than
// a value: flattened names are legitimately long.
func ShortName(s string) string { return shorten(s, 4*maxQuoted) }

// maxQuoted bounds how much of a value an error message repeats: a 20 MB
// literal must not become a 20 MB error line.
const maxQuoted = 64

// Short returns s, or its first maxQuoted bytes (cut at a character
// boundary) and how long it is.
func Short(s string) string { return shorten(s, maxQuoted) }

func shorten(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// Fold maps s to a canonical case-folded form: each rune becomes the
// smallest rune of its Unicode simple-fold orbit, so "K", "k" and the
// Kelvin sign compare equal, as they do in encoding/json.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// Position turns a byte offset into a 1-based line and column (in
// characters).
func Position(data []byte, off int) (line, col int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCount(before[start:]) + 1
	return line, col
}

// InvalidUTF8 returns the offset of the first byte that is not valid UTF-8.
func InvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(data)
}
