package report

import (
	"strings"
	"unicode/utf8"
)

// Truncate cuts body to at most limit characters (runes: GitHub counts
// characters, not bytes) for a PR/MR comment. It cuts at a line break,
// closes a code fence or <details> blocks the cut left open, and ends with
// a note linking fullURL (when it is an http(s) URL) to the whole report.
// The first line, podium's hidden marker, is kept, so the comment is still
// found and edited in place on the next run.
func Truncate(body string, limit int, fullURL string) string {
	if utf8.RuneCountInString(body) <= limit {
		return body
	}
	note := "\n\n---\n\n✂️ **This report was cut to fit the comment size limit.**"
	if u := safeURL(fullURL); u != "" {
		note += " [Read the full report](" + u + ")."
	}
	note += "\n"
	runes := []rune(body)
	markerEnd := 0
	if i := strings.IndexByte(body, '\n'); i >= 0 && strings.HasPrefix(body, "<!--") {
		markerEnd = utf8.RuneCountInString(body[:i+1])
	}

	budget := limit - utf8.RuneCountInString(note)
	for budget > markerEnd {
		head := runes[:min(budget, len(runes))]
		// Cut after a whole line when one ends past the marker.
		for j := len(head) - 1; j >= markerEnd; j-- {
			if head[j] == '\n' {
				head = head[:j+1]
				break
			}
		}
		closers := closeOpen(string(head))
		if n := len(head) + utf8.RuneCountInString(closers) + utf8.RuneCountInString(note); n <= limit {
			return string(head) + closers + note
		}
		budget -= utf8.RuneCountInString(closers)
	}
	// The limit leaves no room for the note: keep what fits.
	return string(runes[:max(limit, 0)])
}

// closeOpen returns what closes the code fence and <details> blocks that
// head leaves open. Both are counted only at the start of a line, where
// untrusted text never is in a report.
func closeOpen(head string) string {
	var closers strings.Builder
	fences, open := 0, 0
	for line := range strings.SplitSeq(head, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			fences++
		case strings.HasPrefix(line, "<details>"):
			open++
		case strings.HasPrefix(line, "</details>"):
			open--
		}
	}
	if fences%2 == 1 {
		if !strings.HasSuffix(head, "\n") {
			closers.WriteString("\n")
		}
		closers.WriteString("```\n")
	}
	for range open {
		closers.WriteString("\n</details>\n")
	}
	return closers.String()
}
