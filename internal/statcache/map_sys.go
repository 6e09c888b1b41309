//go:build linux || openbsd || darwin || freebsd || netbsd

package statcache

import (
	"os"
	"syscall"
)

// readFile maps the cache file read-only instead of reading it: a cache
// of 100,000 entries is 12 MB, and copying it into a fresh allocation
// (which the runtime zeroes first) costs more than looking up every entry.
// podium never changes the file in place (Save renames a new file over
// it), so the mapping holds the bytes of the file as it was opened;
// another program truncating it makes reads past its new end fault, and
// lookups take such a fault as a miss (faultIsMiss). A mapping
// in use lives as long as the process (there is one cache per command);
// release unmaps one that turned out not to be a cache.
func readFile(path string) (data []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if size < 64<<10 || size != int64(int(size)) {
		// A small file costs less to read than to map.
		data, err := os.ReadFile(path)
		return data, func() {}, err
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}
