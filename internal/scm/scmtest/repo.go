package scmtest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
)

// repo is a bare git repository the fakes keep their branches in. Every
// write goes through git plumbing, so what the API returns are real
// objects that a clone of Dir shows.
type repo struct {
	dir   string
	tmp   string
	clock interface{ Now() time.Time }
	seq   int
	// reads go through one long-lived git cat-file --batch: starting a
	// git process per read made the fakes slow.
	batch  *catFile
	writer *objectWriter
}

// errGit marks a git failure that is the caller's fault (a bad object, a
// stale ref) rather than the fake's.
var errGit = errors.New("git")

func newRepo(t testing.TB, defaultBranch string, clock interface{ Now() time.Time }) *repo {
	t.Helper()
	root := t.TempDir()
	r := &repo{dir: filepath.Join(root, "repo.git"), tmp: filepath.Join(root, "tmp"), clock: clock}
	if err := os.MkdirAll(r.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := r.git(nil, nil, "init", "-q", "--bare", "-b", defaultBranch, r.dir); err != nil {
		t.Fatal(err)
	}
	batch, err := startCatFile(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	r.batch = batch
	r.writer = &objectWriter{dir: r.dir, tmp: r.tmp}
	t.Cleanup(func() {
		batch.close()
		r.writer.close()
	})
	return r
}

// git runs git in the repository with the fixed test identity and the
// fake clock's date; env adds or overrides variables.
func (r *repo) git(stdin []byte, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = filepath.Dir(r.dir)
	if _, err := os.Stat(r.dir); err == nil {
		cmd.Dir = r.dir
	}
	date := r.clock.Now().UTC().Format(time.RFC3339)
	cmd.Env = append(os.Environ(), gittest.Env...)
	cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: git %s: %v: %s", errGit, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// resolve returns the commit a branch name, ref or SHA names, or "".
func (r *repo) resolve(rev string) string {
	if rev == "" {
		return ""
	}
	for _, cand := range []string{"refs/heads/" + rev, rev} {
		if sha, typ, _ := r.batch.info(cand + "^{commit}"); typ == "commit" {
			return sha
		}
	}
	return ""
}

// branchHead returns the branch's head commit, or "".
func (r *repo) branchHead(branch string) string {
	if branch == "" {
		return ""
	}
	sha, typ, _ := r.batch.info("refs/heads/" + branch)
	if typ != "commit" {
		return ""
	}
	return sha
}

// objectType returns "blob", "tree", "commit" or "" for a missing object.
func (r *repo) objectType(sha string) string {
	if !isHex(sha) || len(sha) != 40 {
		return ""
	}
	_, typ, _ := r.batch.info(sha)
	return typ
}

// readFile returns the content of path at rev.
func (r *repo) readFile(rev, path string) ([]byte, bool) {
	commit := r.resolve(rev)
	if commit == "" || !validPath(path) {
		return nil, false
	}
	_, typ, data := r.batch.read(commit + ":" + path)
	return data, typ == "blob"
}

// blobSHA returns the blob id of path at rev, or "".
func (r *repo) blobSHA(rev, path string) string {
	commit := r.resolve(rev)
	if commit == "" || !validPath(path) {
		return ""
	}
	sha, typ, _ := r.batch.info(commit + ":" + path)
	if typ != "blob" {
		return ""
	}
	return sha
}

func (r *repo) writeBlob(content []byte) (string, error) {
	return r.writer.blob(content)
}

// treeEdit is one change to a tree: a file to write (Content or an
// existing blob SHA) or, with Delete, to remove.
type treeEdit struct {
	Path    string
	Mode    string
	SHA     string
	Content []byte
	Delete  bool
}

// buildTree applies edits to baseTree ("" for an empty tree) and writes
// the trees that change, bottom up, with git mktree; contents are written
// with git hash-object. Both run as long-lived --batch/--stdin-paths
// processes: a git process per object made the fakes slow.
func (r *repo) buildTree(baseTree string, edits []treeEdit) (string, error) {
	byPath := map[string]treeEdit{}
	for _, e := range edits {
		if !validPath(e.Path) {
			return "", fmt.Errorf("%w: invalid path %q", errGit, e.Path)
		}
		if !e.Delete && e.SHA == "" {
			sha, err := r.writeBlob(e.Content)
			if err != nil {
				return "", err
			}
			e.SHA = sha
		}
		if e.Mode == "" {
			e.Mode = "100644"
		}
		byPath[e.Path] = e
	}
	return r.editTree(baseTree, byPath)
}

// treeEntry is one line of a tree object.
type treeEntry struct {
	mode, typ, sha string
}

// editTree writes tree with edits (paths relative to it) applied and
// returns its id; a tree left empty returns "".
func (r *repo) editTree(tree string, edits map[string]treeEdit) (string, error) {
	entries, err := r.readTree(tree)
	if err != nil {
		return "", err
	}
	sub := map[string]map[string]treeEdit{}
	for path, e := range edits {
		dir, rest, nested := strings.Cut(path, "/")
		switch {
		case nested:
			if sub[dir] == nil {
				sub[dir] = map[string]treeEdit{}
			}
			sub[dir][rest] = e
		case e.Delete:
			delete(entries, path)
		default:
			entries[path] = treeEntry{mode: e.Mode, typ: "blob", sha: e.SHA}
		}
	}
	for dir, subEdits := range sub {
		base := ""
		if old, ok := entries[dir]; ok && old.typ == "tree" {
			base = old.sha
		}
		sha, err := r.editTree(base, subEdits)
		if err != nil {
			return "", err
		}
		if sha == "" {
			delete(entries, dir) // git keeps no empty directories
		} else {
			entries[dir] = treeEntry{mode: "040000", typ: "tree", sha: sha}
		}
	}
	if len(entries) == 0 {
		return "", nil
	}
	return r.writer.mktree(entries)
}

// readTree parses a tree object into its entries by name.
func (r *repo) readTree(tree string) (map[string]treeEntry, error) {
	entries := map[string]treeEntry{}
	if tree == "" {
		return entries, nil
	}
	_, typ, data := r.batch.read(tree)
	if typ != "tree" {
		return nil, fmt.Errorf("%w: %s is not a tree", errGit, tree)
	}
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+21 {
			return nil, fmt.Errorf("%w: corrupt tree %s", errGit, tree)
		}
		mode := string(data[:sp])
		name := string(data[sp+1 : nul])
		sha := hex.EncodeToString(data[nul+1 : nul+21])
		e := treeEntry{mode: mode, typ: "blob", sha: sha}
		switch mode {
		case "40000":
			e = treeEntry{mode: "040000", typ: "tree", sha: sha}
		case "160000":
			e.typ = "commit"
		}
		entries[name] = e
		data = data[nul+21:]
	}
	return entries, nil
}

// commitTree writes a commit of tree with parents, by author.
func (r *repo) commitTree(tree string, parents []string, message, author string) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + author, "GIT_AUTHOR_EMAIL=" + author + "@users.noreply.podium.invalid",
		"GIT_COMMITTER_NAME=" + author, "GIT_COMMITTER_EMAIL=" + author + "@users.noreply.podium.invalid",
	}
	return r.git([]byte(message), env, args...)
}

