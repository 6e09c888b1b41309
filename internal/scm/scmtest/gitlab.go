package scmtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// GitLabOptions configure a fake GitLab. Zero fields take the defaults
// shown.
type GitLabOptions struct {
	ProjectID     int    // 42
	Path          string // "acme/models"
	DefaultBranch string // "main"
	Token         string // a personal/project token: "glpat-CANARY" + 20 characters
	JobToken      string // CI_JOB_TOKEN: "glcbt-CANARY" + 20 characters
	// TriggerToken is a pipeline trigger token ("glptt-CANARY..."); the
	// job token triggers pipelines too.
	TriggerToken string
	Username     string // the token's user: "podium-bot"
	// Bot makes the token's user a bot user, as a project or group access
	// token's is (GET /user says "bot": true).
	Bot bool
	// Files is the first commit of the default branch; {"README.md": ...}
	// when nil.
	Files map[string]string
	// Clock dates commits and rate-limit resets; a new fake Clock when nil.
	Clock interface{ Now() time.Time }
}

// GitLab is a fake GitLab REST API (under /api/v4) for one project. See
// NewGitLab for what it serves.
type GitLab struct {
	core
	ProjectID    int
	Path         string
	Token        string
	JobToken     string
	TriggerToken string
	Username     string

	opts GitLabOptions
	// removeSource holds the MRs that delete their branch when merged.
	removeSource map[int]bool
}

// NewGitLab starts a fake GitLab on 127.0.0.1, stopped when the test ends.
// It serves, under /api/v4, with the project addressed by id or by its
// URL-encoded path: GET /user; GET the project; branches; repository
// files (HEAD, metadata, raw); the commits API with actions, start_branch,
// start_sha and force; merge requests (list, create, get, update); MR
// notes; commit statuses; pipeline create and trigger. It checks the
// PRIVATE-TOKEN (or Authorization: Bearer) and JOB-TOKEN headers, limits
// the job token to what GitLab lets it do, and answers errors as GitLab
// does: 409 "Another open merge request already exists for this source
// branch: !1", 400 "A file with this name already exists", 400 "Cannot
// transition status via :run from :running".
func NewGitLab(t testing.TB, opts GitLabOptions) *GitLab {
	t.Helper()
	if opts.ProjectID == 0 {
		opts.ProjectID = 42
	}
	if opts.Path == "" {
		opts.Path = "acme/models"
	}
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	if opts.Token == "" {
		opts.Token = "glpat-CANARY" + strings.Repeat("0123456789", 2)
	}
	if opts.JobToken == "" {
		opts.JobToken = "glcbt-CANARY" + strings.Repeat("9876543210", 2)
	}
	if opts.Username == "" {
		opts.Username = "podium-bot"
	}
	if opts.Files == nil {
		opts.Files = map[string]string{"README.md": "# models\n"}
	}
	if opts.Clock == nil {
		opts.Clock = NewClock()
	}
	g := &GitLab{
		ProjectID: opts.ProjectID, Path: opts.Path, Token: opts.Token, JobToken: opts.JobToken,
		TriggerToken: opts.TriggerToken, Username: opts.Username,
		opts:         opts,
		removeSource: map[int]bool{},
	}
	g.state = newState(2000)
	g.prefix = "/api/v4"
	g.resetHeaders = [2]string{"Ratelimit-Remaining", "Ratelimit-Reset"}
	g.errBody = func(msg string) string {
		data, _ := json.Marshal(map[string]string{"message": msg})
		return string(data)
	}
	g.auth = g.authorized
	g.route = g.serveAPI
	g.start(t, opts.DefaultBranch, opts.Files, opts.Clock)
	return g
}

// Env returns the environment a podium process needs to reach the fake
// with the personal token: CI_API_V4_URL, CI_PROJECT_ID, GITLAB_TOKEN.
func (g *GitLab) Env() []string {
	return []string{
		"CI_API_V4_URL=" + g.URL,
		"CI_PROJECT_ID=" + strconv.Itoa(g.ProjectID),
		"CI_PROJECT_PATH=" + g.Path,
		"GITLAB_TOKEN=" + g.Token,
	}
}

// JobEnv is Env with CI_JOB_TOKEN instead of GITLAB_TOKEN.
func (g *GitLab) JobEnv() []string {
	env := g.Env()
	env[len(env)-1] = "CI_JOB_TOKEN=" + g.JobToken
	return env
}

