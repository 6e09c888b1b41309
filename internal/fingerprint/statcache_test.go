package fingerprint

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/statcache"
)

// settle waits until files written now are past the racy window, so the
// stat cache keeps their digests.
func settle() { time.Sleep(statcache.RacyWindow + 20*time.Millisecond) }

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// digestWith fingerprints p through a stat cache opened from, and saved
// to, cachePath; it returns the digest and the cache's hits.
func digestWith(t *testing.T, p, cachePath string) (string, int) {
	t.Helper()
	c := statcache.Open(cachePath)
	res, err := Compute(t.Context(), p, &Options{StatCache: c})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	hits, _ := c.Stats()
	return res.Digest, hits
}

func plainDigest(t *testing.T, p string) string {
	t.Helper()
	res, err := Compute(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Digest
}

// TestStatCacheNeverStale changes files in the ways that keep size (and,
// where a user can, mtime) and checks that the digest through a warm stat
// cache is the digest of the bytes on disk.
func TestStatCacheNeverStale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, file string)
	}{
		{"same-size edit in the same second", func(t *testing.T, file string) {
			writeFile(t, file, "BBBB")
		}},
		{"mtime set back with touch -d", func(t *testing.T, file string) {
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, file, "CCCC")
			stamp := fi.ModTime().UTC().Format("2006-01-02 15:04:05.000000000 +0000")
			if out, err := exec.Command("touch", "-d", stamp, file).CombinedOutput(); err != nil {
				t.Fatalf("touch -d: %v: %s", err, out)
			}
			if got, err := os.Stat(file); err != nil || !got.ModTime().Equal(fi.ModTime()) {
				t.Fatalf("touch -d did not restore the mtime: %v", err)
			}
		}},
		{"replaced by a file of the same size and mtime", func(t *testing.T, file string) {
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			tmp := file + ".new"
			writeFile(t, tmp, "DDDD")
			if err := os.Chtimes(tmp, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, file); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		for _, kind := range []string{"file", "dir"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				cache := filepath.Join(t.TempDir(), "stat-cache")
				file := filepath.Join(dir, "data", "a.bin")
				writeFile(t, file, "AAAA")
				writeFile(t, filepath.Join(dir, "data", "b.bin"), "bbbb")
				target := file
				if kind == "dir" {
					target = filepath.Join(dir, "data")
				}
				settle()
				first, _ := digestWith(t, target, cache)
				if _, hits := digestWith(t, target, cache); hits == 0 {
					t.Fatalf("the warm cache had no hits: the test would prove nothing")
				}
				tt.change(t, file)
				got, _ := digestWith(t, target, cache)
				want := plainDigest(t, target)
				if got != want {
					t.Errorf("digest through the stat cache = %s, want %s (the bytes on disk)", got, want)
				}
				if got == first {
					t.Errorf("digest did not change after the edit")
				}
			})
		}
	}
}

// TestStatCacheRacyFile: a file hashed in the timestamp tick it was
// written in is not cached, since a same-size rewrite in that tick would
// keep its stat.
func TestStatCacheRacyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "stat-cache")
	writeFile(t, filepath.Join(dir, "a"), "fresh")
	digestWith(t, dir, cache)
	if _, hits := digestWith(t, dir, cache); hits != 0 {
		t.Errorf("a file written just before it was hashed was cached (%d hits)", hits)
	}
	settle()
	digestWith(t, dir, cache)
	if _, hits := digestWith(t, dir, cache); hits != 1 {
		t.Errorf("a settled file was not cached: %d hits, want 1", hits)
	}
}

// TestStatCacheFileChangedWhileHashed rewrites a file between its read and
// the stat after it: the digest returned is of the new bytes (it is read
// again) and the torn read is not cached.
func TestStatCacheFileChangedWhileHashed(t *testing.T) {
	// Not parallel: it sets the package's hook.
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "stat-cache")
	file := filepath.Join(dir, "a")
	writeFile(t, file, "before")
	settle()
	var once sync.Once
	afterReadHook = func(*fileEntry) {
		once.Do(func() { writeFile(t, file, "AFTER!") })
	}
	t.Cleanup(func() { afterReadHook = nil })
	got, _ := digestWith(t, dir, cache)
	afterReadHook = nil
	if want := plainDigest(t, dir); got != want {
		t.Errorf("digest = %s, want %s: the bytes on disk after the rewrite", got, want)
	}
	if _, hits := digestWith(t, dir, cache); hits != 0 {
		t.Errorf("a file rewritten while hashed was cached (%d hits)", hits)
	}
}

// TestStatCacheMovedToAnotherTree: a tree replaced by another with the
// same names, sizes and mtimes (a cache copied along, a checkout
// restored) has other inodes and ctimes, so nothing stale comes back.
func TestStatCacheMovedToAnotherTree(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "tree")
	names := []string{"a", "sub/b", "sub/c"}
	for _, n := range names {
		writeFile(t, filepath.Join(dir, n), "old-"+filepath.Base(n))
	}
	settle()
	cache := filepath.Join(dir, ".podium", "stat-cache")
	first, _ := digestWith(t, filepath.Join(dir, "sub"), cache)

	// Move the tree, cache file and all, aside; build another in its place
	// with the same names, sizes and mtimes; bring the cache file back.
	if err := os.Rename(dir, filepath.Join(root, "old")); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		writeFile(t, p, "new-"+filepath.Base(n))
		fi, err := os.Stat(filepath.Join(root, "old", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "old", ".podium", "stat-cache"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cache, string(data))
	got, hits := digestWith(t, filepath.Join(dir, "sub"), cache)
	if hits != 0 || got == first {
		t.Errorf("the moved cache answered for another tree: %d hits, digest %s (was %s)", hits, got, first)
	}
	if want := plainDigest(t, filepath.Join(dir, "sub")); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
}

// TestStatCacheWarmReadsNothing: with every file cached, no file is opened.
func TestStatCacheWarmReadsNothing(t *testing.T) {
	// Not parallel: it sets the package's hook.
	dir := t.TempDir()
	cache := filepath.Join(t.TempDir(), "stat-cache")
	for _, n := range []string{"a", "b/c", "b/d"} {
		writeFile(t, filepath.Join(dir, n), n)
	}
	settle()
	want, _ := digestWith(t, dir, cache)
	afterReadHook = func(e *fileEntry) { t.Errorf("read %s/%s with the cache warm", e.more.dir.real, e.more.base) }
	t.Cleanup(func() { afterReadHook = nil })
	got, hits := digestWith(t, dir, cache)
	if got != want || hits != 3 {
		t.Errorf("warm: digest %s, %d hits; want %s, 3 hits", got, hits, want)
	}
}
