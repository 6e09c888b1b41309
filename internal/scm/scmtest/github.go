package scmtest

import (
	"encoding/base64"
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

// GitHubOptions configure a fake GitHub. Zero fields take the defaults
// shown.
type GitHubOptions struct {
	Owner, Repo   string // "octo", "models"
	DefaultBranch string // "main"
	Token         string // "ghs_CANARY" + 30 characters
	Login         string // the token's user: "podium-bot"
	// AppToken makes the token behave as a workflow's GITHUB_TOKEN: GET
	// /user answers 403 "Resource not accessible by integration" and what
	// it writes is authored by github-actions[bot], through the
	// github-actions App.
	AppToken bool
	// App makes the token a GitHub App's installation token, the App's
	// slug being App: GET /user answers 403 as for AppToken, and what it
	// writes is authored by "<App>[bot]" (user.type "Bot") with
	// performed_via_github_app naming the App.
	App string
	// ReadOnly makes the token the read-only GITHUB_TOKEN of a pull
	// request from a fork: GET /user answers 403 as for AppToken, and
	// every write answers 403 "Resource not accessible by integration".
	ReadOnly bool
	// Files is the first commit of the default branch; {"README.md": ...}
	// when nil.
	Files map[string]string
	// Workflows are the workflow files that exist: ["retrain.yml"].
	Workflows []string
	// Clock dates commits and rate-limit resets; a new fake Clock when nil.
	Clock interface{ Now() time.Time }
}

// GitHub is a fake GitHub REST API (GHES-style, under /api/v3) for one
// repository. See NewGitHub for what it serves.
type GitHub struct {
	core
	Owner, Repo string
	Token       string
	// Login is who the token acts as (github-actions[bot] for AppToken).
	Login string

	opts GitHubOptions
}

// NewGitHub starts a fake GitHub on 127.0.0.1, stopped when the test ends.
// It serves, under /api/v3: GET /user; GET /repos/{o}/{r}; contents (JSON
// or raw); git refs, commits, trees and blobs; pulls (list, create, get,
// update); issue labels and comments; commit statuses and the combined
// status; workflows and workflow_dispatch. It checks the token
// (Authorization: Bearer or token) and answers errors as GitHub does: 422
// "A pull request already exists for o:b.", "Reference already exists",
// "Update is not a fast forward", "No commits between ...".
func NewGitHub(t testing.TB, opts GitHubOptions) *GitHub {
	t.Helper()
	if opts.Owner == "" {
		opts.Owner = "octo"
	}
	if opts.Repo == "" {
		opts.Repo = "models"
	}
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	if opts.Token == "" {
		opts.Token = "ghs_CANARY" + strings.Repeat("0123456789", 3)
	}
	if opts.Login == "" {
		opts.Login = "podium-bot"
	}
	if opts.Files == nil {
		opts.Files = map[string]string{"README.md": "# models\n"}
	}
	if opts.Workflows == nil {
		opts.Workflows = []string{"retrain.yml"}
	}
	if opts.Clock == nil {
		opts.Clock = NewClock()
	}
	g := &GitHub{
		Owner: opts.Owner, Repo: opts.Repo, Token: opts.Token, Login: opts.Login,
		opts: opts,
	}
	g.state = newState(1000)
	switch {
	case opts.App != "":
		g.Login = opts.App + "[bot]"
	case opts.AppToken || opts.ReadOnly:
		g.Login = "github-actions[bot]"
	}
	g.prefix = "/api/v3"
	g.resetHeaders = [2]string{"X-Ratelimit-Remaining", "X-Ratelimit-Reset"}
	g.errBody = func(msg string) string {
		data, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
		return string(data)
	}
	g.auth = g.authorized
	g.route = g.serveAPI
	g.start(t, opts.DefaultBranch, opts.Files, opts.Clock)
	return g
}

// Env returns the environment a podium process needs to reach the fake:
// GITHUB_API_URL, GITHUB_REPOSITORY and GITHUB_TOKEN.
func (g *GitHub) Env() []string {
	return []string{
		"GITHUB_API_URL=" + g.URL,
		"GITHUB_REPOSITORY=" + g.Owner + "/" + g.Repo,
		"GITHUB_TOKEN=" + g.Token,
	}
}

func (g *GitHub) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	return h == "Bearer "+g.Token || h == "token "+g.Token
}

