//go:build linux || openbsd || darwin || freebsd || netbsd

package statcache

import (
	"io/fs"
	"syscall"
)

// FromFileInfo returns the Stat of fi, from lstat, fstat or a
// DirEntry's Info; false when the platform gives no inode and ctime.
func FromFileInfo(fi fs.FileInfo) (Stat, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Stat{}, false
	}
	return fromSys(st), true
}

// FromSys converts a raw stat (from syscall.Fstat); true as for
// FromFileInfo.
func FromSys(st *syscall.Stat_t) (Stat, bool) { return fromSys(st), true }

func fromSys(st *syscall.Stat_t) Stat {
	mt, ct := timespecs(st)
	return Stat{
		Size:  st.Size,
		Mtime: mt.Nano(),
		Ctime: ct.Nano(),
		Ino:   uint64(st.Ino),
		Dev:   uint64(st.Dev), // int32 on darwin
	}
}