// updateRef moves ref to sha; with old set it fails unless ref is at old
// ("" old means: must not exist; "any" means: whatever it is).
func (r *repo) updateRef(ref, sha, old string) error {
	args := []string{"update-ref", ref, sha}
	switch old {
	case "any":
	case "":
		args = append(args, strings.Repeat("0", 40))
	default:
		args = append(args, old)
	}
	_, err := r.git(nil, nil, args...)
	return err
}

// commitInfo is what the fakes report about a commit.
type commitInfo struct {
	SHA     string
	Tree    string
	Parents []string
	Message string
	Author  string
}

func (r *repo) commit(sha string) (commitInfo, bool) {
	if !isHex(sha) {
		return commitInfo{}, false
	}
	full, typ, data := r.batch.read(sha)
	if typ != "commit" {
		return commitInfo{}, false
	}
	header, message, _ := strings.Cut(string(data), "\n\n")
	ci := commitInfo{SHA: full, Message: strings.TrimRight(message, "\n")}
	for _, line := range strings.Split(header, "\n") {
		key, value, _ := strings.Cut(line, " ")
		switch key {
		case "tree":
			ci.Tree = value
		case "parent":
			ci.Parents = append(ci.Parents, value)
		case "author":
			if i := strings.Index(value, " <"); i >= 0 {
				ci.Author = value[:i]
			}
		}
	}
	return ci, true
}

