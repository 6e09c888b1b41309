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

// UpsertComment edits podium's comment on PR number (the one holding
// marker and authored by podium's own account) or creates it. body gets
// marker prepended when it does not hold it already.
func (h *Host) UpsertComment(ctx context.Context, number int, marker, body string) (_ *scm.Comment, err error) {
	defer h.clean(&err)
	return scm.Upsert(ctx, marker, body, scm.CommentSteps[*gh.IssueComment]{
		Whoami: h.whoami,
		Find: func(ctx context.Context, me string) (*gh.IssueComment, error) {
			return h.findComment(ctx, number, marker, me)
		},
		Body: (*gh.IssueComment).GetBody,
		Edit: func(ctx context.Context, c *gh.IssueComment, body string) (edited *gh.IssueComment, err error) {
			err = h.repeatable(ctx, func() (err error) {
				edited, _, err = h.client.Issues.EditComment(ctx, h.owner, h.repo, c.GetID(), &gh.IssueComment{Body: gh.String(body)})
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("failed to update comment %d on #%d: %w", c.GetID(), number, err)
			}
			return edited, nil
		},
		Create: func(ctx context.Context, body string) (*gh.IssueComment, error) {
			c, _, err := h.client.Issues.CreateComment(ctx, h.owner, h.repo, number, &gh.IssueComment{Body: gh.String(body)})
			return c, err
		},
		Result: func(c *gh.IssueComment, created bool) *scm.Comment {
			return &scm.Comment{ID: c.GetID(), URL: c.GetHTMLURL(), Created: created}
		},
		UnknownOutcome: unknownOutcome,
		Pause:          h.pause,
		MaxCreates:     maxCreates,
		Where:          fmt.Sprintf("#%d", number),
	})
}

// whoami returns the login podium's comments are authored by: the
// configured BotLogin, the token's user, or github-actions[bot] for a
// workflow token, which may not read GET /user.
func (h *Host) whoami(ctx context.Context) (string, error) {
	h.mu.Lock()
	login := h.login
	h.mu.Unlock()
	if login != "" {
		return login, nil
	}
	user, _, err := h.client.Users.Get(ctx, "")
	switch {
	case err == nil && user.GetLogin() != "":
		login = user.GetLogin()
	case err != nil && statusOf(err) == http.StatusForbidden && isIntegrationForbidden(err):
		login = ActionsBot
	case err != nil:
		return "", fmt.Errorf("failed to identify the token's user: %w", err)
	default:
		return "", errors.New("failed to identify the token's user: GET /user returned no login")
	}
	h.mu.Lock()
	h.login = login
	h.mu.Unlock()
	return login, nil
}

// isIntegrationForbidden reports the 403 an installation token gets from
// GET /user, as opposed to a rate limit.
func isIntegrationForbidden(err error) bool {
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	return !errors.As(err, &rl) && !errors.As(err, &ab)
}

// findComment returns the first comment on number that holds marker and
// is authored by me. Comments by anyone else are ignored even when they
// hold the marker, so nobody can make podium edit their comment.
func (h *Host) findComment(ctx context.Context, number int, marker, me string) (*gh.IssueComment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	seen := map[int]bool{}
	for range maxCommentPages {
		comments, resp, err := h.client.Issues.ListComments(ctx, h.owner, h.repo, number, opts)
		if err != nil {
			if statusOf(err) == http.StatusNotFound {
				return nil, fmt.Errorf("pull request #%d not found in %s/%s", number, h.owner, h.repo)
			}
			return nil, fmt.Errorf("failed to list the comments on #%d: %w", number, err)
		}
		for _, c := range comments {
			if strings.EqualFold(c.GetUser().GetLogin(), me) && strings.Contains(c.GetBody(), marker) {
				return c, nil
			}
		}
		seen[max(opts.Page, 1)] = true
		if resp.NextPage == 0 || seen[resp.NextPage] {
			return nil, nil // the last page, or a link back to a page read
		}
		opts.Page = resp.NextPage
	}
	return nil, fmt.Errorf("failed to find podium's comment on #%d: more than %d pages of comments", number, maxCommentPages)
}
