package scmtest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
)

// Foreign is a server on another origin than the fakes: 127.0.0.2, a
// second loopback address (Linux routes all of 127/8 to lo). A fake that
// redirects to it lets a test check that no credential crosses origins.
// It records every request and answers 200 with an empty JSON object.
type Foreign struct {
	// URL is http://127.0.0.2:port.
	URL string

	mu       sync.Mutex
	requests []ForeignRequest
}

// ForeignRequest is one request the foreign server received.
type ForeignRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   string
}

// NewForeign starts a Foreign server; it skips the test where 127.0.0.2
// cannot be bound (macOS has only 127.0.0.1 by default).
func NewForeign(t testing.TB) *Foreign {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		if runtime.GOOS != "linux" {
			t.Skipf("no second loopback address: %v", err)
		}
		t.Fatalf("failed to listen on 127.0.0.2: %v", err)
	}
	f := &Foreign{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, ForeignRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Requests returns the requests received so far.
func (f *Foreign) Requests() []ForeignRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ForeignRequest(nil), f.requests...)
}
