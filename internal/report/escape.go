package report

import (
	"net/url"
	"strings"
	"unicode"
)

// Untrusted text (metric, model, branch and param names, commit messages,
// warnings that quote them) reaches the report only through the functions
// below. What they guarantee, whatever the input:
//   - one line: no newline can start a heading, a list, a fence or a line
//     that begins with "::" (a workflow command when echoed to a log);
//   - no table breakage: a "|" never ends a cell;
//   - no raw HTML, and no "<!--" that could forge podium's hidden marker;
//   - no @mention or #reference pings, and no autolinked URL or e-mail;
//   - no invisible bidirectional overrides (Trojan Source).

const (
	zwsp = "\u200b" // zero-width space: breaks "<!--" in code spans, "://" and "www." in text
	zwj  = "\u200d" // zero-width joiner: breaks "@name" mentions
)

// oneLine replaces line breaks, tabs and other control characters with a
// space and drops bidirectional formatting characters.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u202a', r == '\u202b', r == '\u202c', r == '\u202d', r == '\u202e',
			r == '\u2066', r == '\u2067', r == '\u2068', r == '\u2069', r == '\u200e', r == '\u200f':
			return -1
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// Text escapes untrusted text for Markdown prose and table cells, which
// never start a line in a report: the marks that make inline Markdown
// (emphasis, code, links, images, strikethrough, math, cell separators)
// are backslash-escaped, "<", ">" and "&" become entities (no raw HTML, no
// "<!--" in the raw body), "@" is followed by a zero-width joiner (no
// mention), and "://" and "www." are broken with a zero-width space so
// nothing is autolinked.
func Text(s string) string {
	rs := []rune(oneLine(s))
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '@':
			b.WriteString("@" + zwj)
		case strings.ContainsRune("\\`*_[]()!|~#$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == ':' && i+2 < len(rs) && rs[i+1] == '/' && rs[i+2] == '/',
			r == '.' && i >= 3 && strings.EqualFold(string(rs[i-3:i]), "www"):
			// An invisible break: autolinkers, whether they run while
			// parsing or over the text afterwards, need "://" and "www."
			// whole.
			b.WriteString(zwsp)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Code renders untrusted text as an inline code span for prose: shown
// verbatim, never a link, a mention or HTML. The fence is longer than any
// run of backticks inside, and "<!--" is broken with a zero-width space so
// the raw body never holds a forged marker. In a table cell use CodeCell.
func Code(s string) string { return code(s, false) }

// CodeCell is Code for a table cell: "|" is escaped too (GFM removes the
// backslash again in a cell, even inside a code span).
func CodeCell(s string) string { return code(s, true) }

func code(s string, cell bool) string {
	s = oneLine(s)
	s = strings.ReplaceAll(s, "<!--", "<"+zwsp+"!--")
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	if s == "" {
		return "` `"
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	// A span that starts or ends with a backtick, or with spaces on both
	// sides, needs padding that CommonMark strips again.
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.TrimSpace(s) != "" {
		s = " " + s + " "
	}
	return fence + s + fence
}

// safeURL returns u when it is an absolute http(s) URL, encoded so it can
// stand inside a Markdown link's parentheses; else "".
func safeURL(u string) string {
	parsed, err := url.Parse(strings.TrimSpace(u))
	if err != nil || parsed.Host == "" || parsed.Scheme != "https" && parsed.Scheme != "http" {
		return ""
	}
	s := parsed.String()
	r := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "\"", "%22", "|", "%7C")
	return r.Replace(s)
}

// mermaidLabel keeps a label inside a quoted Mermaid string: letters,
// digits and a few separators; anything else becomes '_'.
func mermaidLabel(s string, limit int) string {
	var b strings.Builder
	n := 0
	for _, r := range oneLine(s) {
		if n == limit {
			b.WriteString("…")
			break
		}
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)), strings.ContainsRune(" ._:/+-", r):
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
		n++
	}
	return b.String()
}

// markerModel keeps the model name in the hidden marker to the characters a
// model name may have, so the marker cannot be closed or spoofed.
func markerModel(model string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, model)
}
