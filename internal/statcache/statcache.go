// Package statcache remembers the SHA-256 of files by their stat, as git's
// index and DVC's state database do: a file whose size, modification
// time, change time, inode and device are what they were when it was
// hashed keeps its digest, and is not read again.
//
// It must never hand back a stale digest, so an entry is kept only when
// the stat proves the bytes read are the bytes on disk:
//
//   - Every content change moves the change time (ctime), which no user
//     can set: `touch -d` moves mtime back but ctime forward. A rename
//     over the file changes the inode. A cache copied to another machine,
//     or a tree restored from an archive, has other inodes and ctimes.
//   - A change in the same timestamp tick as the last one before hashing
//     would keep the stat ("racy clean", in git's words). So an entry is
//     stored only when mtime and ctime are older than the start of the
//     read by more than the filesystem's timestamp granularity
//     (RacyWindow; CoarseRacyWindow on filesystems that stamp whole
//     seconds). A file written just before it was hashed is hashed again
//     next time, and cached then.
//   - A file changed while it was read is caught by a stat before and
//     after the read (the caller's job: Put takes the stat from before and
//     the caller does not Put when the stat after differs).
//
// The one assumption is that the filesystem stamps times with this
// machine's clock, within the racy window: true of local filesystems; a
// network filesystem whose server clock runs behind could defeat the racy
// check for a file rewritten within one tick of being hashed.
//
// The cache is one file, written atomically (a temporary file renamed
// into place) and merged with what other processes wrote meanwhile, under
// an advisory lock, so concurrent runs lose nothing and never see a torn
// file. A damaged or foreign file is ignored and replaced. Deleting the
// file clears the cache.
package statcache

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podium-ml/podium/internal/atomicfile"
)

// FileName is the cache's file name in the directory that holds it.
const FileName = "stat-cache"

// RacyWindow is how much older than the read a file's mtime and ctime must
// be for its digest to be cached. Linux stamps files from a clock that
// ticks every jiffy (1–10 ms); the window is well past that.
const RacyWindow = 50 * time.Millisecond

// CoarseRacyWindow is the window for files stamped in whole seconds (FAT
// keeps mtime to 2 s; HFS+, ext3 and some network filesystems to 1 s).
const CoarseRacyWindow = 2 * time.Second

// maxEntries bounds the file: past it the entries hashed longest ago go.
const maxEntries = 2_000_000

const magicText = "podium-statcache\x00v2\n"

var magic = []byte(magicText)

// Stat is what identifies a version of a file: it changes whenever the
// file's bytes may have.
type Stat struct {
	Size  int64
	Mtime int64 // ns since the epoch
	Ctime int64 // ns since the epoch
	Ino   uint64
	Dev   uint64
}

// Racy reports whether a file with stat st, read from time start on,
// may change later without its stat changing: its last change falls in
// the timestamp tick the read started in.
func Racy(st Stat, start time.Time) bool {
	window := RacyWindow
	if st.Mtime%int64(time.Second) == 0 && st.Ctime%int64(time.Second) == 0 {
		window = CoarseRacyWindow
	}
	limit := start.Add(-window).UnixNano()
	return st.Mtime >= limit || st.Ctime >= limit
}

type entry struct {
	st       Stat
	hashedAt int64 // ns; the newest entry wins a merge
	sum      [sha256.Size]byte
}

// Cache maps absolute paths to the digest of the file's bytes at a stat.
// A nil *Cache is a cache that is always empty, for --no-stat-cache. Its
// methods are safe for concurrent use.
//
// The file as read is kept as one byte slice, mapped rather than read
// where it can be: it holds a table of where each entry starts, sorted by
// path, so a lookup is a binary search, and opening the cache reads
// neither every entry nor every page of the file.
type Cache struct {
	path string
	file index // as read by Open or written by the last Save

	mu    sync.Mutex
	added map[string]entry // since Open: what Save merges into the file
	// nAdded is len(added), read without the lock: lookups from several
	// goroutines, with nothing added (a warm walk), then take no lock.
	nAdded atomic.Int64
	hits   atomic.Int64
	misses atomic.Int64
}

// Open reads the cache file at path. A missing file is an empty cache; so
// is a damaged or foreign one, which the first Save replaces: the cache
// is an optimisation, and never a reason to fail.
func Open(path string) *Cache {
	c := &Cache{path: path, added: map[string]entry{}}
	if data, release, err := readFile(path); err == nil {
		if ix, ok := openIndex(data); ok {
			c.file = ix
		} else {
			release()
		}
	}
	return c
}

// openIndex is newIndex over a mapped file, reading which may fault.
func openIndex(data []byte) (ix index, ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer faultIsMiss(&ok)
	ix, err := newIndex(data)
	return ix, err == nil
}

