// Package atomicfile writes files so that readers see the old content or the
// new one, never half of either: the data goes to a temporary file in the
// same directory, is synced, and is renamed over the target.
//
// Two entry points, by who chose the path:
//
//   - WriteFile, for files in directories podium owns (a run directory, its
//     cache): missing parent directories are created.
//   - WriteFileNoMkdir, for a path the user named (--out, --report): the
//     directory must exist, so a typo fails instead of creating a tree.
//
// Both refuse, as invalid input (*PathError, InvalidInput() true), a
// target that is a directory or not a regular file (/dev/null, a FIFO: the
// rename would replace the device node) and a parent that is not a
// directory; the message names the path.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// PathError is a target path of the wrong kind: a directory, a device, a
// missing parent directory (WriteFileNoMkdir), a parent that is a file.
// It is the caller's input that is wrong (exit 2), not the disk.
type PathError struct {
	Path string
	Msg  string
}

func (e *PathError) Error() string      { return e.Path + ": " + e.Msg }
func (e *PathError) InvalidInput() bool { return true }

// WriteFile writes data to path atomically, creating parent directories.
// Use it for paths below a directory podium owns.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			return &PathError{Path: path, Msg: "a parent of it is a file, not a directory"}
		}
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	return write(path, data, perm)
}

// WriteFileNoMkdir writes data to path atomically; path's directory must
// exist. Use it for a path the user named: --out reports/x.md in a
// checkout without reports/ is a mistake to report, not a tree to create.
func WriteFileNoMkdir(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &PathError{Path: path, Msg: fmt.Sprintf("directory %s does not exist (create it first)", dir)}
	case errors.Is(err, syscall.ENOTDIR):
		return &PathError{Path: path, Msg: "a parent of it is a file, not a directory"}
	case err != nil:
		return fmt.Errorf("failed to write %s: %w", path, err)
	case !fi.IsDir():
		return &PathError{Path: path, Msg: fmt.Sprintf("%s is not a directory", dir)}
	}
	return write(path, data, perm)
}

func write(path string, data []byte, perm os.FileMode) (err error) {
	// The rename would fail on a directory ("file exists") and replace a
	// device node or FIFO: say what is wrong instead.
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.IsDir():
			return &PathError{Path: path, Msg: "is a directory (name a file)"}
		case !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0:
			return &PathError{Path: path, Msg: "is not a regular file (podium replaces the file whole)"}
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}
