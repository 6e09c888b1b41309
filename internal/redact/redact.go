// Package redact keeps secrets out of everything podium prints. Tokens are
// registered once, when they are read; every stream and error message the
// CLI writes passes through the Redactor.
package redact

import (
	"encoding/base64"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Mask is what a secret is replaced with.
const Mask = "***"

// Redactor replaces registered secrets (and their common encodings) in text.
// The zero value is ready to use and safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// Add registers a secret. Short values (under 4 bytes) are ignored: masking
// them would garble ordinary text and they are not real tokens.
func (r *Redactor) Add(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < 4 {
		return
	}
	variants := []string{
		secret,
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)),
		url.QueryEscape(secret),
		// Basic auth as git and some clients send it.
		base64.StdEncoding.EncodeToString([]byte("x-access-token:" + secret)),
		base64.StdEncoding.EncodeToString([]byte("oauth2:" + secret)),
	}
	// A multi-line secret is also masked line by line.
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimSpace(line); len(line) >= 4 {
			variants = append(variants, line)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range variants {
		if !contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
	// Longest first, so a secret that contains another is masked whole.
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String returns s with every registered secret replaced by Mask.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// Writer wraps w so that every Write is redacted. Each Write is redacted on
// its own: callers write whole lines or documents, which is what podium's
// output code does.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &writer{r: r, w: w}
}

type writer struct {
	r *Redactor
	w io.Writer
}

// Unwrap returns the stream under the redactor. Only the GitHub platform
// uses it, to send `::add-mask::` commands, which must carry the real
// secret for the runner to hide it.
func (w *writer) Unwrap() io.Writer { return w.w }

func (w *writer) Write(p []byte) (int, error) {
	s := w.r.String(string(p))
	if _, err := io.WriteString(w.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
