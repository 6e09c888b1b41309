package fingerprint

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Limits on a spec-relative path: PATH_MAX and NAME_MAX on Linux.
const (
	maxPathLen = 4096
	maxNameLen = 255
)

// Local checks a path written in a spec (an input, an output, the
// artifact) and returns it cleaned, slash-separated. It must stay inside
// the spec's directory: not absolute (/x, C:\x, \\server\x), no ".." that
// climbs out, no NUL, no backslash (the spec is portable), no name longer
// than the system allows. It is a lexical check; links are the business of
// Compute, which resolves them inside an os.Root.
func Local(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty path")
	case strings.ContainsRune(p, 0):
		return "", fmt.Errorf("%q: path contains a NUL byte", p)
	case len(p) > maxPathLen:
		return "", fmt.Errorf("%.40q...: path longer than %d bytes", p, maxPathLen)
	case strings.ContainsRune(p, '\\'):
		return "", fmt.Errorf("%q: path contains a backslash (write paths with /)", p)
	case strings.HasPrefix(p, "/") || hasVolume(p):
		return "", fmt.Errorf("%q: path is absolute (write it relative to the spec's directory)", p)
	}
	clean := path.Clean(p)
	if !filepath.IsLocal(filepath.FromSlash(clean)) && clean != "." {
		return "", fmt.Errorf("%q: path leaves the spec's directory", p)
	}
	for _, name := range strings.Split(clean, "/") {
		if len(name) > maxNameLen {
			return "", fmt.Errorf("%.40q...: a path element is longer than %d bytes", p, maxNameLen)
		}
	}
	return clean, nil
}

// hasVolume reports a Windows drive prefix ("C:"), refused everywhere so a
// spec means the same on every system.
func hasVolume(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}
