package extsort

import "syscall"

func mapAnon(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, size) // the heap still works, at 4 KiB a fault
	}
	// Advice only: without transparent huge pages it changes nothing.
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	return b
}

func unmap(b []byte) {
	// A slice from make (mapAnon's fallback) is not a mapping: Munmap
	// fails with EINVAL and the collector frees it.
	_ = syscall.Munmap(b)
}
