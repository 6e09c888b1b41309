// Package ociref parses the oci://host/repository URLs a spec names. It
// is a leaf, so that the spec loader can check them without the registry
// client.
package ociref

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
)

// Scheme starts a remote's URL in the spec.
const Scheme = "oci://"

// Remote is a repository in a registry: oci://host[:port]/path.
type Remote struct {
	Host       string // host[:port], lower case
	Repository string // path, lower case components
}

func (r Remote) String() string { return Scheme + r.Host + "/" + r.Repository }

// repoPath is the distribution spec's repository name grammar.
var repoPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$`)
})

// hostPort is a DNS name or IPv4 address, or a bracketed IPv6 one, with an
// optional port.
var hostPort = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$`)
})

// ParseRemote parses oci://host[:port]/repository. It refuses what a
// registry would refuse later (upper case, a tag or digest, credentials
// in the URL), so that the spec's author hears of it at validate time.
func ParseRemote(s string) (Remote, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return Remote{}, fmt.Errorf("%q: want oci://host/repository", s)
	}
	host, repo, ok := strings.Cut(rest, "/")
	switch {
	case strings.Contains(host, "@"):
		// Never echo what may be a password.
		return Remote{}, fmt.Errorf("oci://…: credentials do not belong in the URL; podium reads them from the CI's token variables or the docker config")
	case !ok || host == "" || repo == "":
		return Remote{}, fmt.Errorf("%q: want oci://host/repository", s)
	case !hostPort().MatchString(host):
		return Remote{}, fmt.Errorf("%q: %q is not a registry host", s, host)
	case strings.ContainsAny(repo, "@:"):
		return Remote{}, fmt.Errorf("%q: a cache remote is a repository, without a tag or digest", s)
	case len(repo) > 255 || !repoPath().MatchString(repo):
		return Remote{}, fmt.Errorf("%q: %q is not a repository name (lower-case letters, digits, and . _ - between them, / between components)", s, repo)
	}
	if _, port, err := net.SplitHostPort(host); err == nil {
		if n := atoi(port); n < 1 || n > 65535 {
			return Remote{}, fmt.Errorf("%q: port %s is out of range", s, port)
		}
	}
	return Remote{Host: strings.ToLower(host), Repository: repo}, nil
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Loopback reports whether host is on this machine: such a registry is
// spoken to over plain HTTP (a test registry, a local mirror), every other
// one over HTTPS.
func Loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ParseReference parses oci://host/repository:tag or
// oci://host/repository@sha256:<hex>: an image in a registry.
func ParseReference(s string) (Remote, string, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return Remote{}, "", fmt.Errorf("%q: want oci://host/repository:tag or @sha256:…", s)
	}
	var ref string
	if i := strings.LastIndex(rest, "@"); i > 0 && strings.Contains(rest[:i], "/") {
		rest, ref = rest[:i], rest[i+1:]
		if !digestRef().MatchString(ref) {
			return Remote{}, "", fmt.Errorf("%q: %q is not a sha256 digest", s, ref)
		}
	} else if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") && strings.Contains(rest, "/") {
		rest, ref = rest[:i], rest[i+1:]
		if !tagRef().MatchString(ref) {
			return Remote{}, "", fmt.Errorf("%q: %q is not a tag", s, ref)
		}
	}
	if ref == "" {
		return Remote{}, "", fmt.Errorf("%q: name a tag (:tag) or a digest (@sha256:…)", s)
	}
	r, err := ParseRemote(Scheme + rest)
	return r, ref, err
}

var (
	digestRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^sha256:[0-9a-f]{64}$`) })
	tagRef    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`) })
)
