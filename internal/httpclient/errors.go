package httpclient

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// WaitError is a call that failed fast: the server asked for a wait (a
// Retry-After, a rate-limit reset) longer than the cap on a single wait or
// past the call's deadline. The request was not processed.
type WaitError struct {
	Method     string
	Path       string // the URL path; never the query, which may hold secrets
	StatusCode int    // 0 when no request was sent (a remembered rate limit)
	Message    string // the API's own message, when it sent one
	Wait       time.Duration
	Until      time.Time // when the wait would have ended
	Reset      time.Time // the rate limit's reset, when the server said
	Limit      string    // what the wait would pass
}

func (e *WaitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(e.Message)
		b.WriteString(": ")
	}
	until := e.Until
	if !e.Reset.IsZero() {
		until = e.Reset
	}
	fmt.Fprintf(&b, "rate limited until %s; waiting %s would pass %s",
		until.UTC().Format(time.RFC3339), e.Wait.Round(time.Second), e.Limit)
	return b.String()
}

// NotProcessed reports whether err proves the server did not act on the
// request: the connection was never made, or the server refused it for a
// rate limit. A create that failed so may be sent again; after any other
// failure its outcome is unknown and the caller must look it up first.
func NotProcessed(err error) bool {
	var werr *WaitError
	return errors.As(err, &werr) || notConnected(err)
}

// BodyTooLargeError is a response body over the client's cap, measured
// after decompression: a few megabytes of gzip can inflate to gigabytes.
type BodyTooLargeError struct {
	Method string
	Path   string // the URL path; never the query
	Status int
	Limit  int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("%s %s: the %d response's body is larger than the %s limit (measured after decompression); podium stopped reading it",
		e.Method, e.Path, e.Status, sizeText(e.Limit))
}

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d-byte", n)
}
