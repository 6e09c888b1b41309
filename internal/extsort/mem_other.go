//go:build !linux

package extsort

func mapAnon(size int) []byte { return make([]byte, size) }

func unmap([]byte) {}