// Path returns the cache file's path ("" for a nil cache).
func (c *Cache) Path() string {
	if c == nil {
		return ""
	}
	return c.path
}

// Get returns the digest recorded for the file at key (an absolute, clean
// path) when its stat is exactly st.
func (c *Cache) Get(key string, st Stat) (sum [sha256.Size]byte, ok bool) {
	return c.GetBytes([]byte(key), st)
}

// GetBytes is Get with the key in a byte slice, which a caller can reuse
// from one lookup to the next: with many files, the allocation of a key
// string per lookup is a good part of the cost of a warm walk.
func (c *Cache) GetBytes(key []byte, st Stat) (sum [sha256.Size]byte, ok bool) {
	if c == nil {
		return sum, false
	}
	var e entry
	found := false
	if c.nAdded.Load() > 0 {
		c.mu.Lock()
		e, found = c.added[string(key)] // no allocation: the compiler converts in place
		c.mu.Unlock()
	}
	if !found {
		e, found = c.file.lookup(key)
	}
	if !found || e.st != st {
		c.misses.Add(1)
		return sum, false
	}
	c.hits.Add(1)
	return e.sum, true
}

// Put records sum as the digest of the file at key, stat st, whose read
// started at start. st must be the stat taken before the read, and the
// caller must have checked that the stat after the read was the same. A
// racy file (see Racy) is not recorded.
func (c *Cache) Put(key string, st Stat, start time.Time, sum [sha256.Size]byte) {
	if c == nil || Racy(st, start) {
		return
	}
	e := entry{st: st, hashedAt: start.UnixNano(), sum: sum}
	if old, ok := c.file.lookup([]byte(key)); ok && old.st == e.st && old.sum == e.sum {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.added[key] = e
	c.nAdded.Store(int64(len(c.added)))
}

// Stats returns how many lookups hit and missed since Open.
func (c *Cache) Stats() (hits, misses int) {
	if c == nil {
		return 0, 0
	}
	return int(c.hits.Load()), int(c.misses.Load())
}

// Save writes the entries added since Open into the cache file, merged
// with the file as it is now (another process may have saved meanwhile).
// It writes nothing when nothing was added.
func (c *Cache) Save() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.added) == 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("failed to write the stat cache: %w", err)
	}
	unlock, err := lock(c.path + ".lock")
	if err != nil {
		return fmt.Errorf("failed to lock the stat cache: %w", err)
	}
	defer unlock()
	merged := map[string]entry{}
	if data, err := os.ReadFile(c.path); err == nil {
		if m, err := decode(data); err == nil {
			merged = m
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to read the stat cache: %w", err)
	}
	for k, e := range c.added {
		if old, ok := merged[k]; !ok || old.hashedAt <= e.hashedAt {
			merged[k] = e
		}
	}
	data := encode(merged)
	if err := atomicfile.WriteFile(c.path, data, 0o644); err != nil {
		return fmt.Errorf("failed to write the stat cache: %w", err)
	}
	if ix, err := newIndex(data); err == nil {
		c.file = ix
	}
	c.added = map[string]entry{}
	c.nAdded.Store(0)
	return nil
}

// Len returns how many entries the cache holds: those of the file as
// last read or written, and those added since that it does not hold.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.file.n
	for k := range c.added {
		if _, ok := c.file.lookup([]byte(k)); !ok {
			n++
		}
	}
	return n
}

// The file: magic; the number of entries n (a little-endian 32-bit
// word); a table of n words, each where an entry starts in the file, in
// the order of their paths; the CRC-32C of all before it; then the
// entries. Each entry: uvarint path length, path, then size, mtime,
// ctime, inode, device, hashedAt as little-endian 64-bit words, the
// 32-byte sum, and the CRC-32C of the entry.
//
// Binary rather than JSON, a table rather than a sorted stream, and a
// checksum an entry rather than one for the file: opening a cache of
// 100,000 entries must not cost a pass over its 12 MB, or a second
// fingerprint of a small tree pays for all the others; a lookup checks
// the entry it answers with. A damaged table is refused whole; a damaged
// entry is not found.
const (
	fixedLen = 6*8 + sha256.Size
	crcLen   = 4
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func encode(m map[string]entry) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > maxEntries {
		slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(m[b].hashedAt, m[a].hashedAt) })
		keys = keys[:maxEntries]
	}
	// Sorted, so the same entries give the same bytes.
	slices.Sort(keys)
	head := len(magic) + 4 + 4*len(keys) + crcLen
	size := head
	for _, k := range keys {
		size += binary.MaxVarintLen64 + len(k) + fixedLen + crcLen
	}
	b := make([]byte, head, size)
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[len(magic):], uint32(len(keys)))
	for i, k := range keys {
		binary.LittleEndian.PutUint32(b[len(magic)+4+4*i:], uint32(len(b)))
		e := m[k]
		start := len(b)
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.st.Size))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.st.Mtime))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.st.Ctime))
		b = binary.LittleEndian.AppendUint64(b, e.st.Ino)
		b = binary.LittleEndian.AppendUint64(b, e.st.Dev)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.hashedAt))
		b = append(b, e.sum[:]...)
		b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
	}
	binary.LittleEndian.PutUint32(b[head-crcLen:], crc32.Checksum(b[:head-crcLen], crcTable))
	return b
}

