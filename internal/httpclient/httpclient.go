// Package httpclient is the HTTP client podium's code-host backends share:
// go-retryablehttp with a policy that knows which requests may be repeated.
//
// What it does, and why (docs/security.md has the limits):
//   - GET, HEAD, PUT, DELETE and OPTIONS are retried on connection errors,
//     timeouts, 5xx and rate limits. POST and PATCH create or change things,
//     so they are retried only when the server said it did not process them
//     (429, a rate-limit 403) or the connection was never made; after any
//     other failure the caller must reconcile by looking the object up.
//   - Waits honour Retry-After, x-ratelimit-reset (GitHub) and
//     RateLimit-Reset (GitLab); GitHub secondary limits without headers wait
//     at least a minute, then exponentially. Other waits are exponential
//     with jitter. No single wait passes MaxWait and no call runs past its
//     deadline: when the server asks for more, the call fails at once with
//     a *WaitError that says until when.
//   - An exhausted primary rate limit is remembered per host: later calls
//     wait for the reset or fail without touching the network.
//   - When retries run out, the last response is passed through unchanged
//     (PassthroughErrorHandler) so the API's own status and message surface.
//   - Every attempt sends a byte-identical body, has its own timeout, and
//     waits on an injectable Clock.
//   - Error bodies pass through Redact before anyone reads them, and the
//     client logs only method, path and status: never headers, bodies or
//     query strings.
//   - A redirect to another origin (scheme, host or port) is refused with
//     a *RedirectError: the request's credentials would go with it (see
//     RedirectError). Redirects within the origin are followed.
//   - Every response body is capped, measured after decompression
//     (MaxBodySize, 32 MiB by default; error bodies at 1 MiB): a larger one
//     fails the read with a *BodyTooLargeError instead of filling memory.
package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxAttempts    = 5
	DefaultBaseWait       = time.Second
	DefaultMaxWait        = 5 * time.Minute
	DefaultMaxElapsed     = 10 * time.Minute
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultMaxBodySize caps a response body, decompressed. The largest
	// thing podium reads through the API is a file at a ref (a spec, a
	// champion pointer, a deployment manifest), far below it.
	DefaultMaxBodySize = 32 << 20
)

// Options configure a client. The zero value is usable.
type Options struct {
	// MaxAttempts bounds the attempts of one call, first one included.
	MaxAttempts int
	// BaseWait is the first exponential backoff step.
	BaseWait time.Duration
	// MaxWait caps any single wait. A server that asks for longer (a
	// Retry-After or a rate-limit reset further away) makes the call fail
	// at once instead.
	MaxWait time.Duration
	// MaxElapsed is the budget of one call, waits included; a wait that
	// would pass it (or the context's deadline) fails the call at once.
	MaxElapsed time.Duration
	// AttemptTimeout bounds each attempt, reading the body included.
	AttemptTimeout time.Duration
	// Clock is what waits happen on; SystemClock when nil.
	Clock Clock
	// Jitter returns a random duration in [0, max). A nil Jitter uses
	// math/rand; tests pass one that returns 0.
	Jitter func(max time.Duration) time.Duration
	// Redact masks secrets in error bodies, which some servers echo back.
	Redact func(string) string
	// Logf receives one line per retry (method, path, status, wait).
	Logf func(format string, args ...any)
	// Transport sends the requests; a clone of http.DefaultTransport when nil.
	Transport http.RoundTripper
	// MaxBodySize caps every response body, measured after decompression;
	// DefaultMaxBodySize when zero.
	MaxBodySize int64
}

func (o *Options) setDefaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BaseWait <= 0 {
		o.BaseWait = DefaultBaseWait
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.MaxElapsed <= 0 {
		o.MaxElapsed = DefaultMaxElapsed
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Jitter == nil {
		o.Jitter = func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max)
		}
	}
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.MaxBodySize <= 0 {
		o.MaxBodySize = DefaultMaxBodySize
	}
}

// New returns an *http.Client whose transport is a new Transport and which
// refuses redirects to another origin. Give it to go-github
// (github.NewClient) or go-gitlab (gitlab.WithHTTPClient).
func New(opts Options) *http.Client {
	return &http.Client{Transport: NewTransport(opts), CheckRedirect: checkRedirect}
}

// Transport is an http.RoundTripper that retries by the package's policy.
type Transport struct {
	opts  Options
	retry *retryablehttp.Client

	mu sync.Mutex
	// exhausted holds, per host, when an exhausted primary rate limit resets.
	exhausted map[string]time.Time
}

// NewTransport returns a retrying transport.
func NewTransport(opts Options) *Transport {
	opts.setDefaults()
	t := &Transport{opts: opts, exhausted: map[string]time.Time{}}
	t.retry = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: opts.Transport,
			Timeout:   opts.AttemptTimeout,
			// Redirects go back to the caller's client (New), whose
			// CheckRedirect refuses another origin. That must happen
			// there, before the next hop: go-github's auth transport sits
			// between the two and sets Authorization on every request.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		// Logging stays ours: retryablehttp would print full URLs.
		Logger: nil,
		// The policy counts attempts itself, so the library never stops early.
		RetryMax:     math.MaxInt32,
		CheckRetry:   t.checkRetry,
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		PrepareRetry: t.wait,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return t
}

