// Package glob matches gate-rule patterns against flattened metric names.
//
// A flattened name joins the keys of nested objects with '.' and array
// indexes as numbers (acc_by_region.eu, latency_ms.p95, x.0); a key may
// itself hold any other character, '/' included (acc_by_region.eu/west).
// path.Match, used before, stopped '*' at '/', so a slice named eu/west
// escaped the rule acc_by_region.*. The syntax here is the one podium
// documents for every place a rule's metric is matched (the gate, the
// report, the decay check, spec validation):
//
//   - any run of characters except '.' (one level of the name)
//     **    any run of characters, '.' included (any depth)
//     ?     one character other than '.'
//     \c    the character c itself (\*, \?, \\)
//
// Every other character stands for itself. Matching is linear in the
// name's length (the pattern compiles to an RE2 regexp).
package glob

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Pattern is a compiled metric pattern.
type Pattern struct {
	text  string
	plain string         // the literal name when the pattern has no wildcard
	re    *regexp.Regexp // nil for a plain name
}

// Compile parses pattern. The only malformed pattern is one ending in a
// lone backslash, an empty one, or one that is not UTF-8 (metric names
// always are).
func Compile(pattern string) (*Pattern, error) {
	switch {
	case pattern == "":
		return nil, errors.New("empty pattern")
	case !utf8.ValidString(pattern):
		return nil, errors.New("pattern is not valid UTF-8")
	}
	var re, lit strings.Builder
	re.WriteString(`^(?s:`)
	wild := false
	runes := []rune(pattern)
	for i := 0; i < len(runes); i++ {
		switch c := runes[i]; c {
		case '\\':
			if i+1 == len(runes) {
				return nil, errors.New(`trailing backslash: write \\ for a backslash`)
			}
			i++
			re.WriteString(regexp.QuoteMeta(string(runes[i])))
			lit.WriteRune(runes[i])
		case '*':
			wild = true
			if i+1 < len(runes) && runes[i+1] == '*' {
				for i+1 < len(runes) && runes[i+1] == '*' {
					i++
				}
				re.WriteString(`.*`)
			} else {
				re.WriteString(`[^.]*`)
			}
		case '?':
			wild = true
			re.WriteString(`[^.]`)
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
			lit.WriteRune(c)
		}
	}
	re.WriteString(`)$`)
	p := &Pattern{text: pattern}
	if !wild {
		p.plain = lit.String()
		return p, nil
	}
	p.re = regexp.MustCompile(re.String())
	return p, nil
}

// MustCompile is Compile for patterns already validated.
func MustCompile(pattern string) *Pattern {
	p, err := Compile(pattern)
	if err != nil {
		panic("glob: " + err.Error())
	}
	return p
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.text }

// IsGlob reports whether the pattern has a wildcard; a plain pattern names
// exactly one metric.
func (p *Pattern) IsGlob() bool { return p.re != nil }

// Name returns the one name a plain pattern matches ("" for a glob).
func (p *Pattern) Name() string { return p.plain }

// Match reports whether name matches the pattern.
func (p *Pattern) Match(name string) bool {
	if p.re == nil {
		return name == p.plain
	}
	return p.re.MatchString(name)
}

// Match reports whether name matches pattern; a malformed pattern matches
// nothing.
func Match(pattern, name string) bool {
	p, err := Compile(pattern)
	return err == nil && p.Match(name)
}
