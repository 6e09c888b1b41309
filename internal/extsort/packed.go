package extsort

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// Packed runs: most numeric columns are plain decimals with a few
// fraction digits ("12.50310"). Scaled to integers at one scale per column
// (DecKey), a sorted run of them is dense, and its deltas fit a byte or
// two as varints, against 8 bytes a raw key: a million-row column then
// stays in memory in a couple of MB instead of going to a temporary file
// and being read back.

// DecKey maps a scaled decimal (the value times 10^scale, an integer) to a
// uint64 with the same order.
func DecKey(s int64) uint64 { return uint64(s) ^ 1<<63 }

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// DecToKey returns the function that turns a DecKey at scale (0..22) into
// the Key of the float64 the decimal parses to, for columns whose values
// are not all decimals at that scale. It is exact for |s| < 2^53: s and
// 10^scale are exact float64s, so one division rounds correctly to the
// same float64 as parsing the decimal's text; and it keeps the order, as
// rounding is monotonic.
func DecToKey(scale int) func(uint64) uint64 {
	p := pow10[scale]
	return func(k uint64) uint64 { return Key(float64(int64(k^1<<63)) / p) }
}

// Pack stores sorted keys as a run in memory: the first key and the gaps
// between neighbours, as uvarints.
func Pack(sorted []uint64) Run {
	enc := make([]byte, 0, PackedSize(sorted))
	prev := uint64(0)
	for _, k := range sorted {
		enc = binary.AppendUvarint(enc, k-prev)
		prev = k
	}
	r := Run{Packed: enc, N: int64(len(sorted))}
	if len(sorted) > 0 {
		r.Lo, r.Hi = sorted[0], sorted[len(sorted)-1]
	}
	return r
}

// Count adds inc to hist[k-lo] for each key k of the packed runs: a
// histogram of keys that lie close together, which gives their order
// statistics without sorting them. Every run must be packed, without
// Conv, and its keys in [lo, lo+len(hist)).
func Count(runs []Run, lo uint64, hist []uint64, inc uint64) error {
	for _, r := range runs {
		if r.N == 0 {
			continue
		}
		if r.Packed == nil || r.Conv != nil || r.Lo < lo || r.Hi-lo >= uint64(len(hist)) {
			return fmt.Errorf("failed to count a sorted run: not a packed run in [%d, %d)", lo, lo+uint64(len(hist)))
		}
		enc := r.Packed
		// Pack's first gap is from 0; start from lo so the keys are
		// indexes. The run is sorted and within [Lo, Hi], so every index
		// is within hist (and a gap that broke that would be caught).
		k := -lo
		n := int64(0)
		for p := 0; p < len(enc); n++ {
			if b := enc[p]; b < 0x80 { // most gaps are one byte
				k += uint64(b)
				p++
			} else {
				d, w := binary.Uvarint(enc[p:])
				if w <= 0 {
					return fmt.Errorf("failed to count a sorted run: bad gap at %d", p)
				}
				k += d
				p += w
			}
			if k >= uint64(len(hist)) {
				return fmt.Errorf("failed to count a sorted run: key %d past [%d, %d)", k+lo, lo, lo+uint64(len(hist)))
			}
			hist[k] += inc
		}
		if n != r.N {
			return fmt.Errorf("failed to count a sorted run: %d of %d keys", n, r.N)
		}
	}
	return nil
}

// PackIn is Pack writing into m's mappings: the run stays valid until
// m.Free. commit is false, and nothing is kept, when the caller finds
// the run too big (keep reports its size first).
func PackIn(m *Mem, sorted []uint64, keep func(size int) bool) (r Run, commit bool) {
	enc := m.Room(binary.MaxVarintLen64 * len(sorted))
	prev := uint64(0)
	for _, k := range sorted {
		if d := k - prev; d < 0x80 {
			enc = append(enc, byte(d))
		} else {
			enc = binary.AppendUvarint(enc, d)
		}
		prev = k
	}
	if !keep(len(enc)) {
		return Run{}, false
	}
	r = Run{Packed: m.Take(len(enc)), N: int64(len(sorted))}
	if len(sorted) > 0 {
		r.Lo, r.Hi = sorted[0], sorted[len(sorted)-1]
	}
	return r, true
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// unpack decodes up to len(dst) keys of a packed run from *pos, after
// prev, and returns how many it decoded.
func unpack(enc []byte, pos *int, prev uint64, dst []uint64) int {
	i, p := 0, *pos
	for ; i < len(dst) && p < len(enc); i++ {
		var d uint64
		if b := enc[p]; b < 0x80 { // most gaps are one byte
			d = uint64(b)
			p++
		} else {
			var n int
			d, n = binary.Uvarint(enc[p:])
			if n <= 0 {
				break // cannot happen: Pack wrote it
			}
			p += n
		}
		prev += d
		dst[i] = prev
	}
	*pos = p
	return i
}

// Gather appends the keys of every run (converted by its Conv) to dst,
// unsorted across runs, for a caller that sorts them whole: when a column
// fits in memory that is cheaper than merging many runs through a heap.
func Gather(runs []Run, dst []uint64) ([]uint64, error) {
	for _, r := range runs {
		start := len(dst)
		switch {
		case r.Mem != nil:
			dst = append(dst, r.Mem...)
		case r.Packed != nil:
			dst = slices.Grow(dst, int(r.N))[:start+int(r.N)]
			pos := 0
			if n := unpack(r.Packed, &pos, 0, dst[start:]); int64(n) != r.N {
				return nil, fmt.Errorf("failed to read a sorted run: %d of %d keys", n, r.N)
			}
		case r.N > 0:
			raw := make([]byte, 8*min(r.N, 8192))
			for read := int64(0); read < r.N; {
				n := min(int64(len(raw)/8), r.N-read)
				if _, err := r.file.ReadAt(raw[:8*n], r.off+8*read); err != nil && err != io.EOF {
					return nil, fmt.Errorf("failed to read a sorted run: %w", err)
				}
				for i := range n {
					dst = append(dst, binary.LittleEndian.Uint64(raw[8*i:]))
				}
				read += n
			}
		}
		if r.Conv != nil {
			for i := start; i < len(dst); i++ {
				dst[i] = r.Conv(dst[i])
			}
		}
	}
	return dst, nil
}

// SliceStream is a sorted slice of keys read as a stream, a group of
// equal keys at a time.
type SliceStream struct {
	keys []uint64
	i    int
}

func NewSliceStream(sorted []uint64) *SliceStream { return &SliceStream{keys: sorted} }

// Peek returns the smallest key not yet taken.
func (s *SliceStream) Peek() (uint64, bool) {
	if s.i < len(s.keys) {
		return s.keys[s.i], true
	}
	return 0, false
}

// Take consumes every key equal to k (the current peek) and returns how
// many there were.
func (s *SliceStream) Take(k uint64) int64 {
	j := s.i
	for j < len(s.keys) && s.keys[j] == k {
		j++
	}
	n := int64(j - s.i)
	s.i = j
	return n
}

// PackedSize is the size in bytes of Pack(sorted).Packed.
func PackedSize(sorted []uint64) int {
	size, prev := 0, uint64(0)
	for _, k := range sorted {
		size += uvarintLen(k - prev)
		prev = k
	}
	return size
}
