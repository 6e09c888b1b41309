package cli

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/scm/github"
	"github.com/podium-ml/podium/internal/scm/gitlab"
)

// defaultHost builds the code-host client from the environment, with the
// shared retrying HTTP client.
func defaultHost(f *Factory) func(context.Context) (scm.Host, error) {
	return func(ctx context.Context) (scm.Host, error) {
		return newHost(f, httpclient.Options{})
	}
}

// newHost builds the Host that the CI environment describes. Tokens are
// registered with the redactor and masked in the CI log before any request
// is made. hc configures the HTTP client; its Redact and Logf are filled
// in here.
func newHost(f *Factory, hc httpclient.Options) (scm.Host, error) {
	getenv := f.Getenv
	kind := detectHost(getenv)
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
		apiURL := cmp.Or(strings.TrimSpace(getenv("GITHUB_API_URL")), github.DefaultAPIURL)
		if err := checkAPIURL(f, "GITHUB_API_URL", apiURL); err != nil {
			return nil, err
		}
		repo := strings.TrimSpace(getenv("GITHUB_REPOSITORY"))
		if repo == "" {
			return nil, inputErrorf("no GitHub repository: set GITHUB_REPOSITORY to owner/name")
		}
		tokenEnv, token := lookupToken(getenv, "GITHUB_TOKEN", "GH_TOKEN")
		if token == "" {
			return nil, inputErrorf("no GitHub token: set %s (in a workflow: env: %s: ${{ github.token }})", tokenEnv, tokenEnv)
		}
		registerSecret(f, token)
		host, err := github.New(github.Config{
			APIURL: apiURL, Repo: repo, Token: token,
			BotLogin:   botLogin(getenv),
			HTTPClient: httpclient.New(hc), Clock: hc.Clock,
			Logf: hc.Logf, Redact: redact,
		})
		if err != nil {
			return nil, &InputError{Err: err}
		}
		return host, nil

	case "gitlab":
		apiURL := cmp.Or(strings.TrimSpace(getenv("CI_API_V4_URL")), gitlab.DefaultAPIURL)
		if err := checkAPIURL(f, "CI_API_V4_URL", apiURL); err != nil {
			return nil, err
		}
		project := cmp.Or(strings.TrimSpace(getenv("CI_PROJECT_ID")), strings.TrimSpace(getenv("CI_PROJECT_PATH")))
		if project == "" {
			return nil, inputErrorf("no GitLab project: set CI_PROJECT_ID or CI_PROJECT_PATH")
		}
		tokenEnv, token := lookupToken(getenv, "GITLAB_TOKEN", "CI_JOB_TOKEN")
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
			BotLogin:     botLogin(getenv),
			HTTPClient:   httpclient.New(hc), Clock: hc.Clock,
			Logf: hc.Logf, Redact: redact,
		})
		if err != nil {
			return nil, &InputError{Err: err}
		}
		return host, nil

	default:
		// GitHub Actions and GitLab CI set all of these in every job.
		return nil, inputErrorf("no code host found: set GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN for GitHub (GITHUB_API_URL for GitHub Enterprise Server), or CI_PROJECT_ID, CI_API_V4_URL and GITLAB_TOKEN for GitLab")
	}
}

// botLogin is PODIUM_BOT_LOGIN: the account podium's comments are
// authored by, when the token cannot tell (a GitHub App's "<slug>[bot]")
// or another account's marked comments must not count.
func botLogin(getenv func(string) string) string {
	return strings.TrimSpace(getenv("PODIUM_BOT_LOGIN"))
}

// checkAPIURL refuses an API base URL that carries credentials (user:pass@
// or a query such as ?access_token=...) or is not an http(s) URL. The
// message never shows the URL, and the credentials are masked in case
// anything else prints them: the token belongs in GITHUB_TOKEN or
// GITLAB_TOKEN, sent in a header.
func checkAPIURL(f *Factory, name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return inputErrorf("%s is not an http(s) URL (want e.g. https://HOST/api/v3 or https://HOST/api/v4)", name)
	}
	if u.User == nil && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" {
		return nil
	}
	if u.User != nil {
		registerSecret(f, u.User.Username())
		if p, ok := u.User.Password(); ok {
			registerSecret(f, p)
		}
	}
	for _, values := range u.Query() {
		for _, v := range values {
			registerSecret(f, v)
		}
	}
	registerSecret(f, u.RawQuery)
	return inputErrorf("%s must not carry credentials, a query or a fragment: give the API root only, and the token in the token variable", name)
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

// lookupToken returns the first set variable among names, and its name;
// with none set, the first name and "".
func lookupToken(getenv func(string) string, names ...string) (string, string) {
	for _, name := range names {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return name, v
		}
	}
	return names[0], ""
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
