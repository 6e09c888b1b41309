package drift

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// Exact order statistics in bounded memory: an external merge sort.
//
// KS and decile-binned PSI depend only on the order of the values, so a
// column is kept as sorted runs of order-preserving uint64 keys. A run
// lives in memory until the memory budget is used up; then it is sorted
// and written to a temporary file (8 bytes a value), and at the end the
// runs are merged into one ascending stream per column and file. The
// statistics are therefore exact at any size; the price of a file larger
// than the budget is temporary disk, about as large as its numeric cells.

// key maps a float64 to a uint64 with the same order. -0 becomes +0 (they
// compare equal); NaN never gets here (it counts as missing).
func key(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// value is key's inverse.
func value(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// radixSort sorts a ascending, using tmp (len(tmp) >= len(a)) as scratch:
// LSD, 11 bits a pass (six passes; a 2048-entry count table stays in the
// L1 cache), skipping digits every key shares (the high bits of a column's
// keys usually are).
func radixSort(a, tmp []uint64) {
	const bits, passes = 11, 6
	const size = 1 << bits
	if len(a) < 2 {
		return
	}
	var counts [passes][size]int
	for _, v := range a {
		for p := range passes {
			counts[p][(v>>(bits*p))&(size-1)]++
		}
	}
	src, dst := a, tmp[:len(a)]
	for p := range passes {
		c := &counts[p]
		shift := uint(bits * p)
		if c[(a[0]>>shift)&(size-1)] == len(a) {
			continue
		}
		sum := 0
		for i := range c {
			n := c[i]
			c[i] = sum
			sum += n
		}
		for _, v := range src {
			d := (v >> shift) & (size - 1)
			dst[c[d]] = v
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// spillFile is a temporary file that sorted runs are appended to.
type spillFile struct {
	f   *os.File
	off int64
	buf []byte
}

// run is a sorted sequence of keys: in memory, or a section of a spill file.
type run struct {
	mem  []uint64
	file *os.File
	off  int64
	n    int64
}

// spill sorts keys and appends them to the file as a run.
func (s *spillFile) spill(keys, tmp []uint64) (run, error) {
	radixSort(keys, tmp)
	r := run{file: s.f, off: s.off, n: int64(len(keys))}
	const chunk = 8192
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		s.buf = s.buf[:0]
		for _, k := range part {
			s.buf = binary.LittleEndian.AppendUint64(s.buf, k)
		}
		if _, err := s.f.WriteAt(s.buf, s.off); err != nil {
			return run{}, fmt.Errorf("failed to write a sorted run: %w", err)
		}
		s.off += int64(len(s.buf))
	}
	return r, nil
}

// cursor reads a run in order.
type cursor struct {
	cur  uint64
	buf  []uint64
	pos  int
	r    run
	read int64 // keys of r loaded so far
	raw  []byte
	err  error
}

func newCursor(r run, bufKeys int) *cursor {
	c := &cursor{r: r}
	if r.mem != nil {
		c.buf = r.mem
		c.read = int64(len(r.mem))
	} else {
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
	if c.r.mem != nil || c.read >= c.r.n {
		return false
	}
	n := min(int64(len(c.raw)/8), c.r.n-c.read)
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
	c.cur, c.pos = c.buf[0], 1
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

// merged streams the keys of several runs in ascending order.
type merged struct {
	h       cursorHeap
	single  *cursor // the common case of one run skips the heap
	cursors []*cursor
}

// mergeBufferBytes bounds the read buffers of one merge; each run gets a
// share, at least 4 KiB.
const mergeBufferBytes = 4 << 20

func newMerged(runs []run) *merged {
	bufKeys := max(512, min(8192, mergeBufferBytes/8/max(1, len(runs))))
	m := &merged{}
	for _, r := range runs {
		if r.n == 0 {
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
func (m *merged) peek() (uint64, bool) {
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
func (m *merged) take(k uint64) int64 {
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

func (m *merged) err() error {
	for _, c := range m.cursors {
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// maxFanIn bounds how many runs are merged at once; beyond it, runs are
// first merged into longer runs, so read buffers stay within the budget
// whatever the file size.
const maxFanIn = 256

// compact merges runs, fanIn at a time into a new spill file, until at
// most fanIn remain.
func compact(runs []run, tmp *tempFiles, fanIn int) ([]run, error) {
	for len(runs) > fanIn {
		s, err := tmp.create()
		if err != nil {
			return nil, err
		}
		group := runs[:fanIn]
		var total int64
		for _, r := range group {
			total += r.n
		}
		m := newMerged(group)
		w := bufio.NewWriterSize(io.NewOffsetWriter(s.f, 0), 1<<20)
		var b [8]byte
		for {
			k, ok := m.peek()
			if !ok {
				break
			}
			n := m.take(k)
			binary.LittleEndian.PutUint64(b[:], k)
			for range n {
				w.Write(b[:]) // a write error is kept by w and returned by Flush
			}
		}
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("failed to write a sorted run: %w", err)
		}
		if err := m.err(); err != nil {
			return nil, err
		}
		runs = append(runs[fanIn:], run{file: s.f, n: total})
	}
	return runs, nil
}
