//go:build darwin || freebsd || netbsd

package statcache

import "syscall"

func timespecs(st *syscall.Stat_t) (mtime, ctime syscall.Timespec) {
	return st.Mtimespec, st.Ctimespec
}
