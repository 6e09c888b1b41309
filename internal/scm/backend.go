package scm

import (
	"context"
	"time"

	"github.com/podium-ml/podium/internal/httpclient"
)

// What both backends (scm/github, scm/gitlab) need alike and is not about
// either host's API lives here, so a fix reaches both.

// Hooks are what a backend is handed besides its API and token: the clock
// that paces the few retries it makes itself, where warnings go, and how
// secrets are masked in its errors.
type Hooks struct {
	Clock  httpclient.Clock
	Logf   func(format string, args ...any)
	Redact func(string) string
}

// NewHooks returns the hooks with nil ones set: the system clock, no
// warnings, nothing masked.
func NewHooks(clock httpclient.Clock, logf func(string, ...any), redact func(string) string) Hooks {
	h := Hooks{Clock: clock, Logf: logf, Redact: redact}
	if h.Clock == nil {
		h.Clock = httpclient.SystemClock{}
	}
	if h.Logf == nil {
		h.Logf = func(string, ...any) {}
	}
	if h.Redact == nil {
		h.Redact = func(s string) string { return s }
	}
	return h
}

// Clean masks secrets in *err (RedactError); backends defer it.
func (h Hooks) Clean(err *error) { RedactError(err, h.Redact) }

// Pause waits between replays of a lost race, an unknown outcome or an
// eventually consistent read: 1s, 2s, ...
func (h Hooks) Pause(ctx context.Context, attempt int) error {
	return h.Clock.Sleep(ctx, time.Duration(attempt)*time.Second)
}

// RedactError masks secrets in *err with redact, keeping the original
// error for errors.Is and errors.As: some servers echo credentials back.
// Backends defer it in every method that returns an error.
func RedactError(err *error, redact func(string) string) {
	if *err != nil {
		*err = &redactedError{msg: redact((*err).Error()), err: *err}
	}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Repeat runs an idempotent write, repeating it after an unknown outcome
// (the retrying client does not repeat POSTs): at most attempts times,
// with pause between.
func Repeat(ctx context.Context, attempts int, unknownOutcome func(context.Context, error) bool,
	pause func(context.Context, int) error, write func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || attempt == attempts || !unknownOutcome(ctx, err) {
			return err
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// ShortSHA is a commit id cut to 12 characters for messages.
func ShortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Truncate shortens s to n characters, marking the cut: hosts cap a
// status description's length.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
