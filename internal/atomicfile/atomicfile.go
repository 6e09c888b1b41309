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
// The temporary file is named TempPattern(base): a process killed between
// create and rename leaves one behind, and RemoveStale, run by the next
// owner of the directory, recognises and removes it.
//
// Both refuse, as invalid input (*PathError, diag.ErrInvalidInput), a
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
	"strings"
	"syscall"

	"github.com/podium-ml/podium/internal/diag"
)

// PathError is a target path of the wrong kind: a directory, a device, a
// missing parent directory (WriteFileNoMkdir), a parent that is a file.
// It is the caller's input that is wrong (exit 2), not the disk.
type PathError struct {
	Path string
	Msg  string
}

func (e *PathError) Error() string        { return e.Path + ": " + e.Msg }
func (e *PathError) Is(target error) bool { return target == diag.ErrInvalidInput }

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
	tmp, err := os.CreateTemp(dir, TempPattern(filepath.Base(path)))
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

// tempMarker is what every temporary name holds: "." + base + tempMarker +
// random digits.
const tempMarker = ".tmp-"

// TempPattern is the os.CreateTemp pattern of a temporary file for base:
// hidden, and recognisable by IsTemp. Code that writes its own temporary
// files next to their targets (a step's log) uses it too.
func TempPattern(base string) string { return "." + base + tempMarker + "*" }

// IsTemp reports whether name (a base name) is a TempPattern name.
func IsTemp(name string) bool {
	i := strings.LastIndex(name, tempMarker)
	if !strings.HasPrefix(name, ".") || i <= 1 {
		return false
	}
	suffix := name[i+len(tempMarker):]
	if suffix == "" {
		return false
	}
	for _, r := range suffix {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// RemoveStale removes the temporary files (IsTemp) directly in dir that a
// killed writer left behind, and returns their names. Only the directory's
// owner may call it (podium holds the run directory's lock): a temporary
// file of a live writer would go too. A missing dir has none.
func RemoveStale(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to clean %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !IsTemp(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("failed to clean %s: %w", dir, err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}
