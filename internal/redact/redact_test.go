package redact

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactorString(t *testing.T) {
	t.Parallel()
	const tok = "ghp_CANARY1234567890"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{name: "plain", secrets: []string{tok}, in: "token " + tok + " used", want: "token *** used"},
		{name: "every occurrence", secrets: []string{tok}, in: tok + tok + "\n" + tok, want: "******\n***"},
		{name: "base64", secrets: []string{tok}, in: "Authorization: Basic " + b64(tok), want: "Authorization: Basic ***"},
		{name: "base64 url", secrets: []string{"a?b>c~d??"}, in: base64.URLEncoding.EncodeToString([]byte("a?b>c~d??")), want: "***"},
		{name: "git basic auth", secrets: []string{tok}, in: "AUTHORIZATION: basic " + b64("x-access-token:"+tok), want: "AUTHORIZATION: basic ***"},
		{name: "gitlab basic auth", secrets: []string{tok}, in: b64("oauth2:" + tok), want: "***"},
		{name: "query escaped", secrets: []string{"p@ss word/1"}, in: "https://h/?t=" + url.QueryEscape("p@ss word/1"), want: "https://h/?t=***"},
		{name: "surrounding space trimmed", secrets: []string{"  " + tok + "\n"}, in: tok, want: "***"},
		{name: "short values ignored", secrets: []string{"abc", ""}, in: "abc", want: "abc"},
		{
			name:    "multi-line secret masked whole and line by line",
			secrets: []string{"-----BEGIN KEY-----\nline-one\nline-two\n-----END KEY-----"},
			in:      "-----BEGIN KEY-----\nline-one\nline-two\n-----END KEY-----\nthen: line-two",
			want:    "***\nthen: ***",
		},
		{name: "longest first", secrets: []string{"abcd", "abcdefgh"}, in: "abcdefgh abcd", want: "*** ***"},
		{name: "nothing registered", in: "ghp_x", want: "ghp_x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &Redactor{}
			for _, s := range tt.secrets {
				r.Add(s)
			}
			if diff := cmp.Diff(tt.want, r.String(tt.in)); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNilRedactor(t *testing.T) {
	t.Parallel()
	var r *Redactor
	if got := r.String("ghp_x"); got != "ghp_x" {
		t.Errorf("nil String = %q", got)
	}
}

func TestWriter(t *testing.T) {
	t.Parallel()
	r := &Redactor{}
	r.Add("glpat-CANARY")
	var buf bytes.Buffer
	w := r.Writer(&buf)
	in := "header PRIVATE-TOKEN: glpat-CANARY\n"
	n, err := io.WriteString(w, in)
	if err != nil {
		t.Fatal(err)
	}
	// The caller's count, not the redacted one: a short count is an error
	// to io.Copy and fmt.
	if n != len(in) {
		t.Errorf("Write returned %d, want %d", n, len(in))
	}
	if diff := cmp.Diff("header PRIVATE-TOKEN: ***\n", buf.String()); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	u, ok := w.(interface{ Unwrap() io.Writer })
	if !ok || u.Unwrap() != io.Writer(&buf) {
		t.Errorf("Unwrap does not return the underlying stream")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriterError(t *testing.T) {
	t.Parallel()
	r := &Redactor{}
	if _, err := r.Writer(errWriter{}).Write([]byte("x")); err != io.ErrClosedPipe {
		t.Errorf("err = %v, want %v", err, io.ErrClosedPipe)
	}
}

// Secrets are added while other goroutines print (a token read mid-run);
// run with -race. Every secret added before a write is masked in it.
func TestConcurrentAddAndWrite(t *testing.T) {
	t.Parallel()
	r := &Redactor{}
	var mu sync.Mutex
	var buf bytes.Buffer
	w := r.Writer(lockedWriter{mu: &mu, w: &buf})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec := fmt.Sprintf("secret-%02d-value", i)
			r.Add(sec)
			for range 50 {
				fmt.Fprintf(w, "line %s\n", sec)
			}
		}()
	}
	wg.Wait()
	if strings.Contains(buf.String(), "secret-") {
		t.Errorf("a secret escaped: %q", firstLineWith(buf.String(), "secret-"))
	}
	if got, want := strings.Count(buf.String(), "line ***\n"), 8*50; got != want {
		t.Errorf("%d masked lines, want %d", got, want)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestShaped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "github token", in: "ghp_CANARY" + strings.Repeat("a", 30), want: Mask},
		{name: "inside text", in: "api=ghp_" + strings.Repeat("Z", 36) + "!", want: Mask},
		{name: "gitlab token", in: "glpat-" + strings.Repeat("x", 20), want: Mask},
		{name: "private key", in: "-----BEGIN RSA PRIVATE KEY-----\nMIIE", want: Mask},
		{name: "url with password", in: "https://user:hunter22@example.com/x", want: Mask},
		{name: "url without password", in: "https://example.com/x", want: "https://example.com/x"},
		{name: "short ghp_ is a word", in: "ghp_short", want: "ghp_short"},
		{name: "number", in: "0.1", want: "0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Shaped(tt.in); got != tt.want {
				t.Errorf("Shaped(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
