package fingerprint

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/statcache"
)

// BenchmarkDigestTree hashes a tree shaped like a model directory: a few
// large files and many small ones in nested directories (64 MiB in all).
// b.SetBytes makes `go test -bench` print MB/s; compare GOMAXPROCS values
// with -cpu 1,2,4.
func BenchmarkDigestTree(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	write := func(name string, size int) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var total int64
	for i := range 3 {
		write(fmt.Sprintf("weights/shard-%d.bin", i), 16<<20)
		total += 16 << 20
	}
	for i := range 1024 {
		write(fmt.Sprintf("features/part-%02d/%04d.parquet", i%32, i), 16<<10)
		total += 16 << 10
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Compute(b.Context(), dir, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDigestTreeStatCache is BenchmarkDigestTree with the stat cache
// warm: a stat per file, no reads. The ratio of the two is what an
// unchanged tree saves.
func BenchmarkDigestTreeStatCache(b *testing.B) {
	dir := b.TempDir()
	for i := range 1024 {
		p := filepath.Join(dir, fmt.Sprintf("part-%02d", i%32), fmt.Sprintf("%04d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, 16<<10), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(statcache.RacyWindow + 10*time.Millisecond)
	cache := statcache.Open(filepath.Join(b.TempDir(), statcache.FileName))
	if _, err := Compute(b.Context(), dir, &Options{StatCache: cache}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Compute(b.Context(), dir, &Options{StatCache: cache}); err != nil {
			b.Fatal(err)
		}
	}
	if hits, _ := cache.Stats(); hits == 0 {
		b.Fatal("no stat cache hits")
	}
}

// BenchmarkWarmTree is a second `podium fingerprint` of an unchanged tree,
// in process: the stat cache opened from its file, the tree walked, the
// cache saved (which writes nothing). Files hold a few bytes: with the
// cache warm none is read, so only their number counts. 16k is
// bench/fingerprint.sh's 2 GiB tree (16 directories of 1,024 files), 100k
// its tiny files (100 directories of 1,000).
func BenchmarkWarmTree(b *testing.B) {
	for _, bc := range []struct {
		name      string
		dirs, per int
	}{{"16k", 16, 1024}, {"100k", 100, 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			for d := range bc.dirs {
				sub := filepath.Join(dir, fmt.Sprintf("part-%03d", d))
				if err := os.MkdirAll(sub, 0o755); err != nil {
					b.Fatal(err)
				}
				for i := range bc.per {
					if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("chunk-%04d", i)), []byte{byte(i)}, 0o644); err != nil {
						b.Fatal(err)
					}
				}
			}
			time.Sleep(statcache.RacyWindow + 10*time.Millisecond)
			cachePath := filepath.Join(b.TempDir(), statcache.FileName)
			run := func() *statcache.Cache {
				cache := statcache.Open(cachePath)
				if _, err := Compute(b.Context(), dir, &Options{StatCache: cache}); err != nil {
					b.Fatal(err)
				}
				if err := cache.Save(); err != nil {
					b.Fatal(err)
				}
				return cache
			}
			run()
			b.ResetTimer()
			for b.Loop() {
				if hits, misses := run().Stats(); misses != 0 || hits != bc.dirs*bc.per {
					b.Fatalf("%d hits, %d misses; want %d hits", hits, misses, bc.dirs*bc.per)
				}
			}
		})
	}
}
