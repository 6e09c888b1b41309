package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/podium-ml/podium/internal/fingerprint"
)

// MissingError says a path run.json names is not on disk any more: the
// record would state sizes it cannot know. It is invalid input (exit 2).
type MissingError struct {
	Path string
	Hint string
}

func (e *MissingError) Error() string {
	msg := e.Path + ": no such file or directory"
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *MissingError) InvalidInput() bool { return true }

// ChangedError says the artifact on disk is not the one the run wrote.
type ChangedError struct {
	Path         string
	Want, Actual string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s: digest is %s but run.json records %s; it changed after `podium train` (train again, or restore it)", e.Path, e.Actual, e.Want)
}

func (e *ChangedError) InvalidInput() bool { return true }

// InspectArtifact fingerprints the artifact at rel (relative to root, the
// spec's directory) and lists its files with their own digests. want, when
// not "", is the digest run.json records for rel; a different one on disk
// is a ChangedError.
func InspectArtifact(ctx context.Context, root, rel, want string) (Artifact, error) {
	abs := filepath.Join(root, filepath.FromSlash(rel))
	res, err := fingerprint.Compute(ctx, abs, nil)
	if err != nil {
		var nf *fingerprint.NotFoundError
		if errors.As(err, &nf) {
			return Artifact{}, &MissingError{Path: rel, Hint: "the spec's artifact; record in the job that ran `podium train`, or restore it first"}
		}
		return Artifact{}, fmt.Errorf("failed to fingerprint the artifact %s: %w", rel, err)
	}
	if want != "" && res.Digest != want {
		return Artifact{}, &ChangedError{Path: rel, Want: want, Actual: res.Digest}
	}
	a := Artifact{Path: rel, Digest: res.Digest, Size: res.Bytes}
	fi, err := os.Stat(abs)
	if err != nil {
		return Artifact{}, fmt.Errorf("failed to read %s: %w", rel, err)
	}
	if fi.Mode().IsRegular() {
		a.Files = []File{{Path: rel, Digest: res.Digest, Size: res.Bytes}}
		return a, nil
	}

	// The per-file digests are the in-toto subjects: what `sha256sum`
	// or `gh attestation verify` computes for each file. Their listing
	// must give the directory digest back, or the tree changed meanwhile.
	names, err := walkFiles(abs)
	if err != nil {
		return Artifact{}, fmt.Errorf("failed to list the artifact %s: %w", rel, err)
	}
	sums, sizes, err := hashFiles(ctx, abs, names)
	if err != nil {
		return Artifact{}, fmt.Errorf("failed to hash the artifact %s: %w", rel, err)
	}
	listing := sha256.New()
	for i, name := range names {
		listing.Write(listingLine(sums[i], name))
		a.Files = append(a.Files, File{Path: path.Join(rel, name), Digest: "sha256:" + hex.EncodeToString(sums[i]), Size: sizes[i]})
	}
	if got := "sha256:" + hex.EncodeToString(listing.Sum(nil)); got != res.Digest {
		return Artifact{}, fmt.Errorf("the artifact %s changed while it was read (digest %s, then %s)", rel, res.Digest, got)
	}
	if len(a.Files) == 0 {
		return Artifact{}, &MissingError{Path: rel, Hint: "the artifact directory holds no files"}
	}
	return a, nil
}

// listingLine is one line of `sha256sum` output, escaped as GNU sha256sum
// escapes a name holding a backslash, newline or carriage return.
func listingLine(sum []byte, name string) []byte {
	var b []byte
	escape := strings.ContainsAny(name, "\\\n\r")
	if escape {
		b = append(b, '\\')
		name = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
	}
	b = hex.AppendEncode(b, sum)
	b = append(b, ' ', ' ')
	b = append(b, name...)
	return append(b, '\n')
}

// hashFiles hashes the files names (relative to dir) on GOMAXPROCS
// workers, since a model is often a few large shards.
func hashFiles(ctx context.Context, dir string, names []string) ([][]byte, []int64, error) {
	sums := make([][]byte, len(names))
	sizes := make([]int64, len(names))
	errs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				sums[i], sizes[i], errs[i] = hashFile(ctx, filepath.Join(dir, filepath.FromSlash(names[i])))
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", names[i], err)
		}
	}
	return sums, sizes, nil
}

func hashFile(ctx context.Context, name string) ([]byte, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, contextReader{ctx, f})
	if err != nil {
		return nil, 0, err
	}
	return h.Sum(nil), n, nil
}

// contextReader stops a long copy when ctx is cancelled.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// walkFiles lists the regular files below dir as `find -L dir -type f`
// does (links followed), as slash-separated relative names in byte order.
// A linked directory that leads back to one being walked is an error, as
// it is for find.
func walkFiles(dir string) ([]string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	var stack []string // real paths of the directories being walked
	var walk func(abs, real, rel string) error
	walk = func(abs, real, rel string) error {
		for _, s := range stack {
			if s == real || strings.HasPrefix(s, real+string(filepath.Separator)) {
				return fmt.Errorf("%s: a symbolic link loop", filepath.Join(dir, filepath.FromSlash(rel)))
			}
		}
		stack = append(stack, real)
		defer func() { stack = stack[:len(stack)-1] }()
		entries, err := os.ReadDir(abs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := path.Join(rel, e.Name())
			p := filepath.Join(abs, e.Name())
			childReal := filepath.Join(real, e.Name())
			mode := e.Type()
			if mode&fs.ModeSymlink != 0 {
				fi, err := os.Stat(p)
				if err != nil {
					return err
				}
				mode = fi.Mode().Type()
				if mode.IsDir() {
					if childReal, err = filepath.EvalSymlinks(p); err != nil {
						return err
					}
				}
			}
			switch {
			case mode.IsDir():
				if err := walk(p, childReal, name); err != nil {
					return err
				}
			case mode.IsRegular():
				names = append(names, name)
			}
		}
		return nil
	}
	if err := walk(dir, real, ""); err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// Sizes returns the size in bytes of every path (relative to root): a
// file's length, or the sum of a directory's files with links followed. A
// path that is gone is a MissingError.
func Sizes(root string, paths []string) (map[string]int64, error) {
	sizes := make(map[string]int64, len(paths))
	for _, rel := range paths {
		if _, done := sizes[rel]; done {
			continue
		}
		abs := filepath.Join(root, filepath.FromSlash(rel))
		fi, err := os.Stat(abs)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &MissingError{Path: rel, Hint: "run.json lists it; record in the job that ran `podium train`, or restore it first"}
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", rel, err)
		}
		if !fi.IsDir() {
			sizes[rel] = fi.Size()
			continue
		}
		names, err := walkFiles(abs)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", rel, err)
		}
		var total int64
		for _, name := range names {
			fi, err := os.Stat(filepath.Join(abs, filepath.FromSlash(name)))
			if err != nil {
				return nil, fmt.Errorf("failed to read %s: %w", path.Join(rel, name), err)
			}
			total += fi.Size()
		}
		sizes[rel] = total
	}
	return sizes, nil
}