// PullRequests returns every PR, by number.
func (g *GitHub) PullRequests() []PullRequest { return g.pullViews() }

// Comments returns the comments on issue or PR number, oldest first.
func (g *GitHub) Comments(number int) []Comment { return g.commentsOn(number) }

// AddComment posts a comment as author (another user, or a spoof of
// podium's marker) and returns its id.
func (g *GitHub) AddComment(number int, author, body string) int64 {
	return g.postComment(number, Comment{Author: author, Body: body})
}

// Dispatches returns the workflow_dispatch events received.
func (g *GitHub) Dispatches() []Dispatch { return g.runList() }

// Merge merges PR number into its base branch with a real merge commit
// and closes it, as the merge button does; it returns the merge commit.
func (g *GitHub) Merge(t testing.TB, number int) string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.pull(number)
	if p == nil || p.State != "open" {
		t.Fatalf("scmtest: no open pull request #%d", number)
	}
	msg := fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s", number, g.Owner, p.Head, p.Title)
	sha, err := g.repo.merge(p.Base, p.Head, msg, "web-flow")
	if err != nil {
		t.Fatal(err)
	}
	p.State, p.Merged, p.HeadSHA = "closed", true, g.repo.branchHead(p.Head)
	return sha
}

// integrationToken reports a token GET /user refuses: GITHUB_TOKEN or
// an installation token.
func (g *GitHub) integrationToken() bool {
	return g.opts.AppToken || g.opts.App != "" || g.opts.ReadOnly
}

// notAccessible is GitHub's answer to a request the integration's token
// may not make.
func (g *GitHub) notAccessible(w http.ResponseWriter, doc string) {
	g.writeJSON(w, http.StatusForbidden, map[string]string{
		"message":           "Resource not accessible by integration",
		"documentation_url": "https://docs.github.com/rest/" + doc,
	})
}

// OpenPR opens a pull request by alice from branch (created from the
// default branch with files as one commit; with files nil, a branch that
// exists as it is) into the default branch, as a
// person would, whatever the fake's token may do; it returns its number
// and head commit.
func (g *GitHub) OpenPR(t testing.TB, branch string, files map[string]string) (int, string) {
	t.Helper()
	return g.openPull(t, branch, files, "open")
}

// OpenForkPR opens a pull request from branch of the fork owner/<repo>
// into the default branch: its head commit (files on top of the default
// branch) is only in refs/pull/N/head, as GitHub keeps a fork's head. It
// returns the number and the head commit.
func (g *GitHub) OpenForkPR(t testing.TB, owner, branch string, files map[string]string) (int, string) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	tmp := "scmtest-fork-" + owner + "-" + branch
	sha, err := g.repo.seed(tmp, g.defaultBranch, files, "Change "+branch)
	if err != nil {
		t.Fatal(err)
	}
	p := &PullRequest{Title: "Change " + branch, Head: branch, Base: g.defaultBranch, State: "open",
		Author: owner, HeadSHA: sha, HeadRepo: owner + "/" + g.Repo}
	g.addPull(p)
	for _, args := range [][]string{
		{"update-ref", fmt.Sprintf("refs/pull/%d/head", p.Number), sha},
		{"update-ref", "-d", "refs/heads/" + tmp},
	} {
		if _, err := g.repo.git(nil, nil, args...); err != nil {
			t.Fatal(err)
		}
	}
	return p.Number, sha
}

