package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
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
