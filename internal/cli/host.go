package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/scm/github"
	"github.com/podium-ml/podium/internal/scm/gitlab"
)

// defaultHost builds the code-host client from the environment and the
// command's HostOptions, with the shared retrying HTTP client.
func defaultHost(f *Factory) func(context.Context, HostOptions) (scm.Host, error) {
	return func(ctx context.Context, opts HostOptions) (scm.Host, error) {
		return newHost(f, opts, httpclient.Options{})
	}
}

// hostKinds lists the code hosts podium knows, for error messages.
const hostKinds = "github or gitlab"

// newHost builds the Host that opts (over the CI environment) describe.
// Tokens are registered with the redactor and masked in the CI log before
// any request is made. hc configures the HTTP client; its Redact and Logf
// are filled in here.
func newHost(f *Factory, opts HostOptions, hc httpclient.Options) (scm.Host, error) {
	getenv := f.Getenv
	kind := strings.ToLower(strings.TrimSpace(opts.Kind))
	if kind == "" {
		kind = detectHost(getenv)
	}
	redact := func(s string) string { return s }
	if f.Secrets != nil {
		redact = f.Secrets.String
	}
	if hc.Redact == nil {
		hc.Redact = redact
	}
	if hc.Logf == nil && f.IO != nil {
		// Retry notes go to stderr; the redacting writer and the client's
		// own rule (method and path only) keep tokens out.
		errOut := f.IO.ErrOut
		hc.Logf = func(format string, args ...any) {
			fmt.Fprintf(errOut, "podium: "+format+"\n", args...)
		}
	}

	switch kind {
	case "github":
		apiURL := firstNonEmpty(opts.APIURL, getenv("GITHUB_API_URL"), github.DefaultAPIURL)
		repo := firstNonEmpty(opts.Repo, getenv("GITHUB_REPOSITORY"))
		if repo == "" {
			return nil, inputErrorf("no GitHub repository: set GITHUB_REPOSITORY to owner/name")
		}
		tokenEnv, token := lookupToken(getenv, opts.TokenEnv, "GITHUB_TOKEN", "GH_TOKEN")
		if token == "" {
			return nil, inputErrorf("no GitHub token: set %s (in a workflow: env: %s: ${{ github.token }})", tokenEnv, tokenEnv)
		}
		registerSecret(f, token)
		host, err := github.New(github.Config{
			APIURL: apiURL, Repo: repo, Token: token,
			HTTPClient: httpclient.New(hc), Clock: hc.Clock,
			Logf: hc.Logf, Redact: redact,
		})
		if err != nil {
			return nil, &InputError{Err: err}
		}
		return host, nil

	case "gitlab":
		apiURL := firstNonEmpty(opts.APIURL, getenv("CI_API_V4_URL"), gitlab.DefaultAPIURL)
		project := firstNonEmpty(opts.Repo, getenv("CI_PROJECT_ID"), getenv("CI_PROJECT_PATH"))
		if project == "" {
			return nil, inputErrorf("no GitLab project: set CI_PROJECT_ID or CI_PROJECT_PATH")
		}
		tokenEnv, token := lookupToken(getenv, opts.TokenEnv, "GITLAB_TOKEN", "CI_JOB_TOKEN")
		if token == "" {
			return nil, inputErrorf("no GitLab token: set GITLAB_TOKEN (a project or personal access token with api scope) or run in a job with CI_JOB_TOKEN")
		}
		registerSecret(f, token)
		triggerToken := getenv("PODIUM_TRIGGER_TOKEN")
		registerSecret(f, triggerToken)
		host, err := gitlab.New(gitlab.Config{
			APIURL: apiURL, Project: project, Token: token,
			JobToken:     tokenEnv == "CI_JOB_TOKEN",
			TriggerToken: triggerToken,
			HTTPClient:   httpclient.New(hc), Clock: hc.Clock,
			Logf: hc.Logf, Redact: redact,
		})
		if err != nil {
			return nil, &InputError{Err: err}
		}
		return host, nil

	case "":
		return nil, inputErrorf("no code host found: run in GitHub Actions or GitLab CI, or name the host (%s) with its API URL and repository", hostKinds)
	default:
		return nil, inputErrorf("unknown code host %q: want %s", opts.Kind, hostKinds)
	}
}

// detectHost names the code host from the CI environment, or "".
func detectHost(getenv func(string) string) string {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return "github"
	case getenv("GITLAB_CI") == "true":
		return "gitlab"
	case getenv("GITHUB_REPOSITORY") != "":
		return "github"
	case getenv("CI_PROJECT_ID") != "" || getenv("CI_API_V4_URL") != "":
		return "gitlab"
	}
	return ""
}

// lookupToken returns the first set variable among the named one (when
// given) or the defaults, and its name.
func lookupToken(getenv func(string) string, named string, defaults ...string) (string, string) {
	if named != "" {
		return named, strings.TrimSpace(getenv(named))
	}
	for _, name := range defaults {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return name, v
		}
	}
	return defaults[0], ""
}

// registerSecret keeps a token out of everything podium prints and out of
// the CI log.
func registerSecret(f *Factory, token string) {
	if token == "" {
		return
	}
	if f.Secrets != nil {
		f.Secrets.Add(token)
	}
	if f.Platform != nil {
		if p := f.Platform(); p != nil {
			p.Mask(token)
		}
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
