package fingerprint

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podium-ml/podium/internal/statcache"
)

// bufSize is each worker's read buffer: large enough that syscalls cost
// little next to hashing, small enough that memory is workers × 256 KiB
// whatever the file sizes.
const bufSize = 256 << 10

// ProgressInterval is how often Options.Progress is called.
const ProgressInterval = 250 * time.Millisecond

func (t *tree) compute(ctx context.Context, display, rel string, opts *Options) (*Result, error) {
	real, fi, err := t.resolve(rel, display)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, &KindError{Path: display, Want: "a regular file or directory"}
	}

	// The workers hash files while the walk finds more: the walk (a
	// readdir and a stat per file) is then hidden behind the hashing
	// instead of running alone before it.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	q := newQueue()
	var done atomic.Int64
	w := &walker{t: t, display: display, queue: q, cache: opts.StatCache, done: &done}
	var wg sync.WaitGroup
	for range workers(opts) {
		wg.Go(func() {
			hw := &fileHasher{t: t, h: sha256.New(), cache: opts.StatCache}
			defer hw.close()
			for {
				f, ok := q.pop()
				if !ok || ctx.Err() != nil {
					return
				}
				if err := hw.hash(ctx, f, &done); err != nil {
					name := w.displayName(f.name)
					if f.name == "" {
						name = display
					}
					cancel(fileError(name, err))
					return
				}
			}
		})
	}
	stop := reportProgress(opts.Progress, &done, &q.found)
	if fi.Mode().IsRegular() {
		w.add("", &entryMore{dir: &listing{real: path.Dir(real)}, base: path.Base(real)}, fi)
	} else {
		w.lister = newLister(t, opts.StatCache, workers(opts))
		w.lister.start(workers(opts))
		err := w.walk(ctx, newListing(real), "")
		w.lister.stop()
		if err != nil {
			cancel(err)
		}
	}
	q.close()
	wg.Wait()
	stop()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}

	res := &Result{Path: display}
	sorted := true
	var last *fileEntry
	for f := range w.files() {
		res.Files++
		res.Bytes += f.size
		sorted = sorted && (last == nil || last.name <= f.name)
		last = f
	}
	if fi.Mode().IsRegular() {
		res.Digest = Prefix + hex.EncodeToString(last.sum[:])
		return res, nil
	}
	files := w.files()
	if !sorted {
		// The walk lists files in byte order of their names (cmpEntries)
		// but where a link to a directory, or a filesystem without entry
		// types, puts them otherwise.
		all := slices.SortedFunc(files, func(a, b *fileEntry) int { return strings.Compare(a.name, b.name) })
		files = slices.Values(all)
	}
	res.Digest = Prefix + hex.EncodeToString(listingDigest(files))
	if opts.ListFiles {
		res.Entries = make([]File, 0, res.Files)
		for f := range files {
			res.Entries = append(res.Entries, File{Name: f.name, Digest: Prefix + hex.EncodeToString(f.sum[:]), Size: f.size})
		}
	}
	return res, nil
}

// listingDigest hashes the text sha256sum prints for the files, already
// sorted by name in byte order.
func listingDigest(sorted iter.Seq[*fileEntry]) []byte {
	h := sha256.New()
	var line []byte
	for f := range sorted {
		line = appendListingLine(line[:0], f.sum, f.name)
		h.Write(line)
	}
	return h.Sum(nil)
}

// appendListingLine appends one line as GNU sha256sum writes it: a name
// holding a backslash, newline or carriage return is escaped and the line
// starts with a backslash.
func appendListingLine(b []byte, sum [sha256.Size]byte, name string) []byte {
	escape := strings.ContainsAny(name, "\\\n\r")
	if escape {
		b = append(b, '\\')
	}
	b = hex.AppendEncode(b, sum[:])
	b = append(b, ' ', ' ')
	if escape {
		name = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
	}
	b = append(b, name...)
	return append(b, '\n')
}

// queue hands files to the workers: of the files found so far, the
// largest first, so that the pool does not end with one worker on one big
// file while the others idle (the walk is quick next to the hashing, so
// nearly every file is queued before the workers get far).
type queue struct {
	mu     sync.Mutex
	cond   sync.Cond
	files  bySize
	closed bool
	found  atomic.Int64 // bytes queued so far
}

func newQueue() *queue {
	q := &queue{}
	q.cond.L = &q.mu
	return q
}

func (q *queue) push(f *fileEntry) {
	q.mu.Lock()
	heap.Push(&q.files, f)
	q.mu.Unlock()
	q.found.Add(f.size)
	q.cond.Signal()
}

// close says no more files will come.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// pop waits for a file; it reports false once the queue is closed and empty.
func (q *queue) pop() (*fileEntry, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.files) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.files) == 0 {
		return nil, false
	}
	return heap.Pop(&q.files).(*fileEntry), true
}

// bySize is a max-heap of files by size.
type bySize []*fileEntry

func (h bySize) Len() int           { return len(h) }
func (h bySize) Less(i, j int) bool { return h[i].size > h[j].size }
func (h bySize) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *bySize) Push(x any)        { *h = append(*h, x.(*fileEntry)) }
func (h *bySize) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return f
}

func fileError(name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("failed to read %s: %w", name, unwrapPathError(err))
}

