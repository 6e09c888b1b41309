package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/statcache"
)

// MissingError says a path run.json names is not on disk any more: the
// record would state sizes it cannot know. It is invalid input (exit 2).
type MissingError struct {
	Path string
	What string // what the path is, or why it counts as missing
	// Empty is a directory that holds no files, not a path that is gone.
	Empty bool
	// Hint is what to do about it, added by the caller: the commands to
	// run are the CLI's to name.
	Hint string
}

func (e *MissingError) Error() string {
	msg := e.Path + ": no such file or directory"
	var notes []string
	for _, s := range []string{e.What, e.Hint} {
		if s != "" {
			notes = append(notes, s)
		}
	}
	if len(notes) > 0 {
		msg += " (" + strings.Join(notes, "; ") + ")"
	}
	return msg
}

func (e *MissingError) Is(target error) bool { return target == diag.ErrInvalidInput }

// ChangedError says the artifact on disk is not the one the run wrote.
type ChangedError struct {
	Path         string
	Want, Actual string
	Hint         string // what to do about it, added by the caller
}

func (e *ChangedError) Error() string {
	msg := fmt.Sprintf("%s: digest is %s but run.json records %s", e.Path, e.Actual, e.Want)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *ChangedError) Is(target error) bool { return target == diag.ErrInvalidInput }

// InspectArtifact fingerprints the artifact at rel (relative to root, the
// spec's directory) and lists its files with their own digests. want, when
// not "", is the digest run.json records for rel; a different one on disk
// is a ChangedError.
func InspectArtifact(ctx context.Context, root, rel, want string) (Artifact, error) {
	return InspectArtifactCached(ctx, root, rel, want, nil)
}

// InspectArtifactCached is InspectArtifact taking the digests of files
// unchanged since they were hashed from cache (nil hashes every file).
// The artifact is read at most once: the per-file digests are those the
// directory digest was made of, and with the stat cache warm it is not
// read at all.
func InspectArtifactCached(ctx context.Context, root, rel, want string, cache *statcache.Cache) (Artifact, error) {
	abs := filepath.Join(root, filepath.FromSlash(rel))
	res, err := fingerprint.Compute(ctx, abs, &fingerprint.Options{StatCache: cache, ListFiles: true})
	if err != nil {
		var nf *fingerprint.NotFoundError
		if errors.As(err, &nf) {
			return Artifact{}, &MissingError{Path: rel, What: "the spec's artifact"}
		}
		return Artifact{}, fmt.Errorf("failed to fingerprint the artifact %s: %w", rel, err)
	}
	if want != "" && res.Digest != want {
		return Artifact{}, &ChangedError{Path: rel, Want: want, Actual: res.Digest}
	}
	a := Artifact{Path: rel, Digest: res.Digest, Size: res.Bytes}
	if res.Entries == nil {
		// A file: its digest is its own.
		a.Files = []File{{Path: rel, Digest: res.Digest, Size: res.Bytes}}
		return a, nil
	}
	// The per-file digests are the in-toto subjects: what `sha256sum`
	// or `gh attestation verify` computes for each file.
	for _, f := range res.Entries {
		a.Files = append(a.Files, File{Path: path.Join(rel, f.Name), Digest: f.Digest, Size: f.Size})
	}
	if len(a.Files) == 0 {
		return Artifact{}, &MissingError{Path: rel, What: "the artifact directory holds no files", Empty: true}
	}
	return a, nil
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
			return nil, &MissingError{Path: rel, What: "run.json lists it"}
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
