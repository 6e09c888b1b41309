// Package extsort keeps large numeric columns as sorted runs of
// order-preserving keys in bounded memory (an external merge sort), so
// order statistics (KS, quantiles) stay exact at any size.
package extsort

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	mbits "math/bits"
	"os"
	"sync"
)

// Exact order statistics in bounded memory: an external merge sort.
//
// KS and decile-binned PSI depend only on the order of the values, so a
// column is kept as sorted runs of order-preserving uint64 keys. A run
// lives in memory until the memory budget is used up; then it is sorted
// and written to a temporary file (8 bytes a value), and at the end the
// runs are Merged into one ascending stream per column and file. The
// statistics are therefore exact at any size; the price of a file larger
// than the budget is temporary disk, about as large as its numeric cells.

// Key maps a float64 to a uint64 with the same order. -0 becomes +0 (they
// compare equal); NaN never gets here (it counts as missing).
func Key(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// Value is key's inverse.
func Value(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// RadixSort sorts a ascending, using tmp (len(tmp) >= len(a)) as scratch:
// LSD on the keys less the smallest, 11 bits a pass (a 2048-entry count
// table stays in the L1 cache), as many passes as the spread of the keys
// needs (a column's keys usually lie close together: a million decimals
// with 5 fraction digits between -5 and 5 take two passes, not six), and
// skipping a pass whose digit every key shares.
func RadixSort(a, tmp []uint64) {
	const bits, maxPasses = 11, 6
	const size = 1 << bits
	if len(a) < 2 {
		return
	}
	lo, hi := a[0], a[0]
	for _, v := range a {
		lo, hi = min(lo, v), max(hi, v)
	}
	passes := (mbits.Len64(hi-lo) + bits - 1) / bits
	if passes == 0 {
		return
	}
	var counts [maxPasses][size]int
	switch passes {
	case 1:
		for _, v := range a {
			counts[0][(v-lo)&(size-1)]++
		}
	case 2:
		for _, v := range a {
			d := v - lo
			counts[0][d&(size-1)]++
			counts[1][(d>>bits)&(size-1)]++
		}
	default:
		for _, v := range a {
			d := v - lo
			for p := range passes {
				counts[p][(d>>(bits*p))&(size-1)]++
			}
		}
	}
	src, dst := a, tmp[:len(a)]
	for p := range passes {
		c := &counts[p]
		shift := uint(bits * p)
		if c[((a[0]-lo)>>shift)&(size-1)] == len(a) {
			continue
		}
		sum := 0
		for i := range c {
			n := c[i]
			c[i] = sum
			sum += n
		}
		for _, v := range src {
			d := ((v - lo) >> shift) & (size - 1)
			dst[c[d]] = v
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// SpillFile is a temporary file that sorted runs are appended to.
type SpillFile struct {
	f   *os.File
	off int64
	buf []byte
}

// Run is a sorted sequence of keys: in memory, or a section of a spill file.
type Run struct {
	Mem    []uint64 // the keys, when the run is in memory
	Packed []byte   // or the keys, packed (Pack), in memory
	// Conv, when set, maps each key as it is read (DecToKey), so runs
	// of decimals merge with runs of other numbers.
	Conv func(uint64) uint64
	file *os.File
	off  int64
	N    int64 // how many keys
	// Lo and Hi are the smallest and largest key of a packed run.
	Lo, Hi uint64
}

// Spill sorts keys and appends them to the file as a run.
func (s *SpillFile) Spill(keys, tmp []uint64) (Run, error) {
	RadixSort(keys, tmp)
	r := Run{file: s.f, off: s.off, N: int64(len(keys))}
	const chunk = 8192
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		s.buf = s.buf[:0]
		for _, k := range part {
			s.buf = binary.LittleEndian.AppendUint64(s.buf, k)
		}
		if _, err := s.f.WriteAt(s.buf, s.off); err != nil {
			return Run{}, fmt.Errorf("failed to write a sorted run: %w", err)
		}
		s.off += int64(len(s.buf))
	}
	return r, nil
}

// cursor reads a run in order.
type cursor struct {
	cur  uint64
	pos0 int    // read position in r.Packed
	last uint64 // the last key unpacked, before Conv
	buf  []uint64
	pos  int
	r    Run
	read int64 // keys of r loaded so far
	raw  []byte
	err  error
}

func newCursor(r Run, bufKeys int) *cursor {
	c := &cursor{r: r}
	switch {
	case r.Mem != nil && r.Conv == nil:
		c.buf = r.Mem
		c.read = int64(len(r.Mem))
	case r.Mem != nil || r.Packed != nil:
		c.buf = make([]uint64, 0, bufKeys)
	default:
		c.raw = make([]byte, 8*bufKeys)
		c.buf = make([]uint64, 0, bufKeys)
	}
	return c
}

// advance loads the next key into cur; false at the end (or on error).
func (c *cursor) advance() bool {
	if c.pos < len(c.buf) {
		c.cur = c.buf[c.pos]
		c.pos++
		return true
	}
	if c.read >= c.r.N {
		return false
	}
	switch {
	case c.r.Mem != nil:
		n := copy(c.buf[:cap(c.buf)], c.r.Mem[c.read:])
		c.buf = c.buf[:n]
		c.read += int64(n)
	case c.r.Packed != nil:
		c.buf = c.buf[:cap(c.buf)]
		n := unpack(c.r.Packed, &c.pos0, c.last, c.buf)
		if n == 0 {
			c.err = fmt.Errorf("failed to read a sorted run: %d of %d keys", c.read, c.r.N)
			return false
		}
		c.buf = c.buf[:n]
		c.last = c.buf[n-1]
		c.read += int64(n)
	default:
		if !c.readFile() {
			return false
		}
	}
	if f := c.r.Conv; f != nil {
		for i, k := range c.buf {
			c.buf[i] = f(k)
		}
	}
	c.cur, c.pos = c.buf[0], 1
	return true
}

// readFile loads the next keys of a run in a spill file.
func (c *cursor) readFile() bool {
	n := min(int64(len(c.raw)/8), c.r.N-c.read)
	raw := c.raw[:8*n]
	if _, err := c.r.file.ReadAt(raw, c.r.off+8*c.read); err != nil && err != io.EOF {
		c.err = fmt.Errorf("failed to read a sorted run: %w", err)
		return false
	}
	c.buf = c.buf[:n]
	for i := range c.buf {
		c.buf[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	c.read += n
	return true
}

// cursorHeap is a min-heap of cursors by current key, each entry holding a
// copy of its cursor's key so comparisons touch only the heap's own memory.
// It is written out rather than built on container/heap: the merge calls it
// once a value, and the interface calls cost more than the comparisons.
type cursorHeap []heapEntry

type heapEntry struct {
	key uint64
	c   *cursor
}

func (h cursorHeap) down(i int) {
	n := len(h)
	e := h[i]
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h[r].key < h[l].key {
			j = r
		}
		if h[j].key >= e.key {
			break
		}
		h[i] = h[j]
		i = j
	}
	h[i] = e
}

func (h cursorHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// Merged streams the keys of several runs in ascending order.
type Merged struct {
	h       cursorHeap
	single  *cursor // the common case of one run skips the heap
	cursors []*cursor
}

// mergeBufferBytes bounds the read buffers of one merge; each run gets a
// share, at least 4 KiB.
const mergeBufferBytes = 4 << 20

func NewMerged(runs []Run) *Merged {
	bufKeys := max(512, min(8192, mergeBufferBytes/8/max(1, len(runs))))
	m := &Merged{}
	for _, r := range runs {
		if r.N == 0 {
			continue
		}
		c := newCursor(r, bufKeys)
		m.cursors = append(m.cursors, c)
		if c.advance() {
			m.h = append(m.h, heapEntry{c.cur, c})
		}
	}
	if len(m.h) == 1 {
		m.single = m.h[0].c
	}
	m.h.init()
	return m
}

// peek returns the smallest key not yet taken.
func (m *Merged) Peek() (uint64, bool) {
	if m.single != nil {
		return m.single.cur, true
	}
	if len(m.h) == 0 {
		return 0, false
	}
	return m.h[0].key, true
}

// take consumes every key equal to k (the current peek) and returns how
// many there were.
func (m *Merged) Take(k uint64) int64 {
	var n int64
	if c := m.single; c != nil {
		for {
			n++
			if !c.advance() {
				m.single = nil
				m.h = m.h[:0]
				return n
			}
			if c.cur != k {
				return n
			}
		}
	}
	for len(m.h) > 0 && m.h[0].key == k {
		c := m.h[0].c
		for {
			n++
			if !c.advance() {
				last := len(m.h) - 1
				m.h[0] = m.h[last]
				m.h = m.h[:last]
				if last > 0 {
					m.h.down(0)
				}
				break
			}
			if c.cur != k {
				m.h[0].key = c.cur
				m.h.down(0)
				break
			}
		}
	}
	return n
}

func (m *Merged) Err() error {
	for _, c := range m.cursors {
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// MaxFanIn bounds how many runs are Merged at once; beyond it, runs are
// first Merged into longer runs, so read buffers stay within the budget
// whatever the file size.
const MaxFanIn = 256

// Compact merges runs, fanIn at a time into a new spill file, until at
// most fanIn remain.
func Compact(runs []Run, tmp *TempFiles, fanIn int) ([]Run, error) {
	for len(runs) > fanIn {
		s, err := tmp.Create()
		if err != nil {
			return nil, err
		}
		group := runs[:fanIn]
		var total int64
		for _, r := range group {
			total += r.N
		}
		m := NewMerged(group)
		w := bufio.NewWriterSize(io.NewOffsetWriter(s.f, 0), 1<<20)
		var b [8]byte
		for {
			k, ok := m.Peek()
			if !ok {
				break
			}
			n := m.Take(k)
			binary.LittleEndian.PutUint64(b[:], k)
			for range n {
				w.Write(b[:]) // a write error is kept by w and returned by Flush
			}
		}
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("failed to write a sorted run: %w", err)
		}
		if err := m.Err(); err != nil {
			return nil, err
		}
		runs = append(runs[fanIn:], Run{file: s.f, N: total})
	}
	return runs, nil
}

// NewTempFiles keeps spill files in a new directory under dir ("": the
// system's), named with prefix.
func NewTempFiles(dir, prefix string) *TempFiles { return &TempFiles{dir: dir, prefix: prefix} }

// TempFiles creates spill files on first use, in one directory, and
// removes them all.
type TempFiles struct {
	dir    string
	prefix string
	mu     sync.Mutex
	path   string
	files  []*os.File
}

// Create returns a new spill file.
func (t *TempFiles) Create() (*SpillFile, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.path == "" {
		dir, err := os.MkdirTemp(t.dir, t.prefix)
		if err != nil {
			return nil, fmt.Errorf("failed to create a directory for sorted runs: %w", err)
		}
		t.path = dir
	}
	f, err := os.CreateTemp(t.path, "run-")
	if err != nil {
		return nil, fmt.Errorf("failed to create a file for sorted runs: %w", err)
	}
	t.files = append(t.files, f)
	return &SpillFile{f: f}, nil
}

// RemoveAll closes and removes every spill file.
func (t *TempFiles) RemoveAll() {
	for _, f := range t.files {
		f.Close()
	}
	if t.path != "" {
		os.RemoveAll(t.path)
	}
}