// reportProgress calls progress every ProgressInterval until the returned
// stop is called, which reports the final figures once. The total grows
// while the walk finds files.
func reportProgress(progress func(done, total int64), done, total *atomic.Int64) (stop func()) {
	if progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(ProgressInterval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				progress(done.Load(), total.Load())
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		progress(done.Load(), total.Load())
	}
}

// fileHasher is one worker: it keeps the directory of its last file open,
// so a run of files from one directory costs one open each.
type fileHasher struct {
	t     *tree
	dirs  dirOpener
	h     hash.Hash
	buf   []byte
	cache *statcache.Cache

	prefixDir string // the real directory of the last file keyed, and
	prefix    string // its stat cache key prefix (keyPrefix)
}

func (w *fileHasher) close() { w.dirs.close() }

// afterReadHook, set by tests, runs between the read and the stat after it.
var afterReadHook func(*fileEntry)

// maxAttempts bounds how often a file that changes while it is read is
// read again before its (unstable) digest is taken as it is, uncached.
const maxAttempts = 3

func (w *fileHasher) hash(ctx context.Context, e *fileEntry, done *atomic.Int64) error {
	m := e.more
	key := ""
	if m.keyed && w.cache != nil {
		if w.prefixDir != m.dir.real || w.prefix == "" {
			w.prefixDir, w.prefix = m.dir.real, keyPrefix(w.t.real, m.dir.real)
		}
		key = w.prefix + m.base
	}
	return w.hashWith(ctx, func() (statFile, error) { return w.dirs.open(w.t, m.dir.real, m.base) }, key, e, done)
}

// hashWith hashes the file open opens into e.sum, and records it in the
// stat cache under key ("" for none) when its stat held still while it
// was read. e.more holds the walk's stat of the file, if any.
func (w *fileHasher) hashWith(ctx context.Context, open func() (statFile, error), key string, e *fileEntry, done *atomic.Int64) error {
	// The stat before the read is the walk's lstat when there is one: the
	// fstat after the read then proves, by inode and ctime, that the file
	// read is the one the walk saw and that it did not change meanwhile.
	// That saves a syscall per file.
	before, known := e.more.st, e.more.keyed
	for attempt := 1; ; attempt++ {
		// The time is taken before the open: the read starts after it, so
		// the racy check (statcache.Racy) errs on the side of hashing again.
		start := time.Now()
		f, err := open()
		if err != nil {
			return err
		}
		cacheable := known
		if !known {
			before, cacheable, err = f.stat()
		}
		if err == nil {
			err = w.stream(ctx, f, before.Size, done, &e.sum)
		}
		if err == nil && afterReadHook != nil {
			afterReadHook(e)
		}
		var after statcache.Stat
		if err == nil {
			// Also refuses a FIFO or device swapped in after the walk: the
			// read of one stops at the size the walk saw.
			after, _, err = f.stat()
		}
		f.Close()
		if err != nil {
			return err
		}
		if before == after {
			if cacheable && key != "" {
				w.cache.Put(key, before, start, e.sum)
			}
			return nil
		}
		// The file changed while it was read: the digest may mix two
		// versions. Read it again; past maxAttempts take the last read,
		// as a plain sha256sum would, but never cache it.
		if attempt == maxAttempts {
			return nil
		}
		done.Add(-before.Size)
		before, known = after, true
	}
}

// stream hashes f through the worker's buffer, checking ctx between reads.
func (w *fileHasher) stream(ctx context.Context, f statFile, size int64, done *atomic.Int64, sum *[sha256.Size]byte) error {
	if w.buf == nil {
		// Made for the first file to hash: with the stat cache warm there
		// may be none, and workers × 256 KiB of fresh memory is page
		// faults for nothing.
		w.buf = make([]byte, bufSize)
	}
	w.h.Reset()
	var read int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.Read(w.buf)
		if n > 0 {
			w.h.Write(w.buf[:n])
			done.Add(int64(n))
			read += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		// A short read of a regular file is its end: skipping the read that
		// would say so saves a syscall per file, which counts with many
		// small files. Past the size the stat gave, the file grew (the
		// stat after the read will say so) or is not a file at all.
		if n < len(w.buf) && read >= size || read > size {
			break
		}
	}
	w.h.Sum(sum[:0])
	return nil
}

// hashNamedFile hashes a file the caller named outside any repository: the
// name is the boundary, so it is opened as given (links followed).
func hashNamedFile(ctx context.Context, display, abs string, fi os.FileInfo, opts *Options) (*Result, error) {
	res := &Result{Path: display, Files: 1, Bytes: fi.Size()}
	st, cacheable := statcache.FromFileInfo(fi)
	if cacheable {
		if sum, ok := opts.StatCache.Get(abs, st); ok {
			res.Digest = Prefix + hex.EncodeToString(sum[:])
			return res, nil
		}
	}
	var done, total atomic.Int64
	total.Store(fi.Size())
	stop := reportProgress(opts.Progress, &done, &total)
	w := &fileHasher{h: sha256.New(), cache: opts.StatCache}
	e := &fileEntry{size: fi.Size(), more: &entryMore{st: statcache.Stat{Size: fi.Size()}}}
	key := ""
	if cacheable {
		e.more.st, e.more.keyed, key = st, true, abs
	}
	err := w.hashWith(ctx, func() (statFile, error) { return openNamed(abs) }, key, e, &done)
	stop()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, statError(display, err)
		}
		return nil, fileError(display, err)
	}
	res.Digest = Prefix + hex.EncodeToString(e.sum[:])
	return res, nil
}
