package ci

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// Local is a developer's terminal: messages go to stderr as plain text.
// There is nowhere to publish outputs, so they are printed (as name=value
// lines on stderr) only when PODIUM_DEBUG is set; a summary is written only
// when PODIUM_SUMMARY_FILE names a file.
type Local struct {
	opts options
}

// NewLocal returns the local platform.
func NewLocal(opts ...Option) *Local {
	return &Local{opts: newOptions(opts)}
}

func (l *Local) Name() string { return "local" }
func (l *Local) Run() Run     { return Run{Provider: l.Name()} }

// Input returns PODIUM_<NAME>.
func (l *Local) Input(name string) string { return podiumInput(l.opts.getenv, name) }

func (l *Local) SetOutput(name, value string) error {
	if err := checkOutputName(name); err != nil {
		return fmt.Errorf("failed to set output %q: %w", name, err)
	}
	if l.opts.getenv("PODIUM_DEBUG") != "" {
		fmt.Fprintf(l.opts.log, "output: %s=%s\n", name, quoteIfNeeded(value))
	}
	return nil
}

func (l *Local) AppendSummary(markdown string) error {
	path := l.opts.getenv("PODIUM_SUMMARY_FILE")
	if path == "" {
		return nil
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	if err := appendFile(path, markdown); err != nil {
		return fmt.Errorf("failed to append to the summary file: %w", err)
	}
	return nil
}

// Mask does nothing: podium's redactor scrubs what it prints.
func (l *Local) Mask(secret string) {}

func (l *Local) Annotate(a Annotation) { writeAnnotation(l.opts.log, a) }

func (l *Local) Group(title string) func() {
	fmt.Fprintf(l.opts.log, "==> %s\n", plainLine(title))
	return func() {}
}

// Relay passes bytes through: a terminal has no runner to command.
func (l *Local) Relay(w io.Writer) io.WriteCloser { return nopCloser{w} }

// podiumInput reads PODIUM_<NAME>, the name upper-cased with '-' and ' '
// as '_'.
func podiumInput(getenv func(string) string, name string) string {
	name = strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToUpper(name))
	return strings.TrimSpace(getenv("PODIUM_" + name))
}

// writeAnnotation prints `file:line:col: level: title: message`, the
// positioned form of internal/diag, on one line per message line.
func writeAnnotation(w io.Writer, a Annotation) {
	var b strings.Builder
	if a.File != "" {
		b.WriteString(plainLine(a.File))
		if a.Line > 0 {
			b.WriteString(":" + strconv.Itoa(a.Line))
			if a.Col > 0 {
				b.WriteString(":" + strconv.Itoa(a.Col))
			}
		}
		b.WriteString(": ")
	}
	level := a.Level
	if level == "" {
		level = LevelNotice
	}
	b.WriteString(string(level) + ": ")
	if a.Title != "" {
		b.WriteString(plainLine(a.Title) + ": ")
	}
	b.WriteString(plainText(a.Message))
	// Only GitHub's runner reads `::` commands, and it never sees this
	// format; still, no line podium prints starts with `::` wherever the
	// log ends up.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
			lines[i] = "podium: " + l
		}
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// plainLine makes s safe to print as (part of) one log line: line breaks
// and tabs become spaces, and other control characters, which could move
// the cursor, clear the line or forge a GitLab section marker, are dropped.
func plainLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s))
}

// plainText is plainLine for a message that may span lines: each line
// after the first is indented, so no line of it starts at column one.
func plainText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = plainLine(l)
	}
	return strings.Join(lines, "\n    ")
}

func quoteIfNeeded(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) || r == ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}
