package fingerprint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/gittest"
)

// sha256sumPipeline is the README's check, with NUL separators so names
// with spaces and newlines survive xargs.
const sha256sumPipeline = `find -L . -type f -print0 | LC_ALL=C sort -z | sed -z 's|^\./||' | xargs -0 sha256sum | sha256sum`

func shellDigest(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", sha256sumPipeline)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", sha256sumPipeline, err)
	}
	hexSum, _, _ := strings.Cut(string(out), " ")
	return Prefix + hexSum
}

// entry is a file ("content"), a directory (trailing /) or a link ("-> target").
type layout map[string]string

func (tr layout) write(t testing.TB, dir string) {
	t.Helper()
	for name, content := range tr {
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(name, "/")))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(name, "/"):
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(content, "-> "):
			if err := os.Symlink(strings.TrimPrefix(content, "-> "), p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestComputeMatchesSha256sum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tree      layout
		wantFiles int
	}{
		{
			name:      "flat",
			tree:      layout{"a.txt": "alpha\n", "b.bin": "\x00\x01\x02"},
			wantFiles: 2,
		},
		{
			name: "nested with empty files and dirs",
			tree: layout{
				"x/y/z/deep.txt": "deep", "x/empty": "", "empty-dir/": "", "top": "t",
				"x/y/also-empty": "",
			},
			wantFiles: 4,
		},
		{
			name: "spaces, non-ASCII and byte order",
			tree: layout{
				"with space.txt": "s", "a b/c d.txt": "cd", "a/b": "ab", "a-b": "dash",
				"é/ü.csv": "umlaut", "日本語.txt": "nihongo", "Z": "upper", "z": "lower",
				"\xff\xfe": "not utf-8",
			},
			wantFiles: 9,
		},
		{
			name:      "names sha256sum escapes",
			tree:      layout{`back\slash`: "b", "new\nline": "n", "carriage\rreturn": "c"},
			wantFiles: 3,
		},
		{
			name: "links followed inside",
			tree: layout{
				"real/data.csv": "1,2\n", "real/sub/more.csv": "3,4\n",
				"view": "-> real", "file-link": "-> real/data.csv", "chain": "-> file-link",
			},
			wantFiles: 6,
		},
		{
			name:      "two links to one directory are listed twice",
			tree:      layout{"d/f": "f", "l1": "-> d", "l2": "-> d"},
			wantFiles: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tt.tree.write(t, dir)
			got, err := Compute(t.Context(), dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := shellDigest(t, dir); got.Digest != want {
				t.Errorf("digest = %s, sha256sum pipeline = %s", got.Digest, want)
			}
			if got.Files != tt.wantFiles {
				t.Errorf("files = %d, want %d", got.Files, tt.wantFiles)
			}
		})
	}
}

