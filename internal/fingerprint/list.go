package fingerprint

import (
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/podium-ml/podium/internal/statcache"
)

// listing is one directory of the walk: its entries, sorted, each regular
// file with its stat and the stat cache's answer. It is listed once, by
// a lister goroutine ahead of the walk or by the walk itself when it gets
// there first.
type listing struct {
	real    string // the real directory, boundary-relative
	claimed atomic.Bool
	done    chan struct{} // closed once entries or err is set
	entries []dirEntry
	err     error
}

func newListing(real string) *listing {
	return &listing{real: real, done: make(chan struct{})}
}

// lister lists directories ahead of the walk, on every CPU. With the stat
// cache warm, listing (getdents, a stat per file, a cache lookup per
// file) is all a fingerprint does; listing one directory at a time, with
// the walk waiting on each, left the CPUs idle between directories and
// while the walk took in the entries.
//
// The walk stays one goroutine, in the same order as without the listers,
// so what it reports (the files, the first error) does not depend on
// timing: listers only do ahead of time what the walk would do, and the
// walk takes their result, or lists the directory itself when no lister
// has started on it.
type lister struct {
	t        *tree
	cache    *statcache.Cache
	parallel int // goroutines that stat one large directory

	mu      sync.Mutex
	cond    sync.Cond
	pending []*listing // a stack: the next directory the walk needs is on top
	closed  bool
	wg      sync.WaitGroup
}

func newLister(t *tree, cache *statcache.Cache, parallel int) *lister {
	l := &lister{t: t, cache: cache, parallel: parallel}
	l.cond.L = &l.mu
	return l
}

// start runs n goroutines that list pending directories until stop.
func (l *lister) start(n int) {
	for range n {
		l.wg.Go(func() {
			for {
				j, ok := l.next()
				if !ok {
					return
				}
				if j.claimed.CompareAndSwap(false, true) {
					l.list(j)
				}
			}
		})
	}
}

func (l *lister) next() (*listing, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.pending) == 0 && !l.closed {
		l.cond.Wait()
	}
	if l.closed {
		return nil, false
	}
	j := l.pending[len(l.pending)-1]
	l.pending[len(l.pending)-1] = nil
	l.pending = l.pending[:len(l.pending)-1]
	return j, true
}

// stop ends the goroutines, once each has finished the directory it is
// on; directories still pending are left to whoever asks for them.
func (l *lister) stop() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cond.Broadcast()
	l.wg.Wait()
}

// get returns once j is listed: by a lister, or now by the caller.
func (l *lister) get(j *listing) {
	if j.claimed.CompareAndSwap(false, true) {
		l.list(j)
		return
	}
	<-j.done
}

// list lists j: its entries (which readDir sorts by cmpEntries), each
// regular file looked up in the stat cache, and its subdirectories queued
// to be listed next.
func (l *lister) list(j *listing) {
	defer close(j.done)
	f, err := l.t.root.Open(filepath.FromSlash(j.real))
	if err != nil {
		j.err = err
		return
	}
	// Each regular file is looked up in the stat cache as soon as it is
	// stat'ed, on the goroutine that stat'ed it: a file the cache knows
	// then never gets the memory (entryMore) a file to hash needs.
	prefix := keyPrefix(l.t.real, j.real)
	entries, err := readDir(f, l.parallel, func(e *dirEntry, st statcache.Stat, keyed bool) {
		if keyed && l.cache != nil {
			var buf [256]byte // a key as long as most paths are, not allocated
			key := append(append(buf[:0], prefix...), e.name...)
			if e.sum, e.hit = l.cache.GetBytes(key, st); e.hit {
				return
			}
		}
		e.more = &entryMore{base: e.name, dir: j, st: st, keyed: keyed}
	})
	f.Close()
	if err != nil {
		j.err = err
		return
	}
	var subs []*listing
	for i := range entries {
		e := &entries[i]
		switch {
		case e.typ == fs.ModeDir:
			e.more = &entryMore{base: e.name, sub: newListing(path.Join(j.real, e.name))}
			subs = append(subs, e.more.sub)
		case e.typ&fs.ModeSymlink != 0:
			e.more = &entryMore{base: e.name}
		}
	}
	j.entries = entries
	if len(subs) == 0 {
		return
	}
	// Pushed last first, so that the first subdirectory, which the walk
	// enters next, is on top.
	slices.Reverse(subs)
	l.mu.Lock()
	if !l.closed {
		l.pending = append(l.pending, subs...)
	}
	l.mu.Unlock()
	l.cond.Broadcast()
}

// keyPrefix is the stat cache key of the real directory dir (boundary-
// relative) with a trailing separator: a file's key is it and the file's
// name.
func keyPrefix(real, dir string) string {
	p := filepath.Join(real, filepath.FromSlash(dir))
	if !strings.HasSuffix(p, string(filepath.Separator)) {
		p += string(filepath.Separator)
	}
	return p
}

// cmpEntries orders the entries of one directory as their files' paths
// sort in byte order: a directory's name compares as if it ended in "/",
// since every path below it does. "a.txt" then comes before the files in
// "a/" ('.' < '/'), as in the sorted listing the digest hashes, so a walk
// in this order lists files already sorted. (A link to a directory sorts
// by its own name, and a filesystem that does not give entry types may
// list a directory as a file: the walk checks the order and sorts when it
// is not so.)
func cmpEntries(a, b dirEntry) int {
	return cmpDirNames(a.name, a.typ == fs.ModeDir, b.name, b.typ == fs.ModeDir)
}

func cmpDirNames(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	return cmpNext(a, n, aDir) - cmpNext(b, n, bDir)
}

// cmpNext is the byte of name at n, '/' just past the end of a
// directory's name, -1 past the end of a file's.
func cmpNext(name string, n int, dir bool) int {
	switch {
	case n < len(name):
		return int(name[n])
	case dir:
		return '/'
	}
	return -1
}
