package deploy

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// candidates are the ways to write value in place of t's scalar, best
// first: the original quoting style when the value allows it, then double
// quotes, which can hold any string. Patch keeps the first one that parses
// back to exactly the value and leaves the rest of the document unchanged.
func candidates(value string, t *target, sp span) []string {
	var out []string
	switch n := t.node; {
	case n.Style&yaml.SingleQuotedStyle != 0:
		if q, ok := singleQuoted(value); ok {
			out = append(out, q)
		}
	case n.Style&(yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
	default:
		if plainSafe(value, t.flow) {
			out = append(out, value)
		}
	}
	out = append(out, doubleQuoted(value))
	for i := range out {
		out[i] = sp.prefix + out[i]
	}
	return out
}

// plainSafe reports whether value can be written unquoted. It is
// conservative: anything that could start an indicator, end the scalar,
// start a comment or resolve to another type (true, 1.5, null, 0x1f)
// is quoted; Patch's re-parse catches what this misses.
func plainSafe(value string, flow bool) bool {
	if value == "" || strings.TrimSpace(value) != value {
		return false
	}
	if strings.ContainsAny(value[:1], "-?:,[]{}#&*!|>'\"%@`") {
		return false
	}
	if strings.Contains(value, ": ") || strings.Contains(value, " #") || strings.HasSuffix(value, ":") {
		return false
	}
	if flow && strings.ContainsAny(value, ",[]{}") {
		return false
	}
	for _, r := range value {
		if r < 0x20 || r == 0x7f || !printable(r) || r == '\t' {
			return false
		}
	}
	// A plain scalar that YAML resolves to anything but a string (a number,
	// bool, null, timestamp) would change the field's type.
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(value), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	s := n.Content[0]
	return s.Kind == yaml.ScalarNode && s.ShortTag() == "!!str" && s.Value == value
}

// singleQuoted writes value in single quotes, which escape nothing but the
// quote itself; values with line breaks or unprintable characters need
// double quotes.
func singleQuoted(value string) (string, bool) {
	for _, r := range value {
		if r < 0x20 || !printable(r) {
			return "", false
		}
	}
	return "'" + strings.ReplaceAll(value, "'", "''") + "'", true
}

// doubleQuoted writes value as a YAML double-quoted scalar on one line,
// escaping backslashes, quotes, line breaks and every character outside
// YAML's printable set.
func doubleQuoted(value string) string {
	var b strings.Builder
	b.Grow(len(value) + 2)
	b.WriteByte('"')
	for _, r := range value {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			switch {
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&b, `\x%02X`, r)
			case !printable(r):
				if r > 0xFFFF {
					fmt.Fprintf(&b, `\U%08X`, r)
				} else {
					fmt.Fprintf(&b, `\u%04X`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// printable is YAML 1.1's printable set minus the characters that YAML
// also treats as line breaks (U+0085, U+2028, U+2029) and the byte order
// mark: those are written as escapes.
func printable(r rune) bool {
	switch {
	case r == 0x85, r == 0x2028, r == 0x2029, r == 0xFEFF:
		return false
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
