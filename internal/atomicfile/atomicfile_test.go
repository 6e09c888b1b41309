package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/podium-ml/podium/internal/diag"
)

func TestWriteFileReplacesAndLeavesNoTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "out.json")
	if err := WriteFile(path, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Fatalf("content = %q, %v; want %q", got, err, "two")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "sub"))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the target", len(entries))
	}
}

func TestWriteFileFailureKeepsOldContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory in the way of the rename makes the write fail.
	if err := WriteFile(filepath.Join(path, "child"), []byte("new"), 0o644); err == nil {
		t.Fatal("want an error writing below a regular file")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("old file changed to %q", got)
	}
}

func TestWriteFileNoMkdir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := WriteFileNoMkdir(filepath.Join(dir, "out.md"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "out.md")); err != nil || string(got) != "x" {
		t.Errorf("content = %q, %v; want %q", got, err, "x")
	}
}

func TestWrongKindOfPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		write   func(string, []byte, os.FileMode) error
		path    string
		wantErr string
	}{
		{"missing directory is not created", WriteFileNoMkdir, filepath.Join(dir, "nope", "r.md"),
			filepath.Join(dir, "nope", "r.md") + ": directory " + filepath.Join(dir, "nope") + " does not exist (create it first)"},
		{"parent is a file (no mkdir)", WriteFileNoMkdir, filepath.Join(file, "r.md"),
			filepath.Join(file, "r.md") + ": " + file + " is not a directory"},
		{"parent is a file", WriteFile, filepath.Join(file, "compare.json"),
			filepath.Join(file, "compare.json") + ": a parent of it is a file, not a directory"},
		{"grandparent is a file", WriteFile, filepath.Join(file, "logs", "a.log"),
			filepath.Join(file, "logs", "a.log") + ": a parent of it is a file, not a directory"},
		{"target is a directory", WriteFile, filepath.Join(dir, "sub"),
			filepath.Join(dir, "sub") + ": is a directory (name a file)"},
		{"target is a directory (no mkdir)", WriteFileNoMkdir, filepath.Join(dir, "sub"),
			filepath.Join(dir, "sub") + ": is a directory (name a file)"},
		{"target is a FIFO", WriteFileNoMkdir, filepath.Join(dir, "pipe"),
			filepath.Join(dir, "pipe") + ": is not a regular file (podium replaces the file whole)"},
		{"target is a device", WriteFileNoMkdir, "/dev/null",
			"/dev/null: is not a regular file (podium replaces the file whole)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.write(tt.path, []byte("new"), 0o644)
			var pe *PathError
			if !errors.As(err, &pe) || !errors.Is(err, diag.ErrInvalidInput) {
				t.Fatalf("want an invalid-input *PathError, got %T %v", err, err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error = %q\nwant    %q", err, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFileNoMkdir created the missing directory: %v", err)
	}
	if got, _ := os.ReadFile(file); string(got) != "old" {
		t.Errorf("the file in the way changed to %q", got)
	}
}

// TestRemoveStale leaves a temporary file behind as a killed writer would
// and checks that RemoveStale removes exactly those.
func TestRemoveStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tmp, err := os.CreateTemp(dir, TempPattern("run.json"))
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	keep := []string{"run.json", ".hidden", ".run.json.tmp-", ".x.tmp-12ab", "a.tmp-123"}
	for _, name := range keep {
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, ".d.tmp-1"), 0o755)
	removed, err := RemoveStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Base(tmp.Name())}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	for _, name := range append(keep, ".d.tmp-1") {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n, err := RemoveStale(filepath.Join(dir, "missing")); err != nil || n != nil {
		t.Errorf("missing dir: %v, %v", n, err)
	}
}
