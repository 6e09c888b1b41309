package pipeline

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// maxWatched bounds the files a watcher snapshots: past it, watching would
// cost more than the warning is worth, and it is switched off.
const maxWatched = 200_000

var errTooManyFiles = errors.New("too many files to watch")

// watcher notices files a step wrote outside its declared outputs. It
// snapshots size, modification time and mode of every file under the
// spec's directory, except .git, .podium, the cache, the run directory and
// every step's declared outputs, and diffs snapshots taken before and
// after steps run. It is cheap (one lstat per file, no reading) and sound
// for what it reports: every path it names did change. Its limits: a
// write that keeps both size and mtime (same-size rewrite within the
// filesystem's timestamp granularity, or a tool that restores mtimes) goes
// unseen; writes outside the spec's directory (/tmp, $HOME) and into the
// skipped directories are not watched; with steps running concurrently a
// change is attributed to every step that was running.
type watcher struct {
	dir  string
	skip []string // slash paths relative to dir
}

type fileState struct {
	size  int64
	mtime int64
	mode  fs.FileMode
}

type snapshot map[string]fileState

func newWatcher(dir string, skip []string) *watcher {
	w := &watcher{dir: dir}
	for _, s := range skip {
		if s = path.Clean(s); s != "." && s != "" {
			w.skip = append(w.skip, s)
		}
	}
	return w
}

func (w *watcher) skipped(rel string) bool {
	for _, s := range w.skip {
		if rel == s || strings.HasPrefix(rel, s+"/") {
			return true
		}
	}
	return false
}

// takeHook, set by tests, sees every snapshot taken.
var takeHook func()

func (w *watcher) take() (snapshot, error) {
	if takeHook != nil {
		takeHook()
	}
	snap := snapshot{}
	err := filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// A directory that vanished or cannot be read is not ours to
			// judge; skip it rather than fail the run.
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(w.dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if w.skipped(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if len(snap) >= maxWatched {
			return errTooManyFiles
		}
		snap[rel] = fileState{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode()}
		return nil
	})
	return snap, err
}

// changed lists, sorted, the paths added, removed or modified from a to b.
func changed(a, b snapshot) []string {
	var out []string
	for p, sb := range b {
		if sa, ok := a[p]; !ok || sa != sb {
			out = append(out, p)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
