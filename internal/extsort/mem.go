package extsort

import "unsafe"

// Big buffers outside the Go heap. A run's keys and the buffers a column
// is gathered into are large, short-lived and hold no pointers; on Linux
// they are mapped directly and marked for transparent huge pages, so the
// first touch of 2 MiB costs one page fault instead of 512 (in a VM a
// fault costs microseconds, and faults were a tenth of drift's time), and
// the collector neither scans them nor counts them towards its next cycle.

// Mem is a set of mappings freed together.
type Mem struct {
	maps [][]byte
	// slab is the rest of the current mapping Bytes hands out.
	slab []byte
}

// slabSize is the size of a mapping Bytes cuts slices from.
const slabSize = 8 << 20

// Keys returns n keys that stay valid until Free, holding anything (what
// a declined PackIn wrote, say): the caller writes before reading. Cut from the
// current mapping when they are small beside it, so many buffers share
// huge pages.
func (m *Mem) Keys(n int) []uint64 {
	if n == 0 {
		return nil
	}
	var b []byte
	if size := 8 * n; size <= slabSize/4 {
		// Aligned to 8 bytes, past what Room handed out before.
		pad := int(-uintptr(unsafe.Pointer(unsafe.SliceData(m.Room(size+8)))) & 7)
		b = m.Take(pad + size)[pad:]
	} else {
		b = m.mapBytes(size)
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
}

// Room returns a slice of at least n free bytes (length 0) for the
// caller to append to in place; Take then keeps what was written.
func (m *Mem) Room(n int) []byte {
	if cap(m.slab) < n {
		m.slab = m.mapBytes(max(n, slabSize))[:0]
	}
	return m.slab[:0]
}

// Take keeps the first n bytes of the last Room, and returns them.
func (m *Mem) Take(n int) []byte {
	b := m.slab[:n:n]
	m.slab = m.slab[n:n:cap(m.slab)]
	return b
}

// Free releases every mapping; nothing handed out may be used after.
func (m *Mem) Free() {
	for _, b := range m.maps {
		unmap(b)
	}
	m.maps, m.slab = nil, nil
}

func (m *Mem) mapBytes(size int) []byte {
	b := mapAnon(size)
	m.maps = append(m.maps, b)
	return b
}
