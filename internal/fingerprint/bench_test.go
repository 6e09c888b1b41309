package fingerprint

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
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