func (g *GitHub) serveAPI(w http.ResponseWriter, r *http.Request, segs []string) {
	m := r.Method
	if g.opts.ReadOnly && m != "GET" && m != "HEAD" {
		g.notAccessible(w, "issues/comments#create-an-issue-comment")
		return
	}
	if len(segs) == 1 && segs[0] == "user" && m == "GET" {
		g.getUser(w)
		return
	}
	if len(segs) < 3 || segs[0] != "repos" {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if segs[1] != g.Owner || segs[2] != g.Repo {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	rest := segs[3:]
	at := func(i int, s string) bool { return len(rest) > i && rest[i] == s }
	switch {
	case len(rest) == 0 && m == "GET":
		g.getRepo(w)
	case at(0, "contents") && len(rest) > 1 && m == "GET":
		g.getContents(w, r, strings.Join(rest[1:], "/"))
	case at(0, "git") && at(1, "ref") && len(rest) > 2 && m == "GET",
		at(0, "git") && at(1, "refs") && len(rest) > 2 && m == "GET":
		g.getRef(w, "refs/"+strings.Join(rest[2:], "/"))
	case at(0, "git") && at(1, "refs") && len(rest) > 2 && m == "PATCH":
		g.updateRef(w, r, "refs/"+strings.Join(rest[2:], "/"))
	case at(0, "git") && at(1, "refs") && len(rest) == 2 && m == "POST":
		g.createRef(w, r)
	case at(0, "git") && at(1, "commits") && len(rest) == 3 && m == "GET":
		g.getCommit(w, rest[2])
	case at(0, "git") && at(1, "commits") && len(rest) == 2 && m == "POST":
		g.createCommit(w, r)
	case at(0, "git") && at(1, "trees") && len(rest) == 2 && m == "POST":
		g.createTree(w, r)
	case at(0, "git") && at(1, "blobs") && len(rest) == 2 && m == "POST":
		g.createBlob(w, r)
	case at(0, "pulls") && len(rest) == 1 && m == "GET":
		g.listPulls(w, r)
	case at(0, "pulls") && len(rest) == 1 && m == "POST":
		g.createPull(w, r)
	case at(0, "pulls") && len(rest) == 2 && (m == "GET" || m == "PATCH"):
		g.getOrEditPull(w, r, rest[1])
	case at(0, "issues") && at(2, "labels") && len(rest) == 3 && m == "POST":
		g.addLabels(w, r, rest[1])
	case at(0, "issues") && at(2, "comments") && len(rest) == 3 && m == "GET":
		g.listComments(w, r, rest[1])
	case at(0, "issues") && at(2, "comments") && len(rest) == 3 && m == "POST":
		g.createComment(w, r, rest[1])
	case at(0, "issues") && at(1, "comments") && len(rest) == 3 && m == "PATCH":
		g.editComment(w, r, rest[2])
	case at(0, "issues") && at(1, "comments") && len(rest) == 3 && m == "DELETE":
		g.deleteComment(w, rest[2])
	case at(0, "statuses") && len(rest) == 2 && m == "POST":
		g.createStatus(w, r, rest[1])
	case at(0, "commits") && at(2, "status") && len(rest) == 3 && m == "GET":
		g.combinedStatus(w, rest[1])
	case at(0, "actions") && at(1, "workflows") && len(rest) == 3 && m == "GET":
		g.getWorkflow(w, rest[2])
	case at(0, "actions") && at(1, "workflows") && at(3, "dispatches") && len(rest) == 4 && m == "POST":
		g.dispatch(w, r, rest[2])
	default:
		g.writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (g *GitHub) webURL(parts ...string) string {
	return g.srv.URL + "/" + g.Owner + "/" + g.Repo + "/" + strings.Join(parts, "/")
}

func (g *GitHub) apiURL(parts ...string) string {
	return g.URL + "/repos/" + g.Owner + "/" + g.Repo + "/" + strings.Join(parts, "/")
}

func (g *GitHub) getUser(w http.ResponseWriter) {
	if g.integrationToken() {
		g.notAccessible(w, "users/users#get-the-authenticated-user")
		return
	}
	g.writeJSON(w, http.StatusOK, map[string]any{"login": g.Login, "id": 1, "type": "User"})
}

func (g *GitHub) getRepo(w http.ResponseWriter) {
	g.writeJSON(w, http.StatusOK, map[string]any{
		"id": 1, "name": g.Repo, "full_name": g.Owner + "/" + g.Repo,
		"default_branch": g.defaultBranch, "html_url": g.srv.URL + "/" + g.Owner + "/" + g.Repo,
		"owner": map[string]any{"login": g.Owner},
	})
}

func (g *GitHub) getContents(w http.ResponseWriter, r *http.Request, path string) {
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = g.defaultBranch
	}
	commit := g.repo.resolve(ref)
	if commit == "" {
		g.writeError(w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	data, ok := g.repo.readFile(commit, path)
	if !ok {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "raw") {
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		w.WriteHeader(http.StatusOK)
		w.Write(data)
		return
	}
	name := path[strings.LastIndex(path, "/")+1:]
	g.writeJSON(w, http.StatusOK, map[string]any{
		"type": "file", "encoding": "base64", "size": len(data), "name": name, "path": path,
		"content": base64.StdEncoding.EncodeToString(data), "sha": g.repo.blobSHA(commit, path),
	})
}

func (g *GitHub) refJSON(ref, sha string) map[string]any {
	return map[string]any{
		"ref": ref, "url": g.apiURL("git", ref),
		"object": map[string]any{"sha": sha, "type": "commit", "url": g.apiURL("git", "commits", sha)},
	}
}

func (g *GitHub) getRef(w http.ResponseWriter, ref string) {
	branch, ok := strings.CutPrefix(ref, "refs/heads/")
	sha := ""
	if ok {
		sha = g.repo.branchHead(branch)
	}
	if sha == "" {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	g.writeJSON(w, http.StatusOK, g.refJSON(ref, sha))
}

func (g *GitHub) createRef(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	branch, ok := strings.CutPrefix(in.Ref, "refs/heads/")
	if !ok || !g.repo.validRef(branch) {
		g.writeError(w, http.StatusUnprocessableEntity, "Reference name is invalid")
		return
	}
	if g.repo.objectType(in.SHA) != "commit" {
		g.writeError(w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if g.repo.branchHead(branch) != "" {
		g.writeError(w, http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	if err := g.repo.updateRef(in.Ref, in.SHA, ""); err != nil {
		g.writeError(w, http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	g.writeJSON(w, http.StatusCreated, g.refJSON(in.Ref, in.SHA))
}

func (g *GitHub) updateRef(w http.ResponseWriter, r *http.Request, ref string) {
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	branch, _ := strings.CutPrefix(ref, "refs/heads/")
	old := g.repo.branchHead(branch)
	if old == "" {
		g.writeError(w, http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	if g.repo.objectType(in.SHA) != "commit" {
		g.writeError(w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if !in.Force && !g.repo.isAncestor(old, in.SHA) {
		g.writeError(w, http.StatusUnprocessableEntity, "Update is not a fast forward")
		return
	}
	if err := g.repo.updateRef(ref, in.SHA, old); err != nil {
		g.writeError(w, http.StatusUnprocessableEntity, "Reference cannot be updated")
		return
	}
	g.writeJSON(w, http.StatusOK, g.refJSON(ref, in.SHA))
}

func (g *GitHub) commitJSON(info commitInfo) map[string]any {
	parents := []map[string]any{}
	for _, p := range info.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": g.apiURL("git", "commits", p)})
	}
	return map[string]any{
		"sha": info.SHA, "message": info.Message, "html_url": g.webURL("commit", info.SHA),
		"tree":    map[string]any{"sha": info.Tree},
		"parents": parents,
		"author":  map[string]any{"name": info.Author, "date": g.clock.Now().UTC().Format(time.RFC3339)},
	}
}

func (g *GitHub) getCommit(w http.ResponseWriter, sha string) {
	info, ok := g.repo.commit(sha)
	if !ok {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	g.writeJSON(w, http.StatusOK, g.commitJSON(info))
}

func (g *GitHub) createCommit(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message string   `json:"message"`
		Tree    string   `json:"tree"`
		Parents []string `json:"parents"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if in.Message == "" {
		g.writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"message\" wasn't supplied.")
		return
	}
	if g.repo.objectType(in.Tree) != "tree" {
		g.writeError(w, http.StatusUnprocessableEntity, "Tree SHA does not exist")
		return
	}
	for _, p := range in.Parents {
		if g.repo.objectType(p) != "commit" {
			g.writeError(w, http.StatusUnprocessableEntity, "Parent SHA does not exist or is not a commit object")
			return
		}
	}
	sha, err := g.repo.commitTree(in.Tree, in.Parents, in.Message, g.Login)
	if err != nil {
		g.writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	info, _ := g.repo.commit(sha)
	g.writeJSON(w, http.StatusCreated, g.commitJSON(info))
}

func (g *GitHub) createTree(w http.ResponseWriter, r *http.Request) {
	var in struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string          `json:"path"`
			Mode    string          `json:"mode"`
			Type    string          `json:"type"`
			SHA     json.RawMessage `json:"sha"`
			Content *string         `json:"content"`
		} `json:"tree"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if in.BaseTree != "" && g.repo.objectType(in.BaseTree) != "tree" {
		g.writeError(w, http.StatusUnprocessableEntity, "Invalid tree info")
		return
	}
	var edits []treeEdit
	for _, e := range in.Tree {
		valid := validPath(e.Path) && e.Type == "blob" && (e.Mode == "100644" || e.Mode == "100755")
		edit := treeEdit{Path: e.Path, Mode: e.Mode}
		switch {
		case e.Content != nil && len(e.SHA) > 0 && string(e.SHA) != "null":
			valid = false
		case e.Content != nil:
			edit.Content = []byte(*e.Content)
		case string(e.SHA) == "null":
			edit.Delete = true
		default:
			if json.Unmarshal(e.SHA, &edit.SHA) != nil || g.repo.objectType(edit.SHA) != "blob" {
				valid = false
			}
		}
		if !valid {
			g.writeError(w, http.StatusUnprocessableEntity, "Invalid tree info")
			return
		}
		edits = append(edits, edit)
	}
	tree, err := g.repo.buildTree(in.BaseTree, edits)
	if err != nil {
		g.writeError(w, http.StatusUnprocessableEntity, "Invalid tree info")
		return
	}
	g.writeJSON(w, http.StatusCreated, map[string]any{"sha": tree, "url": g.apiURL("git", "trees", tree), "truncated": false, "tree": []any{}})
}

func (g *GitHub) createBlob(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	data := []byte(in.Content)
	if in.Encoding == "base64" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(in.Content); err != nil {
			g.writeError(w, http.StatusUnprocessableEntity, "Invalid base64 content")
			return
		}
	}
	sha, err := g.repo.writeBlob(data)
	if err != nil {
		g.writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	g.writeJSON(w, http.StatusCreated, map[string]any{"sha": sha, "url": g.apiURL("git", "blobs", sha)})
}

func (g *GitHub) pullJSON(p *PullRequest) map[string]any {
	labels := []map[string]any{}
	for _, l := range p.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	id := int64(p.Number) + 500000
	headOwner, headRepo, headSHA := g.Owner, g.Owner+"/"+g.Repo, g.repo.branchHead(p.Head)
	if p.HeadRepo != "" {
		headRepo, headSHA = p.HeadRepo, p.HeadSHA
		headOwner, _, _ = strings.Cut(p.HeadRepo, "/")
	}
	return map[string]any{
		"id": id, "number": p.Number, "state": p.State, "title": p.Title, "body": p.Body,
		"html_url": g.webURL("pull", strconv.Itoa(p.Number)),
		"url":      g.apiURL("pulls", strconv.Itoa(p.Number)),
		"merged":   p.Merged,
		"user":     map[string]any{"login": p.Author},
		"labels":   labels,
		"head": map[string]any{
			"ref": p.Head, "label": headOwner + ":" + p.Head, "sha": headSHA,
			"repo": map[string]any{"full_name": headRepo},
		},
		"base": map[string]any{"ref": p.Base, "label": g.Owner + ":" + p.Base, "sha": g.repo.branchHead(p.Base)},
	}
}

func (g *GitHub) listPulls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head := q.Get("head")
	var out []map[string]any
	// Newest first, as GitHub sorts by default.
	for i := len(g.pulls) - 1; i >= 0; i-- {
		p := g.pulls[i]
		if state != "all" && p.State != state {
			continue
		}
		headOwner := g.Owner
		if p.HeadRepo != "" {
			headOwner, _, _ = strings.Cut(p.HeadRepo, "/")
		}
		if head != "" && head != headOwner+":"+p.Head {
			continue
		}
		if base := q.Get("base"); base != "" && base != p.Base {
			continue
		}
		out = append(out, g.pullJSON(p))
	}
	g.writeJSON(w, http.StatusOK, emptyIfNil(paginate(w, r, out, 30)))
}

func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (g *GitHub) validation(w http.ResponseWriter, errs ...map[string]string) {
	g.writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed", "errors": errs,
		"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
	})
}

func (g *GitHub) createPull(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	head := in.Head
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if owner != g.Owner {
			g.validation(w, map[string]string{"resource": "PullRequest", "field": "head", "code": "invalid"})
			return
		}
		head = branch
	}
	switch {
	case in.Title == "":
		g.validation(w, map[string]string{"resource": "PullRequest", "field": "title", "code": "missing_field"})
		return
	case g.repo.branchHead(in.Base) == "":
		g.validation(w, map[string]string{"resource": "PullRequest", "field": "base", "code": "invalid"})
		return
	case g.repo.branchHead(head) == "":
		g.validation(w, map[string]string{"resource": "PullRequest", "field": "head", "code": "invalid"})
		return
	}
	for _, p := range g.pulls {
		if p.State == "open" && p.HeadRepo == "" && p.Head == head && p.Base == in.Base {
			g.validation(w, map[string]string{"resource": "PullRequest", "code": "custom",
				"message": fmt.Sprintf("A pull request already exists for %s:%s.", g.Owner, head)})
			return
		}
	}
	if g.repo.isAncestor(g.repo.branchHead(head), g.repo.branchHead(in.Base)) {
		g.validation(w, map[string]string{"resource": "PullRequest", "code": "custom",
			"message": fmt.Sprintf("No commits between %s and %s", in.Base, head)})
		return
	}
	p := &PullRequest{Title: in.Title, Body: in.Body, Head: head, Base: in.Base, State: "open", Author: g.Login}
	g.addPull(p)
	g.writeJSON(w, http.StatusCreated, g.pullJSON(p))
}

func (g *GitHub) getOrEditPull(w http.ResponseWriter, r *http.Request, num string) {
	n, _ := strconv.Atoi(num)
	p := g.pull(n)
	if p == nil {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method == "PATCH" {
		var in struct {
			Title *string `json:"title"`
			Body  *string `json:"body"`
			State *string `json:"state"`
			Base  *string `json:"base"`
		}
		if !g.decode(w, r, &in) {
			return
		}
		if in.Title != nil {
			p.Title = *in.Title
		}
		if in.Body != nil {
			p.Body = *in.Body
		}
		if in.State != nil && (*in.State == "open" || *in.State == "closed") && !p.Merged {
			p.State = *in.State
		}
		if in.Base != nil && g.repo.branchHead(*in.Base) != "" {
			p.Base = *in.Base
		}
	}
	g.writeJSON(w, http.StatusOK, g.pullJSON(p))
}

func (g *GitHub) addLabels(w http.ResponseWriter, r *http.Request, num string) {
	n, _ := strconv.Atoi(num)
	p := g.pull(n)
	if p == nil {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	// GitHub takes a bare array or {"labels": [...]}.
	var raw json.RawMessage
	if !g.decode(w, r, &raw) {
		return
	}
	var labels []string
	if json.Unmarshal(raw, &labels) != nil {
		var obj struct {
			Labels []string `json:"labels"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			g.writeError(w, http.StatusUnprocessableEntity, "Invalid request.")
			return
		}
		labels = obj.Labels
	}
	for _, l := range labels {
		if strings.TrimSpace(l) == "" {
			g.writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nEmpty label name.")
			return
		}
		if !slices.Contains(p.Labels, l) {
			p.Labels = append(p.Labels, l)
		}
	}
	out := []map[string]any{}
	for _, l := range p.Labels {
		out = append(out, map[string]any{"name": l})
	}
	g.writeJSON(w, http.StatusOK, out)
}

// commentJSON is an issue comment as GitHub shows it. A comment by a bot
// account ("<slug>[bot]", user.type "Bot") was made through that App
// (performed_via_github_app); a person's, through none.
func (g *GitHub) commentJSON(number int, c *Comment) map[string]any {
	userType := "User"
	var app any
	if slug, ok := strings.CutSuffix(c.Author, "[bot]"); ok {
		userType = "Bot"
		app = map[string]any{
			"id": 15368 + len(slug), "slug": slug, "node_id": "MDM6QXBwMTUzNjg=", "name": slug,
			"owner": map[string]any{"login": g.Owner, "type": "Organization"},
		}
	}
	created := g.clock.Now().UTC().Add(time.Duration(c.ID) * time.Millisecond).Format(time.RFC3339)
	return map[string]any{
		"id": c.ID, "node_id": "IC_" + strconv.FormatInt(c.ID, 10), "body": c.Body,
		"user":                     map[string]any{"login": c.Author, "id": len(c.Author), "type": userType},
		"performed_via_github_app": app,
		"author_association":       "NONE",
		"created_at":               created, "updated_at": created,
		"html_url":  g.webURL("pull", strconv.Itoa(number)) + "#issuecomment-" + strconv.FormatInt(c.ID, 10),
		"issue_url": g.apiURL("issues", strconv.Itoa(number)),
		"url":       g.apiURL("issues", "comments", strconv.FormatInt(c.ID, 10)),
	}
}

func (g *GitHub) deleteComment(w http.ResponseWriter, id string) {
	cid, _ := strconv.ParseInt(id, 10, 64)
	for n, list := range g.comments {
		for i, c := range list {
			if c.ID == cid {
				g.comments[n] = slices.Delete(list, i, i+1)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
	}
	g.writeError(w, http.StatusNotFound, "Not Found")
}

func (g *GitHub) listComments(w http.ResponseWriter, r *http.Request, num string) {
	n, _ := strconv.Atoi(num)
	if g.pull(n) == nil {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var out []map[string]any
	for _, c := range g.comments[n] {
		out = append(out, g.commentJSON(n, c))
	}
	g.writeJSON(w, http.StatusOK, emptyIfNil(paginate(w, r, out, 30)))
}

func (g *GitHub) createComment(w http.ResponseWriter, r *http.Request, num string) {
	n, _ := strconv.Atoi(num)
	if g.pull(n) == nil {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if in.Body == "" || len([]rune(in.Body)) > 65536 {
		g.validation(w, map[string]string{"resource": "IssueComment", "field": "body", "code": "invalid"})
		return
	}
	c := g.addComment(n, &Comment{Author: g.Login, Body: in.Body})
	g.writeJSON(w, http.StatusCreated, g.commentJSON(n, c))
}

func (g *GitHub) editComment(w http.ResponseWriter, r *http.Request, id string) {
	cid, _ := strconv.ParseInt(id, 10, 64)
	var in struct {
		Body string `json:"body"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	for n, list := range g.comments {
		for _, c := range list {
			if c.ID == cid {
				if in.Body == "" || len([]rune(in.Body)) > 65536 {
					g.validation(w, map[string]string{"resource": "IssueComment", "field": "body", "code": "invalid"})
					return
				}
				c.Body = in.Body
				g.writeJSON(w, http.StatusOK, g.commentJSON(n, c))
				return
			}
		}
	}
	g.writeError(w, http.StatusNotFound, "Not Found")
}

func (g *GitHub) createStatus(w http.ResponseWriter, r *http.Request, sha string) {
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if g.repo.objectType(sha) != "commit" {
		g.writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+sha)
		return
	}
	switch in.State {
	case "pending", "success", "failure", "error":
	default:
		g.validation(w, map[string]string{"resource": "Status", "field": "state", "code": "custom",
			"message": "state is not included in the list"})
		return
	}
	if len([]rune(in.Description)) > 140 {
		g.validation(w, map[string]string{"resource": "Status", "field": "description", "code": "custom",
			"message": "description is too long (maximum is 140 characters)"})
		return
	}
	if in.Context == "" {
		in.Context = "default"
	}
	st := CommitStatus{Context: in.Context, State: in.State, Description: in.Description, TargetURL: in.TargetURL, Author: g.Login}
	id := g.addStatus(sha, st)
	g.writeJSON(w, http.StatusCreated, map[string]any{
		"id": id, "state": st.State, "context": st.Context, "description": st.Description,
		"target_url": st.TargetURL, "creator": map[string]any{"login": g.Login},
	})
}

func (g *GitHub) combinedStatus(w http.ResponseWriter, ref string) {
	sha := g.repo.resolve(ref)
	if sha == "" {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	latest := map[string]CommitStatus{}
	for _, st := range g.statuses[sha] {
		latest[st.Context] = st
	}
	contexts := make([]string, 0, len(latest))
	for c := range latest {
		contexts = append(contexts, c)
	}
	sort.Strings(contexts)
	var list []map[string]any
	combined := "success"
	for _, c := range contexts {
		st := latest[c]
		list = append(list, map[string]any{"state": st.State, "context": st.Context, "description": st.Description, "target_url": st.TargetURL})
		switch {
		case st.State == "failure" || st.State == "error":
			combined = "failure"
		case st.State == "pending" && combined == "success":
			combined = "pending"
		}
	}
	if len(list) == 0 {
		combined = "pending"
	}
	g.writeJSON(w, http.StatusOK, map[string]any{"state": combined, "sha": sha, "total_count": len(list), "statuses": emptyIfNil(list)})
}

func (g *GitHub) workflow(id string) (int, bool) {
	for i, wf := range g.opts.Workflows {
		if wf == id || strconv.Itoa(100+i) == id {
			return 100 + i, true
		}
	}
	return 0, false
}

func (g *GitHub) getWorkflow(w http.ResponseWriter, id string) {
	num, ok := g.workflow(id)
	if !ok {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	file := g.opts.Workflows[num-100]
	g.writeJSON(w, http.StatusOK, map[string]any{
		"id": num, "name": strings.TrimSuffix(file, ".yml"), "path": ".github/workflows/" + file,
		"state": "active", "html_url": g.webURL("actions", "workflows", file),
	})
}

func (g *GitHub) dispatch(w http.ResponseWriter, r *http.Request, id string) {
	num, ok := g.workflow(id)
	if !ok {
		g.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var in struct {
		Ref    string            `json:"ref"`
		Inputs map[string]string `json:"inputs"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if g.repo.resolve(strings.TrimPrefix(in.Ref, "refs/heads/")) == "" {
		g.writeError(w, http.StatusUnprocessableEntity, "No ref found for: "+in.Ref)
		return
	}
	if len(in.Inputs) > 10 {
		g.writeError(w, http.StatusUnprocessableEntity, "you may only define up to 10 `inputs` for a `workflow_dispatch` event")
		return
	}
	g.addRun(Dispatch{Workflow: g.opts.Workflows[num-100], Ref: in.Ref, Inputs: in.Inputs})
	w.WriteHeader(http.StatusNoContent)
}
