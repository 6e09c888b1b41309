package redact

import "regexp"

// tokenShapes match credentials by their documented shapes, for text podium
// did not register as a secret but publishes anyway (params in a report or
// a PR comment). The list copies internal/record's tokenPatterns; the
// record keeps its own, with a reason for each.
var tokenShapes = []*regexp.Regexp{
	regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{30,}`),                                     // GitHub
	regexp.MustCompile(`github_pat_[A-Za-z0-9_]{20,}`),                                   // GitHub fine-grained
	regexp.MustCompile(`gl(pat|dt|rt|ptt|cbt|imt|soat|oas|ft|agent)-[A-Za-z0-9_-]{16,}`), // GitLab
	regexp.MustCompile(`hf_[A-Za-z0-9]{30,}`),                                            // Hugging Face
	regexp.MustCompile(`xox[abposr]-[A-Za-z0-9-]{10,}`),                                  // Slack
	regexp.MustCompile(`(AKIA|ASIA)[0-9A-Z]{16}\b`),                                      // AWS access key id
	regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`),                                          // Google API key
	regexp.MustCompile(`npm_[A-Za-z0-9]{36}`),                                            // npm
	regexp.MustCompile(`pypi-AgE[A-Za-z0-9_-]{50,}`),                                     // PyPI
	regexp.MustCompile(`sk-(proj-|ant-)?[A-Za-z0-9_-]{32,}`),                             // OpenAI-style
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),                             // private key
	regexp.MustCompile(`://[^/\s:@]+:[^/\s@]+@`),                                         // URL with a password
}

// LooksLikeToken reports whether s contains a string shaped like a
// credential (a GitHub or GitLab token, a cloud key, a private key, a URL
// with a password).
func LooksLikeToken(s string) bool {
	for _, re := range tokenShapes {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Shaped returns s, or Mask when s looks like a token: the whole value,
// since a value that holds a private key's header holds the key too.
func Shaped(s string) string {
	if LooksLikeToken(s) {
		return Mask
	}
	return s
}
