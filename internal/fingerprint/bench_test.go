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
