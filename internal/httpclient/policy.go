package httpclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errorBodyLimit caps an error body, decompressed: it is read whole to find
// the API's message, and an API's error is a short JSON document.
const errorBodyLimit = 1 << 20

// secondaryMinWait is GitHub's documented wait for a secondary rate limit
// that comes without a retry-after header: "at least one minute", then
// exponentially longer.
const secondaryMinWait = time.Minute

// idempotent reports whether repeating method cannot create or change more
// than one attempt would.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// checkRetry is retryablehttp's CheckRetry: it decides whether to retry
// and, when it does, how long to wait (kept in the call for wait).
func (t *Transport) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil {
		return false, nil
	}
	var info apiError
	if resp != nil {
		t.noteRateLimit(c.host, resp.Header)
		if resp.StatusCode >= 400 {
			info = t.readErrorBody(resp)
			if info.tooLarge {
				return false, &BodyTooLargeError{Method: c.method, Path: c.path, Status: resp.StatusCode, Limit: errorBodyLimit}
			}
		}
	}

	why, retry, mandated, wait := t.classify(c, resp, err, info)
	if !retry {
		return false, nil
	}
	if c.attempt >= t.opts.MaxAttempts {
		// Out of attempts: the last response or error goes to the caller.
		return false, nil
	}
	if !mandated {
		wait = t.backoff(c.attempt)
	}
	if werr := t.admit(c, wait, mandated); werr != nil {
		if resp != nil {
			werr.StatusCode = resp.StatusCode
			werr.Message = info.Message
			werr.Reset = resetTime(resp.Header)
		}
		return false, werr
	}
	if mandated {
		// A little jitter after the server's time, so that clients told
		// the same reset do not all come back in the same second.
		room := min(time.Second, t.opts.MaxWait-wait, c.deadline.Sub(t.opts.Clock.Now())-wait)
		if room > 0 {
			wait += t.opts.Jitter(room)
		}
	}
	c.next = wait
	t.opts.Logf("%s %s: %s; retrying in %s (attempt %d of %d)",
		c.method, c.path, why, wait.Round(time.Millisecond), c.attempt+1, t.opts.MaxAttempts)
	return true, nil
}

// classify says whether a failed attempt may be retried, why, and whether
// the server mandated the wait.
func (t *Transport) classify(c *call, resp *http.Response, err error, info apiError) (why string, retry, mandated bool, wait time.Duration) {
	if err != nil {
		switch {
		case permanent(err):
			return "", false, false, 0
		case notConnected(err):
			// The request never left: safe for every method.
			return "connection failed", true, false, 0
		case idempotent(c.method):
			return "connection error", true, false, 0
		}
		return "", false, false, 0
	}

	status := resp.StatusCode
	h := resp.Header
	limited := status == http.StatusTooManyRequests ||
		(status == http.StatusForbidden && (exhausted(h) || info.secondary() || h.Get("Retry-After") != ""))
	switch {
	case limited:
		why = fmt.Sprintf("%d rate limited", status)
		if d, ok := retryAfter(h, t.opts.Clock.Now()); ok {
			return why, true, true, d
		}
		if exhausted(h) {
			if reset := resetTime(h); !reset.IsZero() {
				return why, true, true, max(0, reset.Sub(t.opts.Clock.Now()))
			}
		}
		if info.secondary() {
			// At least a minute, doubling for each one met in this call
			// up to the cap (the minute itself is never cut short).
			c.secondary++
			wait = max(t.opts.MaxWait, secondaryMinWait)
			if c.secondary <= 16 {
				wait = min(wait, secondaryMinWait<<(c.secondary-1))
			}
			return why + " (secondary limit)", true, true, wait
		}
		return why, true, false, 0
	case status >= 500 && status != http.StatusNotImplemented && idempotent(c.method):
		why = fmt.Sprintf("%d %s", status, http.StatusText(status))
		if d, ok := retryAfter(h, t.opts.Clock.Now()); ok {
			return why, true, true, d
		}
		return why, true, false, 0
	}
	return "", false, false, 0
}

// backoff is the exponential wait before attempt+1, with jitter: a random
// point in the upper half of BaseWait·2^(attempt-1), capped at MaxWait.
func (t *Transport) backoff(attempt int) time.Duration {
	d := t.opts.MaxWait
	if attempt-1 < 32 {
		if step := t.opts.BaseWait << (attempt - 1); step > 0 && step < d {
			d = step
		}
	}
	return d/2 + t.opts.Jitter(d/2+1)
}

// noteRateLimit remembers that the host's primary rate limit is exhausted
// until its reset, from any response that says so (a 200 can be the last
// request allowed).
func (t *Transport) noteRateLimit(host string, h http.Header) {
	if !exhausted(h) {
		return
	}
	reset := resetTime(h)
	if reset.IsZero() || !reset.After(t.opts.Clock.Now()) {
		return
	}
	t.mu.Lock()
	t.exhausted[host] = reset
	t.mu.Unlock()
}

// exhausted reports whether the primary rate limit headers (GitHub's
// x-ratelimit-*, GitLab's RateLimit-*) say no request is left.
func exhausted(h http.Header) bool {
	v := h.Get("X-Ratelimit-Remaining")
	if v == "" {
		v = h.Get("Ratelimit-Remaining")
	}
	return strings.TrimSpace(v) == "0"
}

// resetTime reads x-ratelimit-reset / RateLimit-Reset (Unix seconds).
func resetTime(h http.Header) time.Time {
	v := h.Get("X-Ratelimit-Reset")
	if v == "" {
		v = h.Get("Ratelimit-Reset")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// retryAfter parses Retry-After: delay seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(math.MaxInt64/time.Second) {
			n = int64(math.MaxInt64 / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, when.Sub(now)), true
}

// apiError is what a GitHub or GitLab error body says.
type apiError struct {
	Message          string
	DocumentationURL string
	tooLarge         bool // the body passed errorBodyLimit
}

// secondary reports a GitHub secondary ("abuse") rate limit.
func (e apiError) secondary() bool {
	return strings.Contains(e.DocumentationURL, "secondary-rate-limits") ||
		strings.Contains(e.DocumentationURL, "abuse-rate-limits") ||
		strings.Contains(strings.ToLower(e.Message), "secondary rate limit")
}

// readErrorBody reads an error response's body (bounded), masks secrets in
// it and puts it back for the caller; it returns the API's message.
func (t *Transport) readErrorBody(resp *http.Response) apiError {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit+1))
	resp.Body.Close()
	if len(data) > errorBodyLimit {
		resp.Body = io.NopCloser(bytes.NewReader(nil))
		return apiError{tooLarge: true}
	}
	data = []byte(t.opts.Redact(string(data)))
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))

	var body struct {
		Message          json.RawMessage `json:"message"`
		Error            string          `json:"error"`
		DocumentationURL string          `json:"documentation_url"`
	}
	info := apiError{}
	if json.Unmarshal(data, &body) == nil {
		info.DocumentationURL = body.DocumentationURL
		var s string
		switch {
		case json.Unmarshal(body.Message, &s) == nil:
			info.Message = s
		case len(body.Message) > 0:
			// GitLab sends {"message": {"field": ["problem"]}}.
			info.Message = string(body.Message)
		default:
			info.Message = body.Error
		}
	}
	if len(info.Message) > 300 {
		info.Message = info.Message[:300] + "…"
	}
	return info
}

// notConnected reports an error from before the request was written: the
// server cannot have acted on it.
func notConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// permanent reports errors no retry can fix.
func permanent(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol scheme") ||
		strings.Contains(msg, "stopped after 10 redirects") ||
		strings.Contains(msg, "invalid header")
}
