package fingerprint

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
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

// fileEntry is one entry of a directory listing, and the file it lists.
//
// A directory's entries are one allocation, files and all. With the stat
// cache warm a walk does little but fill these in, and on 100,000 files
// their memory is much of its time: each fresh page of heap is a page
// fault, and on a VM a fault costs 15-20 µs. So an entry holds only what
// a file the stat cache knows needs to be listed and hashed into the
// digest; the rest is in more, which such a file does not have.
type fileEntry struct {
	// name is the entry's name in its directory until the walk gets to
	// the directory and sets it to the path in the listing, relative to
	// the directory fingerprinted (setNames).
	name string
	sum  [sha256.Size]byte // from the stat cache, or set by the worker that hashes it
	size int64             // of a regular file
	more *entryMore        // nil for a regular file whose digest the stat cache knew
	typ  fs.FileMode       // fs.ModeIrregular for what is neither file, directory nor link
	hit  bool              // the stat cache knew the file's digest: sum is set
	// needStat: readDir must stat the entry (its type is not known, or
	// it is a regular file).
	needStat bool
}

// entryMore is what an entry needs beyond fileEntry: a file to hash, its
// real place and the stat the walk saw; a link, its name; a directory,
// its listing.
type entryMore struct {
	base string   // the name in its real directory
	dir  *listing // the real directory holding the file
	sub  *listing // of a directory: its listing, set by lister.list
	st   statcache.Stat
	// keyed: st is the walk's lstat and keys the stat cache.
	keyed bool
}

// walker lists a directory the way `find -L DIR -type f` does: links
// followed, only regular files kept. Each file is handed to the queue as
// it is found, so hashing starts while the walk goes on.
type walker struct {
	t       *tree
	display string
	queue   *queue
	cache   *statcache.Cache
	lister  *lister       // lists directories ahead of the walk
	done    *atomic.Int64 // bytes hashed, or found in the cache
	// runs are the files found, in walk order, as runs of a directory's
	// entries that are each a regular file. A slice of a pointer a file,
	// grown by append, would allocate five times its final size.
	runs  [][]fileEntry
	stack []string // real directories on the current descent, for loops

	key []byte // the stat cache key of the last linked file
}

// add lists the file called name in the listing, found at m.base in
// m.dir, whose stat (lstat of its real path) is fi, and queues it for
// hashing unless the stat cache knows its digest.
func (w *walker) add(name string, m *entryMore, fi fs.FileInfo) {
	run := []fileEntry{{name: name, more: m, size: fi.Size()}}
	w.runs = append(w.runs, run)
	f := &run[0]
	st, ok := statcache.FromFileInfo(fi)
	if !ok {
		w.queue.push(f)
		return
	}
	m.st, m.keyed = st, true
	w.key = append(append(w.key[:0], keyPrefix(w.t.real, m.dir.real)...), m.base...)
	f.sum, f.hit = w.cache.GetBytes(w.key, st)
	w.addLooked(f)
}

// addLooked lists the file f, looked up in the stat cache already, and
// queues it for hashing unless the cache knew its digest.
func (w *walker) addLooked(f *fileEntry) {
	if f.hit {
		w.done.Add(f.size)
		w.queue.found.Add(f.size)
		return
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

func (w *walker) walk(ctx context.Context, dir *listing, prefix string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	real := dir.real
	w.stack = append(w.stack, real)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()

	w.lister.get(dir)
	if dir.err != nil {
		return fmt.Errorf("failed to read %s: %w", w.displayName(prefix), unwrapPathError(dir.err))
	}
	entries := dir.entries
	dir.entries = nil // the files keep what they need
	// The files' names are cut from one string: an allocation a
	// directory, not one a file.
	setNames(prefix, entries)
	run := -1 // the start of the run of files the loop is in, or -1
	endRun := func(i int) {
		if run >= 0 {
			w.runs = append(w.runs, entries[run:i])
			run = -1
		}
	}
	for i := range entries {
		e := &entries[i]
		if e.typ == 0 {
			if run < 0 {
				run = i
			}
			w.addLooked(e)
			continue
		}
		// What comes before a link or a subdirectory, in walk order,
		// comes before what it adds.
		endRun(i)
		name := e.name
		switch {
		case e.typ&fs.ModeSymlink != 0:
			entry := path.Join(real, e.more.base)
			target, fi, err := w.t.resolve(entry, w.displayName(name))
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				if w.loops(target) {
					return &LinkError{Link: w.displayName(name), Target: w.readlink(entry), Reason: "is a loop (it leads back to a directory that holds it)"}
				}
				if err := w.walk(ctx, newListing(target), name); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				w.add(name, &entryMore{dir: &listing{real: path.Dir(target)}, base: path.Base(target)}, fi)
			}
		case e.typ == fs.ModeDir:
			if err := w.walk(ctx, e.more.sub, name); err != nil {
				return err
			}
		}
		// Sockets, FIFOs and devices are not files `find -type f` lists.
	}
	endRun(len(entries))
	return nil
}

// files yields the files the walk found, in walk order.
func (w *walker) files() iter.Seq[*fileEntry] {
	return func(yield func(*fileEntry) bool) {
		for _, run := range w.runs {
			for i := range run {
				if !yield(&run[i]) {
					return
				}
			}
		}
	}
}

// setNames sets the names the entries have in the listing, prefix and
// their name in the directory, cut from one string.
func setNames(prefix string, entries []dirEntry) {
	if prefix == "" {
		return // their names in the directory are their names in the listing
	}
	n := 0
	for i := range entries {
		n += len(prefix) + 1 + len(entries[i].name)
	}
	var b strings.Builder
	b.Grow(n)
	for i := range entries {
		b.WriteString(prefix)
		b.WriteByte('/')
		b.WriteString(entries[i].name)
	}
	all := b.String()
	for i := range entries {
		n := len(prefix) + 1 + len(entries[i].name)
		entries[i].name, all = all[:n], all[n:]
	}
}

func (w *walker) readlink(p string) string {
	target, _ := w.t.root.Readlink(filepath.FromSlash(p))
	return target
}