var errDamaged = errors.New("damaged stat cache")

// index is a cache file whose header and table are checked.
type index struct {
	data []byte
	n    int // entries
}

// tableAt is where the table starts, after the magic and the count.
const tableAt = len(magicText) + 4

// newIndex checks data's magic, table and the table's checksum. The
// entries are checked as they are read.
func newIndex(data []byte) (index, error) {
	if len(data) < tableAt+crcLen || !bytes.HasPrefix(data, magic) || uint64(len(data)) > math.MaxUint32 {
		return index{}, errDamaged
	}
	n := int(binary.LittleEndian.Uint32(data[len(magic):]))
	head := tableAt + 4*n + crcLen
	if n > (len(data)-tableAt)/4 || head > len(data) {
		return index{}, errDamaged
	}
	if crc32.Checksum(data[:head-crcLen], crcTable) != binary.LittleEndian.Uint32(data[head-crcLen:]) {
		return index{}, errDamaged
	}
	return index{data: data, n: n}, nil
}

// key returns the path of entry i and where its fixed fields start; false
// when the table or the entry is damaged.
func (ix index) key(i int) (key []byte, fixed int, ok bool) {
	off := int(binary.LittleEndian.Uint32(ix.data[tableAt+4*i:]))
	if off < tableAt+4*ix.n+crcLen || off >= len(ix.data) {
		return nil, 0, false
	}
	b := ix.data[off:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n == 0 || n > uint64(len(b)-w) || uint64(len(b)-w)-n < fixedLen+crcLen {
		return nil, 0, false
	}
	end := w + int(n)
	return b[w:end], off + end, true
}

// at decodes the entry whose path ends at fixed, checking its checksum
// (which covers the path, the stat and the sum).
func (ix index) at(i, fixed int) (entry, bool) {
	start := int(binary.LittleEndian.Uint32(ix.data[tableAt+4*i:]))
	if crc32.Checksum(ix.data[start:fixed+fixedLen], crcTable) != binary.LittleEndian.Uint32(ix.data[fixed+fixedLen:]) {
		return entry{}, false
	}
	b := ix.data[fixed : fixed+fixedLen]
	var e entry
	e.st.Size = int64(binary.LittleEndian.Uint64(b[0:]))
	e.st.Mtime = int64(binary.LittleEndian.Uint64(b[8:]))
	e.st.Ctime = int64(binary.LittleEndian.Uint64(b[16:]))
	e.st.Ino = binary.LittleEndian.Uint64(b[24:])
	e.st.Dev = binary.LittleEndian.Uint64(b[32:])
	e.hashedAt = int64(binary.LittleEndian.Uint64(b[40:]))
	copy(e.sum[:], b[48:fixedLen])
	return e, true
}

// lookup finds key by binary search over the table. A damaged entry on
// the way is a miss: the file is hashed again, never answered wrongly.
// So is a fault reading the file (see faultIsMiss).
func (ix index) lookup(key []byte) (e entry, found bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer faultIsMiss(&found)
	lo, hi := 0, ix.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		k, fixed, ok := ix.key(mid)
		if !ok {
			return entry{}, false
		}
		switch bytes.Compare(k, key) {
		case 0:
			return ix.at(mid, fixed)
		case -1:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return entry{}, false
}

// faultIsMiss, deferred with debug.SetPanicOnFault(true) around a read
// of the mapped cache file, turns a fault into *ok = false. The mapping
// is of the file as opened, and podium never changes it in place (Save
// renames a new file over it), but another program may truncate it: the
// pages past its new end then fault (SIGBUS), which would kill the
// process. A cache never is a reason to fail.
func faultIsMiss(ok *bool) {
	r := recover()
	if r == nil {
		return
	}
	if _, fault := r.(interface{ Addr() uintptr }); !fault {
		panic(r)
	}
	*ok = false
}

// decode returns every entry of a cache file that is whole, for Save's
// merge.
func decode(data []byte) (map[string]entry, error) {
	ix, err := newIndex(data)
	if err != nil {
		return nil, err
	}
	m := make(map[string]entry, ix.n)
	for i := range ix.n {
		key, fixed, ok := ix.key(i)
		if !ok {
			continue
		}
		if e, ok := ix.at(i, fixed); ok {
			m[string(key)] = e
		}
	}
	return m, nil
}
