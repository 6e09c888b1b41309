package ci

import (
	"fmt"
	"io"
	"strings"
)

// Local is a developer's terminal: outputs and annotations go to stderr.
type Local struct {
	getenv func(string) string
	stderr io.Writer
}

// NewLocal returns the local platform.
func NewLocal(getenv func(string) string, stderr io.Writer) *Local {
	return &Local{getenv: getenv, stderr: stderr}
}

func (l *Local) Name() string { return "local" }
func (l *Local) Run() Run     { return Run{Provider: "local"} }
func (l *Local) Input(name string) string {
	return l.getenv("PODIUM_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
}
func (l *Local) SetOutput(name, value string) error  { return nil }
func (l *Local) AppendSummary(markdown string) error { return nil }
func (l *Local) Mask(secret string)                  {}
func (l *Local) Annotate(a Annotation) {
	fmt.Fprintf(l.stderr, "%s: %s\n", a.Level, a.Message)
}
func (l *Local) Group(title string) func() {
	fmt.Fprintf(l.stderr, "==> %s\n", title)
	return func() {}
}
