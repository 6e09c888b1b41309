// Package fingerprint computes podium's content digests (the README says
// how to check one with sha256sum): a file's digest is sha256 of its bytes; a directory's is
// sha256 of the listing `sha256sum` prints for its files, sorted by relative
// path in byte order, so that
//
//	find -L . -type f -print0 | LC_ALL=C sort -z | sed -z 's|^\./||' | xargs -0 sha256sum | sha256sum
//
// run inside the directory checks it. Symbolic links are followed when they
// resolve inside the boundary (the git work tree holding the path, or the
// path itself outside a repository); a link that escapes, dangles or loops
// is an error naming the link.
//
// Every file is opened through an os.Root on the boundary, so no path or
// link, however crafted or swapped mid-walk, reads outside it.
//
// Files are hashed in parallel by a bounded pool of workers, each streaming
// its file through a fixed buffer, so memory does not grow with file size.
// A single file is never split across workers: SHA-256 is a sequential
// (Merkle–Damgård) hash, each block's input is the previous block's state,
// so one digest cannot be computed in parallel pieces. Parallelism comes
// from hashing many files at once; the largest files are started first so
// that one big file does not finish alone at the end.
//
// With the stat cache warm no file is read, and the walk is all the work:
// a getdents per directory, an fstatat and a cache lookup per file.
// Directories are then listed ahead of the walk by one goroutine per CPU
// (lister); the walk itself stays one goroutine taking their listings in
// a fixed order, so the files and the first error it reports do not
// depend on timing. A directory's entries are sorted so that the walk
// meets files in the byte order of their paths, and the listing is not
// sorted again; each entry is the file's record, one allocation a
// directory, since on this path fresh memory (page faults) costs about as
// much as the syscalls.
package fingerprint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/statcache"
)

// Prefix starts every digest.
const Prefix = "sha256:"

// Result is the fingerprint of one path.
type Result struct {
	// Path is the path as it was given.
	Path string `json:"path"`
	// Digest is "sha256:<hex>".
	Digest string `json:"digest"`
	// Files is the number of files hashed (1 for a file).
	Files int `json:"files"`
	// Bytes is the total size of the files hashed.
	Bytes int64 `json:"bytes"`
	// Entries lists a directory's files with their own digests, sorted by
	// name, when Options.ListFiles asks for them.
	Entries []File `json:"-"`
}

// File is one file of a directory's listing.
type File struct {
	// Name is slash-separated, relative to the directory.
	Name   string
	Digest string
	Size   int64
}

// Options tune Compute. The zero value is ready to use.
type Options struct {
	// Workers bounds how many files are hashed at once; 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Boundary is the directory links must stay inside. "" finds it: the
	// git work tree holding the path, or the path itself outside a
	// repository.
	Boundary string
	// Progress, when set, is called from one goroutine about every
	// ProgressInterval while files are hashed, and once at the end, with the
	// bytes hashed so far and the total.
	Progress func(done, total int64)
	// StatCache, when set, supplies the digests of files whose stat is
	// unchanged since they were hashed, and records the files hashed now.
	// The caller saves it. nil hashes every file.
	StatCache *statcache.Cache
	// ListFiles fills Result.Entries for a directory.
	ListFiles bool
}

// Bytes returns the digest of data: "sha256:<hex>".
func Bytes(data []byte) string {
	sum := sha256.Sum256(data)
	return Prefix + hex.EncodeToString(sum[:])
}

// Compute returns the fingerprint of the file or directory at path.
func Compute(ctx context.Context, path string, opts *Options) (*Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	if strings.ContainsRune(path, 0) {
		return nil, fmt.Errorf("%q: path contains a NUL byte", path)
	}
	if path == "" {
		return nil, errors.New("empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve %s: %w", path, err)
	}
	boundary := opts.Boundary
	if boundary == "" {
		boundary = FindBoundary(abs)
	}
	if boundary == "" {
		// Outside a repository the path itself is the boundary.
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, statError(path, err)
		}
		if fi.Mode().IsRegular() {
			return hashNamedFile(ctx, path, abs, fi, opts)
		}
		if !fi.IsDir() {
			// A device or a FIFO (/dev/null, a named pipe): opening it as
			// the boundary would fail or block.
			return nil, &KindError{Path: path, Want: "a regular file or directory"}
		}
		boundary = abs
	}
	boundary, err = filepath.Abs(boundary)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve %s: %w", boundary, err)
	}
	rel, err := filepath.Rel(boundary, abs)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return nil, &LinkError{Link: path, Boundary: boundary, Reason: "is outside the boundary"}
	}
	t, err := openTree(boundary)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return t.compute(ctx, path, filepath.ToSlash(rel), opts)
}

// FindBoundary returns the git work tree holding the absolute path abs
// (the nearest directory at or above it with a .git entry), or "" when
// there is none.
func FindBoundary(abs string) string {
	dir := filepath.Clean(abs)
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// LinkError is a symbolic link (or a path) that escapes the boundary,
// dangles or loops. It is invalid input: the tree must be fixed.
type LinkError struct {
	Link     string // the link as the caller would name it
	Target   string // what it points to, when known
	Boundary string
	Reason   string // "resolves outside the boundary", "dangles", "is a loop"
}

// Error names the link, its target and the boundary quoted (%q): a link's
// name and target are whatever the tree holds, newlines included, and
// must not start a line of their own in a CI log.
func (e *LinkError) Error() string {
	msg := strconv.Quote(e.Link)
	if e.Target != "" {
		msg += " -> " + strconv.Quote(e.Target)
	}
	msg += ": " + e.Reason
	if e.Boundary != "" && strings.Contains(e.Reason, "boundary") {
		msg += " " + strconv.Quote(e.Boundary)
	}
	return msg
}

// Is reports the error as a problem in the user's tree (exit 2).
func (e *LinkError) Is(target error) bool { return target == diag.ErrInvalidInput }

// KindError says a path is the wrong kind of file: a device, a FIFO or a
// socket where a file or directory was wanted, or a file where a path
// goes on below it. It is invalid input (exit 2).
type KindError struct {
	Path string
	Want string // "a regular file or directory", "a directory"
}

func (e *KindError) Error() string        { return e.Path + ": not " + e.Want }
func (e *KindError) Is(target error) bool { return target == diag.ErrInvalidInput }

// NotFoundError says a path to fingerprint does not exist.
type NotFoundError struct{ Path string }

func (e *NotFoundError) Error() string { return e.Path + ": no such file or directory" }

// Is reports the error as fs.ErrNotExist and as invalid input (exit 2).
func (e *NotFoundError) Is(target error) bool {
	return target == fs.ErrNotExist || target == diag.ErrInvalidInput
}

func statError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{Path: path}
	}
	return fmt.Errorf("failed to read %s: %w", path, unwrapPathError(err))
}

// unwrapPathError drops os.PathError's own path (which is the internal,
// root-relative one) so messages name the path the user knows.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func workers(opts *Options) int {
	if opts.Workers > 0 {
		return opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}
