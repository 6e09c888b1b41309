// Package gitlab is the GitLab backend of scm.Host, on go-gitlab and the
// shared retrying client (internal/httpclient). It works against
// gitlab.com and self-managed instances alike, under any path prefix
// (https://example.com/gitlab/api/v4).
//
// go-gitlab wraps go-retryablehttp itself, and its retry ignores
// Retry-After and repeats POSTs. Its own retries and rate limiter are
// switched off here: every request goes through httpclient's transport,
// which retries by method and honours the rate-limit headers.
//
// As on GitHub, creates are never blindly repeated: the MR, the note and
// the commit are looked up before they are created, and again after a
// create whose outcome is unknown.
package gitlab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gl "github.com/xanzy/go-gitlab"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm"
)

// DefaultAPIURL is gitlab.com's API.
const DefaultAPIURL = "https://gitlab.com/api/v4"

// Config configures a Host.
type Config struct {
	// APIURL is the REST API root, /api/v4 included (CI_API_V4_URL).
	APIURL string
	// Project is the numeric id (CI_PROJECT_ID) or the path
	// (group/project, CI_PROJECT_PATH).
	Project string
	Token   string
	// JobToken says Token is a CI_JOB_TOKEN, sent as JOB-TOKEN. GitLab lets
	// a job token read the repository and trigger pipelines, not comment
	// or open merge requests.
	JobToken bool
	// TriggerToken, when set, starts pipelines through the trigger API
	// instead of the pipeline API (a job token is used so by itself).
	TriggerToken string
	// HTTPClient sends the requests: an httpclient.New client. Nil builds
	// one with the defaults.
	HTTPClient *http.Client
	// Clock paces the few retries the backend makes itself;
	// httpclient.SystemClock when nil.
	Clock httpclient.Clock
	// BotLogin is the username podium's notes are authored by, when known
	// in advance (PODIUM_BOT_LOGIN); otherwise GET /user says.
	BotLogin string
	// Logf receives warnings that do not fail the call.
	Logf func(format string, args ...any)
	// Redact masks secrets in returned errors.
	Redact func(string) string
}

// Host is a GitLab project. It is safe for concurrent use.
type Host struct {
	client       *gl.Client
	project      string
	jobToken     bool
	token        string
	triggerToken string
	hooks        scm.Hooks

	mu            sync.Mutex
	username      string
	defaultBranch string
	webURL        string
}

var _ scm.Host = (*Host)(nil)

// New returns a Host for cfg.Project.
func New(cfg Config) (*Host, error) {
	if strings.TrimSpace(cfg.Project) == "" {
		return nil, errors.New("no GitLab project: want its id or group/project path")
	}
	if cfg.Token == "" {
		return nil, errors.New("no GitLab token")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasPrefix(apiURL, "https://") && !strings.HasPrefix(apiURL, "http://") {
		return nil, fmt.Errorf("invalid GitLab API URL %q", apiURL)
	}
	// Confine: a redirect to another origin must not take the token along,
	// whatever client the caller passed.
	httpClient := httpclient.Confine(cfg.HTTPClient)
	opts := []gl.ClientOptionFunc{
		gl.WithBaseURL(apiURL),
		gl.WithHTTPClient(httpClient),
		// httpclient retries; go-gitlab's layer would ignore Retry-After
		// and repeat POSTs, and its limiter sleeps on the real clock.
		gl.WithoutRetries(),
		gl.WithCustomRetryMax(0),
		gl.WithCustomRetry(func(ctx context.Context, _ *http.Response, err error) (bool, error) {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, err
		}),
		gl.WithCustomBackoff(func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 }),
		gl.WithCustomLimiter(unlimited{}),
	}
	var client *gl.Client
	var err error
	if cfg.JobToken {
		client, err = gl.NewJobClient(cfg.Token, opts...)
	} else {
		client, err = gl.NewClient(cfg.Token, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid GitLab API URL %q: %w", apiURL, err)
	}
	h := &Host{
		client: client, project: cfg.Project, jobToken: cfg.JobToken, token: cfg.Token,
		triggerToken: cfg.TriggerToken,
		hooks:        scm.NewHooks(cfg.Clock, cfg.Logf, cfg.Redact),
		username:     cfg.BotLogin,
	}
	return h, nil
}

type unlimited struct{}

func (unlimited) Wait(context.Context) error { return nil }

// Name returns "gitlab".
func (h *Host) Name() string { return "gitlab" }

// DefaultBranch returns the project's default branch (read once).
func (h *Host) DefaultBranch(ctx context.Context) (_ string, err error) {
	defer h.hooks.Clean(&err)
	if err := h.loadProject(ctx); err != nil {
		return "", err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.defaultBranch == "" {
		return "", fmt.Errorf("project %s has no default branch", h.project)
	}
	return h.defaultBranch, nil
}

func (h *Host) loadProject(ctx context.Context) error {
	h.mu.Lock()
	loaded := h.webURL != ""
	h.mu.Unlock()
	if loaded {
		return nil
	}
	p, _, err := h.client.Projects.GetProject(h.project, nil, gl.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("failed to read project %s: %w", h.project, err)
	}
	h.mu.Lock()
	h.defaultBranch, h.webURL = p.DefaultBranch, p.WebURL
	h.mu.Unlock()
	return nil
}

// ReadFile returns path at ref through the raw file API.
func (h *Host) ReadFile(ctx context.Context, ref, path string) (_ []byte, err error) {
	defer h.hooks.Clean(&err)
	if ref == "" {
		if ref, err = h.DefaultBranch(ctx); err != nil {
			return nil, err
		}
	}
	data, _, err := h.client.RepositoryFiles.GetRawFile(h.project, path, &gl.GetRawFileOptions{Ref: gl.Ptr(ref)}, gl.WithContext(ctx))
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return nil, fmt.Errorf("%s at %s: %w", path, ref, scm.ErrNotFound)
		}
		return nil, fmt.Errorf("failed to read %s at %s: %w", path, ref, err)
	}
	return data, nil
}

