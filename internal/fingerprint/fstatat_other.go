//go:build linux && !(amd64 || arm64)

package fingerprint

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatat lstats name relative to the directory dirfd.
func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	return unix.Fstatat(dirfd, name, (*unix.Stat_t)(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW)
}
