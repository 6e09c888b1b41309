// Package citest is a fake ci.Platform for command tests: it records every
// output, summary, mask, annotation and group instead of writing them.
package citest

import (
	"io"
	"sync"

	"github.com/podium-ml/podium/internal/ci"
)

// Platform records what a command told the CI system. The zero value is
// ready to use; set RunInfo, Inputs or Err before the command runs.
type Platform struct {
	// RunInfo is what Run returns.
	RunInfo ci.Run
	// Inputs are the step inputs, by name.
	Inputs map[string]string
	// Err, when set, is returned by SetOutput and AppendSummary.
	Err error

	mu          sync.Mutex
	outputs     map[string]string
	summary     string
	masks       []string
	annotations []ci.Annotation
	groups      []string
	relays      int
}

var _ ci.Platform = (*Platform)(nil)

func (p *Platform) Name() string { return "test" }

func (p *Platform) Run() ci.Run {
	r := p.RunInfo
	if r.Provider == "" {
		r.Provider = "test"
	}
	return r
}

func (p *Platform) Input(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Inputs[name]
}

func (p *Platform) SetOutput(name, value string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	if p.outputs == nil {
		p.outputs = make(map[string]string)
	}
	p.outputs[name] = value
	return nil
}

func (p *Platform) AppendSummary(markdown string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	p.summary += markdown
	return nil
}

func (p *Platform) Mask(secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.masks = append(p.masks, secret)
}

func (p *Platform) Annotate(a ci.Annotation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.annotations = append(p.annotations, a)
}

func (p *Platform) Group(title string) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groups = append(p.groups, title)
	return func() {}
}

// Relay passes bytes through and counts the relays opened (Relays).
func (p *Platform) Relay(w io.Writer) io.WriteCloser {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.relays++
	return nopCloser{w}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Relays returns how many relays were opened.
func (p *Platform) Relays() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.relays
}

// Outputs returns a copy of the outputs set so far.
func (p *Platform) Outputs() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.outputs))
	for k, v := range p.outputs {
		out[k] = v
	}
	return out
}

// Summary returns the Markdown appended so far.
func (p *Platform) Summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.summary
}

// Masks returns the secrets masked so far.
func (p *Platform) Masks() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.masks...)
}

// Annotations returns the annotations made so far.
func (p *Platform) Annotations() []ci.Annotation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ci.Annotation(nil), p.annotations...)
}

// Groups returns the titles of the groups started so far.
func (p *Platform) Groups() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.groups...)
}
