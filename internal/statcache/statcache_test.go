package statcache

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var old = time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)

func stat(i int) Stat {
	return Stat{Size: int64(i), Mtime: old.UnixNano() + int64(i), Ctime: old.UnixNano() + 7, Ino: uint64(i) + 100, Dev: 3}
}

func TestRacy(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 12, 0, 0, 500_000_000, time.UTC)
	ns := func(d time.Duration) int64 { return start.Add(d).UnixNano() }
	tests := []struct {
		name string
		st   Stat
		want bool
	}{
		{"old file", Stat{Mtime: ns(-time.Hour), Ctime: ns(-time.Hour + 1)}, false},
		{"written within the window", Stat{Mtime: ns(-time.Millisecond), Ctime: ns(-time.Millisecond)}, true},
		{"mtime set back, ctime now", Stat{Mtime: ns(-time.Hour), Ctime: ns(-time.Millisecond)}, true},
		{"written after the read started", Stat{Mtime: ns(time.Second), Ctime: ns(time.Second)}, true},
		{"whole-second stamps, 1 s before", Stat{Mtime: ns(-time.Second - 500*time.Millisecond), Ctime: ns(-time.Second - 500*time.Millisecond)}, true},
		{"whole-second stamps, 3 s before", Stat{Mtime: ns(-3*time.Second - 500*time.Millisecond), Ctime: ns(-3*time.Second - 500*time.Millisecond)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Racy(tt.st, start); got != tt.want {
				t.Errorf("Racy(%+v) = %v, want %v", tt.st, got, tt.want)
			}
		})
	}
}

func TestGetPutSaveOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", FileName)
	c := Open(path)
	sum := sha256.Sum256([]byte("x"))
	c.Put("/a", stat(1), time.Now(), sum)
	c.Put("/racy", Stat{Mtime: time.Now().UnixNano(), Ctime: time.Now().UnixNano()}, time.Now(), sum)
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	d := Open(path)
	tests := []struct {
		key  string
		st   Stat
		want bool
	}{
		{"/a", stat(1), true},
		{"/racy", Stat{}, false},
		{"/b", stat(1), false},
		{"/a", func() Stat { s := stat(1); s.Ino++; return s }(), false},
		{"/a", func() Stat { s := stat(1); s.Ctime++; return s }(), false},
		{"/a", func() Stat { s := stat(1); s.Mtime--; return s }(), false},
		{"/a", func() Stat { s := stat(1); s.Size = 2; return s }(), false},
		{"/a", func() Stat { s := stat(1); s.Dev = 9; return s }(), false},
	}
	for _, tt := range tests {
		got, ok := d.Get(tt.key, tt.st)
		if ok != tt.want || ok && got != sum {
			t.Errorf("Get(%s, %+v) = %x, %v; want %v", tt.key, tt.st, got, ok, tt.want)
		}
	}
	var nilCache *Cache
	nilCache.Put("/a", stat(1), time.Now(), sum)
	if _, ok := nilCache.Get("/a", stat(1)); ok || nilCache.Save() != nil {
		t.Errorf("a nil cache is not an empty one")
	}
}

