//go:build linux || openbsd

package statcache

import "syscall"

func timespecs(st *syscall.Stat_t) (mtime, ctime syscall.Timespec) { return st.Mtim, st.Ctim }
