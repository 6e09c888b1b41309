package fingerprint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// bufSize is each worker's read buffer: large enough that syscalls cost
// little next to hashing, small enough that memory is workers × 256 KiB
// whatever the file sizes.
const bufSize = 256 << 10

// bigFile is the size from which a file is scheduled before the small ones,
// largest first, so the pool does not end with one worker on one big file.
const bigFile = 1 << 20

// ProgressInterval is how often Options.Progress is called.
const ProgressInterval = 250 * time.Millisecond

func (t *tree) compute(ctx context.Context, display, rel string, opts *Options) (*Result, error) {
	real, fi, err := t.resolve(rel, display)
	if err != nil {
		return nil, err
	}
	w := &walker{t: t, display: display, dirIndex: map[string]int{}}
	switch {
	case fi.Mode().IsRegular():
		w.files = []fileEntry{{dir: w.dir(path.Dir(real)), base: path.Base(real), size: fi.Size()}}
	case fi.IsDir():
		if err := w.walk(ctx, real, ""); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: not a regular file or directory", display)
	}

	sums, err := t.hashFiles(ctx, w, opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Path: display, Files: len(w.files)}
	for _, f := range w.files {
		res.Bytes += f.size
	}
	if fi.Mode().IsRegular() {
		res.Digest = Prefix + hex.EncodeToString(sums[0][:])
		return res, nil
	}
	res.Digest = Prefix + hex.EncodeToString(listingDigest(w.files, sums))
	return res, nil
}

// listingDigest hashes the text sha256sum prints for the files, sorted by
// name in byte order.
func listingDigest(files []fileEntry, sums [][sha256.Size]byte) []byte {
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(files[a].name, files[b].name) })
	h := sha256.New()
	var line []byte
	for _, i := range order {
		line = appendListingLine(line[:0], sums[i], files[i].name)
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

// hashFiles hashes every file of w with a bounded pool of workers and
// returns the sums in w.files order.
func (t *tree) hashFiles(ctx context.Context, w *walker, opts *Options) ([][sha256.Size]byte, error) {
	files := w.files
	sums := make([][sha256.Size]byte, len(files))
	var total int64
	for _, f := range files {
		total += f.size
	}

	// Big files first, largest first; then the small ones in walk order, so
	// that consecutive jobs share a directory and a worker reuses its handle.
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		sa, sb := files[a].size, files[b].size
		switch {
		case sa >= bigFile && sb >= bigFile:
			return int(sign(sb - sa))
		case sa >= bigFile:
			return -1
		case sb >= bigFile:
			return 1
		}
		return 0
	})

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(workers(opts), len(files)) {
		wg.Go(func() {
			hw := &fileHasher{t: t, h: sha256.New(), buf: make([]byte, bufSize)}
			defer hw.close()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(order) || ctx.Err() != nil {
					return
				}
				i := order[k]
				f := files[i]
				if err := hw.hash(ctx, w.dirs[f.dir], f.base, &done, &sums[i]); err != nil {
					name := w.displayName(f.name)
					if f.name == "" {
						name = w.display
					}
					cancel(fileError(name, err))
					return
				}
			}
		})
	}
	stop := reportProgress(opts.Progress, &done, total)
	wg.Wait()
	stop()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return sums, nil
}

func sign(x int64) int64 {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func fileError(name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("failed to read %s: %w", name, unwrapPathError(err))
}

// reportProgress calls progress every ProgressInterval until the returned
// stop is called, which reports the final figures once.
func reportProgress(progress func(done, total int64), done *atomic.Int64, total int64) (stop func()) {
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
				progress(done.Load(), total)
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		progress(done.Load(), total)
	}
}

// fileHasher is one worker: it keeps the directory of its last file open,
// so a run of files from one directory costs one open each.
type fileHasher struct {
	t    *tree
	dir  string
	root *os.Root
	h    hash.Hash
	buf  []byte
}

func (w *fileHasher) close() {
	if w.root != nil {
		w.root.Close()
	}
}

func (w *fileHasher) hash(ctx context.Context, dir, base string, done *atomic.Int64, sum *[sha256.Size]byte) error {
	if w.root == nil || w.dir != dir {
		if w.root != nil {
			w.root.Close()
			w.root = nil
		}
		r, err := w.t.root.OpenRoot(filepath.FromSlash(dir))
		if err != nil {
			return err
		}
		w.root, w.dir = r, dir
	}
	// O_NONBLOCK: a FIFO swapped in for the file must not hang the open.
	f, err := w.root.OpenFile(base, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return w.stream(ctx, f, done, sum)
}

// stream hashes f through the worker's buffer, checking ctx between reads.
func (w *fileHasher) stream(ctx context.Context, f *os.File, done *atomic.Int64, sum *[sha256.Size]byte) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	w.h.Reset()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.Read(w.buf)
		if n > 0 {
			w.h.Write(w.buf[:n])
			done.Add(int64(n))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	w.h.Sum(sum[:0])
	return nil
}

// hashNamedFile hashes a file the caller named outside any repository: the
// name is the boundary, so it is opened as given.
func hashNamedFile(ctx context.Context, display, abs string, opts *Options) (*Result, error) {
	f, err := os.OpenFile(abs, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, statError(display, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileError(display, err)
	}
	var done atomic.Int64
	stop := reportProgress(opts.Progress, &done, fi.Size())
	w := &fileHasher{h: sha256.New(), buf: make([]byte, bufSize)}
	var sum [sha256.Size]byte
	err = w.stream(ctx, f, &done, &sum)
	stop()
	if err != nil {
		return nil, fileError(display, err)
	}
	return &Result{Path: display, Digest: Prefix + hex.EncodeToString(sum[:]), Files: 1, Bytes: fi.Size()}, nil
}
