//go:build !(linux || openbsd || darwin || freebsd || netbsd)

package statcache

import "io/fs"

// FromFileInfo reports false: without an inode and a ctime a stat cannot
// prove a file unchanged, so nothing is cached.
func FromFileInfo(fs.FileInfo) (Stat, bool) { return Stat{}, false }
