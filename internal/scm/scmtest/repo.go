package scmtest

import (
	"bytes"
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
	batch *catFile
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
	t.Cleanup(batch.close)
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
	return r.git(content, nil, "hash-object", "-w", "--stdin")
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

// buildTree applies edits to baseTree ("" for an empty tree) through a
// throwaway index and writes the result.
func (r *repo) buildTree(baseTree string, edits []treeEdit) (string, error) {
	r.seq++
	index := filepath.Join(r.tmp, fmt.Sprintf("index-%d", r.seq))
	defer os.Remove(index)
	env := []string{"GIT_INDEX_FILE=" + index}
	// Without a base the missing index file is the empty tree.
	if baseTree != "" {
		if _, err := r.git(nil, env, "read-tree", baseTree); err != nil {
			return "", err
		}
	}
	// Contents go into the object store in one hash-object run.
	var paths []string
	for i, e := range edits {
		if !e.Delete && e.SHA == "" {
			p := filepath.Join(r.tmp, fmt.Sprintf("blob-%d-%d", r.seq, i))
			if err := os.WriteFile(p, e.Content, 0o600); err != nil {
				return "", err
			}
			defer os.Remove(p)
			paths = append(paths, p)
		}
	}
	var shas []string
	if len(paths) > 0 {
		out, err := r.git([]byte(strings.Join(paths, "\n")+"\n"), nil, "hash-object", "-w", "--no-filters", "--stdin-paths")
		if err != nil {
			return "", err
		}
		shas = strings.Fields(out)
	}
	var info bytes.Buffer
	var remove []string
	for _, e := range edits {
		if e.Delete {
			remove = append(remove, e.Path)
			continue
		}
		sha := e.SHA
		if sha == "" {
			sha, shas = shas[0], shas[1:]
		}
		mode := e.Mode
		if mode == "" {
			mode = "100644"
		}
		fmt.Fprintf(&info, "%s %s\t%s\n", mode, sha, e.Path)
	}
	if len(remove) > 0 {
		args := append([]string{"update-index", "--force-remove", "--"}, remove...)
		if _, err := r.git(nil, env, args...); err != nil {
			return "", err
		}
	}
	if info.Len() > 0 {
		if _, err := r.git(info.Bytes(), env, "update-index", "--add", "--index-info"); err != nil {
			return "", err
		}
	}
	return r.git(nil, env, "write-tree")
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
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsRune(p, 0) {
		return false
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
