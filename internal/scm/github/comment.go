package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/podium-ml/podium/internal/scm"
)

// maxCommentPages bounds the search for podium's comment (100 comments a
// page), and with it any cyclic or malformed link header.
const maxCommentPages = 100

// issueComment is an issue comment with the fields go-github v60 lacks:
// the author's type and the App the comment was made through.
type issueComment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
	User    struct {
		Login string `json:"login"`
		Type  string `json:"type"` // "User", "Bot", "Organization"
	} `json:"user"`
	App *struct {
		Slug string `json:"slug"`
	} `json:"performed_via_github_app"`
}

// bot reports whether a bot account wrote c: an App's "<slug>[bot]" or
// github-actions[bot]. A person commenting through an App is a "User".
func (c *issueComment) bot() bool { return c.User.Type == "Bot" }

// commentNeed is what a token needs to comment on a pull request.
const commentNeed = "give the job `permissions: pull-requests: write` (a GitHub App or fine-grained token: Pull requests, read and write). " +
	"A pull request from a fork gets a read-only GITHUB_TOKEN: post its report from a workflow_run workflow (docs/tokens.md)"

// UpsertComment edits podium's comment on PR number (the oldest one
// holding marker and authored by podium's own account) or creates it.
// body gets marker prepended when it does not hold it already.
func (h *Host) UpsertComment(ctx context.Context, number int, marker, body string) (_ *scm.Comment, err error) {
	defer h.hooks.Clean(&err)
	where := fmt.Sprintf("#%d", number)
	return scm.Upsert(ctx, marker, body, scm.CommentSteps[*issueComment]{
		Whoami: h.whoami,
		List: func(ctx context.Context) ([]*issueComment, error) {
			return h.listComments(ctx, number)
		},
		Mine:   mine,
		Author: func(c *issueComment) scm.Identity { return scm.Identity{Login: c.User.Login, Bot: c.bot()} },
		ID:     func(c *issueComment) int64 { return c.ID },
		Body:   func(c *issueComment) string { return c.Body },
		Edit: func(ctx context.Context, c *issueComment, body string) (*issueComment, error) {
			var edited issueComment
			err := h.repeatable(ctx, func() error {
				return h.send(ctx, http.MethodPatch, fmt.Sprintf("repos/%s/%s/issues/comments/%d", h.owner, h.repo, c.ID),
					map[string]string{"body": body}, &edited)
			})
			if err != nil {
				return nil, h.forbidden(fmt.Errorf("failed to update comment %d on #%d: %w", c.ID, number, err), "edit comments on "+where, commentNeed)
			}
			return &edited, nil
		},
		Create: func(ctx context.Context, body string) (*issueComment, error) {
			var c issueComment
			err := h.send(ctx, http.MethodPost, fmt.Sprintf("repos/%s/%s/issues/%d/comments", h.owner, h.repo, number),
				map[string]string{"body": body}, &c)
			if err != nil {
				return nil, h.forbidden(err, "comment on "+where, commentNeed)
			}
			return &c, nil
		},
		Delete: func(ctx context.Context, c *issueComment) error {
			_, err := h.client.Issues.DeleteComment(ctx, h.owner, h.repo, c.ID)
			if statusOf(err) == http.StatusNotFound {
				return nil
			}
			return h.forbidden(err, "delete comments on "+where, commentNeed)
		},
		Result: func(c *issueComment, created bool) *scm.Comment {
			return &scm.Comment{ID: c.ID, URL: c.HTMLURL, Created: created}
		},
		UnknownOutcome: unknownOutcome,
		Pause:          h.hooks.Pause,
		MaxCreates:     maxCreates,
		Where:          where,
	})
}

