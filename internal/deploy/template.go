package deploy

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/spec"
)

// maxRendered caps what a template may produce: a value or branch name is
// a line, not a document.
const maxRendered = 4096

// TemplateError is a deploy template that does not parse or execute, or
// renders to something unusable. It is invalid input (exit 2).
type TemplateError struct {
	Field string // deploy.value or deploy.branch
	Err   error
}

func (e *TemplateError) Error() string        { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *TemplateError) Unwrap() error        { return e.Err }
func (e *TemplateError) Is(target error) bool { return target == diag.ErrInvalidInput }

// Version returns the version a promotion is named by: the candidate
// commit's first 12 hex digits.
func Version(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// Render executes the deploy template text (the spec field named field)
// with data. A key the data lacks is an error, not "<no value>": a
// misspelt .Verison must not reach a production manifest.
func Render(field, text string, data spec.TemplateData) (string, error) {
	tmpl, err := template.New(field).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", &TemplateError{Field: field, Err: err}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&limitedWriter{w: &buf, n: maxRendered}, data); err != nil {
		return "", &TemplateError{Field: field, Err: err}
	}
	out := buf.String()
	if strings.Contains(out, "<no value>") {
		return "", &TemplateError{Field: field, Err: fmt.Errorf("renders %q: a field it uses has no value", out)}
	}
	return out, nil
}

type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("renders more than %d bytes", maxRendered)
	}
	l.n -= len(p)
	return l.w.Write(p)
}
