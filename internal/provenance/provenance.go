// Package provenance gathers, at train time, the facts a record needs to
// say whether a model can be reproduced from its commit: whether the git
// work tree matched the commit (and which tracked files did not), the
// dependency lockfiles present and their digests, and the versions of the
// language runtimes those lockfiles imply, as the steps would find them on
// their PATH. It only observes: nothing here changes the work tree.
package provenance

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/git"
	"github.com/podium-ml/podium/internal/rundir"
)

// Worktree returns the state of the git work tree holding dir: clean, or
// the tracked files that differ from HEAD (staged or not). Untracked files
// do not count: a step reads only what the spec names, and a new file a
// step reads is an input whose digest the run records anyway. It returns
// nil when dir is not in a work tree or git cannot say.
func Worktree(ctx context.Context, dir string) *rundir.Worktree {
	repo, err := git.Open(ctx, dir)
	if err != nil {
		return nil
	}
	if _, err := repo.Head(ctx); err != nil {
		return nil // no commit yet: nothing to compare with
	}
	out, err := repo.Output(ctx, nil, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames")
	if err != nil {
		return nil
	}
	return parseStatus(out)
}

// parseStatus reads `git status --porcelain=v1 -z --no-renames`: records
// "XY path" separated by NULs.
func parseStatus(out []byte) *rundir.Worktree {
	wt := &rundir.Worktree{Clean: true, Changed: []string{}}
	seen := map[string]bool{}
	for rec := range bytes.SplitSeq(out, []byte{0}) {
		if len(rec) < 4 || rec[2] != ' ' {
			continue
		}
		p := string(rec[3:])
		if seen[p] {
			continue
		}
		seen[p] = true
		wt.Clean = false
		wt.Changed = append(wt.Changed, p)
	}
	slices.Sort(wt.Changed)
	if len(wt.Changed) > rundir.MaxChanged {
		wt.Changed = wt.Changed[:rundir.MaxChanged]
		wt.Truncated = true
	}
	return wt
}

// lockfiles are the dependency lockfiles (and pinned requirement files)
// looked for, each with the runtime whose version it makes worth knowing.
var lockfiles = []struct{ name, runtime string }{
	{"requirements.txt", "python"},
	{"requirements.lock", "python"},
	{"uv.lock", "python"},
	{"poetry.lock", "python"},
	{"Pipfile.lock", "python"},
	{"pdm.lock", "python"},
	{"conda-lock.yml", "python"},
	{"environment.yml", "python"},
	{"go.mod", "go"},
	{"go.sum", "go"},
	{"package-lock.json", "node"},
	{"yarn.lock", "node"},
	{"pnpm-lock.yaml", "node"},
	{"Cargo.lock", "rust"},
	{"renv.lock", "R"},
	{"Manifest.toml", "julia"},
	{"Gemfile.lock", "ruby"},
}

// runtimes says how to ask each runtime its version.
var runtimes = map[string][]string{
	"python": {"python3", "--version"},
	"go":     {"go", "env", "GOVERSION"},
	"node":   {"node", "--version"},
	"rust":   {"rustc", "--version"},
	"R":      {"Rscript", "--version"},
	"julia":  {"julia", "--version"},
	"ruby":   {"ruby", "--version"},
}

// VersionTimeout bounds each runtime's answer.
const VersionTimeout = 5 * time.Second

// Environment returns the lockfiles in dir (the spec's directory) and in
// root (the repository's root, "" for none), with paths relative to dir,
// and the version of each runtime they imply, asked of the first program
// of that name on environ's PATH. A runtime that is absent or does not
// answer in time is left out.
func Environment(ctx context.Context, dir, root string, environ []string) *rundir.Environment {
	env := &rundir.Environment{Runtimes: map[string]string{}, Lockfiles: []rundir.Lockfile{}}
	want := map[string]bool{}
	seen := map[string]bool{}
	for _, d := range []string{dir, root} {
		if d == "" {
			continue
		}
		for _, lf := range lockfiles {
			abs := filepath.Join(d, lf.name)
			if seen[abs] {
				continue
			}
			seen[abs] = true
			fi, err := os.Stat(abs)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			res, err := fingerprint.Compute(ctx, abs, &fingerprint.Options{Boundary: d})
			if err != nil {
				continue
			}
			rel, err := filepath.Rel(dir, abs)
			if err != nil {
				continue
			}
			if lf.name != "go.mod" { // a manifest, not a lock: it only names the runtime
				env.Lockfiles = append(env.Lockfiles, rundir.Lockfile{Path: filepath.ToSlash(rel), Digest: res.Digest})
			}
			want[lf.runtime] = true
		}
	}
	for rt := range want {
		if v := version(ctx, dir, environ, runtimes[rt]); v != "" {
			env.Runtimes[rt] = v
		}
	}
	slices.SortFunc(env.Lockfiles, func(a, b rundir.Lockfile) int { return strings.Compare(a.Path, b.Path) })
	return env
}

// version runs argv with environ's PATH and returns the first line it
// printed (stdout, else stderr: older Pythons print there), cut to 200
// characters.
func version(ctx context.Context, dir string, environ, argv []string) string {
	path := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	prog := lookPath(argv[0], path)
	if prog == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, VersionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if cmd.Run() != nil {
		return ""
	}
	out := stdout.String()
	if strings.TrimSpace(out) == "" {
		out = stderr.String()
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	line = strings.TrimSpace(line)
	if len(line) > 200 {
		line = line[:200]
	}
	return strings.ToValidUTF8(line, "?")
}

// lookPath finds name in the PATH list path (exec.LookPath reads the
// process's own PATH, and the steps may have another).
func lookPath(name, path string) string {
	for _, d := range filepath.SplitList(path) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}
