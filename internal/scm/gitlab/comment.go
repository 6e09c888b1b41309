package gitlab

import (
	"context"
	"encoding/json"
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

// noteNeed is what a token needs to write merge request notes.
const noteNeed = "set GITLAB_TOKEN to a project access token (role Reporter or above) with the api scope; " +
	"a CI_JOB_TOKEN cannot write notes or merge requests"

// UpsertComment edits podium's note on MR number (its IID) — the oldest
// note that holds marker and is authored by the token's user — or creates
// it. body gets marker prepended when it does not hold it already.
func (h *Host) UpsertComment(ctx context.Context, number int, marker, body string) (_ *scm.Comment, err error) {
	defer h.hooks.Clean(&err)
	where := fmt.Sprintf("!%d", number)
	if h.jobToken {
		// GitLab refuses notes to a job token (403): say so before any
		// request, since the job token cannot even tell who it is.
		return nil, &scm.PermissionError{Action: "comment on merge request " + where, Need: noteNeed}
	}
	return scm.Upsert(ctx, marker, body, scm.CommentSteps[*gl.Note]{
		Whoami: func(ctx context.Context) (scm.Identity, error) {
			me, err := h.whoami(ctx)
			if err != nil {
				return scm.Identity{}, err
			}
			// A note's URL is built from the project's web URL, which
			// loadProject reads once.
			return scm.Identity{Login: me}, h.loadProject(ctx)
		},
		List: func(ctx context.Context) ([]*gl.Note, error) {
			return h.listNotes(ctx, number)
		},
		Mine: func(n *gl.Note, me scm.Identity) bool {
			return !n.System && me.Login != "" && strings.EqualFold(n.Author.Username, me.Login)
		},
		Author: func(n *gl.Note) scm.Identity { return scm.Identity{Login: n.Author.Username} },
		ID:     func(n *gl.Note) int64 { return int64(n.ID) },
		Body:   func(n *gl.Note) string { return n.Body },
		Edit: func(ctx context.Context, n *gl.Note, body string) (*gl.Note, error) {
			// PUT is idempotent: the retrying client repeats it after a 5xx.
			updated, _, err := h.client.Notes.UpdateMergeRequestNote(h.project, number, n.ID, &gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
			if err != nil {
				return nil, forbidden(fmt.Errorf("failed to update note %d on %s: %w", n.ID, where, err), "edit notes on merge request "+where, noteNeed)
			}
			return updated, nil
		},
		Create: func(ctx context.Context, body string) (*gl.Note, error) {
			n, _, err := h.client.Notes.CreateMergeRequestNote(h.project, number, &gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
			return n, forbidden(err, "comment on merge request "+where, noteNeed)
		},
		Delete: func(ctx context.Context, n *gl.Note) error {
			_, err := h.client.Notes.DeleteMergeRequestNote(h.project, number, n.ID, gl.WithContext(ctx))
			if statusOf(err) == http.StatusNotFound {
				return nil
			}
			return forbidden(err, "delete notes on merge request "+where, noteNeed)
		},
		Result: func(n *gl.Note, created bool) *scm.Comment {
			return h.comment(number, n.ID, created)
		},
		UnknownOutcome: unknownOutcome,
		Pause:          h.hooks.Pause,
		MaxCreates:     maxCreates,
		Where:          where,
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

// whoami returns the username podium's notes are authored by: the
// configured BotLogin, else the token user's (GET /user). A project or
// group access token is a bot user of its own ("project_42_bot_…").
func (h *Host) whoami(ctx context.Context) (string, error) {
	h.mu.Lock()
	name := h.username
	h.mu.Unlock()
	if name != "" {
		return name, nil
	}
	u, _, err := h.client.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return "", forbidden(fmt.Errorf("failed to identify the token's user: %w", err), "read GET /user", noteNeed)
	}
	if u.Username == "" {
		return "", errors.New("failed to identify the token's user: GET /user returned no username")
	}
	h.mu.Lock()
	h.username = u.Username
	h.mu.Unlock()
	return u.Username, nil
}

// listNotes returns the notes on MR iid, oldest first.
func (h *Host) listNotes(ctx context.Context, iid int) ([]*gl.Note, error) {
	opts := &gl.ListMergeRequestNotesOptions{
		ListOptions: gl.ListOptions{PerPage: 100, Page: 1},
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}
	var all []*gl.Note
	seen := map[int]bool{}
	for range maxNotePages {
		notes, resp, err := h.client.Notes.ListMergeRequestNotes(h.project, iid, opts, gl.WithContext(ctx))
		if err != nil {
			if statusOf(err) == http.StatusNotFound {
				return nil, fmt.Errorf("merge request !%d not found in %s", iid, h.project)
			}
			return nil, forbidden(fmt.Errorf("failed to list the notes on !%d: %w", iid, err), "read notes on merge request !"+fmt.Sprint(iid), noteNeed)
		}
		all = append(all, notes...)
		seen[opts.Page] = true
		if resp.NextPage == 0 || seen[resp.NextPage] {
			return all, nil // the last page, or a link back to a page read
		}
		opts.Page = resp.NextPage
	}
	return nil, fmt.Errorf("failed to find podium's note on !%d: more than %d pages of notes", iid, maxNotePages)
}

// forbidden turns a 403 into a *scm.PermissionError saying what the
// token needs; the API's message is kept, its raw body is not. A 401 (a
// wrong or expired token) stays an error of its own.
func forbidden(err error, action, need string) error {
	status := statusOf(err)
	if err == nil || status != http.StatusForbidden {
		return err
	}
	var pe *scm.PermissionError
	if errors.As(err, &pe) {
		return err
	}
	return &scm.PermissionError{Action: action, Status: status, Message: shortMessage(err, status), Need: need, Err: err}
}

// shortMessage is the "message" (or "error") string of a GitLab error
// body without its leading status ("403 Forbidden" → "Forbidden"), or the
// status text: go-gitlab's own text is the body reformatted.
func shortMessage(err error, status int) string {
	var er *gl.ErrorResponse
	var body struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
	}
	msg := ""
	if errors.As(err, &er) && json.Unmarshal(er.Body, &body) == nil {
		if m, ok := body.Message.(string); ok {
			msg = m
		} else {
			msg = body.Error
		}
	}
	msg = strings.TrimSpace(strings.TrimPrefix(msg, fmt.Sprint(status)))
	if msg == "" || len(msg) > 200 {
		msg = http.StatusText(status)
	}
	return msg
}
