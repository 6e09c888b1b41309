package registry

import (
	"bytes"
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
	"github.com/podium-ml/podium/schemas"
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
	cat      *git.Batch // the open batch reader while a read runs, else nil
	// ahead holds objects read ahead through cat (ReadBaseline), by name;
	// it goes with cat.
	ahead map[string][]byte

	// remoteHead is `git symbolic-ref` of <remote>/HEAD, started early
	// (ReadBaseline), else nil: defaultBranch asks git then.
	remoteHead *git.Started
}

// OpenGit returns the git registry whose directory is registryPath (as
// written in the spec) relative to specDir.
func OpenGit(ctx context.Context, specDir, registryPath, defaultBranch string) (*Git, error) {
	absSpec, err := filepath.Abs(specDir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve %s: %w", specDir, err)
	}
	repo, err := git.Open(ctx, absSpec)
	if err != nil {
		return nil, &openError{dir: specDir, err: err}
	}
	return newGit(specDir, absSpec, repo.Dir, registryPath, defaultBranch)
}

// newGit is the registry in the repository whose top level is top (as git
// prints it) for the spec in specDir (absSpec once absolute).
func newGit(specDir, absSpec, top, registryPath, defaultBranch string) (*Git, error) {
	if registryPath == "" {
		registryPath = DefaultPath
	}
	repo := &git.Repo{Dir: top}
	// git prints the top level with links resolved; resolve the spec's
	// directory the same way so the one is a prefix of the other.
	if resolved, err := filepath.EvalSymlinks(absSpec); err == nil {
		absSpec = resolved
	}
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
// default branch has no spec at that path); source names where the spec
// was read ("origin/main").
type Identify func(source string, spec []byte) (model, registryPath string, err error)

// BaselineOptions says whose default-branch view ReadBaseline reads.
type BaselineOptions struct {
	// SpecFile is the change's spec on disk, inside the repository, and
	// SpecDir its directory (as OpenGit's specDir).
	SpecFile, SpecDir string
	// Model and RegistryPath are what the change's spec names. The
	// registry path must lie in the repository, as OpenGit's. The default
	// branch's spec nearly always names the same: the pointer's history is
	// then read at once with the rest, and read again only when Identify
	// names another model or registry.
	Model, RegistryPath string
	// DefaultBranch is as OpenGit's.
	DefaultBranch string
	// Identify names the model and registry the champion is looked up
	// with, from the default branch's spec.
	Identify Identify
	// HistoryLimit bounds the versions of the pointer read.
	HistoryLimit int
}

// ReadBaseline opens the git registry (as OpenGit), reads from the default
// branch the spec at SpecFile, then the champion of the model Identify
// names from it, and up to HistoryLimit versions of its pointer. It costs
// one `git rev-parse`, one `git cat-file --batch` and one `git log` (plus
// `git symbolic-ref` when the default branch is not given, and a fetch when
// it is missing), however many files it reads.
//
// The processes that do not need each other's answers run at once, each
// one's start-up overlapping the others': the log of the pointer the
// change's own spec names starts with the rest, before the default
// branch's spec says whether that is the pointer to read. The result, and
// which error is returned, are those of running them one after another.
func ReadBaseline(ctx context.Context, o BaselineOptions) (*Baseline, error) {
	registryPath := o.RegistryPath
	if registryPath == "" {
		registryPath = DefaultPath
	}
	absSpec, err := filepath.Abs(o.SpecDir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve %s: %w", o.SpecDir, err)
	}
	// Whatever still runs when ReadBaseline returns is stopped.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The pointer's schema compiles (milliseconds of CPU) while git starts,
	// not after the champion is read.
	warm := make(chan struct{})
	go func() {
		defer close(warm)
		_, _ = schemas.Get(SchemaName)
	}()
	defer func() { <-warm }()

	// git finds the repository from any directory of its work tree, and
	// takes an object name's path from the top: every git below runs in
	// the spec's directory until the top level is known. The log, the
	// longest, starts first.
	here := &git.Repo{Dir: absSpec}
	guess := guessHistory(o.Model, registryPath, o.DefaultBranch)
	var guessLog *git.Started
	if guess != nil {
		guessLog = here.Start(ctx, historyArgs(guess.rev, guess.pathspec, o.HistoryLimit)...)
		defer guessLog.Stop()
	}
	top := here.Start(ctx, "rev-parse", "--show-toplevel")
	defer top.Stop()
	var remoteHead *git.Started
	if o.DefaultBranch == "" {
		remoteHead = here.Start(ctx, remoteHeadArgs(defaultRemote)...)
		defer remoteHead.Stop()
	}
	cat, catErr := here.StartBatch(ctx)
	if catErr == nil {
		defer cat.Close()
	}

	topDir, err := top.Wait()
	if err != nil {
		return nil, &openError{dir: o.SpecDir, err: err}
	}
	g, err := newGit(o.SpecDir, absSpec, topDir, registryPath, o.DefaultBranch)
	if err != nil {
		return nil, err
	}
	guessed := g.PointerPath(o.Model)
	specPath, err := g.RepoPath(o.SpecFile)
	if err != nil {
		return nil, &openError{dir: o.SpecFile, err: err}
	}
	if catErr != nil {
		return nil, catErr
	}
	g.remoteHead = remoteHead
	done := g.opened(ctx, cat)
	defer done()

	if guess != nil && g.ref != "" {
		// One round trip reads the spec, the guessed pointer (the
		// champion, when the guess holds) and the commits sameCommit
		// compares.
		g.fetchAhead([]string{g.ref + ":" + specPath, g.ref + ":" + guessed, g.ref + "^{commit}", guess.rev + "^{commit}"})
	}
	b := &Baseline{Source: g.source, Fallback: g.ref == "", Warnings: slices.Clone(g.warnings), SpecPath: specPath}
	if b.Spec, err = g.read(ctx, specPath); err != nil {
		return nil, err
	}
	model, registryPath, err := o.Identify(g.source, b.Spec)
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
	if guess != nil && guessed == g.PointerPath(model) && g.sameCommit(ctx, g.ref, guess.rev) {
		// The guessed log read the model's pointer on the commit the
		// default branch resolved to: it is `git log <ref> -- <pointer>`.
		if out, err := guessLog.Wait(); err == nil {
			b.History, b.HistoryErr = g.historyOf(ctx, guessed, out)
			return b, nil
		}
	}
	if guessLog != nil {
		guessLog.Stop()
	}
	b.History, b.HistoryErr = g.history(ctx, model, o.HistoryLimit)
	return b, nil
}

// readAhead answers names from what fetchAhead read, when it read them
// all.
func (g *Git) readAhead(names []string) ([][]byte, bool) {
	out := make([][]byte, len(names))
	for i, n := range names {
		data, ok := g.ahead[n]
		if !ok {
			return nil, false
		}
		out[i] = data
	}
	return out, true
}

// fetchAhead reads names through the open batch reader in one round trip
// (one answer from git, rather than one per name), for the reads that
// follow. When that fails, the reader is closed: each read then starts
// its own, and fails, or not, as it would have alone.
func (g *Git) fetchAhead(names []string) {
	if g.cat == nil {
		return
	}
	objs, err := g.cat.Get(names...)
	if err != nil {
		g.closeCat()
		return
	}
	g.ahead = map[string][]byte{}
	for i, n := range names {
		g.ahead[n] = objs[i]
	}
}

// sameCommit reports whether the refs a and b name one commit, read
// through the open batch reader ("" is the working tree: no commit).
func (g *Git) sameCommit(ctx context.Context, a, b string) bool {
	if a == "" || b == "" || g.cat == nil {
		return false
	}
	if a == b {
		return true
	}
	// A commit's content is what its name hashes: equal content, same
	// commit.
	objs, err := g.readAll(ctx, []string{a + "^{commit}", b + "^{commit}"})
	return err == nil && objs[0] != nil && bytes.Equal(objs[0], objs[1])
}

// guessedHistory is the `git log` ReadBaseline starts before it knows the
// default branch's model, registry and commit: of the change's pointer (a
// pathspec relative to the spec's directory, where it runs) on
// <remote>/<default branch>, or <remote>/HEAD (what the default branch
// nearly always resolves to) when it is not given.
type guessedHistory struct{ rev, pathspec string }

func guessHistory(model, registryPath, defaultBranch string) *guessedHistory {
	if CheckModel(model) != nil || path.IsAbs(filepath.ToSlash(registryPath)) || filepath.IsAbs(registryPath) ||
		strings.ContainsAny(registryPath, "*?[]\\:!") {
		// A path git would read as a pattern or as outside the tree: the
		// log waits for the one that stands (for an absolute path, an
		// error).
		return nil
	}
	rev := "refs/remotes/" + defaultRemote + "/HEAD"
	if defaultBranch != "" {
		if !validBranch(defaultBranch) {
			return nil
		}
		rev = "refs/remotes/" + defaultRemote + "/" + defaultBranch
	}
	return &guessedHistory{rev: rev, pathspec: path.Join(filepath.ToSlash(registryPath), model+".json")}
}

// open resolves the default branch and starts the batch reader for the
// reads that follow; done stops it.
func (g *Git) open(ctx context.Context) (done func(), err error) {
	if g.cat != nil {
		return func() {}, nil
	}
	cat, err := g.Repo.StartBatch(ctx)
	if err != nil {
		return nil, err
	}
	return g.opened(ctx, cat), nil
}

// opened is open with the batch reader started.
func (g *Git) opened(ctx context.Context, cat *git.Batch) (done func()) {
	g.cat = cat
	g.resolve(ctx)
	if g.ref == "" {
		g.closeCat()
		return func() {}
	}
	return g.closeCat
}

func (g *Git) closeCat() {
	if g.cat != nil {
		g.cat.Close()
		g.cat, g.ahead = nil, nil
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
		if objs, ok := g.readAhead(names); ok {
			return objs, nil
		}
		return g.cat.Get(names...)
	}
	cat, err := g.Repo.StartBatch(ctx)
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	return cat.Get(names...)
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
	out, err := g.Repo.Run(ctx, historyArgs(rev, p, limit)...)
	if err != nil {
		return nil, fmt.Errorf("failed to read the history of %s: %w", p, err)
	}
	return g.historyOf(ctx, p, out)
}

// historyArgs is the `git log` of the versions of the file p on rev,
// newest first.
func historyArgs(rev, p string, limit int) []string {
	args := []string{"log", "--format=%H%x1f%cI%x1f%s", "--diff-filter=AM", "--no-renames"}
	if limit > 0 {
		args = append(args, "-n", strconv.Itoa(limit))
	}
	return append(args, rev, "--", p)
}

// historyOf reads the versions of the pointer p that git log (out, as
// historyArgs asks for it) lists.
func (g *Git) historyOf(ctx context.Context, p, out string) ([]Entry, error) {
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
			remote = defaultRemote
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
			if cat, err := g.Repo.StartBatch(ctx); err == nil {
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
		blobs, err := g.cat.Get(ref + "^{commit}")
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
		var out string
		var err error
		if g.remoteHead != nil && remote == defaultRemote {
			out, err = g.remoteHead.Wait()
		} else {
			out, err = g.Repo.Run(ctx, remoteHeadArgs(remote)...)
		}
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

// defaultRemote is the remote holding the default branch unless Remote
// says otherwise.
const defaultRemote = "origin"

// remoteHeadArgs asks git which branch <remote>/HEAD points to.
func remoteHeadArgs(remote string) []string {
	return []string{"symbolic-ref", "--quiet", "--short", "refs/remotes/" + remote + "/HEAD"}
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