// mine reports whether c is authored by me: by login, or by the App
// whose slug is the login without "[bot]"; with no login known, by any
// bot account (never a person, so a marked comment by a person is never
// taken for podium's).
func mine(c *issueComment, me scm.Identity) bool {
	if me.Login == "" {
		return me.Bot && c.bot()
	}
	if strings.EqualFold(c.User.Login, me.Login) {
		return true
	}
	return c.bot() && c.App != nil && c.App.Slug != "" &&
		strings.EqualFold(c.App.Slug, strings.TrimSuffix(me.Login, "[bot]"))
}

// send makes one API request with a JSON body and decodes the answer.
func (h *Host) send(ctx context.Context, method, path string, body, out any) error {
	req, err := h.client.NewRequest(method, path, body)
	if err != nil {
		return err
	}
	_, err = h.client.Do(ctx, req, out)
	return err
}

// whoami returns the account podium's comments are authored by: the
// configured BotLogin, or the token's user. GET /user is 403 for a
// workflow's GITHUB_TOKEN and for an App installation token; then the
// login is unknown until podium's first comment tells it, and podium's
// comments are the marked ones a bot wrote.
func (h *Host) whoami(ctx context.Context) (scm.Identity, error) {
	h.mu.Lock()
	login := h.login
	h.mu.Unlock()
	if login != "" {
		return scm.Identity{Login: login}, nil
	}
	user, _, err := h.client.Users.Get(ctx, "")
	switch {
	case err == nil && user.GetLogin() != "":
		login = user.GetLogin()
	case err != nil && statusOf(err) == http.StatusForbidden && isIntegrationForbidden(err):
		return scm.Identity{Bot: true}, nil
	case err != nil:
		return scm.Identity{}, fmt.Errorf("failed to identify the token's user: %w", err)
	default:
		return scm.Identity{}, errors.New("failed to identify the token's user: GET /user returned no login")
	}
	h.mu.Lock()
	h.login = login
	h.mu.Unlock()
	return scm.Identity{Login: login}, nil
}

// isIntegrationForbidden reports the 403 an installation token gets from
// GET /user, as opposed to a rate limit.
func isIntegrationForbidden(err error) bool {
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	return !errors.As(err, &rl) && !errors.As(err, &ab)
}

// listComments returns every comment on number, oldest first.
func (h *Host) listComments(ctx context.Context, number int) ([]*issueComment, error) {
	var all []*issueComment
	seen := map[int]bool{}
	page := 1
	for range maxCommentPages {
		req, err := h.client.NewRequest(http.MethodGet,
			fmt.Sprintf("repos/%s/%s/issues/%d/comments?per_page=100&page=%d", h.owner, h.repo, number, page), nil)
		if err != nil {
			return nil, err
		}
		var comments []*issueComment
		resp, err := h.client.Do(ctx, req, &comments)
		if err != nil {
			if statusOf(err) == http.StatusNotFound {
				return nil, fmt.Errorf("pull request #%d not found in %s/%s", number, h.owner, h.repo)
			}
			return nil, fmt.Errorf("failed to list the comments on #%d: %w", number, err)
		}
		all = append(all, comments...)
		seen[page] = true
		if resp.NextPage == 0 || seen[resp.NextPage] {
			return all, nil // the last page, or a link back to a page read
		}
		page = resp.NextPage
	}
	return nil, fmt.Errorf("failed to find podium's comment on #%d: more than %d pages of comments", number, maxCommentPages)
}

// forbidden turns a 403 that is not a rate limit into a
// *scm.PermissionError saying what the token needs.
func (h *Host) forbidden(err error, action, need string) error {
	if err == nil || statusOf(err) != http.StatusForbidden || !isIntegrationForbidden(err) {
		return err
	}
	var pe *scm.PermissionError
	if errors.As(err, &pe) {
		return err
	}
	msg := ""
	var er *gh.ErrorResponse
	if errors.As(err, &er) {
		msg = er.Message
	}
	return &scm.PermissionError{Action: action, Status: http.StatusForbidden, Message: msg, Need: need, Err: err}
}