// caller is who a request authenticates as.
type caller int

const (
	anonymous caller = iota
	user
	job
)

func (g *GitLab) caller(r *http.Request) caller {
	switch {
	case r.Header.Get("Private-Token") == g.Token, r.Header.Get("Authorization") == "Bearer "+g.Token:
		return user
	case r.Header.Get("Job-Token") == g.JobToken:
		return job
	}
	return anonymous
}

func (g *GitLab) authorized(r *http.Request) bool {
	// The trigger API authenticates with the token in the body.
	return g.caller(r) != anonymous || strings.HasSuffix(r.URL.Path, "/trigger/pipeline")
}

// MergeRequests returns every MR, by IID.
func (g *GitLab) MergeRequests() []PullRequest { return g.pullViews() }

// Notes returns the notes on MR iid, oldest first.
func (g *GitLab) Notes(iid int) []Comment { return g.commentsOn(iid) }

// AddNote posts a note on MR iid as author and returns its id; system
// notes are what GitLab writes itself ("added 1 commit").
func (g *GitLab) AddNote(iid int, author, body string, system bool) int64 {
	return g.postComment(iid, Comment{Author: author, Body: body, System: system})
}

// Pipelines returns the pipelines created or triggered.
func (g *GitLab) Pipelines() []Dispatch { return g.runList() }

// Merge merges MR iid into its target branch with a real merge commit, as
// the merge button does, and deletes the source branch when the MR asked
// for that (remove_source_branch); it returns the merge commit.
func (g *GitLab) Merge(t testing.TB, iid int) string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	mr := g.pull(iid)
	if mr == nil || mr.State != "opened" {
		t.Fatalf("scmtest: no open merge request !%d", iid)
	}
	msg := fmt.Sprintf("Merge branch '%s' into '%s'\n\n%s\n\nSee merge request %s!%d", mr.Head, mr.Base, mr.Title, g.Path, iid)
	sha, err := g.repo.merge(mr.Base, mr.Head, msg, g.Username)
	if err != nil {
		t.Fatal(err)
	}
	mr.State, mr.Merged, mr.HeadSHA = "merged", true, g.repo.branchHead(mr.Head)
	if g.removeSource[iid] {
		if _, err := g.repo.git(nil, nil, "update-ref", "-d", "refs/heads/"+mr.Head); err != nil {
			t.Fatal(err)
		}
	}
	return sha
}

// OpenMR opens a merge request by alice from branch (created from the
// default branch with files as one commit; with files nil, a branch that
// exists as it is) into the default branch, as a
// person would, whatever the fake's tokens may do; it returns its IID and
// head commit.
func (g *GitLab) OpenMR(t testing.TB, branch string, files map[string]string) (int, string) {
	t.Helper()
	return g.openPull(t, branch, files, "opened")
}

