//go:build linux || openbsd || darwin || freebsd || netbsd

package fingerprint

import (
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/podium-ml/podium/internal/statcache"
)

// rawFile is a file read through its descriptor with plain syscalls. An
// *os.File would register every file with the runtime's poller (an
// epoll_ctl that fails for a regular file) and stat through it costs a
// syscall more per file than hashing needs: with 100,000 small files
// that is most of the time.
type rawFile int

// openFlags: O_NONBLOCK so a FIFO swapped in for a file does not hang the
// open; O_NOFOLLOW so a link swapped in after the walk resolved the path
// is refused instead of followed.
const openFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOFOLLOW | unix.O_CLOEXEC

func (f rawFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(f), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f rawFile) Close() error { return syscall.Close(int(f)) }

func (f rawFile) stat() (statcache.Stat, bool, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Fstat(int(f), &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return statcache.Stat{}, false, err
		}
		break
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return statcache.Stat{}, false, errNotRegular
	}
	s, ok := statcache.FromSys(&st)
	return s, ok, nil
}

// dirOpener keeps the directory of the last file open: the file is
// opened relative to it (openat) by its base name, which holds no slash,
// so the open cannot leave the directory the os.Root opened inside the
// boundary.
type dirOpener struct {
	dir string
	f   *os.File
	fd  int
}

func (d *dirOpener) open(t *tree, dir, base string) (statFile, error) {
	if d.f == nil || d.dir != dir {
		d.close()
		f, err := t.root.Open(filepath.FromSlash(dir))
		if err != nil {
			return nil, err
		}
		d.f, d.dir, d.fd = f, dir, int(f.Fd())
	}
	for {
		fd, err := unix.Openat(d.fd, base, openFlags, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: base, Err: err}
		}
		return rawFile(fd), nil
	}
}

func (d *dirOpener) close() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

// openNamed opens a file named by the caller, links followed.
func openNamed(abs string) (statFile, error) {
	for {
		fd, err := syscall.Open(abs, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: abs, Err: err}
		}
		return rawFile(fd), nil
	}
}
