package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/git"
)

// Git is the default registry: pointer files in the repository, read from
// the default branch.
//
// In a pull request the champion must come from the default branch, never
// from the PR's own head: otherwise a PR could edit its own champion. CI
// checkouts are shallow and often lack the default branch, so Git fetches
// it (one commit deep) when origin/<default> is missing. Only when that is
// impossible does it read the working tree, with a loud warning.
type Git struct {
	Repo *git.Repo
	// Dir is the registry directory relative to the repository root, with
	// forward slashes.
	Dir string
	// Remote is the remote holding the default branch; "" means "origin".
	Remote string
	// DefaultBranch is the branch champions live on; "" asks git
	// (refs/remotes/<remote>/HEAD), then falls back to "main".
	DefaultBranch string

	// top and specDir are the repository's top level and the spec's
	// directory, links resolved, for SetPath.
	top, specDir string

	once     sync.Once
	ref      string // "refs/remotes/origin/main", or "" for the working tree
	source   string // "origin/main" or "working tree"
	warnings []string
	cat      *catFile // the open batch reader while a read runs, else nil
}

// OpenGit returns the git registry whose directory is registryPath (as
// written in the spec) relative to specDir.
func OpenGit(ctx context.Context, specDir, registryPath, defaultBranch string) (*Git, error) {
	if registryPath == "" {
		registryPath = DefaultPath
	}
	absSpec, err := filepath.Abs(specDir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve %s: %w", specDir, err)
	}
	repo, err := git.Open(ctx, absSpec)
	if err != nil {
		return nil, &openError{dir: specDir, err: err}
	}
	// git prints the top level with links resolved; resolve the spec's
	// directory the same way so the one is a prefix of the other.
	if resolved, err := filepath.EvalSymlinks(absSpec); err == nil {
		absSpec = resolved
	}
	top := repo.Dir
	if resolved, err := filepath.EvalSymlinks(top); err == nil {
		top = resolved
	}
	g := &Git{Repo: repo, DefaultBranch: defaultBranch, top: top, specDir: absSpec}
	if err := g.SetPath(registryPath); err != nil {
		return nil, &openError{dir: specDir, err: err}
	}
	return g, nil
}

// SetPath points the registry at registryPath, as written in a spec in
// the directory OpenGit was given: compare looks the champion up with the
// default branch's registry.path, not the change's own.
func (g *Git) SetPath(registryPath string) error {
	if registryPath == "" {
		registryPath = DefaultPath
	}
	rel, err := filepath.Rel(g.top, filepath.Join(g.specDir, filepath.FromSlash(registryPath)))
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return fmt.Errorf("registry.path %q is outside the repository %s", registryPath, g.top)
	}
	g.Dir = filepath.ToSlash(rel)
	return nil
}

// RepoPath returns file (a path on disk inside the repository) relative
// to the repository's top level, with forward slashes.
func (g *Git) RepoPath(file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", fmt.Errorf("failed to resolve %s: %w", file, err)
	}
	dir, name := filepath.Split(abs)
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	rel, err := filepath.Rel(g.top, filepath.Join(dir, name))
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is outside the repository %s", file, g.top)
	}
	return filepath.ToSlash(rel), nil
}

type openError struct {
	dir string
	err error
}

func (e *openError) Error() string {
	return fmt.Sprintf("the git registry needs a git repository at %s: %v", e.dir, e.err)
}
func (e *openError) Unwrap() error        { return e.err }
func (e *openError) Is(target error) bool { return target == diag.ErrInvalidInput }

// PointerPath is the model's pointer file relative to the repository root.
func (g *Git) PointerPath(model string) string {
	return path.Join(g.Dir, model+".json")
}

