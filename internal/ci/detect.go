package ci

import "io"

// Detect picks the platform from the environment: GitHub Actions when
// GITHUB_ACTIONS=true, GitLab CI when GITLAB_CI=true, else local. Every
// platform logs to stderr; stdout stays reserved for the command's data
// (the GitHub runner reads workflow commands from both streams).
func Detect(getenv func(string) string, stdout, stderr io.Writer) Platform {
	opts := []Option{WithGetenv(getenv), WithWriter(stderr)}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return NewGitHub(opts...)
	case getenv("GITLAB_CI") == "true":
		return NewGitLab(opts...)
	default:
		return NewLocal(opts...)
	}
}
