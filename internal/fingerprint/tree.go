package fingerprint

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/podium-ml/podium/internal/statcache"
)

// maxLinks bounds how many links one path may go through, as Linux's
// MAXSYMLINKS does; a chain longer than that is reported as a loop.
const maxLinks = 40

// tree is a boundary opened as an os.Root. Paths inside it are
// slash-separated and relative to the boundary ("." is the boundary).
type tree struct {
	root     *os.Root
	boundary string // absolute, as found or given
	real     string // boundary with its own links resolved
}

func openTree(boundary string) (*tree, error) {
	root, err := os.OpenRoot(boundary)
	if err != nil {
		return nil, statError(boundary, err)
	}
	real, err := filepath.EvalSymlinks(boundary)
	if err != nil {
		real = boundary
	}
	return &tree{root: root, boundary: boundary, real: real}, nil
}

func (t *tree) close() { t.root.Close() }

func (t *tree) lstat(p string) (fs.FileInfo, error) {
	return t.root.Lstat(filepath.FromSlash(p))
}

// resolve follows every link in rel and returns the boundary-relative path
// it refers to, free of links, with its FileInfo. display names rel in
// errors. Resolution is done here, component by component, rather than by
// the os.Root, so that an escaping, dangling or looping link is reported by
// name and an absolute link into the boundary (a DVC-style cache) works;
// the os.Root still guards every open, so a link swapped in between the
// checks cannot escape either.
func (t *tree) resolve(rel, display string) (string, fs.FileInfo, error) {
	pending := splitPath(rel)
	var done []string
	var fi fs.FileInfo
	links := 0
	target := ""
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", nil, t.escape(display, target)
			}
			done = done[:len(done)-1]
			fi = nil
			continue
		}
		cand := joinPath(append(done, c))
		info, err := t.lstat(cand)
		if err != nil {
			switch {
			case errors.Is(err, fs.ErrNotExist) && links > 0:
				return "", nil, &LinkError{Link: display, Target: target, Reason: "dangles (its target does not exist)"}
			case errors.Is(err, fs.ErrNotExist):
				return "", nil, &NotFoundError{Path: display}
			case errors.Is(err, syscall.ENOTDIR):
				return "", nil, &KindError{Path: display, Want: "a directory"}
			}
			return "", nil, fmt.Errorf("failed to read %s: %w", display, unwrapPathError(err))
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			links++
			if links > maxLinks {
				return "", nil, &LinkError{Link: display, Target: target, Reason: "is a loop of symbolic links"}
			}
			link, err := t.root.Readlink(filepath.FromSlash(cand))
			if err != nil {
				return "", nil, fmt.Errorf("failed to read link %s: %w", display, unwrapPathError(err))
			}
			if target == "" {
				// Errors show the first link's target: the one the user sees
				// with ls -l on the path they named.
				target = link
			}
			next := filepath.ToSlash(link)
			if filepath.IsAbs(link) {
				inside, ok := t.within(link)
				if !ok {
					return "", nil, t.escape(display, link)
				}
				done = done[:0]
				next = inside
			}
			pending = append(splitPath(next), pending...)
			fi = nil
			continue
		}
		if len(pending) > 0 && !info.IsDir() {
			return "", nil, &KindError{Path: display, Want: "a directory"}
		}
		done = append(done, c)
		fi = info
	}
	p := joinPath(done)
	if fi == nil {
		info, err := t.lstat(p)
		if err != nil {
			return "", nil, fmt.Errorf("failed to read %s: %w", display, unwrapPathError(err))
		}
		fi = info
	}
	return p, fi, nil
}

func (t *tree) escape(display, target string) error {
	return &LinkError{Link: display, Target: target, Boundary: t.boundary, Reason: "resolves outside the boundary"}
}

// within turns an absolute link target into a boundary-relative path, when
// it names a place inside the boundary (by its own name or its real one).
func (t *tree) within(target string) (string, bool) {
	for _, base := range []string{t.boundary, t.real} {
		for _, tg := range []string{target, filepath.Clean(target)} {
			if tg == base {
				return ".", true
			}
			prefix := strings.TrimSuffix(base, string(filepath.Separator)) + string(filepath.Separator)
			if rest, ok := strings.CutPrefix(tg, prefix); ok {
				return filepath.ToSlash(rest), true
			}
		}
	}
	return "", false
}

func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