// Champion reads the model's pointer from the default branch.
func (g *Git) Champion(ctx context.Context, model string) (*Champion, error) {
	if err := CheckModel(model); err != nil {
		return nil, err
	}
	done, err := g.open(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return g.champion(ctx, model)
}

// History lists the versions of the model's pointer file on the default
// branch, newest first. In a shallow clone it holds only what was fetched.
func (g *Git) History(ctx context.Context, model string, limit int) ([]Entry, error) {
	if err := CheckModel(model); err != nil {
		return nil, err
	}
	done, err := g.open(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return g.history(ctx, model, limit)
}

// Baseline is what the default branch says about a spec: the spec file
// itself and the champion of the model it names, with its history.
type Baseline struct {
	// Source is "origin/main", or "working tree" after a fallback.
	Source string
	// Fallback is true when the default branch could not be read and the
	// working tree, which the change under test can edit, was read.
	Fallback bool
	Warnings []string
	// SpecPath is the spec's path relative to the repository root; Spec
	// its content on the default branch, nil when there is no such file.
	SpecPath string
	Spec     []byte
	// Model and Registry are what identify returned: the champion was
	// looked up with them. Registry is relative to the repository root.
	Model, Registry string
	Champion        *Champion
	History         []Entry
	// HistoryErr is why History could not be read (it only draws the
	// report's chart, so it does not fail the comparison).
	HistoryErr error
}

// Identify names the model and registry.path (as written in the spec) the
// champion is looked up with, from the default branch's spec (nil when the
// default branch has no spec at that path).
type Identify func(spec []byte) (model, registryPath string, err error)

// Baseline reads, from the default branch, the spec at specFile (a path on
// disk inside the repository), then the champion of the model identify
// names from it, and up to historyLimit versions of its pointer. It costs
// one `git cat-file --batch` and one `git log` (plus a fetch when the
// default branch is missing), however many files it reads. It changes the
// registry's directory to the one identify names.
func (g *Git) Baseline(ctx context.Context, specFile string, identify Identify, historyLimit int) (*Baseline, error) {
	specPath, err := g.RepoPath(specFile)
	if err != nil {
		return nil, &openError{dir: specFile, err: err}
	}
	done, err := g.open(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	b := &Baseline{Source: g.source, Fallback: g.ref == "", Warnings: slices.Clone(g.warnings), SpecPath: specPath}
	if b.Spec, err = g.read(ctx, specPath); err != nil {
		return nil, err
	}
	model, registryPath, err := identify(b.Spec)
	if err != nil {
		return nil, err
	}
	if err := g.SetPath(registryPath); err != nil {
		return nil, &openError{dir: g.source + ":" + specPath, err: err}
	}
	b.Model, b.Registry = model, g.Dir
	if err := CheckModel(model); err != nil {
		return nil, err
	}
	if b.Champion, err = g.champion(ctx, model); err != nil {
		return nil, err
	}
	b.History, b.HistoryErr = g.history(ctx, model, historyLimit)
	return b, nil
}

// open resolves the default branch and starts the batch reader for the
// reads that follow; done stops it.
func (g *Git) open(ctx context.Context) (done func(), err error) {
	if g.cat != nil {
		return func() {}, nil
	}
	cat, err := startCatFile(ctx, g.Repo)
	if err != nil {
		return nil, err
	}
	g.cat = cat
	g.resolve(ctx)
	if g.ref == "" {
		g.closeCat()
		return func() {}, nil
	}
	return g.closeCat, nil
}

func (g *Git) closeCat() {
	if g.cat != nil {
		g.cat.close()
		g.cat = nil
	}
}

// read returns the file at p (relative to the repository root) on the
// default branch, or in the working tree after a fallback; nil when it
// does not exist.
func (g *Git) read(ctx context.Context, p string) ([]byte, error) {
	if g.ref == "" {
		data, err := os.ReadFile(filepath.Join(g.Repo.Dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", p, err)
		}
		return data, nil
	}
	blobs, err := g.readAll(ctx, []string{g.ref + ":" + p})
	if err != nil {
		return nil, fmt.Errorf("failed to read %s:%s: %w", g.source, p, err)
	}
	return blobs[0], nil
}

// readAll reads object names through the open batch reader, or a
// one-off one.
func (g *Git) readAll(ctx context.Context, names []string) ([][]byte, error) {
	if g.cat != nil {
		return g.cat.get(names...)
	}
	cat, err := startCatFile(ctx, g.Repo)
	if err != nil {
		return nil, err
	}
	defer cat.close()
	return cat.get(names...)
}

func (g *Git) champion(ctx context.Context, model string) (*Champion, error) {
	p := g.PointerPath(model)
	c := &Champion{Source: g.source, Path: p, Warnings: slices.Clone(g.warnings)}
	data, err := g.read(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("failed to read the champion: %w", err)
	}
	if data == nil {
		return c, nil // no champion on the default branch yet
	}
	ptr, err := Parse(g.source+":"+p, data)
	if err != nil {
		return nil, err
	}
	if ptr.Model != model {
		return nil, &openError{dir: g.source + ":" + p, err: fmt.Errorf("the pointer names model %q, not %q", ptr.Model, model)}
	}
	c.Pointer = ptr
	return c, nil
}

func (g *Git) history(ctx context.Context, model string, limit int) ([]Entry, error) {
	rev := g.ref
	if rev == "" {
		rev = "HEAD"
		if _, err := g.Repo.Run(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"); err != nil {
			return nil, nil // a repository without commits has no history
		}
	}
	p := g.PointerPath(model)
	args := []string{"log", "--format=%H%x1f%cI%x1f%s", "--diff-filter=AM", "--no-renames"}
	if limit > 0 {
		args = append(args, "-n", strconv.Itoa(limit))
	}
	args = append(args, rev, "--", p)
	out, err := g.Repo.Run(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read the history of %s: %w", p, err)
	}
	if out == "" {
		return nil, nil
	}
	var entries []Entry
	var names []string
	for line := range strings.SplitSeq(out, "\n") {
		fields := strings.SplitN(line, "\x1f", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("failed to read the history of %s: unexpected git log line %q", p, line)
		}
		date, _ := time.Parse(time.RFC3339, fields[1])
		entries = append(entries, Entry{Commit: fields[0], Date: date, Subject: fields[2]})
		names = append(names, fields[0]+":"+p)
	}
	// One git process reads every version of the file.
	contents, err := g.readAll(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("failed to read the history of %s: %w", p, err)
	}
	for i := range entries {
		if contents[i] == nil {
			entries[i].Problem = "the file is missing in this commit"
			continue
		}
		ptr, err := Parse(entries[i].Commit[:12]+":"+p, contents[i])
		if err != nil {
			entries[i].Problem = err.Error()
			continue
		}
		entries[i].Pointer = ptr
	}
	return entries, nil
}

// Propose returns the pointer file that makes p the champion.
func (g *Git) Propose(ctx context.Context, p *Pointer) (*Change, error) {
	if err := CheckModel(p.Model); err != nil {
		return nil, err
	}
	data, err := Marshal(p)
	if err != nil {
		return nil, err
	}
	return &Change{Path: g.PointerPath(p.Model), Content: data}, nil
}

// Source says where champions are read from ("origin/main" or "working
// tree"), resolving it on first use.
func (g *Git) Source(ctx context.Context) string {
	g.resolve(ctx)
	return g.source
}

// resolve finds the default branch's commit once: origin/<default> when
// present, else fetched one commit deep, else the working tree with a
// warning.
func (g *Git) resolve(ctx context.Context) {
	g.once.Do(func() {
		remote := g.Remote
		if remote == "" {
			remote = "origin"
		}
		branch, err := g.defaultBranch(ctx, remote)
		if err != nil {
			g.fallback(fmt.Sprintf("the default branch is unknown (%v)", err))
			return
		}
		ref := "refs/remotes/" + remote + "/" + branch
		name := remote + "/" + branch
		if g.hasCommit(ctx, ref) {
			g.ref, g.source = ref, name
			return
		}
		// A shallow CI checkout lacks the default branch: fetch its tip
		// alone. The explicit refspec updates origin/<default> even in a
		// single-branch clone, whose configured refspec would not.
		args := []string{"fetch", "--quiet", "--no-tags"}
		if shallow, _ := g.Repo.Run(ctx, "rev-parse", "--is-shallow-repository"); shallow == "true" {
			args = append(args, "--depth=1")
		}
		args = append(args, remote, "+refs/heads/"+branch+":"+ref)
		if _, err := g.Repo.Run(ctx, args...); err != nil {
			// Only now ask why: a missing remote deserves its own words.
			if _, rerr := g.Repo.Run(ctx, "remote", "get-url", remote); rerr != nil {
				g.fallback(fmt.Sprintf("%s is missing and the repository has no remote %q", name, remote))
				return
			}
			g.fallback(fmt.Sprintf("%s is missing and fetching it failed: %v", name, oneLine(err.Error())))
			return
		}
		// A running cat-file need not see what the fetch just wrote.
		if g.cat != nil {
			g.closeCat()
			if cat, err := startCatFile(ctx, g.Repo); err == nil {
				g.cat = cat
			}
		}
		if !g.hasCommit(ctx, ref) {
			g.fallback(fmt.Sprintf("%s is still missing after fetching it", name))
			return
		}
		g.ref, g.source = ref, name
	})
}

func (g *Git) fallback(why string) {
	g.ref, g.source = "", "working tree"
	g.warnings = append(g.warnings, fmt.Sprintf(
		"THE CHAMPION WAS READ FROM THE WORKING TREE, which this change can edit, not from the default branch: %s. Do not trust this comparison until it runs where the default branch can be fetched.", why))
}

func (g *Git) hasCommit(ctx context.Context, ref string) bool {
	if g.cat != nil {
		blobs, err := g.cat.get(ref + "^{commit}")
		return err == nil && blobs[0] != nil
	}
	_, err := g.Repo.Run(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	return err == nil
}

// defaultBranch is the configured branch, else what origin/HEAD points to,
// else "main".
func (g *Git) defaultBranch(ctx context.Context, remote string) (string, error) {
	branch := g.DefaultBranch
	if branch == "" {
		out, err := g.Repo.Run(ctx, "symbolic-ref", "--quiet", "--short", "refs/remotes/"+remote+"/HEAD")
		if b, ok := strings.CutPrefix(out, remote+"/"); err == nil && ok {
			branch = b
		}
	}
	if branch == "" {
		branch = "main"
	}
	// The name reaches git as part of a refspec: refuse what could read as
	// an option or change the refspec's meaning.
	if !validBranch(branch) {
		return "", fmt.Errorf("%q is not a valid branch name", branch)
	}
	return branch, nil
}

// validBranch applies git check-ref-format's rules for a branch name in
// process (compare used to spend a git process on it), plus no leading '-'.
func validBranch(b string) bool {
	if b == "" || b == "@" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") ||
		strings.HasSuffix(b, ".") || strings.Contains(b, "..") || strings.Contains(b, "//") || strings.Contains(b, "@{") {
		return false
	}
	for _, r := range b {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	for part := range strings.SplitSeq(b, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	return s
}