func (g *GitLab) serveAPI(w http.ResponseWriter, r *http.Request, segs []string) {
	m := r.Method
	who := g.caller(r)
	if len(segs) == 1 && segs[0] == "user" && m == "GET" {
		if who != user {
			g.writeError(w, http.StatusUnauthorized, "401 Unauthorized")
			return
		}
		g.writeJSON(w, http.StatusOK, map[string]any{"id": 7, "username": g.Username, "name": "Podium Bot", "state": "active", "bot": g.opts.Bot})
		return
	}
	if len(segs) < 2 || segs[0] != "projects" || (segs[1] != strconv.Itoa(g.ProjectID) && segs[1] != g.Path) {
		g.writeError(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	rest := segs[2:]
	at := func(i int, s string) bool { return len(rest) > i && rest[i] == s }
	// What CI_JOB_TOKEN may do: read the project and its files, trigger;
	// never merge requests or their notes, not even to read them.
	jobAllowed := (m == "GET" || m == "HEAD") && !at(0, "merge_requests") || (at(0, "trigger") && at(1, "pipeline"))
	if who == job && !jobAllowed {
		g.writeError(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	switch {
	case len(rest) == 0 && m == "GET":
		g.getProject(w)
	case at(0, "repository") && at(1, "branches") && len(rest) == 3 && m == "GET":
		g.getBranch(w, rest[2])
	case at(0, "repository") && at(1, "files") && len(rest) == 4 && at(3, "raw") && m == "GET":
		g.rawFile(w, r, rest[2])
	case at(0, "repository") && at(1, "files") && len(rest) == 3 && (m == "GET" || m == "HEAD"):
		g.fileMeta(w, r, rest[2])
	case at(0, "repository") && at(1, "commits") && len(rest) == 2 && m == "POST":
		g.createCommit(w, r)
	case at(0, "merge_requests") && len(rest) == 1 && m == "GET":
		g.listMRs(w, r)
	case at(0, "merge_requests") && len(rest) == 1 && m == "POST":
		g.createMR(w, r)
	case at(0, "merge_requests") && len(rest) == 2 && (m == "GET" || m == "PUT"):
		g.getOrUpdateMR(w, r, rest[1])
	case at(0, "merge_requests") && at(2, "notes") && len(rest) == 3 && m == "GET":
		g.listNotes(w, r, rest[1])
	case at(0, "merge_requests") && at(2, "notes") && len(rest) == 3 && m == "POST":
		g.createNote(w, r, rest[1])
	case at(0, "merge_requests") && at(2, "notes") && len(rest) == 4 && m == "PUT":
		g.updateNote(w, r, rest[1], rest[3])
	case at(0, "merge_requests") && at(2, "notes") && len(rest) == 4 && m == "DELETE":
		g.deleteNote(w, rest[1], rest[3])
	case at(0, "statuses") && len(rest) == 2 && m == "POST":
		g.setStatus(w, r, rest[1])
	case at(0, "pipeline") && len(rest) == 1 && m == "POST":
		g.createPipeline(w, r)
	case at(0, "trigger") && at(1, "pipeline") && len(rest) == 2 && m == "POST":
		g.triggerPipeline(w, r)
	default:
		g.writeError(w, http.StatusNotFound, "404 Not Found")
	}
}

func (g *GitLab) webURL(parts ...string) string {
	return g.srv.URL + "/" + g.Path + "/-/" + strings.Join(parts, "/")
}

func (g *GitLab) getProject(w http.ResponseWriter) {
	g.writeJSON(w, http.StatusOK, map[string]any{
		"id": g.ProjectID, "path_with_namespace": g.Path, "default_branch": g.defaultBranch,
		"web_url": g.srv.URL + "/" + g.Path,
	})
}

func (g *GitLab) commitJSON(info commitInfo) map[string]any {
	title, _, _ := strings.Cut(info.Message, "\n")
	return map[string]any{
		"id": info.SHA, "short_id": info.SHA[:8], "title": title, "message": info.Message,
		"parent_ids": emptyIfNil(info.Parents), "author_name": info.Author,
		"web_url": g.webURL("commit", info.SHA),
	}
}

func (g *GitLab) getBranch(w http.ResponseWriter, name string) {
	sha := g.repo.branchHead(name)
	if sha == "" {
		g.writeError(w, http.StatusNotFound, "404 Branch Not Found")
		return
	}
	info, _ := g.repo.commit(sha)
	g.writeJSON(w, http.StatusOK, map[string]any{
		"name": name, "default": name == g.defaultBranch, "commit": g.commitJSON(info),
		"web_url": g.webURL("tree", name),
	})
}

func (g *GitLab) fileRef(w http.ResponseWriter, r *http.Request) (string, bool) {
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = g.defaultBranch
	}
	commit := g.repo.resolve(ref)
	if commit == "" {
		g.writeError(w, http.StatusNotFound, "404 Commit Not Found")
		return "", false
	}
	return commit, true
}

// fileAt reads path at the request's ref, answering 404 when it is not
// there.
func (g *GitLab) fileAt(w http.ResponseWriter, r *http.Request, path string) (commit string, data []byte, ok bool) {
	if commit, ok = g.fileRef(w, r); !ok {
		return "", nil, false
	}
	if data, ok = g.repo.readFile(commit, path); !ok {
		g.writeError(w, http.StatusNotFound, "404 File Not Found")
	}
	return commit, data, ok
}

func (g *GitLab) rawFile(w http.ResponseWriter, r *http.Request, path string) {
	_, data, ok := g.fileAt(w, r, path)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

func (g *GitLab) fileMeta(w http.ResponseWriter, r *http.Request, path string) {
	commit, data, ok := g.fileAt(w, r, path)
	if !ok {
		return
	}
	sum := sha256.Sum256(data)
	h := w.Header()
	h.Set("X-Gitlab-File-Path", path)
	h.Set("X-Gitlab-File-Name", path[strings.LastIndex(path, "/")+1:])
	h.Set("X-Gitlab-Size", strconv.Itoa(len(data)))
	h.Set("X-Gitlab-Encoding", "base64")
	h.Set("X-Gitlab-Ref", r.URL.Query().Get("ref"))
	h.Set("X-Gitlab-Blob-Id", g.repo.blobSHA(commit, path))
	h.Set("X-Gitlab-Commit-Id", commit)
	h.Set("X-Gitlab-Last-Commit-Id", commit)
	h.Set("X-Gitlab-Content-Sha256", hex.EncodeToString(sum[:]))
	if r.Method == "HEAD" {
		w.WriteHeader(http.StatusOK)
		return
	}
	g.writeJSON(w, http.StatusOK, map[string]any{
		"file_path": path, "file_name": h.Get("X-Gitlab-File-Name"), "size": len(data),
		"encoding": "base64", "content": base64.StdEncoding.EncodeToString(data),
		"content_sha256": hex.EncodeToString(sum[:]), "ref": h.Get("X-Gitlab-Ref"),
		"blob_id": h.Get("X-Gitlab-Blob-Id"), "commit_id": commit, "last_commit_id": commit,
	})
}

// commitRequest is the body of POST /projects/:id/repository/commits.
type commitRequest struct {
	Branch        string         `json:"branch"`
	CommitMessage string         `json:"commit_message"`
	StartBranch   string         `json:"start_branch"`
	StartSHA      string         `json:"start_sha"`
	Force         bool           `json:"force"`
	Actions       []commitAction `json:"actions"`
}

type commitAction struct {
	Action   string `json:"action"`
	FilePath string `json:"file_path"`
	Content  string `json:"content"`
	Encoding string `json:"encoding"`
}

// apiError is an error response GitLab would send.
type apiError struct {
	status int
	msg    string
}

func badRequest(msg string) *apiError { return &apiError{http.StatusBadRequest, msg} }

func (g *GitLab) createCommit(w http.ResponseWriter, r *http.Request) {
	var in commitRequest
	if !g.decode(w, r, &in) {
		return
	}
	current, parent, aerr := g.commitParent(&in)
	var edits []treeEdit
	if aerr == nil {
		edits, aerr = g.commitEdits(parent, in.Actions)
	}
	var sha string
	if aerr == nil {
		sha, aerr = g.commitOn(in, current, parent, edits)
	}
	if aerr != nil {
		g.writeError(w, aerr.status, aerr.msg)
		return
	}
	created, _ := g.repo.commit(sha)
	g.writeJSON(w, http.StatusCreated, g.commitJSON(created))
}

// commitParent checks the request and returns the branch's head ("" when
// the branch is new) and the commit the new one goes on.
func (g *GitLab) commitParent(in *commitRequest) (current, parent string, _ *apiError) {
	switch {
	case in.Branch == "":
		return "", "", badRequest("branch is missing")
	case in.CommitMessage == "":
		return "", "", badRequest("commit_message is missing")
	case len(in.Actions) == 0:
		return "", "", badRequest("actions is missing")
	case in.StartBranch != "" && in.StartSHA != "":
		return "", "", badRequest("start_branch, start_sha are mutually exclusive")
	case !g.repo.validRef(in.Branch):
		return "", "", badRequest("Branch name is invalid")
	}
	current = g.repo.branchHead(in.Branch)
	start := ""
	switch {
	case in.StartSHA != "":
		if start = g.repo.resolve(in.StartSHA); start == "" || !isHex(in.StartSHA) {
			return "", "", badRequest("Invalid start sha")
		}
	case in.StartBranch != "" && in.StartBranch != in.Branch:
		if start = g.repo.branchHead(in.StartBranch); start == "" {
			return "", "", badRequest("Invalid start branch")
		}
	}
	switch {
	case current != "" && start != "" && !in.Force:
		return "", "", badRequest(fmt.Sprintf("A branch called '%s' already exists. Switch to that branch in order to make changes", in.Branch))
	case start != "":
		return current, start, nil
	case current == "":
		return "", "", badRequest("You can only create or edit files when you are on a branch")
	}
	return current, current, nil
}

// commitEdits turns the actions into tree edits on parent.
func (g *GitLab) commitEdits(parent string, actions []commitAction) ([]treeEdit, *apiError) {
	var edits []treeEdit
	for _, a := range actions {
		if !validPath(a.FilePath) {
			return nil, badRequest("Your changes could not be committed, because the file path is invalid")
		}
		exists := g.repo.blobSHA(parent, a.FilePath) != ""
		content := []byte(a.Content)
		if a.Encoding == "base64" {
			var err error
			if content, err = base64.StdEncoding.DecodeString(a.Content); err != nil {
				return nil, badRequest("Invalid base64")
			}
		}
		switch {
		case a.Action == "create" && exists:
			return nil, badRequest("A file with this name already exists")
		case (a.Action == "update" || a.Action == "delete") && !exists:
			return nil, badRequest("A file with this name doesn't exist")
		case a.Action == "create" || a.Action == "update":
			edits = append(edits, treeEdit{Path: a.FilePath, Content: content})
		case a.Action == "delete":
			edits = append(edits, treeEdit{Path: a.FilePath, Delete: true})
		default:
			return nil, badRequest("actions[action] does not have a valid value")
		}
	}
	return edits, nil
}

// commitOn writes the commit on parent and moves the branch from current
// to it.
func (g *GitLab) commitOn(in commitRequest, current, parent string, edits []treeEdit) (string, *apiError) {
	info, _ := g.repo.commit(parent)
	tree, err := g.repo.buildTree(info.Tree, edits)
	if err != nil {
		return "", &apiError{http.StatusInternalServerError, err.Error()}
	}
	sha, err := g.repo.commitTree(tree, []string{parent}, in.CommitMessage, g.Username)
	if err != nil {
		return "", &apiError{http.StatusInternalServerError, err.Error()}
	}
	if err := g.repo.updateRef("refs/heads/"+in.Branch, sha, current); err != nil {
		return "", badRequest("Could not update the branch: it changed meanwhile")
	}
	return sha, nil
}

func (g *GitLab) mrJSON(mr *PullRequest) map[string]any {
	return map[string]any{
		"id": 900000 + mr.Number, "iid": mr.Number, "project_id": g.ProjectID,
		"title": mr.Title, "description": mr.Body, "state": mr.State,
		"source_branch": mr.Head, "target_branch": mr.Base,
		"labels": emptyIfNil(slices.Clone(mr.Labels)), "sha": g.repo.branchHead(mr.Head),
		"web_url": g.srv.URL + "/" + g.Path + "/-/merge_requests/" + strconv.Itoa(mr.Number),
		"author":  map[string]any{"username": mr.Author},
	}
}

func (g *GitLab) listMRs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "all"
	}
	var out []map[string]any
	for i := len(g.pulls) - 1; i >= 0; i-- {
		mr := g.pulls[i]
		if (state != "all" && mr.State != state) ||
			(q.Get("source_branch") != "" && q.Get("source_branch") != mr.Head) ||
			(q.Get("target_branch") != "" && q.Get("target_branch") != mr.Base) {
			continue
		}
		out = append(out, g.mrJSON(mr))
	}
	g.writeJSON(w, http.StatusOK, emptyIfNil(paginate(w, r, out, 20)))
}

// labelList reads GitLab's labels: "a,b" or ["a","b"].
func labelList(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		return nil
	}
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" {
			list = append(list, l)
		}
	}
	return list
}