func joinPath(parts []string) string {
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// fileEntry is one file of a directory's listing.
type fileEntry struct {
	name string // path in the listing, relative to the directory fingerprinted
	dir  string // the real directory holding the file, boundary-relative
	base string // the file's name in that directory
	size int64
	key  string            // the stat cache's key: the file's real absolute path; "" when not cacheable
	st   statcache.Stat    // the walk's lstat, when key is set
	sum  [sha256.Size]byte // from the stat cache, or set by the worker that hashes it
}

// walker lists a directory the way `find -L DIR -type f` does: links
// followed, only regular files kept. Each file is handed to the queue as
// it is found, so hashing starts while the walk goes on.
type walker struct {
	t       *tree
	display string
	queue   *queue
	cache   *statcache.Cache
	done    *atomic.Int64 // bytes hashed, or found in the cache
	files   []*fileEntry  // every file found, in walk order
	stack   []string      // real directories on the current descent, for loops
	workers int           // goroutines that stat a large directory

	prefixDir string // the dir of the last file added, and
	prefix    string // its real absolute path with a trailing separator
	key       []byte // the last file's stat cache key
}

// add lists the file, whose stat (lstat of its real path) is fi, and
// queues it for hashing unless the stat cache knows its digest.
func (w *walker) add(f *fileEntry, fi fs.FileInfo) {
	st, ok := statcache.FromFileInfo(fi)
	w.addStat(f, st, ok)
}

// addStat is add with the stat already taken; cacheable says whether st
// can key the stat cache.
func (w *walker) addStat(f *fileEntry, st statcache.Stat, cacheable bool) {
	w.files = append(w.files, f)
	if cacheable {
		// The key is built in a buffer kept from one file to the next, and
		// made a string only for a file to hash: a warm walk allocates no
		// key.
		if w.prefix == "" || w.prefixDir != f.dir {
			w.prefixDir, w.prefix = f.dir, filepath.Join(w.t.real, filepath.FromSlash(f.dir))
			if !strings.HasSuffix(w.prefix, string(filepath.Separator)) {
				w.prefix += string(filepath.Separator)
			}
		}
		w.key = append(append(w.key[:0], w.prefix...), f.base...)
		f.st = st
		if sum, hit := w.cache.GetBytes(w.key, st); hit {
			f.sum = sum
			w.done.Add(f.size)
			w.queue.found.Add(f.size)
			return
		}
		f.key = string(w.key)
	}
	w.queue.push(f)
}

func (w *walker) displayName(name string) string {
	return filepath.Join(w.display, filepath.FromSlash(name))
}

// loops reports whether descending into the real directory p would walk
// a directory already being walked: p is one of them or holds one.
func (w *walker) loops(p string) bool {
	for _, s := range w.stack {
		if p == "." || s == p || strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}

func (w *walker) walk(ctx context.Context, real, prefix string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.stack = append(w.stack, real)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()

	f, err := w.t.root.Open(filepath.FromSlash(real))
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", w.displayName(prefix), unwrapPathError(err))
	}
	entries, err := readDir(f, w.workers)
	f.Close()
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", w.displayName(prefix), unwrapPathError(err))
	}
	// Directory order is the filesystem's; sorting makes errors (which
	// link is reported first) the same on every machine.
	slices.SortFunc(entries, func(a, b dirEntry) int { return strings.Compare(a.name, b.name) })
	for i := range entries {
		e := &entries[i]
		name := path.Join(prefix, e.name)
		entry := path.Join(real, e.name)
		switch {
		case e.typ&fs.ModeSymlink != 0:
			target, fi, err := w.t.resolve(entry, w.displayName(name))
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				if w.loops(target) {
					return &LinkError{Link: w.displayName(name), Target: w.readlink(entry), Reason: "is a loop (it leads back to a directory that holds it)"}
				}
				if err := w.walk(ctx, target, name); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				w.add(&fileEntry{name: name, dir: path.Dir(target), base: path.Base(target), size: fi.Size()}, fi)
			}
		case e.typ == fs.ModeDir:
			if err := w.walk(ctx, entry, name); err != nil {
				return err
			}
		case e.typ == 0:
			w.addStat(&fileEntry{name: name, dir: real, base: e.name, size: e.st.Size}, e.st, e.cacheable)
		}
		// Sockets, FIFOs and devices are not files `find -type f` lists.
	}
	return nil
}

func (w *walker) readlink(p string) string {
	target, _ := w.t.root.Readlink(filepath.FromSlash(p))
	return target
}
