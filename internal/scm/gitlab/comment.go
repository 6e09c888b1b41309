package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gl "github.com/xanzy/go-gitlab"

	"github.com/podium-ml/podium/internal/scm"
)

// maxNotePages bounds the search for podium's note (100 notes a page), and
// with it any cyclic or malformed pagination header.
const maxNotePages = 100

// UpsertComment edits podium's note on MR number (its IID) — the note that
// holds marker and is authored by the token's user — or creates it. body
// gets marker prepended when it does not hold it already.
func (h *Host) UpsertComment(ctx context.Context, number int, marker, body string) (_ *scm.Comment, err error) {
	defer h.clean(&err)
	return scm.Upsert(ctx, marker, body, scm.CommentSteps[*gl.Note]{
		Whoami: func(ctx context.Context) (string, error) {
			me, err := h.whoami(ctx)
			if err != nil {
				return "", err
			}
			// A note's URL is built from the project's web URL, which
			// loadProject reads once.
			return me, h.loadProject(ctx)
		},
		Find: func(ctx context.Context, me string) (*gl.Note, error) {
			return h.findNote(ctx, number, marker, me)
		},
		Body: func(n *gl.Note) string { return n.Body },
		Edit: func(ctx context.Context, n *gl.Note, body string) (*gl.Note, error) {
			// PUT is idempotent: the retrying client repeats it after a 5xx.
			updated, _, err := h.client.Notes.UpdateMergeRequestNote(h.project, number, n.ID, &gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
			if err != nil {
				return nil, fmt.Errorf("failed to update note %d on !%d: %w", n.ID, number, err)
			}
			return updated, nil
		},
		Create: func(ctx context.Context, body string) (*gl.Note, error) {
			n, _, err := h.client.Notes.CreateMergeRequestNote(h.project, number, &gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
			return n, err
		},
		Result: func(n *gl.Note, created bool) *scm.Comment {
			return h.comment(number, n.ID, created)
		},
		UnknownOutcome: unknownOutcome,
		Pause:          h.pause,
		MaxCreates:     maxCreates,
		Where:          fmt.Sprintf("!%d", number),
	})
}

func (h *Host) comment(mr, id int, created bool) *scm.Comment {
	h.mu.Lock()
	web := h.webURL
	h.mu.Unlock()
	return &scm.Comment{
		ID:      int64(id),
		URL:     fmt.Sprintf("%s/-/merge_requests/%d#note_%d", web, mr, id),
		Created: created,
	}
}

// whoami returns the token user's username (GET /user).
func (h *Host) whoami(ctx context.Context) (string, error) {
	h.mu.Lock()
	name := h.username
	h.mu.Unlock()
	if name != "" {
		return name, nil
	}
	if h.jobToken {
		return "", errors.New("a CI_JOB_TOKEN cannot comment on merge requests: give podium a project or personal access token in GITLAB_TOKEN")
	}
	u, _, err := h.client.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("failed to identify the token's user: %w", err)
	}
	if u.Username == "" {
		return "", errors.New("failed to identify the token's user: GET /user returned no username")
	}
	h.mu.Lock()
	h.username = u.Username
	h.mu.Unlock()
	return u.Username, nil
}

// findNote returns the oldest note on MR iid that holds marker and is
// authored by me; system notes and everyone else's are ignored.
func (h *Host) findNote(ctx context.Context, iid int, marker, me string) (*gl.Note, error) {
	opts := &gl.ListMergeRequestNotesOptions{
		ListOptions: gl.ListOptions{PerPage: 100, Page: 1},
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}
	seen := map[int]bool{}
	for range maxNotePages {
		notes, resp, err := h.client.Notes.ListMergeRequestNotes(h.project, iid, opts, gl.WithContext(ctx))
		if err != nil {
			if statusOf(err) == http.StatusNotFound {
				return nil, fmt.Errorf("merge request !%d not found in %s", iid, h.project)
			}
			return nil, fmt.Errorf("failed to list the notes on !%d: %w", iid, err)
		}
		for _, n := range notes {
			if !n.System && strings.EqualFold(n.Author.Username, me) && strings.Contains(n.Body, marker) {
				return n, nil
			}
		}
		seen[opts.Page] = true
		if resp.NextPage == 0 || seen[resp.NextPage] {
			return nil, nil // the last page, or a link back to a page read
		}
		opts.Page = resp.NextPage
	}
	return nil, fmt.Errorf("failed to find podium's note on !%d: more than %d pages of notes", iid, maxNotePages)
}
