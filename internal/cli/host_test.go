package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// hostTestFactory is a Factory with env as the whole environment.
func hostTestFactory(env []string) (*Factory, *citest.Platform, *bytes.Buffer) {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	secrets := &redact.Redactor{}
	errOut := &bytes.Buffer{}
	platform := &citest.Platform{}
	f := &Factory{
		IO:       &IOStreams{Out: secrets.Writer(&bytes.Buffer{}), ErrOut: secrets.Writer(errOut)},
		Getenv:   func(k string) string { return vars[k] },
		Secrets:  secrets,
		Platform: func() ci.Platform { return platform },
	}
	f.Host = defaultHost(f)
	return f, platform, errOut
}

func TestDefaultHostFromEnvironment(t *testing.T) {
	t.Parallel()
	gh := scmtest.NewGitHub(t, scmtest.GitHubOptions{})
	gl := scmtest.NewGitLab(t, scmtest.GitLabOptions{})
	tests := []struct {
		name      string
		env       []string
		wantName  string
		wantToken string
	}{
		{name: "GitHub Actions", env: append(gh.Env(), "GITHUB_ACTIONS=true"), wantName: "github", wantToken: gh.Token},
		{name: "GitHub from GITHUB_REPOSITORY", env: gh.Env(), wantName: "github", wantToken: gh.Token},
		{
			name:     "GitHub outside Actions, from the variables alone",
			env:      []string{"GITHUB_API_URL=" + gh.URL, "GITHUB_REPOSITORY=octo/models", "GH_TOKEN=" + gh.Token},
			wantName: "github", wantToken: gh.Token,
		},
		{name: "GitLab CI with GITLAB_TOKEN", env: append(gl.Env(), "GITLAB_CI=true"), wantName: "gitlab", wantToken: gl.Token},
		{name: "GitLab CI with the job token", env: append(gl.JobEnv(), "GITLAB_CI=true"), wantName: "gitlab", wantToken: gl.JobToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, platform, _ := hostTestFactory(tt.env)
			host, err := f.Host(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if host.Name() != tt.wantName {
				t.Errorf("Name = %q, want %q", host.Name(), tt.wantName)
			}
			// The host reaches the fake: the URL, the repository and the
			// token all came through.
			branch, err := host.DefaultBranch(t.Context())
			if err != nil || branch != "main" {
				t.Errorf("DefaultBranch = %q, %v", branch, err)
			}
			if diff := cmp.Diff([]string{tt.wantToken}, platform.Masks()); diff != "" {
				t.Errorf("masked (-want +got):\n%s", diff)
			}
			if got := f.Secrets.String("token " + tt.wantToken); got != "token ***" {
				t.Errorf("the redactor does not know the token: %q", got)
			}
		})
	}
}

