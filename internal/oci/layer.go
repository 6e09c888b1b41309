package oci

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Media types of the layers and of an entry.
const (
	// MediaTypeFile is a file output's layer: the file's bytes, so its
	// blob digest is the output's fingerprint.
	MediaTypeFile = "application/vnd.podium.output.file.v1"
	// MediaTypeTree is a directory output's layer: a tar of its regular
	// files and directories, sorted by name, with no owners or times, so
	// the same tree always makes the same blob.
	MediaTypeTree = "application/vnd.podium.output.tree.v1.tar"
	// ArtifactTypeStep is a step cache entry's artifact type.
	ArtifactTypeStep = "application/vnd.podium.step.v1"
)

// Annotations on an entry's manifest and layers.
const (
	AnnotationStep   = "dev.podium.step"
	AnnotationKey    = "dev.podium.cache.key"
	AnnotationPath   = "org.opencontainers.image.title"
	AnnotationDigest = "dev.podium.output.digest"
	AnnotationMode   = "dev.podium.output.mode"
)

// writeTree writes a deterministic tar of the directory dir to w. Links
// are followed, as fingerprints follow them, through an os.Root on dir, so
// none can lead outside it.
func writeTree(w io.Writer, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tw := tar.NewWriter(w)
	var walk func(rel string, depth int) error
	walk = func(rel string, depth int) error {
		if depth > 255 {
			return fmt.Errorf("%s: too deep (a link loop?)", filepath.Join(dir, rel))
		}
		d, err := root.Open(rel)
		if err != nil {
			return err
		}
		names, err := d.Readdirnames(-1)
		d.Close()
		if err != nil {
			return err
		}
		sort.Strings(names)
		for _, name := range names {
			p := path.Join(rel, name)
			if rel == "." {
				p = name
			}
			fi, err := root.Stat(p)
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, Format: tar.FormatPAX}); err != nil {
					return err
				}
				if err := walk(p, depth+1); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: fileMode(fi.Mode()), Size: fi.Size(), Format: tar.FormatPAX}); err != nil {
					return err
				}
				f, err := root.Open(p)
				if err != nil {
					return err
				}
				n, err := io.Copy(tw, f)
				f.Close()
				if err != nil {
					return err
				}
				if n != fi.Size() {
					return fmt.Errorf("%s changed while it was archived", filepath.Join(dir, p))
				}
			default:
				return fmt.Errorf("%s: not a regular file or directory", filepath.Join(dir, p))
			}
		}
		return nil
	}
	if err := walk(".", 0); err != nil {
		return err
	}
	return tw.Close()
}

// fileMode keeps only the executable bit: a restored output is 0644 or 0755.
func fileMode(m fs.FileMode) int64 {
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// readTree extracts the tar r into the empty directory dir. Only
// directories and regular files with local names are accepted; anything
// else (links, devices, "..", absolute names, duplicates) is an error, so
// a hostile layer cannot write outside dir.
func readTree(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read layer: %w", err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if !filepath.IsLocal(name) || name != path.Clean(name) || strings.Contains(name, "\\") {
			return fmt.Errorf("layer entry %q: not a local path", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if d := path.Dir(name); d != "." {
				if err := root.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(fileMode(fs.FileMode(h.Mode))))
			if err != nil {
				return fmt.Errorf("layer entry %q: %w", h.Name, err)
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("layer entry %q: type %q is not a file or directory", h.Name, h.Typeflag)
		}
	}
}

// verifier hashes what is read through it and checks digest and size at
// the end: a blob that does not match is refused.
type verifier struct {
	r      io.Reader
	h      hash.Hash
	n      int64
	size   int64
	digest string
}

func newVerifier(r io.Reader, digest string, size int64) *verifier {
	// One byte more than expected, to notice a longer blob.
	return &verifier{r: io.LimitReader(r, size+1), h: sha256.New(), size: size, digest: digest}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	return n, err
}

// check drains the rest and compares.
func (v *verifier) check() error {
	if _, err := io.Copy(io.Discard, v); err != nil {
		return err
	}
	got := "sha256:" + hex.EncodeToString(v.h.Sum(nil))
	if v.n != v.size || got != v.digest {
		return &DigestError{Want: v.digest, Got: got, Size: v.n, WantSize: v.size}
	}
	return nil
}

// DigestError says a blob's content does not match its digest: the
// registry (or something between it and podium) served other bytes, and
// nothing of it was used.
type DigestError struct {
	Want, Got      string
	Size, WantSize int64
}

func (e *DigestError) Error() string {
	if e.Size != e.WantSize {
		return fmt.Sprintf("blob %s: got %d bytes, want %d: refused", e.Want, e.Size, e.WantSize)
	}
	return fmt.Sprintf("blob %s: content has digest %s: refused", e.Want, e.Got)
}
