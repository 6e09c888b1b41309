package deploy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
)

// Segment is one step of a field path: a mapping key or a sequence index.
type Segment struct {
	Key     string
	Index   int
	IsIndex bool
}

// Path is a parsed field path such as spec.containers[0].image.
type Path []Segment

// PathError is a field path that cannot be parsed. It is invalid input.
type PathError struct {
	Path string
	Msg  string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("invalid field path %q: %s", e.Path, e.Msg)
}

// Is reports the error as the user's input being wrong (exit 2).
func (e *PathError) Is(target error) bool { return target == diag.ErrInvalidInput }

// ParsePath parses a field path: keys separated by dots, sequence indexes
// in brackets (containers[0]), and keys that hold dots or brackets quoted
// in brackets (annotations["example.com/model"] or ['example.com/model']).
func ParsePath(s string) (Path, error) {
	fail := func(format string, args ...any) (Path, error) {
		return nil, &PathError{Path: s, Msg: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return fail("empty path")
	}
	var p Path
	i := 0
	// expectKey is true where a bare key must start: at the beginning and
	// after a dot.
	expectKey := true
	for i < len(s) {
		switch c := s[i]; {
		case c == '[':
			end, seg, err := parseBracket(s, i)
			if err != "" {
				return fail("%s", err)
			}
			p = append(p, seg)
			i = end
			expectKey = false
		case c == '.':
			if expectKey {
				return fail("empty key at offset %d", i)
			}
			i++
			expectKey = true
			if i == len(s) {
				return fail("path ends with a dot")
			}
		case c == ']':
			return fail("unexpected ']' at offset %d", i)
		default:
			if !expectKey {
				return fail("missing '.' before %q at offset %d", rest(s[i:]), i)
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' && s[j] != ']' {
				j++
			}
			p = append(p, Segment{Key: s[i:j]})
			i = j
			expectKey = false
		}
	}
	return p, nil
}

// parseBracket reads [N], ["key"] or ['key'] starting at s[i] == '['.
func parseBracket(s string, i int) (end int, seg Segment, msg string) {
	j := i + 1
	if j >= len(s) {
		return 0, seg, "unterminated '['"
	}
	switch q := s[j]; q {
	case '"', '\'':
		k := j + 1
		for k < len(s) && s[k] != q {
			if q == '"' && s[k] == '\\' {
				k++
			}
			k++
		}
		if k >= len(s) {
			return 0, seg, fmt.Sprintf("unterminated quoted key at offset %d", j)
		}
		key := s[j+1 : k]
		if q == '"' {
			var err error
			if key, err = strconv.Unquote(s[j : k+1]); err != nil {
				return 0, seg, fmt.Sprintf("bad quoted key %s", s[j:k+1])
			}
		}
		if k+1 >= len(s) || s[k+1] != ']' {
			return 0, seg, fmt.Sprintf("missing ']' after quoted key at offset %d", k+1)
		}
		return k + 2, Segment{Key: key}, ""
	default:
		k := j
		for k < len(s) && s[k] != ']' {
			k++
		}
		if k >= len(s) {
			return 0, seg, "unterminated '['"
		}
		digits := s[j:k]
		n, err := strconv.Atoi(digits)
		if err != nil || n < 0 || digits == "" || (len(digits) > 1 && digits[0] == '0') || digits[0] == '+' {
			return 0, seg, fmt.Sprintf("index %q is not a non-negative integer (quote a key: [\"%s\"])", digits, digits)
		}
		return k + 1, Segment{Index: n, IsIndex: true}, ""
	}
}

func rest(s string) string {
	if len(s) > 10 {
		return s[:10] + "..."
	}
	return s
}

// String renders the path back in the syntax ParsePath reads.
func (p Path) String() string {
	var b strings.Builder
	for i, seg := range p {
		switch {
		case seg.IsIndex:
			fmt.Fprintf(&b, "[%d]", seg.Index)
		case seg.Key == "" || strings.ContainsAny(seg.Key, ".[]\"'"):
			fmt.Fprintf(&b, "[%s]", strconv.Quote(seg.Key))
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg.Key)
		}
	}
	return b.String()
}