func TestDefaultHostErrors(t *testing.T) {
	t.Parallel()
	const canary = "ghp_CANARY0123456789abcdef"
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{
			name: "nowhere",
			want: "no code host found: set GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN for GitHub (GITHUB_API_URL for GitHub Enterprise Server), or CI_PROJECT_ID, CI_API_V4_URL and GITLAB_TOKEN for GitLab",
		},
		{
			name: "GitHub without a token",
			env:  []string{"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=octo/models"},
			want: "no GitHub token: set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ github.token }})",
		},
		{
			name: "GitHub without a repository",
			env:  []string{"GITHUB_ACTIONS=true", "GITHUB_TOKEN=x"},
			want: "no GitHub repository: set GITHUB_REPOSITORY to owner/name",
		},
		{
			name: "GitHub with a bad repository",
			env:  []string{"GITHUB_ACTIONS=true", "GITHUB_TOKEN=x", "GITHUB_REPOSITORY=models"},
			want: `invalid GitHub repository "models": want owner/name`,
		},
		{
			name: "token in the query of GITHUB_API_URL",
			env:  []string{"GITHUB_ACTIONS=true", "GITHUB_TOKEN=x", "GITHUB_REPOSITORY=o/r", "GITHUB_API_URL=https://ghe.example/api/v3?access_token=" + canary},
			want: "GITHUB_API_URL must not carry credentials, a query or a fragment: give the API root only, and the token in the token variable",
		},
		{
			name: "token as the user of GITHUB_API_URL",
			env:  []string{"GITHUB_ACTIONS=true", "GITHUB_TOKEN=x", "GITHUB_REPOSITORY=o/r", "GITHUB_API_URL=https://" + canary + "@ghe.example/api/v3"},
			want: "GITHUB_API_URL must not carry credentials, a query or a fragment: give the API root only, and the token in the token variable",
		},
		{
			name: "GITHUB_API_URL that does not parse",
			env:  []string{"GITHUB_ACTIONS=true", "GITHUB_TOKEN=x", "GITHUB_REPOSITORY=o/r", "GITHUB_API_URL=https://ghe.example/%zz?t=" + canary},
			want: "GITHUB_API_URL is not an http(s) URL (want e.g. https://HOST/api/v3 or https://HOST/api/v4)",
		},
		{
			name: "token in the query of CI_API_V4_URL",
			env:  []string{"GITLAB_CI=true", "GITLAB_TOKEN=x", "CI_PROJECT_ID=1", "CI_API_V4_URL=https://gl.example/api/v4?private_token=" + canary},
			want: "CI_API_V4_URL must not carry credentials, a query or a fragment: give the API root only, and the token in the token variable",
		},
		{
			name: "GitLab without a token",
			env:  []string{"GITLAB_CI=true", "CI_PROJECT_ID=42"},
			want: "no GitLab token: set GITLAB_TOKEN (a project or personal access token with api scope) or run in a job with CI_JOB_TOKEN",
		},
		{
			name: "GitLab without a project",
			env:  []string{"GITLAB_CI=true", "GITLAB_TOKEN=x"},
			want: "no GitLab project: set CI_PROJECT_ID or CI_PROJECT_PATH",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, platform, errOut := hostTestFactory(tt.env)
			_, err := f.Host(t.Context())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %s", err, tt.want)
			}
			if code := exitCode(err); code != ExitInvalid {
				t.Errorf("exit code = %d, want %d", code, ExitInvalid)
			}
			if strings.Contains(err.Error()+errOut.String(), "CANARY") {
				t.Errorf("the token is printed: %v\n%s", err, errOut)
			}
			// A token found in a URL is masked from then on.
			if strings.Contains(strings.Join(tt.env, " "), canary) && strings.Contains(tt.want, "credentials") {
				if got := f.Secrets.String(canary); got != "***" {
					t.Errorf("the token in the URL is not registered as a secret: %q", got)
				}
				if !slices.Contains(platform.Masks(), canary) {
					t.Errorf("the token in the URL is not masked in the CI log: %v", platform.Masks())
				}
			}
		})
	}
}

// TestHostTokenNeverPrinted runs failing calls against fakes that echo the
// credentials back and checks that neither errors nor the retry log show
// the token.
func TestHostTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	gh := scmtest.NewGitHub(t, scmtest.GitHubOptions{})
	gl := scmtest.NewGitLab(t, scmtest.GitLabOptions{})
	tests := []struct {
		name   string
		env    []string
		inject func(...scmtest.Fault)
	}{
		{"github", gh.Env(), func(f ...scmtest.Fault) { gh.Inject("*", "*", f...) }},
		{"gitlab", gl.Env(), func(f ...scmtest.Fault) { gl.Inject("*", "*", f...) }},
		{"gitlab job token", gl.JobEnv(), func(f ...scmtest.Fault) { gl.Inject("*", "*", f...) }},
	}
	for _, tt := range tests {
		f, _, errOut := hostTestFactory(tt.env)
		host, err := newHost(f, httpclient.Options{Clock: scmtest.NewClock(), MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		tt.inject(scmtest.EchoToken(502), scmtest.EchoToken(502), scmtest.EchoToken(502))
		_, err = host.ReadFile(t.Context(), "main", "README.md")
		if err == nil {
			t.Fatalf("%s: no error from a server that fails", tt.name)
		}
		printed := err.Error() + "\n" + errOut.String()
		for _, secret := range []string{gh.Token, gl.Token, gl.JobToken, "CANARY"} {
			if strings.Contains(printed, secret) {
				t.Errorf("%s leaks %q:\n%s", tt.name, secret, printed)
			}
		}
		// The echo reached the error (masked) and the retries were logged.
		if !strings.Contains(err.Error(), "***") || strings.Count(errOut.String(), "retrying in") != 2 {
			t.Errorf("%s: the echo or the retries are missing:\n%s", tt.name, printed)
		}
	}
}
