package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// writeJSON prints v as one indented JSON document followed by a newline.
// HTML characters are not escaped: the output is data, not a web page, and
// `<`/`>` in metric names must stay readable.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// marshalJSON is json.Marshal without HTML escaping: an output such as
// drift's reasons shows `>` as written, not as \u003e.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// heredoc removes the common leading indentation of a raw string literal,
// so help texts can be indented with the code.
func heredoc(s string) string {
	s = strings.TrimPrefix(s, "\n")
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent && indent > 0 {
			lines[i] = l[indent:]
		} else {
			lines[i] = strings.TrimLeft(l, " \t")
		}
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n ")
}

// safeLine renders untrusted text as one line that a CI runner cannot read
// as a workflow command: escapeControl, then commandGuard.
func safeLine(s string) string {
	return commandGuard(escapeControl(s))
}

// escapeControl escapes control characters (CR, LF, the other C0 and C1
// codes, bidi overrides, zero-width marks) and invalid UTF-8 as Go escapes
// them in a quoted string; ordinary text, quotes and non-ASCII letters stay
// as they are. It also breaks up the runner's older "##[command]" form,
// which the runner finds anywhere in a line. Its output is printable, so
// escaping it again changes nothing.
func escapeControl(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "##[") {
			b.WriteString(`#\x23[`)
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// commandGuard prefixes "podium: " to a line that would begin with "::"
// (after the blanks the runner trims): the runner reads such a line on
// stdout or stderr as a workflow command (::add-mask::, ::stop-commands::).
func commandGuard(line string) string {
	if strings.HasPrefix(strings.TrimLeft(line, " "), "::") {
		return "podium: " + line
	}
	return line
}

// errorLines is how err is printed: one line per error that errors.Join or
// a diag.List holds (each problem on its own line, as compilers print
// them), every line made safe with safeLine. A newline anywhere else in a
// message is shown escaped, so a file name or an input cannot start a line.
// redact masks secrets in each message before it is escaped.
func errorLines(err error, redact func(string) string) []string {
	lines := escapedLines(err, redact)
	for i, l := range lines {
		lines[i] = commandGuard(l)
	}
	return lines
}

func escapedLines(err error, redact func(string) string) []string {
	msg := err.Error()
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		inner := multi.Unwrap()
		parts := make([]string, len(inner))
		for i, e := range inner {
			parts[i] = e.Error()
		}
		if len(inner) > 0 && strings.Join(parts, "\n") == msg {
			var lines []string
			for _, e := range inner {
				lines = append(lines, escapedLines(e, redact)...)
			}
			return lines
		}
	}
	// "failed to X: " wrapping a list keeps the list one problem a line.
	if inner := errors.Unwrap(err); inner != nil {
		innerMsg := inner.Error()
		prefix, ok := strings.CutSuffix(msg, innerMsg)
		if ok && strings.Contains(innerMsg, "\n") && !strings.Contains(prefix, "\n") {
			lines := escapedLines(inner, redact)
			lines[0] = escapeControl(redact(prefix) + lines[0])
			return lines
		}
	}
	return []string{escapeControl(redact(msg))}
}