func (g *GitLab) createMR(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SourceBranch string          `json:"source_branch"`
		TargetBranch string          `json:"target_branch"`
		Title        string          `json:"title"`
		Description  string          `json:"description"`
		Labels       json.RawMessage `json:"labels"`
		RemoveSource bool            `json:"remove_source_branch"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	switch {
	case in.Title == "":
		g.writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"title": []string{"can't be blank"}}})
		return
	case g.repo.branchHead(in.SourceBranch) == "":
		g.writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"source_branch": []string{"is invalid"}}})
		return
	case g.repo.branchHead(in.TargetBranch) == "":
		g.writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"target_branch": []string{"is invalid"}}})
		return
	}
	for _, mr := range g.pulls {
		if mr.State == "opened" && mr.Head == in.SourceBranch && mr.Base == in.TargetBranch {
			g.writeJSON(w, http.StatusConflict, map[string]any{"message": []string{
				fmt.Sprintf("Another open merge request already exists for this source branch: !%d", mr.Number)}})
			return
		}
	}
	mr := &PullRequest{
		Title: in.Title, Body: in.Description, Head: in.SourceBranch, Base: in.TargetBranch,
		State: "opened", Labels: labelList(in.Labels), Author: g.Username,
	}
	g.addPull(mr)
	g.removeSource[mr.Number] = in.RemoveSource
	g.writeJSON(w, http.StatusCreated, g.mrJSON(mr))
}

func (g *GitLab) getOrUpdateMR(w http.ResponseWriter, r *http.Request, iidStr string) {
	iid, _ := strconv.Atoi(iidStr)
	mr := g.pull(iid)
	if mr == nil {
		g.writeError(w, http.StatusNotFound, "404 Not found")
		return
	}
	if r.Method == "PUT" {
		var in struct {
			Title       *string         `json:"title"`
			Description *string         `json:"description"`
			Labels      json.RawMessage `json:"labels"`
			AddLabels   json.RawMessage `json:"add_labels"`
			StateEvent  string          `json:"state_event"`
		}
		if !g.decode(w, r, &in) {
			return
		}
		if in.Title != nil {
			mr.Title = *in.Title
		}
		if in.Description != nil {
			mr.Body = *in.Description
		}
		if in.Labels != nil {
			mr.Labels = labelList(in.Labels)
		}
		for _, l := range labelList(in.AddLabels) {
			if !slices.Contains(mr.Labels, l) {
				mr.Labels = append(mr.Labels, l)
			}
		}
		switch {
		case in.StateEvent == "close" && mr.State == "opened":
			mr.State = "closed"
		case in.StateEvent == "reopen" && mr.State == "closed":
			mr.State = "opened"
		}
	}
	g.writeJSON(w, http.StatusOK, g.mrJSON(mr))
}

func (g *GitLab) noteJSON(iid int, n *Comment) map[string]any {
	created := g.clock.Now().UTC().Add(time.Duration(n.ID) * time.Millisecond).Format(time.RFC3339)
	return map[string]any{
		"id": n.ID, "body": n.Body, "system": n.System, "noteable_iid": iid, "noteable_type": "MergeRequest",
		"author":     map[string]any{"id": len(n.Author), "username": n.Author, "name": n.Author, "state": "active"},
		"created_at": created, "updated_at": created, "internal": false, "resolvable": false,
	}
}

func (g *GitLab) listNotes(w http.ResponseWriter, r *http.Request, iidStr string) {
	iid, _ := strconv.Atoi(iidStr)
	if g.pull(iid) == nil {
		g.writeError(w, http.StatusNotFound, "404 Not found")
		return
	}
	notes := slices.Clone(g.comments[iid])
	// GitLab lists the newest first unless asked otherwise.
	sort.SliceStable(notes, func(i, j int) bool {
		if r.URL.Query().Get("sort") == "asc" {
			return notes[i].ID < notes[j].ID
		}
		return notes[i].ID > notes[j].ID
	})
	var out []map[string]any
	for _, n := range notes {
		out = append(out, g.noteJSON(iid, n))
	}
	g.writeJSON(w, http.StatusOK, emptyIfNil(paginate(w, r, out, 20)))
}

func (g *GitLab) createNote(w http.ResponseWriter, r *http.Request, iidStr string) {
	iid, _ := strconv.Atoi(iidStr)
	if g.pull(iid) == nil {
		g.writeError(w, http.StatusNotFound, "404 Not found")
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if in.Body == "" || len([]rune(in.Body)) > 1000000 {
		g.writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"note": []string{"can't be blank"}}})
		return
	}
	n := g.addComment(iid, &Comment{Author: g.Username, Body: in.Body})
	g.writeJSON(w, http.StatusCreated, g.noteJSON(iid, n))
}

func (g *GitLab) updateNote(w http.ResponseWriter, r *http.Request, iidStr, idStr string) {
	iid, _ := strconv.Atoi(iidStr)
	id, _ := strconv.ParseInt(idStr, 10, 64)
	var in struct {
		Body string `json:"body"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	for _, n := range g.comments[iid] {
		if n.ID == id {
			if n.Author != g.Username {
				g.writeError(w, http.StatusForbidden, "403 Forbidden")
				return
			}
			n.Body = in.Body
			g.writeJSON(w, http.StatusOK, g.noteJSON(iid, n))
			return
		}
	}
	g.writeError(w, http.StatusNotFound, "404 Not found")
}

