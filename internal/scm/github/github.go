// Package github is the GitHub backend of scm.Host, on go-github and the
// shared retrying client (internal/httpclient). It works against
// github.com and GitHub Enterprise Server alike: every call is relative to
// the configured API URL, prefix included (https://ghe.example.com/api/v3).
//
// Creating things is never blindly repeated. Before a create, the object
// is looked up (the PR for the branch, podium's own comment); after a
// create whose outcome is unknown (a 5xx, a reset connection) it is looked
// up again, and only then created anew. So a rerun, a retry or a race with
// a concurrent job ends with one PR and one comment.
package github

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	gh "github.com/google/go-github/v60/github"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm"
)

// DefaultAPIURL is github.com's API.
const DefaultAPIURL = "https://api.github.com"

// Config configures a Host.
type Config struct {
	// APIURL is the REST API root: https://api.github.com, or
	// https://HOST/api/v3 for GitHub Enterprise Server (GITHUB_API_URL).
	APIURL string
	// Repo is owner/name (GITHUB_REPOSITORY).
	Repo  string
	Token string
	// HTTPClient sends the requests: an httpclient.New client. Nil builds
	// one with the defaults.
	HTTPClient *http.Client
	// Clock paces the few retries the backend makes itself (a PR that
	// GitHub does not see commits for yet); httpclient.SystemClock when nil.
	Clock httpclient.Clock
	// BotLogin is the login podium's comments are authored by, when known
	// in advance (a GitHub App's "<slug>[bot]", PODIUM_BOT_LOGIN);
	// otherwise GET /user says, and when that is forbidden (GITHUB_TOKEN,
	// an installation token) podium's comments are the marked ones by a
	// bot account.
	BotLogin string
	// Logf receives warnings that do not fail the call (a label that could
	// not be added).
	Logf func(format string, args ...any)
	// Redact masks secrets in returned errors.
	Redact func(string) string
}

// Host is a GitHub repository. It is safe for concurrent use.
type Host struct {
	client      *gh.Client
	owner, repo string
	hooks       scm.Hooks

	mu            sync.Mutex
	login         string
	defaultBranch string
}

var _ scm.Host = (*Host)(nil)

// New returns a Host for cfg.Repo.
func New(cfg Config) (*Host, error) {
	owner, repo, ok := strings.Cut(cfg.Repo, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("invalid GitHub repository %q: want owner/name", cfg.Repo)
	}
	if cfg.Token == "" {
		return nil, errors.New("no GitHub token")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	base, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("invalid GitHub API URL %q", apiURL)
	}
	// Confine: a redirect to another origin must not take the token along,
	// whatever client the caller passed.
	httpClient := httpclient.Confine(cfg.HTTPClient)
	client := gh.NewClient(httpClient).WithAuthToken(cfg.Token)
	// The base URL is kept whole, prefix included: GHES serves the API
	// under /api/v3 and every request must stay below it.
	client.BaseURL = base
	client.UploadURL = base
	h := &Host{
		client: client, owner: owner, repo: repo,
		hooks: scm.NewHooks(cfg.Clock, cfg.Logf, cfg.Redact),
		login: cfg.BotLogin,
	}
	return h, nil
}

// Name returns "github".
func (h *Host) Name() string { return "github" }

// DefaultBranch returns the repository's default branch (read once).
func (h *Host) DefaultBranch(ctx context.Context) (_ string, err error) {
	defer h.hooks.Clean(&err)
	h.mu.Lock()
	known := h.defaultBranch
	h.mu.Unlock()
	if known != "" {
		return known, nil
	}
	repo, _, err := h.client.Repositories.Get(ctx, h.owner, h.repo)
	if err != nil {
		return "", fmt.Errorf("failed to read repository %s/%s: %w", h.owner, h.repo, err)
	}
	if repo.GetDefaultBranch() == "" {
		return "", fmt.Errorf("repository %s/%s has no default branch", h.owner, h.repo)
	}
	h.mu.Lock()
	h.defaultBranch = repo.GetDefaultBranch()
	h.mu.Unlock()
	return repo.GetDefaultBranch(), nil
}

// ReadFile returns path at ref through the contents API, raw.
func (h *Host) ReadFile(ctx context.Context, ref, path string) (_ []byte, err error) {
	defer h.hooks.Clean(&err)
	u := fmt.Sprintf("repos/%s/%s/contents/%s", h.owner, h.repo, escapePath(path))
	if ref != "" {
		u += "?ref=" + url.QueryEscape(ref)
	}
	req, err := h.client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github.raw+json")
	var buf bytes.Buffer
	if _, err := h.client.Do(ctx, req, &buf); err != nil {
		if statusOf(err) == http.StatusNotFound {
			return nil, fmt.Errorf("%s at %s: %w", path, refOrDefault(ref), scm.ErrNotFound)
		}
		return nil, fmt.Errorf("failed to read %s at %s: %w", path, refOrDefault(ref), err)
	}
	return buf.Bytes(), nil
}