// SetStatus sets a commit status (named by st.Context). GitLab refuses to
// set the state a status already has ("Cannot transition status"), which
// is success here; it also makes a repeat after an unknown outcome safe.
func (h *Host) SetStatus(ctx context.Context, sha string, st scm.Status) (err error) {
	defer h.hooks.Clean(&err)
	state, err := buildState(st.State)
	if err != nil {
		return err
	}
	opts := &gl.SetCommitStatusOptions{
		State:       state,
		Name:        gl.Ptr(st.Context),
		Description: gl.Ptr(scm.Truncate(st.Description, 255)),
	}
	if st.TargetURL != "" {
		opts.TargetURL = gl.Ptr(st.TargetURL)
	}
	err = h.repeatable(ctx, func() error {
		_, _, err := h.client.Commits.SetCommitStatus(h.project, sha, opts, gl.WithContext(ctx))
		if statusOf(err) == http.StatusBadRequest && strings.Contains(apiMessage(err), "Cannot transition status") {
			return nil
		}
		return err
	})
	if err != nil {
		return forbidden(fmt.Errorf("failed to set status %q on %s: %w", st.Context, scm.ShortSHA(sha), err),
			"set commit statuses", "set GITLAB_TOKEN to a project access token (role Developer or above) with the api scope")
	}
	return nil
}

func buildState(s scm.State) (gl.BuildStateValue, error) {
	switch s {
	case scm.StatePending:
		return gl.Pending, nil
	case scm.StateSuccess:
		return gl.Success, nil
	case scm.StateFailure, scm.StateError:
		return gl.Failed, nil
	}
	return "", fmt.Errorf("invalid status state %q: want pending, success, failure or error", s)
}

// Trigger starts a pipeline on ref with inputs as variables. GitLab has no
// named workflows: a non-empty workflow is passed as the variable
// PODIUM_WORKFLOW for the pipeline's rules to match. With a job or trigger
// token it uses the trigger API, otherwise the pipeline API.
func (h *Host) Trigger(ctx context.Context, workflow, ref string, inputs map[string]string) (_ *scm.TriggerResult, err error) {
	defer h.hooks.Clean(&err)
	if ref == "" {
		if ref, err = h.DefaultBranch(ctx); err != nil {
			return nil, err
		}
	}
	vars := map[string]string{}
	for k, v := range inputs {
		vars[k] = v
	}
	if workflow != "" {
		vars["PODIUM_WORKFLOW"] = workflow
	}
	var p *gl.Pipeline
	token := h.triggerToken
	if token == "" && h.jobToken {
		token = h.token
	}
	if token != "" {
		p, _, err = h.client.PipelineTriggers.RunPipelineTrigger(h.project, &gl.RunPipelineTriggerOptions{
			Ref: gl.Ptr(ref), Token: gl.Ptr(token), Variables: vars,
		}, gl.WithContext(ctx))
	} else {
		var list []*gl.PipelineVariableOptions
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			list = append(list, &gl.PipelineVariableOptions{Key: gl.Ptr(k), Value: gl.Ptr(vars[k]), VariableType: gl.Ptr(gl.EnvVariableType)})
		}
		p, _, err = h.client.Pipelines.CreatePipeline(h.project, &gl.CreatePipelineOptions{Ref: gl.Ptr(ref), Variables: &list}, gl.WithContext(ctx))
	}
	if err != nil {
		if unknownOutcome(ctx, err) {
			// Sending it again could start a second training run.
			return nil, fmt.Errorf("the pipeline on %s may or may not have started (not retried): %w", ref, err)
		}
		return nil, fmt.Errorf("failed to start a pipeline on %s: %w", ref, err)
	}
	return &scm.TriggerResult{ID: int64(p.ID), URL: p.WebURL}, nil
}

// maxCreates bounds how often one create is attempted after unknown
// outcomes, and how often a lost race is replayed.
const maxCreates = 3

// statusOf returns the HTTP status of a go-gitlab error, or 0.
func statusOf(err error) int {
	if errors.Is(err, gl.ErrNotFound) {
		return http.StatusNotFound
	}
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// apiMessage is the API's message of a go-gitlab error.
func apiMessage(err error) string {
	var er *gl.ErrorResponse
	if errors.As(err, &er) {
		return er.Message
	}
	return ""
}

// unknownOutcome reports whether a failed write may have happened all the
// same: a 5xx, a reset connection, a timeout.
func unknownOutcome(ctx context.Context, err error) bool {
	if ctx.Err() != nil || httpclient.NotProcessed(err) || errors.Is(err, gl.ErrNotFound) {
		return false
	}
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode >= 500
	}
	return true
}

// repeatable runs an idempotent write, repeating it after an unknown
// outcome (the retrying client does not repeat POSTs).
func (h *Host) repeatable(ctx context.Context, write func() error) error {
	return scm.Repeat(ctx, maxCreates, unknownOutcome, h.hooks.Pause, write)
}