// CloseIdleConnections closes the pooled connections, so that tests can
// check for leaked goroutines.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.opts.Transport.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// call is the state of one RoundTrip across its attempts.
type call struct {
	method   string
	path     string
	host     string
	attempt  int
	deadline time.Time // on the Clock
	// secondary counts GitHub secondary rate limits met without a
	// Retry-After, for the exponential wait after the first minute.
	secondary int
	next      time.Duration
}

type callKey struct{}

// RoundTrip sends req, retrying by the policy.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	now := t.opts.Clock.Now()
	budget := t.opts.MaxElapsed
	if d, ok := ctx.Deadline(); ok && time.Until(d) < budget {
		budget = time.Until(d)
	}
	c := &call{
		method:   req.Method,
		path:     req.URL.Path,
		host:     req.URL.Host,
		attempt:  1,
		deadline: now.Add(budget),
	}

	if err := t.waitForReset(ctx, c); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}

	// The network context carries the whole budget in real time; waits are
	// measured on the Clock, so a fake clock never runs it down.
	netCtx, cancel := context.WithTimeout(context.WithValue(ctx, callKey{}, c), budget)
	clone := req.Clone(netCtx)
	// The transport asks for gzip and inflates the body itself only when the
	// caller did not set Accept-Encoding; then the cap below counts the
	// bytes the caller reads, not compressed ones.
	clone.Header.Del("Accept-Encoding")
	rreq, err := retryablehttp.FromRequest(clone)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := t.retry.Do(rreq)
	if err != nil {
		cancel()
		if resp != nil {
			resp.Body.Close()
		}
		// The caller's client wraps the error in a *url.Error again.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if c.attempt > 1 {
			err = &attemptsError{attempts: c.attempt, err: err}
		}
		return nil, err
	}
	if resp.ContentLength > t.opts.MaxBodySize {
		resp.Body.Close()
		cancel()
		return nil, &BodyTooLargeError{Method: c.method, Path: c.path, Status: resp.StatusCode, Limit: t.opts.MaxBodySize}
	}
	resp.Body = &cancelOnClose{ReadCloser: &limitedBody{
		rc: resp.Body, left: t.opts.MaxBodySize,
		err: &BodyTooLargeError{Method: c.method, Path: c.path, Status: resp.StatusCode, Limit: t.opts.MaxBodySize},
	}, cancel: cancel}
	return resp, nil
}

// limitedBody fails the read that would pass its limit.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	err  *BodyTooLargeError
	done bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		b.done = true
		return int(b.left), b.err
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// waitForReset holds a call while the host's primary rate limit is
// exhausted, or fails it without a request when the reset is too far.
func (t *Transport) waitForReset(ctx context.Context, c *call) error {
	t.mu.Lock()
	reset, ok := t.exhausted[c.host]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	wait := reset.Sub(t.opts.Clock.Now())
	if wait <= 0 {
		t.mu.Lock()
		delete(t.exhausted, c.host)
		t.mu.Unlock()
		return nil
	}
	if err := t.admit(c, wait, true); err != nil {
		err.Message = "the API rate limit is exhausted (no request sent)"
		err.Reset = reset
		return err
	}
	t.opts.Logf("%s %s: the API rate limit is exhausted; waiting %s for its reset", c.method, c.path, wait)
	return t.opts.Clock.Sleep(ctx, wait)
}

// wait runs between attempts (retryablehttp's PrepareRetry): it sleeps the
// wait checkRetry chose, on the Clock.
func (t *Transport) wait(req *http.Request) error {
	c, _ := req.Context().Value(callKey{}).(*call)
	if c == nil {
		return nil
	}
	if err := t.opts.Clock.Sleep(req.Context(), c.next); err != nil {
		return err
	}
	c.attempt++
	return nil
}

// admit checks that waiting d keeps within the cap and the deadline. A
// wait the server mandated cannot be shortened, so it fails past the cap;
// a wait we chose is capped instead.
func (t *Transport) admit(c *call, d time.Duration, mandated bool) *WaitError {
	now := t.opts.Clock.Now()
	werr := &WaitError{Method: c.method, Path: c.path, Wait: d, Until: now.Add(d)}
	if mandated && d > t.opts.MaxWait {
		werr.Limit = fmt.Sprintf("the %s cap on a single wait", t.opts.MaxWait)
		return werr
	}
	if now.Add(d).After(c.deadline) {
		werr.Limit = fmt.Sprintf("the deadline %s from now", c.deadline.Sub(now).Round(time.Second))
		return werr
	}
	return nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

type attemptsError struct {
	attempts int
	err      error
}

func (e *attemptsError) Error() string {
	return fmt.Sprintf("%v (after %d attempts)", e.err, e.attempts)
}

func (e *attemptsError) Unwrap() error { return e.err }

// Timeout keeps a timeout recognisable (net.Error) once wrapped.
func (e *attemptsError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}