// SetStatus sets a commit status. A status whose outcome is unknown is
// read back before it is sent again.
func (h *Host) SetStatus(ctx context.Context, sha string, st scm.Status) (err error) {
	defer h.hooks.Clean(&err)
	state, err := statusState(st.State)
	if err != nil {
		return err
	}
	status := &gh.RepoStatus{
		State:       gh.String(state),
		Context:     gh.String(st.Context),
		Description: gh.String(scm.Truncate(st.Description, 140)),
	}
	if st.TargetURL != "" {
		status.TargetURL = gh.String(st.TargetURL)
	}
	for attempt := 1; ; attempt++ {
		_, _, err = h.client.Repositories.CreateStatus(ctx, h.owner, h.repo, sha, status)
		if err == nil || !unknownOutcome(ctx, err) || attempt == maxCreates {
			break
		}
		if h.statusIsSet(ctx, sha, status) {
			return nil
		}
	}
	if err != nil {
		return h.forbidden(fmt.Errorf("failed to set status %q on %s: %w", st.Context, scm.ShortSHA(sha), err),
			"set commit statuses", "give the job `permissions: statuses: write` (a GitHub App or fine-grained token: Commit statuses, read and write)")
	}
	return nil
}

func (h *Host) statusIsSet(ctx context.Context, sha string, want *gh.RepoStatus) bool {
	combined, _, err := h.client.Repositories.GetCombinedStatus(ctx, h.owner, h.repo, sha, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return false
	}
	for _, s := range combined.Statuses {
		if s.GetContext() == want.GetContext() {
			return s.GetState() == want.GetState() && s.GetDescription() == want.GetDescription()
		}
	}
	return false
}

func statusState(s scm.State) (string, error) {
	switch s {
	case scm.StatePending, scm.StateSuccess, scm.StateFailure, scm.StateError:
		return string(s), nil
	}
	return "", fmt.Errorf("invalid status state %q: want pending, success, failure or error", s)
}

// Trigger sends a workflow_dispatch event for workflow (a file name such
// as retrain.yml, or an id) on ref. GitHub does not say which run it
// starts; the result carries the workflow's page.
func (h *Host) Trigger(ctx context.Context, workflow, ref string, inputs map[string]string) (_ *scm.TriggerResult, err error) {
	defer h.hooks.Clean(&err)
	if workflow == "" {
		return nil, errors.New("no workflow to trigger")
	}
	if ref == "" {
		if ref, err = h.DefaultBranch(ctx); err != nil {
			return nil, err
		}
	}
	wf, _, err := h.client.Actions.GetWorkflowByFileName(ctx, h.owner, h.repo, workflow)
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return nil, fmt.Errorf("workflow %q not found in %s/%s", workflow, h.owner, h.repo)
		}
		return nil, fmt.Errorf("failed to read workflow %q: %w", workflow, err)
	}
	event := gh.CreateWorkflowDispatchEventRequest{Ref: ref}
	if len(inputs) > 0 {
		event.Inputs = map[string]any{}
		for k, v := range inputs {
			event.Inputs[k] = v
		}
	}
	if _, err := h.client.Actions.CreateWorkflowDispatchEventByFileName(ctx, h.owner, h.repo, workflow, event); err != nil {
		if unknownOutcome(ctx, err) {
			// Sending it again could start a second training run.
			return nil, fmt.Errorf("the dispatch of workflow %q may or may not have started a run (not retried): %w", workflow, err)
		}
		return nil, fmt.Errorf("failed to dispatch workflow %q on %s: %w", workflow, ref, err)
	}
	return &scm.TriggerResult{URL: wf.GetHTMLURL()}, nil
}

// maxCreates bounds how often one create is attempted after unknown
// outcomes, and how often a lost race is replayed.
const maxCreates = 3

// statusOf returns the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	var er *gh.ErrorResponse
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	switch {
	case errors.As(err, &er) && er.Response != nil:
		return er.Response.StatusCode
	case errors.As(err, &rl), errors.As(err, &ab):
		return http.StatusForbidden
	}
	return 0
}

// apiMessage joins an API error's message and its detailed errors.
func apiMessage(err error) string {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) {
		return ""
	}
	parts := []string{er.Message}
	for _, e := range er.Errors {
		parts = append(parts, e.Message)
	}
	return strings.Join(parts, "; ")
}

// unknownOutcome reports whether a failed write may have happened all the
// same: a 5xx, a reset connection, a timeout. Refusals (4xx, rate limits,
// a connection never made) and a cancelled context are not.
func unknownOutcome(ctx context.Context, err error) bool {
	if ctx.Err() != nil || httpclient.NotProcessed(err) {
		return false
	}
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ab) {
		return false
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode >= 500
	}
	return true
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func refOrDefault(ref string) string {
	if ref == "" {
		return "the default branch"
	}
	return ref
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