func (g *GitLab) deleteNote(w http.ResponseWriter, iidStr, idStr string) {
	iid, _ := strconv.Atoi(iidStr)
	id, _ := strconv.ParseInt(idStr, 10, 64)
	for i, n := range g.comments[iid] {
		if n.ID == id {
			if n.Author != g.Username {
				g.writeError(w, http.StatusForbidden, "403 Forbidden")
				return
			}
			g.comments[iid] = slices.Delete(g.comments[iid], i, i+1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	g.writeError(w, http.StatusNotFound, "404 Not found")
}

// statusEvents are the state-machine events GitLab names in its
// "Cannot transition status" error.
var statusEvents = map[string]string{
	"pending": "enqueue", "running": "run", "success": "succeed", "failed": "drop",
	"canceled": "cancel", "skipped": "skip",
}

func (g *GitLab) setStatus(w http.ResponseWriter, r *http.Request, sha string) {
	var in struct {
		State       string `json:"state"`
		Name        string `json:"name"`
		Context     string `json:"context"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if g.repo.objectType(sha) != "commit" {
		g.writeError(w, http.StatusNotFound, "404 References for commit Not Found")
		return
	}
	event, ok := statusEvents[in.State]
	if !ok {
		g.writeJSON(w, http.StatusBadRequest, map[string]any{"error": "state does not have a valid value"})
		return
	}
	name := in.Name
	if name == "" {
		name = in.Context
	}
	if name == "" {
		name = "default"
	}
	list := g.statuses[sha]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Context == name {
			if list[i].State == in.State {
				g.writeError(w, http.StatusBadRequest, fmt.Sprintf("Cannot transition status via :%s from :%s", event, list[i].State))
				return
			}
			break
		}
	}
	st := CommitStatus{Context: name, State: in.State, Description: in.Description, TargetURL: in.TargetURL, Author: g.Username}
	id := g.addStatus(sha, st)
	g.writeJSON(w, http.StatusCreated, map[string]any{
		"id": id, "sha": sha, "status": st.State, "name": st.Context,
		"description": st.Description, "target_url": st.TargetURL,
	})
}

func (g *GitLab) pipelineJSON(run Dispatch, sha string) map[string]any {
	return map[string]any{
		"id": run.ID, "iid": len(g.runs), "project_id": g.ProjectID, "ref": run.Ref, "sha": sha,
		"status": "created", "web_url": g.webURL("pipelines", strconv.FormatInt(run.ID, 10)),
	}
}

func (g *GitLab) createPipeline(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ref       string `json:"ref"`
		Variables []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"variables"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	sha := g.repo.branchHead(in.Ref)
	if sha == "" {
		g.writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"base": []string{"Reference not found"}}})
		return
	}
	vars := map[string]string{}
	for _, v := range in.Variables {
		vars[v.Key] = v.Value
	}
	run := g.addRun(Dispatch{Workflow: "pipeline", Ref: in.Ref, Inputs: vars})
	g.writeJSON(w, http.StatusCreated, g.pipelineJSON(run, sha))
}

func (g *GitLab) triggerPipeline(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ref       string            `json:"ref"`
		Token     string            `json:"token"`
		Variables map[string]string `json:"variables"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if !g.decode(w, r, &in) {
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			g.writeError(w, http.StatusBadRequest, "bad form")
			return
		}
		in.Ref, in.Token = r.PostForm.Get("ref"), r.PostForm.Get("token")
		in.Variables = map[string]string{}
		for k, vs := range r.PostForm {
			if name, ok := strings.CutPrefix(k, "variables["); ok && strings.HasSuffix(name, "]") {
				in.Variables[strings.TrimSuffix(name, "]")] = vs[0]
			}
		}
	}
	if in.Token == "" || (in.Token != g.JobToken && in.Token != g.TriggerToken) {
		g.writeError(w, http.StatusNotFound, "404 Not Found")
		return
	}
	sha := g.repo.branchHead(in.Ref)
	if sha == "" {
		g.writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"base": []string{"Reference not found"}}})
		return
	}
	if in.Variables == nil {
		in.Variables = map[string]string{}
	}
	run := g.addRun(Dispatch{Workflow: "trigger", Ref: in.Ref, Inputs: in.Variables, Triggered: true})
	g.writeJSON(w, http.StatusCreated, g.pipelineJSON(run, sha))
}
