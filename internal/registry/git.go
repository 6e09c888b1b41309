package registry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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

	once     sync.Once
	ref      string // "refs/remotes/origin/main", or "" for the working tree
	source   string // "origin/main" or "working tree"
	warnings []string
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
	rel, err := filepath.Rel(top, filepath.Join(absSpec, filepath.FromSlash(registryPath)))
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return nil, &openError{dir: specDir, err: fmt.Errorf("registry.path %q is outside the repository %s", registryPath, top)}
	}
	return &Git{Repo: repo, Dir: filepath.ToSlash(rel), DefaultBranch: defaultBranch}, nil
}

type openError struct {
	dir string
	err error
}

func (e *openError) Error() string {
	return fmt.Sprintf("the git registry needs a git repository at %s: %v", e.dir, e.err)
}
func (e *openError) Unwrap() error      { return e.err }
func (e *openError) InvalidInput() bool { return true }

// PointerPath is the model's pointer file relative to the repository root.
func (g *Git) PointerPath(model string) string {
	return path.Join(g.Dir, model+".json")
}

// Champion reads the model's pointer from the default branch.
func (g *Git) Champion(ctx context.Context, model string) (*Champion, error) {
	if err := CheckModel(model); err != nil {
		return nil, err
	}
	g.resolve(ctx)
	p := g.PointerPath(model)
	c := &Champion{Source: g.source, Path: p, Warnings: slices.Clone(g.warnings)}
	var data []byte
	if g.ref != "" {
		if _, err := g.Repo.Run(ctx, "cat-file", "-e", g.ref+":"+p); err != nil {
			return c, nil // no champion on the default branch yet
		}
		out, err := g.Repo.Output(ctx, nil, "cat-file", "blob", g.ref+":"+p)
		if err != nil {
			return nil, fmt.Errorf("failed to read the champion %s:%s: %w", g.source, p, err)
		}
		data = out
	} else {
		out, err := os.ReadFile(filepath.Join(g.Repo.Dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			return c, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read the champion: %w", err)
		}
		data = out
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

// History lists the versions of the model's pointer file on the default
// branch, newest first. In a shallow clone it holds only what was fetched.
func (g *Git) History(ctx context.Context, model string, limit int) ([]Entry, error) {
	if err := CheckModel(model); err != nil {
		return nil, err
	}
	g.resolve(ctx)
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
	var batch bytes.Buffer
	for line := range strings.SplitSeq(out, "\n") {
		fields := strings.SplitN(line, "\x1f", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("failed to read the history of %s: unexpected git log line %q", p, line)
		}
		date, _ := time.Parse(time.RFC3339, fields[1])
		entries = append(entries, Entry{Commit: fields[0], Date: date, Subject: fields[2]})
		fmt.Fprintf(&batch, "%s:%s\n", fields[0], p)
	}
	// One git process reads every version of the file.
	blobs, err := g.Repo.Output(ctx, batch.Bytes(), "cat-file", "--batch")
	if err != nil {
		return nil, fmt.Errorf("failed to read the history of %s: %w", p, err)
	}
	contents, err := splitBatch(blobs, len(entries))
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

// splitBatch parses `git cat-file --batch` output: for each object a
// header "<oid> <type> <size>" and the content, or "<name> missing".
func splitBatch(out []byte, n int) ([][]byte, error) {
	r := bufio.NewReader(bytes.NewReader(out))
	contents := make([][]byte, 0, n)
	for range n {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("truncated cat-file output")
		}
		header = strings.TrimSuffix(header, "\n")
		if strings.HasSuffix(header, " missing") || strings.HasSuffix(header, " ambiguous") {
			contents = append(contents, nil)
			continue
		}
		fields := strings.Fields(header)
		if len(fields) != 3 {
			return nil, fmt.Errorf("unexpected cat-file header %q", header)
		}
		size, err := strconv.Atoi(fields[2])
		if err != nil || size < 0 || size > len(out) {
			return nil, fmt.Errorf("unexpected cat-file header %q", header)
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("truncated cat-file output")
		}
		if b, err := r.ReadByte(); err != nil || b != '\n' {
			return nil, fmt.Errorf("unexpected cat-file output after %q", header)
		}
		contents = append(contents, data)
	}
	return contents, nil
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
		if _, err := g.Repo.Run(ctx, "remote", "get-url", remote); err != nil {
			g.fallback(fmt.Sprintf("%s is missing and the repository has no remote %q", name, remote))
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
			g.fallback(fmt.Sprintf("%s is missing and fetching it failed: %v", name, oneLine(err.Error())))
			return
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
	if _, err := g.Repo.Run(ctx, "check-ref-format", "--branch", branch); err != nil || strings.HasPrefix(branch, "-") {
		return "", fmt.Errorf("%q is not a valid branch name", branch)
	}
	return branch, nil
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	return s
}
