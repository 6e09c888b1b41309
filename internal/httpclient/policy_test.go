package httpclient

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"2", 2 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"Thu, 02 Jan 2025 03:05:05 GMT", time.Minute, true},
		{"Thu, 02 Jan 2025 03:00:00 GMT", 0, true}, // in the past: no wait
		{"99999999999999999999", 0, false},
		{"9223372036854775807", time.Duration(1<<63-1) / time.Second * time.Second, true},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		got, ok := retryAfter(h, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("retryAfter(%q) = %s, %t; want %s, %t", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"2", "3600", "Fri, 31 Dec 2100 23:59:59 GMT", "-5", "1e9", "9223372036854775807"} {
		f.Add(s)
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{}
		h.Set("Retry-After", v)
		if d, ok := retryAfter(h, now); d < 0 || (!ok && d != 0) {
			t.Errorf("retryAfter(%q) = %s, %t", v, d, ok)
		}
		h = http.Header{}
		h.Set("X-Ratelimit-Reset", v)
		resetTime(h) // must not panic
	})
}