func TestComputeInsideRepository(t *testing.T) {
	t.Parallel()
	repo := gittest.Init(t)
	layout{
		"data/cache/ab/cdef": "cached bytes",
		"data/cache/12/3456": "more cached bytes",
		"model/weights.bin":  "-> ../data/cache/ab/cdef",
		"model/config.json":  "{}",
		"model/shared":       "-> ../data/cache",
	}.write(t, repo)
	// A DVC-style absolute link into the repository's cache.
	if err := os.Symlink(filepath.Join(repo, "data/cache/12/3456"), filepath.Join(repo, "model/abs")); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(repo, "model")
	got, err := Compute(t.Context(), model, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := shellDigest(t, model); got.Digest != want {
		t.Errorf("digest = %s, sha256sum pipeline = %s", got.Digest, want)
	}
	want := &Result{Path: model, Digest: got.Digest, Files: 5, Bytes: int64(2*len("cached bytes") + 2*len("more cached bytes") + 2)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestComputeFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := bytes.Repeat([]byte("0123456789abcdef"), 3*bufSize/16+7) // spans several reads
	p := filepath.Join(dir, "model.bin")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Compute(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{Path: p, Digest: Bytes(content), Files: 1, Bytes: int64(len(content))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	out, err := exec.Command("sha256sum", p).Output()
	if err != nil {
		t.Fatal(err)
	}
	if hexSum, _, _ := strings.Cut(string(out), " "); Prefix+hexSum != got.Digest {
		t.Errorf("digest = %s, sha256sum = %s", got.Digest, hexSum)
	}
}

func TestComputeLinkErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tree    layout
		path    string // below the repository
		wantErr string // with REPO for the repository's path
	}{
		{
			name:    "relative link out of the repository",
			tree:    layout{"model/leak": "-> ../../../outside"},
			path:    "model",
			wantErr: `"REPO/model/leak" -> "../../../outside": resolves outside the boundary "REPO"`,
		},
		{
			name:    "absolute link to the environment",
			tree:    layout{"model/env": "-> /proc/self/environ"},
			path:    "model",
			wantErr: `"REPO/model/env" -> "/proc/self/environ": resolves outside the boundary "REPO"`,
		},
		{
			name:    "link to the filesystem root",
			tree:    layout{"model/slash": "-> /"},
			path:    "model",
			wantErr: `"REPO/model/slash" -> "/": resolves outside the boundary "REPO"`,
		},
		{
			name:    "dangling",
			tree:    layout{"model/gone": "-> nowhere.bin"},
			path:    "model",
			wantErr: `"REPO/model/gone" -> "nowhere.bin": dangles (its target does not exist)`,
		},
		{
			name:    "self loop",
			tree:    layout{"model/me": "-> me"},
			path:    "model",
			wantErr: `"REPO/model/me" -> "me": is a loop of symbolic links`,
		},
		{
			name:    "two-link loop",
			tree:    layout{"model/a": "-> b", "model/b": "-> a"},
			path:    "model",
			wantErr: `"REPO/model/a" -> "b": is a loop of symbolic links`,
		},
		{
			name:    "directory loop",
			tree:    layout{"model/sub/up": "-> ..", "model/f": "x"},
			path:    "model",
			wantErr: `"REPO/model/sub/up" -> "..": is a loop (it leads back to a directory that holds it)`,
		},
		{
			name:    "loop through the parent of the path",
			tree:    layout{"data/model/back": "-> ../../data", "data/x": "x"},
			path:    "data/model",
			wantErr: `"REPO/data/model/back" -> "../../data": is a loop (it leads back to a directory that holds it)`,
		},
		{
			name:    "the path itself escapes",
			tree:    layout{"model": "-> /etc"},
			path:    "model",
			wantErr: `"REPO/model" -> "/etc": resolves outside the boundary "REPO"`,
		},
		{
			// A link's name and target are the tree's: a newline in either
			// must not start a line in a CI log.
			name:    "names with newlines are quoted",
			tree:    layout{"model/x\n::error::hi": "-> ../../\n::stop-commands::t"},
			path:    "model",
			wantErr: `"REPO/model/x\n::error::hi" -> "../../\n::stop-commands::t": resolves outside the boundary "REPO"`,
		},
		{
			name:    "missing path",
			tree:    layout{"other": "x"},
			path:    "model",
			wantErr: "REPO/model: no such file or directory",
		},
		{
			name:    "a file used as a directory",
			tree:    layout{"model": "x"},
			path:    "model/weights",
			wantErr: "REPO/model/weights: not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.Init(t)
			tt.tree.write(t, repo)
			_, err := Compute(t.Context(), filepath.Join(repo, tt.path), nil)
			if err == nil {
				t.Fatal("want an error")
			}
			if got, want := err.Error(), strings.ReplaceAll(tt.wantErr, "REPO", repo); got != want {
				t.Errorf("error = %q\nwant    %q", got, want)
			}
		})
	}
}

func TestComputeErrorKinds(t *testing.T) {
	t.Parallel()
	repo := gittest.Init(t)
	layout{"leak": "-> /etc/passwd"}.write(t, repo)

	_, err := Compute(t.Context(), filepath.Join(repo, "missing"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing path: errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	_, err = Compute(t.Context(), filepath.Join(repo, "leak"), nil)
	var linkErr *LinkError
	if !errors.As(err, &linkErr) || !errors.Is(err, diag.ErrInvalidInput) {
		t.Errorf("escaping link: want an invalid-input *LinkError, got %T %v", err, err)
	}
	_, err = Compute(t.Context(), "model\x00/x", nil)
	if want := `"model\x00/x": path contains a NUL byte`; err == nil || err.Error() != want {
		t.Errorf("NUL: error = %v, want %s", err, want)
	}
}

func TestComputeOutsideRepositoryBoundaryIsThePath(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	layout{"secret": "s", "model/ok": "ok", "model/up": "-> ../secret"}.write(t, base)
	_, err := Compute(t.Context(), filepath.Join(base, "model"), nil)
	want := fmt.Sprintf("%q -> \"../secret\": resolves outside the boundary %q", base+"/model/up", base+"/model")
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestComputeUnreadableFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := t.TempDir()
	layout{"ok": "ok", "locked": "secret"}.write(t, dir)
	if err := os.Chmod(filepath.Join(dir, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := Compute(t.Context(), dir, nil)
	want := "failed to read " + filepath.Join(dir, "locked") + ": permission denied"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestComputeSameDigestForAnyWorkerCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := layout{}
	for i := range 40 {
		tr[fmt.Sprintf("d%d/f%d", i%5, i)] = strings.Repeat(string(rune('a'+i%26)), i*97)
	}
	tr["big/one"] = strings.Repeat("B", 3<<20)
	tr["big/two"] = strings.Repeat("C", 1<<20+1)
	tr.write(t, dir)
	want := shellDigest(t, dir)
	for _, n := range []int{1, 2, 3, 8, 64} {
		got, err := Compute(t.Context(), dir, &Options{Workers: n})
		if err != nil {
			t.Fatal(err)
		}
		if got.Digest != want {
			t.Errorf("workers=%d: digest = %s, want %s", n, got.Digest, want)
		}
	}
}

func TestComputeProgressEndsAtTotal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	layout{"a": strings.Repeat("a", 1000), "b/c": strings.Repeat("c", 24)}.write(t, dir)
	var mu sync.Mutex
	var calls [][2]int64
	_, err := Compute(t.Context(), dir, &Options{Progress: func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, [2]int64{done, total})
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int64{1024, 1024} {
		t.Errorf("progress calls = %v, want the last to be [1024 1024]", calls)
	}
}

func TestComputeCanceled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	layout{"a": "a", "b": "b"}.write(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Compute(ctx, dir, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestEmptyDirectoryIsDigestOfEmptyListing(t *testing.T) {
	t.Parallel()
	got, err := Compute(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{Path: got.Path, Digest: Bytes(nil)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestAppendListingLine(t *testing.T) {
	t.Parallel()
	var sum [32]byte
	zero := strings.Repeat("0", 64)
	tests := []struct {
		name string
		file string
		want string
	}{
		{name: "plain", file: "a/b.csv", want: zero + "  a/b.csv\n"},
		{name: "space", file: "a b", want: zero + "  a b\n"},
		{name: "backslash", file: `a\b`, want: `\` + zero + `  a\\b` + "\n"},
		{name: "newline", file: "a\nb", want: `\` + zero + `  a\nb` + "\n"},
		{name: "carriage return", file: "a\rb", want: `\` + zero + `  a\rb` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(appendListingLine(nil, sum, tt.file)); got != tt.want {
				t.Errorf("line = %q, want %q", got, tt.want)
			}
		})
	}
}

// A device or a FIFO is the wrong kind of path: invalid input, named, and
// never opened (opening a FIFO would block).
func TestComputeWrongKindOfPath(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	repo := gittest.Init(t)
	for _, dir := range []string{outside, repo} {
		if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, path, want string
	}{
		{"device", "/dev/null", "/dev/null: not a regular file or directory"},
		{"FIFO outside a repository", filepath.Join(outside, "pipe"), filepath.Join(outside, "pipe") + ": not a regular file or directory"},
		{"FIFO in a repository", filepath.Join(repo, "pipe"), filepath.Join(repo, "pipe") + ": not a regular file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compute(t.Context(), tt.path, nil)
			var kind *KindError
			if !errors.As(err, &kind) || !errors.Is(err, diag.ErrInvalidInput) {
				t.Fatalf("want an invalid-input *KindError, got %T %v", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
}
