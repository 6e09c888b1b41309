//go:build linux && (amd64 || arm64)

package fingerprint

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatat lstats name relative to the directory dirfd. name is one of
// parseDirents' names, which a NUL follows in memory, so it is passed as
// it is: unix.Fstatat copies every name into a new NUL-terminated buffer,
// an allocation a file.
func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	_, _, errno := syscall.Syscall6(fstatatTrap, uintptr(dirfd), uintptr(unsafe.Pointer(unsafe.StringData(name))),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
