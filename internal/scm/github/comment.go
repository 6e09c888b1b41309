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
	if strings.TrimSpace(marker) == "" {
		return nil, errors.New("no comment marker")
	}
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	me, err := h.whoami(ctx)
	if err != nil {
		return nil, err
	}
	found, err := h.findComment(ctx, number, marker, me)
	if err != nil {
		return nil, err
	}
	if found != nil {
		if found.GetBody() != body {
			err := h.repeatable(ctx, func() (err error) {
				found, _, err = h.client.Issues.EditComment(ctx, h.owner, h.repo, found.GetID(), &gh.IssueComment{Body: gh.String(body)})
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("failed to update comment %d on #%d: %w", found.GetID(), number, err)
			}
		}
		return &scm.Comment{ID: found.GetID(), URL: found.GetHTMLURL()}, nil
	}
	for attempt := 1; ; attempt++ {
		c, _, err := h.client.Issues.CreateComment(ctx, h.owner, h.repo, number, &gh.IssueComment{Body: gh.String(body)})
		if err == nil {
			return &scm.Comment{ID: c.GetID(), URL: c.GetHTMLURL(), Created: true}, nil
		}
		if !unknownOutcome(ctx, err) || attempt == maxCreates {
			return nil, fmt.Errorf("failed to comment on #%d: %w", number, err)
		}
		// The comment may have been posted: look before posting again.
		found, ferr := h.findComment(ctx, number, marker, me)
		if ferr != nil {
			return nil, ferr
		}
		if found != nil {
			return &scm.Comment{ID: found.GetID(), URL: found.GetHTMLURL(), Created: true}, nil
		}
		if err := h.pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
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