// isAncestor reports whether a is an ancestor of (or equal to) b.
func (r *repo) isAncestor(a, b string) bool {
	seen := map[string]bool{}
	queue := []string{b}
	for len(queue) > 0 {
		sha := queue[0]
		queue = queue[1:]
		if sha == a {
			return true
		}
		if seen[sha] {
			continue
		}
		seen[sha] = true
		info, ok := r.commit(sha)
		if !ok {
			continue
		}
		queue = append(queue, info.Parents...)
	}
	return false
}

// merge merges head into base with a merge commit; an error on conflicts.
func (r *repo) merge(base, head, message, author string) (string, error) {
	baseSHA, headSHA := r.branchHead(base), r.resolve(head)
	if baseSHA == "" || headSHA == "" {
		return "", fmt.Errorf("cannot merge %s into %s: missing branch", head, base)
	}
	tree, err := r.git(nil, nil, "merge-tree", "--write-tree", "--no-messages", baseSHA, headSHA)
	if err != nil {
		return "", fmt.Errorf("cannot merge %s into %s: %w", head, base, err)
	}
	tree = strings.SplitN(tree, "\n", 2)[0]
	sha, err := r.commitTree(tree, []string{baseSHA, headSHA}, message, author)
	if err != nil {
		return "", err
	}
	return sha, r.updateRef("refs/heads/"+base, sha, baseSHA)
}

// seed commits files onto branch (created from from when missing) with
// one git fast-import run.
func (r *repo) seed(branch, from string, files map[string]string, message string) (string, error) {
	parent := r.branchHead(branch)
	if parent == "" && from != "" {
		parent = r.branchHead(from)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	when := fmt.Sprintf("%d +0000", r.clock.Now().Unix())
	var in bytes.Buffer
	fmt.Fprintf(&in, "commit refs/heads/%s\n", branch)
	fmt.Fprintf(&in, "author podium test <test@podium.invalid> %s\n", when)
	fmt.Fprintf(&in, "committer podium test <test@podium.invalid> %s\n", when)
	fmt.Fprintf(&in, "data %d\n%s\n", len(message), message)
	if parent != "" {
		fmt.Fprintf(&in, "from %s\n", parent)
	}
	for _, name := range names {
		if !validPath(name) {
			return "", fmt.Errorf("invalid path %q", name)
		}
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", name, len(files[name]), files[name])
	}
	in.WriteString("done\n")
	if _, err := r.git(in.Bytes(), nil, "fast-import", "--quiet", "--done", "--force"); err != nil {
		return "", err
	}
	return r.branchHead(branch), nil
}

func isHex(s string) bool {
	if len(s) < 4 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// validPath reports a repository path the hosts accept.
func validPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || seg == ".git" {
			return false
		}
	}
	return true
}

// validRef reports a branch name git would accept (check-ref-format's
// rules, without a process).
func (r *repo) validRef(branch string) bool {
	if branch == "" || strings.HasPrefix(branch, "-") || strings.HasPrefix(branch, "/") ||
		strings.HasSuffix(branch, "/") || strings.HasSuffix(branch, ".") || strings.HasSuffix(branch, ".lock") ||
		strings.Contains(branch, "..") || strings.Contains(branch, "//") || strings.Contains(branch, "@{") || branch == "@" {
		return false
	}
	for _, c := range branch {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return false
		}
	}
	for _, seg := range strings.Split(branch, "/") {
		if strings.HasPrefix(seg, ".") {
			return false
		}
	}
	return true
}
