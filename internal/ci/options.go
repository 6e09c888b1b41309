package ci

import (
	"io"
	"os"
	"strings"
	"time"
)

// Option configures a platform built by NewGitHub, NewGitLab or NewLocal.
// Tests inject everything through options; nothing reads the process
// environment or streams behind their back.
type Option func(*options)

type options struct {
	getenv func(string) string
	log    io.Writer // workflow commands, log sections, messages
	// mask receives GitHub's `::add-mask::` commands. It must not be
	// redacted: the runner has to read the secret itself to hide it.
	mask io.Writer
	now  func() time.Time
	// delimiter makes the heredoc delimiter of a GitHub file command; tests
	// replace it to force a collision.
	delimiter func() string
	// maxEvent bounds the read of the GitHub event payload.
	maxEvent int64
	// stopToken makes GitHub stop-commands tokens; tests fix it.
	stopToken func() string
}

func newOptions(opts []Option) options {
	o := options{
		getenv:    os.Getenv,
		log:       os.Stderr,
		now:       time.Now,
		delimiter: randomDelimiter,
		maxEvent:  maxEventBytes,
		stopToken: func() string { return strings.TrimPrefix(randomDelimiter(), delimiterPrefix) },
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.mask == nil {
		o.mask = unredacted(o.log)
	}
	return o
}

// unredacted returns the stream under w when w is a redacting wrapper (it
// has Unwrap, as redact's Writer does), else w. A mask written through the
// redactor would reach the runner as `::add-mask::***` and hide nothing.
func unredacted(w io.Writer) io.Writer {
	for {
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// WithGetenv sets how the platform reads environment variables.
func WithGetenv(getenv func(string) string) Option {
	return func(o *options) { o.getenv = getenv }
}

// WithWriter sets the log stream: GitHub workflow commands (annotations,
// masks, groups), GitLab log sections and local messages. Podium passes
// stderr, so stdout keeps carrying only data such as `--json` documents; the
// GitHub runner reads workflow commands from both streams.
func WithWriter(w io.Writer) Option {
	return func(o *options) { o.log = w }
}

// WithMaskWriter sets the stream GitHub `::add-mask::` commands go to. It
// must be the raw stream (podium passes os.Stderr, not its redacting
// wrapper): the runner learns the secret from the command itself. By
// default masks go to the WithWriter stream, unwrapped when it is a
// redacting writer. Nothing but mask commands is written to it.
func WithMaskWriter(w io.Writer) Option {
	return func(o *options) { o.mask = w }
}

// WithClock sets the clock GitLab section markers are stamped with.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// withDelimiter fixes the file-command delimiter (tests only).
func withDelimiter(delimiter func() string) Option {
	return func(o *options) { o.delimiter = delimiter }
}

// stickyWriter never fails a write; it remembers the first error instead.
// go-githubactions panics when a workflow command cannot be written, and a
// closed log stream must not crash a command that has real work to finish.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
	return len(p), nil
}

// withEventLimit lowers the event payload bound (tests only).
func withEventLimit(n int64) Option {
	return func(o *options) { o.maxEvent = n }
}
