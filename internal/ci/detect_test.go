package ci

import (
	"bytes"
	"testing"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  env
		want string
	}{
		{name: "github", env: env{"GITHUB_ACTIONS": "true", "CI": "true"}, want: "github-actions"},
		{name: "gitlab", env: env{"GITLAB_CI": "true", "CI": "true"}, want: "gitlab-ci"},
		{name: "github wins over gitlab", env: env{"GITHUB_ACTIONS": "true", "GITLAB_CI": "true"}, want: "github-actions"},
		{name: "not exactly true", env: env{"GITHUB_ACTIONS": "1"}, want: "local"},
		{name: "plain CI", env: env{"CI": "true"}, want: "local"},
		{name: "empty", env: env{}, want: "local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			p := Detect(tt.env.get, &stdout, &stderr)
			if got := p.Name(); got != tt.want {
				t.Errorf("Detect() = %s, want %s", got, tt.want)
			}
			p.Annotate(Annotation{Level: LevelError, Message: "m"})
			p.Group("g")()
			if stdout.Len() != 0 {
				t.Errorf("the platform wrote to stdout: %q", stdout.String())
			}
			if stderr.Len() == 0 {
				t.Error("the platform wrote nothing to stderr")
			}
		})
	}
}