// TestConcurrentSaves: processes saving at once lose no entry and leave a
// whole file.
func TestConcurrentSaves(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			c := Open(path)
			for i := range 50 {
				c.Put(fmt.Sprintf("/w%d/%d", w, i), stat(i), time.Now(), sha256.Sum256([]byte{byte(w), byte(i)}))
			}
			if err := c.Save(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c := Open(path)
	if c.Len() != 8*50 {
		t.Errorf("after 8 concurrent saves the file holds %d entries, want %d", c.Len(), 8*50)
	}
	for w := range 8 {
		if got, ok := c.Get(fmt.Sprintf("/w%d/7", w), stat(7)); !ok || got != sha256.Sum256([]byte{byte(w), 7}) {
			t.Errorf("entry of writer %d lost or wrong", w)
		}
	}
}

func TestDamagedFileIsEmpty(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	c := Open(path)
	c.Put("/a", stat(1), time.Now(), sha256.Sum256(nil))
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"empty":       {},
		"truncated":   good[:len(good)-5],
		"bit flip":    func() []byte { b := append([]byte{}, good...); b[len(magic)+3] ^= 1; return b }(),
		"not a cache": []byte(`{"json": true}`),
	}
	for name, data := range tests {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, ok := Open(path).Get("/a", stat(1)); ok {
			t.Errorf("%s: a damaged file answered", name)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	m := map[string]entry{}
	for i := range 100 {
		m[fmt.Sprintf("/some/path/%d\nwith newline", i)] = entry{st: stat(i), hashedAt: int64(i), sum: sha256.Sum256([]byte{byte(i)})}
	}
	got, err := decode(encode(m))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got, cmp.AllowUnexported(entry{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(map[string]entry{"/a": {st: stat(1), sum: sha256.Sum256(nil)}}))
	f.Add([]byte{})
	f.Add(magic)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same entries.
		again, err := decode(encode(m))
		if err != nil || len(again) != len(m) {
			t.Fatalf("re-decode: %v, %d entries, want %d", err, len(again), len(m))
		}
	})
}

// TestLookupEveryEntry: a file past the size that is mapped rather than
// read answers for each of its entries, and for no other path.
func TestLookupEveryEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	c := Open(path)
	const n = 2000 // ~200 KB
	for i := range n {
		c.Put(fmt.Sprintf("/tree/d%d/f-%04d", i%7, i), stat(i), time.Now(), sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() < 64<<10 {
		t.Fatalf("the file is too small to be mapped: %v", err)
	}
	d := Open(path)
	if d.Len() != n {
		t.Errorf("Len = %d, want %d", d.Len(), n)
	}
	for i := range n {
		key := fmt.Sprintf("/tree/d%d/f-%04d", i%7, i)
		if got, ok := d.Get(key, stat(i)); !ok || got != sha256.Sum256([]byte{byte(i), byte(i >> 8)}) {
			t.Fatalf("Get(%s) = %x, %v", key, got, ok)
		}
		if _, ok := d.Get(key+"x", stat(i)); ok {
			t.Fatalf("Get(%sx) answered", key)
		}
	}
}

// TestDamagedEntryIsAMiss: a bit flipped in one entry's digest makes that
// entry a miss (never a wrong digest), the others still answer, and the
// next save drops it.
func TestDamagedEntryIsAMiss(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	c := Open(path)
	sum := sha256.Sum256([]byte("x"))
	for _, k := range []string{"/a", "/b", "/c"} {
		c.Put(k, stat(1), time.Now(), sum)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The entry of "/b": its path, then the stat, then the sum.
	i := bytes.Index(data, []byte("/b")) + 2 + 6*8 + 5
	data[i] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d := Open(path)
	for _, tt := range []struct {
		key  string
		want bool
	}{{"/a", true}, {"/b", false}, {"/c", true}} {
		if got, ok := d.Get(tt.key, stat(1)); ok != tt.want || ok && got != sum {
			t.Errorf("Get(%s) = %x, %v; want %v", tt.key, got, ok, tt.want)
		}
	}
	d.Put("/d", stat(1), time.Now(), sum)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	if got := Open(path).Len(); got != 3 {
		t.Errorf("after a save: %d entries, want 3 (/a, /c, /d)", got)
	}
}

// TestConcurrentGetPut: lookups from several goroutines (the listers of a
// walk) while others record what they hashed; run with -race. Every
// lookup after its Put returned answers, and the counts add up.
func TestConcurrentGetPut(t *testing.T) {
	t.Parallel()
	c := Open(filepath.Join(t.TempDir(), FileName))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("/w%d/%d", w, i)
				if _, ok := c.Get(key, stat(i)); ok {
					t.Errorf("%s answered before it was put", key)
				}
				c.Put(key, stat(i), time.Now(), sha256.Sum256([]byte(key)))
				if got, ok := c.Get(key, stat(i)); !ok || got != sha256.Sum256([]byte(key)) {
					t.Errorf("%s: not answered after its Put", key)
				}
			}
		})
	}
	wg.Wait()
	if hits, misses := c.Stats(); hits != 800 || misses != 800 {
		t.Errorf("%d hits, %d misses; want 800 and 800", hits, misses)
	}
}

// TestTruncatedUnderTheMapping: another program truncates the cache file
// in place while a process has it mapped. Reading the lost pages faults
// (SIGBUS), which would kill the process; every lookup is a miss instead,
// and the next save writes a whole file again.
func TestTruncatedUnderTheMapping(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	c := Open(path)
	const n = 2000 // ~200 KB: mapped, not read
	for i := range n {
		c.Put(fmt.Sprintf("/tree/f-%04d", i), stat(i), time.Now(), sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	d := Open(path)
	if d.Len() != n {
		t.Fatalf("Len = %d, want %d: the file was not read", d.Len(), n)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, ok := d.Get(fmt.Sprintf("/tree/f-%04d", i), stat(i)); ok {
			t.Fatalf("entry %d answered from a truncated file", i)
		}
	}
	d.Put("/tree/new", stat(1), time.Now(), sha256.Sum256([]byte("new")))
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	if got, ok := Open(path).Get("/tree/new", stat(1)); !ok || got != sha256.Sum256([]byte("new")) {
		t.Errorf("after a save: Get = %x, %v; want the new entry", got, ok)
	}
}
