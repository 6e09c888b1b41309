package fingerprint

import (
	"encoding/binary"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/podium-ml/podium/internal/statcache"
)

// readDir lists the directory f (opened through the tree's os.Root) with
// getdents and stats its regular files with fstatat relative to it.
// os.File.ReadDir on a directory opened through an os.Root stats every
// entry into an fs.FileInfo; this does the same syscalls without the
// allocations, and spreads the stats over the CPUs, since on a warm stat
// cache they are all the walk does. The entries come sorted by
// cmpEntries.
func readDir(f *os.File, workers int) ([]dirEntry, error) {
	fd := int(f.Fd())
	// The records are kept (as strings, which the names are cut from) and
	// counted, the names sorted, and only then the entries made: entries
	// are large, and a slice of them grown by append would allocate about
	// twice its size, and sorting them would move them all.
	var recs []string
	count := 0
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		n, err := unix.Getdents(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "readdirent", Path: f.Name(), Err: err}
		}
		if n <= 0 {
			break
		}
		s := string(buf[:n])
		recs = append(recs, s)
		count += countDirents(s)
	}
	names := make([]dirent, 0, count)
	for _, s := range recs {
		names = parseDirents(s, names)
	}
	slices.SortFunc(names, func(a, b dirent) int {
		return cmpDirNames(a.name, a.typ == fs.ModeDir, b.name, b.typ == fs.ModeDir)
	})
	entries := make([]dirEntry, len(names))
	unknown := false
	for i, d := range names {
		e := &entries[i]
		e.base, e.typ, e.needStat = d.name, d.typ, d.needStat
		unknown = unknown || d.typ == unknownType
	}
	err := statAll(entries, workers, func(e *dirEntry) error {
		var st syscall.Stat_t
		for {
			err := fstatat(fd, e.base, &st)
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.ENOENT {
				// Removed since it was listed: as os.File.ReadDir, skip it.
				e.typ = fs.ModeIrregular
				return nil
			}
			if err != nil {
				return &os.PathError{Op: "lstat", Path: e.base, Err: err}
			}
			break
		}
		e.typ = modeType(st.Mode)
		e.st, e.keyed = statcache.FromSys(&st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if unknown {
		// The filesystem did not say which entries are directories.
		slices.SortFunc(entries, cmpEntries)
	}
	return entries, nil
}

// dirent is a name as getdents lists it.
type dirent struct {
	name     string // cut from the getdents record: a NUL follows it
	typ      fs.FileMode
	needStat bool
}

// direntBufs holds getdents buffers: one a directory would be fresh
// memory each time, which costs page faults (the records are copied out
// of it, so it can be reused at once).
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// parseDirents appends the entries of a getdents64 buffer: each is
// d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), then the name,
// NUL-terminated.
// The names are cut from b, not copied.
func parseDirents(b string, entries []dirent) []dirent {
	for len(b) >= 19 {
		reclen := int(binary.NativeEndian.Uint16([]byte(b[16:18])))
		if reclen < 19 || reclen > len(b) {
			break
		}
		rec := b[:reclen]
		b = b[reclen:]
		if binary.NativeEndian.Uint64([]byte(rec[0:8])) == 0 {
			continue // a deleted entry
		}
		name, _, ok := strings.Cut(rec[19:], "\x00")
		if !ok || name == "" || name == "." || name == ".." {
			continue // a name without its NUL is a torn record
		}
		e := dirent{name: name, typ: unknownType}
		switch rec[18] {
		case unix.DT_REG:
			e.typ, e.needStat = 0, true
		case unix.DT_DIR:
			e.typ = fs.ModeDir
		case unix.DT_LNK:
			e.typ = fs.ModeSymlink
		case unix.DT_UNKNOWN:
			e.needStat = true
		default:
			e.typ = fs.ModeIrregular
		}
		entries = append(entries, e)
	}
	return entries
}

// countDirents returns how many records b holds, at most.
func countDirents(b string) int {
	n := 0
	for len(b) >= 19 {
		reclen := int(binary.NativeEndian.Uint16([]byte(b[16:18])))
		if reclen < 19 || reclen > len(b) {
			break
		}
		b = b[reclen:]
		n++
	}
	return n
}

func modeType(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}
