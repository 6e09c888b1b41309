package fingerprint

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestLargeDirectoryStatsInParallel: a directory past minParallelStat is
// statted by several goroutines; the digest, cold and through a warm stat
// cache, is the sha256sum pipeline's, and a same-size edit of one file
// after the cache was written is seen.
func TestLargeDirectoryStatsInParallel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := 3*minParallelStat + 7
	for i := range n {
		writeFile(t, filepath.Join(dir, "d", fmt.Sprintf("f-%04d", i)), fmt.Sprint(i))
	}
	writeFile(t, filepath.Join(dir, "top"), "top")
	settle()
	cache := filepath.Join(t.TempDir(), "stat-cache")
	want := shellDigest(t, dir)
	for _, workers := range []int{1, 2, 3} {
		res, err := Compute(t.Context(), dir, &Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if res.Digest != want || res.Files != n+1 {
			t.Errorf("%d workers: %s, %d files; want %s, %d files", workers, res.Digest, res.Files, want, n+1)
		}
	}
	if got, _ := digestWith(t, dir, cache); got != want {
		t.Fatalf("cold: %s, want %s", got, want)
	}
	got, hits := digestWith(t, dir, cache)
	if got != want || hits != n+1 {
		t.Errorf("warm: %s, %d hits; want %s, %d hits", got, hits, want, n+1)
	}
	// Same size, same second: ctime moves, so the cache must miss.
	writeFile(t, filepath.Join(dir, "d", "f-0500"), "501")
	want = shellDigest(t, dir)
	if got, _ := digestWith(t, dir, cache); got != want {
		t.Errorf("after a same-size edit: %s, want %s", got, want)
	}
}
