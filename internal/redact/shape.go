package redact

import (
	"regexp"
	"sync"
)

// tokenShapes match credentials by their documented shapes, for text podium
// did not register as a secret but publishes anyway (params in a report, a
// PR comment, a record). Each has a name, for messages that say why a value
// was masked without showing it.
//
// They compile on first use: a command that publishes nothing should not pay
// for twelve regexps at start-up.
var tokenShapes = sync.OnceValue(func() []tokenShape {
	return []tokenShape{
		{"a GitHub token", regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{30,}`)},
		{"a GitHub fine-grained token", regexp.MustCompile(`github_pat_[A-Za-z0-9_]{20,}`)},
		{"a GitLab token", regexp.MustCompile(`gl(pat|dt|rt|ptt|cbt|imt|soat|oas|ft|agent)-[A-Za-z0-9_-]{16,}`)},
		{"a Hugging Face token", regexp.MustCompile(`hf_[A-Za-z0-9]{30,}`)},
		{"a Slack token", regexp.MustCompile(`xox[abposr]-[A-Za-z0-9-]{10,}`)},
		{"an AWS access key id", regexp.MustCompile(`(AKIA|ASIA)[0-9A-Z]{16}\b`)},
		{"a Google API key", regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`)},
		{"an npm token", regexp.MustCompile(`npm_[A-Za-z0-9]{36}`)},
		{"a PyPI token", regexp.MustCompile(`pypi-AgE[A-Za-z0-9_-]{50,}`)},
		{"an OpenAI-style key", regexp.MustCompile(`sk-(proj-|ant-)?[A-Za-z0-9_-]{32,}`)},
		{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
		{"a URL with a password", regexp.MustCompile(`://[^/\s:@]+:[^/\s@]+@`)},
	}
})

type tokenShape struct {
	name string
	re   *regexp.Regexp
}

// TokenShape returns the kind of credential s contains ("a GitHub token"),
// or "" when it contains none.
func TokenShape(s string) string {
	for _, t := range tokenShapes() {
		if t.re.MatchString(s) {
			return t.name
		}
	}
	return ""
}

// LooksLikeToken reports whether s contains a string shaped like a
// credential (a GitHub or GitLab token, a cloud key, a private key, a URL
// with a password).
func LooksLikeToken(s string) bool { return TokenShape(s) != "" }

// Shaped returns s, or Mask when s looks like a token: the whole value,
// since a value that holds a private key's header holds the key too.
func Shaped(s string) string {
	if LooksLikeToken(s) {
		return Mask
	}
	return s
}
