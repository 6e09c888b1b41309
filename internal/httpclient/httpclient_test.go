package httpclient_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// step answers one attempt.
type step func(w http.ResponseWriter, r *http.Request)

func status(code int, headers ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"message":%q}`, http.StatusText(code))
	}
}

func jsonBody(code int, body string, headers ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// hang never answers; it returns when the client gives up.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// reset closes the connection without an answer.
func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

type attempt struct {
	Method string
	Path   string
	Body   string // sha256 of the body, and whether Content-Length matched
}

// server answers attempts from a script, then 200 {"ok":true}.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	steps    []step
	attempts []attempt
}

func newServer(t *testing.T, steps ...step) *server {
	t.Helper()
	s := &server{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sum := fmt.Sprintf("%x len-ok=%t", sha256.Sum256(body), r.ContentLength == int64(len(body)))
		s.mu.Lock()
		s.attempts = append(s.attempts, attempt{r.Method, r.URL.Path, sum})
		var next step
		if len(s.steps) > 0 {
			next, s.steps = s.steps[0], s.steps[1:]
		}
		s.mu.Unlock()
		if next == nil {
			next = jsonBody(200, `{"ok":true}`)
		}
		next(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) Attempts() []attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]attempt(nil), s.attempts...)
}

type fixture struct {
	client *http.Client
	clock  *scmtest.Clock
	log    *bytes.Buffer
}

func newClient(t *testing.T, opts httpclient.Options) fixture {
	t.Helper()
	clock := scmtest.NewClock()
	var mu sync.Mutex
	log := &bytes.Buffer{}
	if opts.Clock == nil {
		opts.Clock = clock
	}
	if opts.Jitter == nil {
		opts.Jitter = func(time.Duration) time.Duration { return 0 }
	}
	opts.Logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(log, format+"\n", args...)
	}
	c := httpclient.New(opts)
	t.Cleanup(c.CloseIdleConnections)
	return fixture{client: c, clock: clock, log: log}
}

func do(t *testing.T, c *http.Client, method, url, body string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), err
}

func epochPlus(d time.Duration) string {
	return strconv.FormatInt(scmtest.Epoch.Add(d).Unix(), 10)
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	tests := []struct {
		name       string
		method     string
		opts       httpclient.Options
		steps      []step
		wantStatus int
		wantSleeps []time.Duration
		wantTries  int
		wantErr    string
	}{
		{
			name:       "GET retried on 5xx with exponential backoff",
			method:     "GET",
			steps:      []step{status(500), status(502), status(503), status(504)},
			wantStatus: 200,
			// Zero jitter: the lower half of 1s, 2s, 4s, 8s.
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second},
			wantTries:  5,
		},
		{
			name:       "GET gives up after MaxAttempts and passes the last response through",
			method:     "GET",
			opts:       httpclient.Options{MaxAttempts: 3},
			steps:      []step{status(503), status(503), status(502), status(200)},
			wantStatus: 502,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second},
			wantTries:  3,
		},
		{
			name:       "GET 501 is not retried",
			method:     "GET",
			steps:      []step{status(501)},
			wantStatus: 501,
			wantTries:  1,
		},
		{
			name:       "GET 404 is not retried",
			method:     "GET",
			steps:      []step{status(404)},
			wantStatus: 404,
			wantTries:  1,
		},
		{
			name:       "backoff is capped by MaxWait",
			method:     "GET",
			opts:       httpclient.Options{MaxAttempts: 6, MaxWait: 3 * time.Second},
			steps:      []step{status(500), status(500), status(500), status(500), status(500)},
			wantStatus: 200,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond},
			wantTries:  6,
		},
		{
			name:       "PUT is idempotent",
			method:     "PUT",
			steps:      []step{status(500)},
			wantStatus: 200,
			wantSleeps: []time.Duration{500 * time.Millisecond},
			wantTries:  2,
		},
		{
			name:       "POST 5xx is not retried: the outcome is unknown",
			method:     "POST",
			steps:      []step{status(502)},
			wantStatus: 502,
			wantTries:  1,
		},
		{
			name:       "PATCH 500 is not retried",
			method:     "PATCH",
			steps:      []step{status(500)},
			wantStatus: 500,
			wantTries:  1,
		},
		{
			name:       "POST 429 with Retry-After waits that long",
			method:     "POST",
			steps:      []step{status(429, "Retry-After", "2")},
			wantStatus: 200,
			wantSleeps: []time.Duration{2 * time.Second},
			wantTries:  2,
		},
		{
			name:       "503 with Retry-After on GET honours it",
			method:     "GET",
			steps:      []step{status(503, "Retry-After", "7")},
			wantStatus: 200,
			wantSleeps: []time.Duration{7 * time.Second},
			wantTries:  2,
		},
		{
			name:      "Retry-After beyond the cap fails fast",
			method:    "POST",
			steps:     []step{status(429, "Retry-After", "3600")},
			wantTries: 1,
			wantErr:   "POST /x: 429 Too Many Requests: rate limited until 2025-01-02T04:04:05Z; waiting 1h0m0s would pass the 5m0s cap on a single wait",
		},
		{
			name:      "Retry-After as a far HTTP date fails fast",
			method:    "GET",
			steps:     []step{status(429, "Retry-After", "Fri, 31 Dec 2100 23:59:59 GMT")},
			wantTries: 1,
			wantErr:   "GET /x: 429 Too Many Requests: rate limited until 2100-12-31T23:59:59Z; waiting 666164h55m54s would pass the 5m0s cap on a single wait",
		},
		{
			name:      "a wait past the deadline fails fast",
			method:    "GET",
			opts:      httpclient.Options{MaxElapsed: 10 * time.Second},
			steps:     []step{status(503, "Retry-After", "20")},
			wantTries: 1,
			wantErr:   "GET /x: 503 Service Unavailable: rate limited until 2025-01-02T03:04:25Z; waiting 20s would pass the deadline 10s from now",
		},
		{
			name:       "secondary limit 403 without headers waits a minute, then two",
			method:     "POST",
			steps:      []step{jsonBody(403, secondary), jsonBody(403, secondary)},
			wantStatus: 200,
			wantSleeps: []time.Duration{time.Minute, 2 * time.Minute},
			wantTries:  3,
		},
		{
			name:       "secondary limit 429 without headers waits a minute",
			method:     "POST",
			steps:      []step{jsonBody(429, secondary)},
			wantStatus: 200,
			wantSleeps: []time.Duration{time.Minute},
			wantTries:  2,
		},
		{
			name:       "secondary limit with retry-after honours it",
			method:     "POST",
			steps:      []step{jsonBody(403, secondary, "Retry-After", "30")},
			wantStatus: 200,
			wantSleeps: []time.Duration{30 * time.Second},
			wantTries:  2,
		},
		{
			name:   "secondary limit with remaining 0 waits for the reset",
			method: "POST",
			steps: []step{jsonBody(403, secondary,
				"X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", epochPlus(45*time.Second))},
			wantStatus: 200,
			wantSleeps: []time.Duration{45 * time.Second},
			wantTries:  2,
		},
		{
			name:   "secondary limit exponential wait is capped",
			method: "POST",
			opts:   httpclient.Options{MaxWait: 90 * time.Second, MaxAttempts: 4},
			steps: []step{
				jsonBody(403, secondary), jsonBody(403, secondary), jsonBody(403, secondary),
			},
			wantStatus: 200,
			wantSleeps: []time.Duration{time.Minute, 90 * time.Second, 90 * time.Second},
			wantTries:  4,
		},
		{
			name:      "secondary limit fails when the cap is under a minute",
			method:    "POST",
			opts:      httpclient.Options{MaxWait: 30 * time.Second},
			steps:     []step{jsonBody(403, secondary)},
			wantTries: 1,
			wantErr:   "POST /x: 403 You have exceeded a secondary rate limit. Please wait a few minutes before you try again.: rate limited until 2025-01-02T03:05:05Z; waiting 1m0s would pass the 30s cap on a single wait",
		},
		{
			name:   "primary limit 403 waits for the reset",
			method: "POST",
			steps: []step{jsonBody(403, `{"message":"API rate limit exceeded for installation ID 1."}`,
				"X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", epochPlus(30*time.Second))},
			wantStatus: 200,
			wantSleeps: []time.Duration{30 * time.Second},
			wantTries:  2,
		},
		{
			name:   "plain 403 is a permission error, not retried",
			method: "POST",
			steps: []step{jsonBody(403, `{"message":"Resource not accessible by integration"}`,
				"X-Ratelimit-Remaining", "4999")},
			wantStatus: 403,
			wantTries:  1,
		},
		{
			name:       "GitLab 429 with RateLimit-Reset",
			method:     "POST",
			steps:      []step{status(429, "Ratelimit-Remaining", "0", "Ratelimit-Reset", epochPlus(12*time.Second))},
			wantStatus: 200,
			wantSleeps: []time.Duration{12 * time.Second},
			wantTries:  2,
		},
		{
			name:       "GitLab 429 with only Retry-After",
			method:     "GET",
			steps:      []step{status(429, "Retry-After", "3")},
			wantStatus: 200,
			wantSleeps: []time.Duration{3 * time.Second},
			wantTries:  2,
		},
		{
			name:       "429 without headers backs off exponentially, bounded",
			method:     "POST",
			opts:       httpclient.Options{MaxAttempts: 3},
			steps:      []step{status(429), status(429), status(429)},
			wantStatus: 429,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second},
			wantTries:  3,
		},
		{
			name:       "connection reset on GET is retried",
			method:     "GET",
			steps:      []step{reset},
			wantStatus: 200,
			wantSleeps: []time.Duration{500 * time.Millisecond},
			wantTries:  2,
		},
		{
			name:      "connection reset on POST is not retried",
			method:    "POST",
			steps:     []step{reset},
			wantTries: 1,
			wantErr:   "connection reset by peer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.steps...)
			f := newClient(t, tt.opts)
			body := ""
			if tt.method == "POST" || tt.method == "PATCH" || tt.method == "PUT" {
				body = `{"title":"deploy iris"}`
			}
			code, _, err := do(t, f.client, tt.method, srv.URL+"/x", body)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got status %d, want error %q", code, tt.wantErr)
				}
				if !strings.HasSuffix(err.Error(), tt.wantErr) {
					t.Errorf("error:\n got %q\nwant suffix %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if code != tt.wantStatus {
				t.Errorf("status = %d, want %d", code, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantSleeps, f.clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			attempts := srv.Attempts()
			if len(attempts) != tt.wantTries {
				t.Errorf("attempts = %d, want %d", len(attempts), tt.wantTries)
			}
			// Every attempt carries the same bytes with a right length.
			for _, a := range attempts[1:] {
				if a.Body != attempts[0].Body {
					t.Errorf("attempt body %q differs from the first %q", a.Body, attempts[0].Body)
				}
			}
			if len(attempts) > 0 && !strings.HasSuffix(attempts[0].Body, "len-ok=true") {
				t.Errorf("Content-Length does not match the body: %s", attempts[0].Body)
			}
		})
	}
}

func TestWaitErrorIsNotProcessed(t *testing.T) {
	t.Parallel()
	srv := newServer(t, status(429, "Retry-After", "3600"))
	f := newClient(t, httpclient.Options{})
	_, _, err := do(t, f.client, "POST", srv.URL+"/x", "{}")
	var werr *httpclient.WaitError
	if !errors.As(err, &werr) {
		t.Fatalf("error %v is not a *WaitError", err)
	}
	if werr.StatusCode != 429 || werr.Wait != time.Hour {
		t.Errorf("WaitError = %+v, want status 429 and a wait of 1h", werr)
	}
	if !httpclient.NotProcessed(err) {
		t.Error("NotProcessed = false for a refused request")
	}
}

func TestPrimaryLimitBlocksLaterCalls(t *testing.T) {
	t.Parallel()
	reset := epochPlus(2 * time.Hour)
	// The last request allowed succeeds but says nothing is left.
	srv := newServer(t, jsonBody(200, `{}`, "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", reset))
	f := newClient(t, httpclient.Options{})
	if code, _, err := do(t, f.client, "GET", srv.URL+"/a", ""); err != nil || code != 200 {
		t.Fatalf("first call: %d, %v", code, err)
	}
	_, _, err := do(t, f.client, "POST", srv.URL+"/b?secret=x", "{}")
	want := "POST /b: the API rate limit is exhausted (no request sent): rate limited until 2025-01-02T05:04:05Z; waiting 2h0m0s would pass the 5m0s cap on a single wait"
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("error:\n got %v\nwant suffix %q", err, want)
	}
	if got := len(srv.Attempts()); got != 1 {
		t.Errorf("server saw %d requests, want 1: no request while the limit is exhausted", got)
	}
	if !httpclient.NotProcessed(err) {
		t.Error("NotProcessed = false")
	}

	// Once the clock passes the reset, calls go out again.
	f.clock.Advance(2*time.Hour + time.Second)
	if code, _, err := do(t, f.client, "GET", srv.URL+"/c", ""); err != nil || code != 200 {
		t.Fatalf("call after reset: %d, %v", code, err)
	}
	if got := len(srv.Attempts()); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
}

func TestPrimaryLimitWaitsForANearReset(t *testing.T) {
	t.Parallel()
	srv := newServer(t, jsonBody(200, `{}`, "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", epochPlus(40*time.Second)))
	f := newClient(t, httpclient.Options{})
	for range 2 {
		if code, _, err := do(t, f.client, "GET", srv.URL+"/a", ""); err != nil || code != 200 {
			t.Fatalf("call: %d, %v", code, err)
		}
	}
	if diff := cmp.Diff([]time.Duration{40 * time.Second}, f.clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		wantTries int
	}{
		{name: "GET is retried", method: "GET", wantTries: 2},
		{name: "POST is not", method: "POST", wantTries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, hang, hang, hang)
			// 200ms, not less: on a loaded machine a shorter timeout can end the
			// second attempt before the server sees it.
			f := newClient(t, httpclient.Options{MaxAttempts: 2, AttemptTimeout: 200 * time.Millisecond})
			_, _, err := do(t, f.client, tt.method, srv.URL+"/slow", "{}")
			var nerr net.Error
			if !errors.As(err, &nerr) || !nerr.Timeout() {
				t.Fatalf("error %v is not a timeout", err)
			}
			if httpclient.NotProcessed(err) {
				t.Error("NotProcessed = true after a timeout: the outcome is unknown")
			}
			srv.Close() // waits for the handlers, so every attempt is counted
			if got := len(srv.Attempts()); got != tt.wantTries {
				t.Errorf("attempts = %d, want %d", got, tt.wantTries)
			}
		})
	}
}

func TestCancelStopsRetries(t *testing.T) {
	t.Parallel()
	srv := newServer(t, status(503), status(503), status(503))
	ctx, cancel := context.WithCancel(t.Context())
	clock := &cancellingClock{Clock: scmtest.NewClock(), cancel: cancel}
	f := newClient(t, httpclient.Options{Clock: clock})
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
	_, err := f.client.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if got := len(srv.Attempts()); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

// cancellingClock cancels the call's context when asked to sleep.
type cancellingClock struct {
	*scmtest.Clock
	cancel context.CancelFunc
}

func (c *cancellingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.cancel()
	return c.Clock.Sleep(ctx, d)
}

func TestConnectionRefusedRetriesPOST(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f := newClient(t, httpclient.Options{MaxAttempts: 3})
	_, _, err = do(t, f.client, "POST", "http://"+addr+"/x", "{}")
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if !httpclient.NotProcessed(err) {
		t.Errorf("NotProcessed(%v) = false for a refused connection", err)
	}
	if !strings.Contains(err.Error(), "(after 3 attempts)") {
		t.Errorf("error %q does not say how many attempts were made", err)
	}
	if got := len(f.clock.Sleeps()); got != 2 {
		t.Errorf("slept %d times, want 2", got)
	}
}

func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	const token = "ghp_CANARY0123456789abcdef"
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, `{"message":"bad gateway for %s"}`, r.Header.Get("Authorization"))
	}
	srv := newServer(t, echo, echo, echo)
	f := newClient(t, httpclient.Options{
		MaxAttempts: 3,
		Redact:      func(s string) string { return strings.ReplaceAll(s, token, "***") },
	})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/x?access_token="+token, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if diff := cmp.Diff(`{"message":"bad gateway for Bearer ***"}`, string(body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	log := f.log.String()
	if strings.Contains(log, token) || strings.Contains(log, "access_token") || strings.Contains(log, "Authorization") {
		t.Errorf("log leaks the request:\n%s", log)
	}
	want := "GET /x: 502 Bad Gateway; retrying in 500ms (attempt 2 of 3)\nGET /x: 502 Bad Gateway; retrying in 1s (attempt 3 of 3)\n"
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestDefaultJitter(t *testing.T) {
	t.Parallel()
	// With the default jitter the exponential wait is in the upper half of
	// its step: for the first retry, [500ms, 1s].
	var steps []step
	for range 20 {
		steps = append(steps, status(500), jsonBody(200, "{}"))
	}
	srv := newServer(t, steps...)
	clock := scmtest.NewClock()
	c := httpclient.New(httpclient.Options{Clock: clock})
	t.Cleanup(c.CloseIdleConnections)
	for range 20 {
		if _, _, err := do(t, c, "GET", srv.URL, ""); err != nil {
			t.Fatal(err)
		}
	}
	sleeps := clock.Sleeps()
	if len(sleeps) != 20 {
		t.Fatalf("slept %d times, want 20", len(sleeps))
	}
	for _, d := range sleeps {
		if d < 500*time.Millisecond || d > time.Second {
			t.Errorf("wait %s is outside [500ms, 1s]", d)
		}
	}
}
