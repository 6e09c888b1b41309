//go:build !(linux || openbsd || darwin || freebsd || netbsd)

package fingerprint

import (
	"os"
	"path/filepath"

	"github.com/podium-ml/podium/internal/statcache"
)

type osFile struct{ *os.File }

func (f osFile) stat() (statcache.Stat, bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return statcache.Stat{}, false, err
	}
	if !fi.Mode().IsRegular() {
		return statcache.Stat{}, false, errNotRegular
	}
	st, ok := statcache.FromFileInfo(fi)
	return st, ok, nil
}

// dirOpener keeps the directory of the last file open as an os.Root.
type dirOpener struct {
	dir  string
	root *os.Root
}

func (d *dirOpener) open(t *tree, dir, base string) (statFile, error) {
	if d.root == nil || d.dir != dir {
		d.close()
		r, err := t.root.OpenRoot(filepath.FromSlash(dir))
		if err != nil {
			return nil, err
		}
		d.root, d.dir = r, dir
	}
	f, err := d.root.Open(base)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (d *dirOpener) close() {
	if d.root != nil {
		d.root.Close()
		d.root = nil
	}
}

func openNamed(abs string) (statFile, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}
