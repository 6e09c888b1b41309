package fingerprint

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"iter"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/podium-ml/podium/internal/statcache"
)

// readDir lists the directory f (opened through the tree's os.Root) with
// getdents and stats its regular files with fstatat relative to it,
// calling found with each regular file's stat. os.File.ReadDir on a
// directory opened through an os.Root stats every entry into an
// fs.FileInfo; this does the same syscalls without the allocations, and
// spreads the stats over the CPUs, since on a warm stat cache they are
// all the walk does. The entries come sorted by cmpEntries.
//
// found may be called from several goroutines at once, each with its own
// entry.
func readDir(f *os.File, workers int, found func(e *dirEntry, st statcache.Stat, keyed bool)) ([]dirEntry, error) {
	fd := int(f.Fd())
	sc := readScratches.Get().(*readScratch)
	defer readScratches.Put(sc)
	raw := sc.raw[:0]
	for {
		if cap(raw)-len(raw) < direntBufSize {
			raw = slices.Grow(raw, direntBufSize)
		}
		n, err := unix.Getdents(fd, raw[len(raw):cap(raw)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			sc.raw = raw
			return nil, &os.PathError{Op: "readdirent", Path: f.Name(), Err: err}
		}
		if n <= 0 {
			break
		}
		raw = raw[:len(raw)+n]
	}
	sc.raw = raw
	// The names are sorted as small dirents, and only then the entries
	// made: entries are large, and sorting them would move them all.
	names := parseDirents(raw, sc.names[:0])
	defer func() { clear(names); sc.names = names[:0] }()
	slices.SortFunc(names, func(a, b dirent) int {
		return cmpDirNames(a.name, a.typ == fs.ModeDir, b.name, b.typ == fs.ModeDir)
	})
	entries := make([]dirEntry, len(names))
	unknown := false
	for i, d := range names {
		e := &entries[i]
		e.name, e.typ, e.needStat = d.name, d.typ, d.needStat
		unknown = unknown || d.typ == unknownType
	}
	err := statAll(entries, workers, func(e *dirEntry) error {
		var st syscall.Stat_t
		for {
			err := fstatat(fd, e.name, &st)
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.ENOENT {
				// Removed since it was listed: as os.File.ReadDir, skip it.
				e.typ = fs.ModeIrregular
				return nil
			}
			if err != nil {
				return &os.PathError{Op: "lstat", Path: e.name, Err: err}
			}
			break
		}
		if e.typ = modeType(st.Mode); e.typ == 0 {
			e.size = st.Size
			s, keyed := statcache.FromSys(&st)
			found(e, s, keyed)
		}
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
	name     string // a NUL follows it in memory, as fstatat needs
	typ      fs.FileMode
	needStat bool
}

// direntBufSize is the room each getdents call gets.
const direntBufSize = 32 << 10

// readScratch is what readDir needs only while it runs. Fresh memory for
// each directory would cost page faults; a pool of it costs none.
type readScratch struct {
	raw   []byte   // getdents records
	names []dirent // parsed from raw, sorted
}

var readScratches = sync.Pool{New: func() any { return &readScratch{raw: make([]byte, 0, 2*direntBufSize)} }}

// parseDirents appends the entries of a getdents64 buffer to entries:
// each record is d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1),
// then the name, NUL-terminated. The names are copied out of b into one
// string, each still followed by its NUL: b is reused, the names are
// kept, and a record (a 19-byte header, the name, padding to 8 bytes)
// is three or four times its name.
func parseDirents(b []byte, entries []dirent) []dirent {
	size := 0
	for name := range records(b) {
		size += len(name) + 1
	}
	var all strings.Builder
	all.Grow(size)
	for name := range records(b) {
		all.Write(name)
		all.WriteByte(0)
	}
	names := all.String()
	for name, typ := range records(b) {
		e := dirent{name: names[:len(name)], typ: unknownType}
		names = names[len(name)+1:]
		switch typ {
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

// records yields the name and d_type of each record of a getdents64
// buffer that lists an entry: not a deleted one, ".", "..", or a torn
// record, whose name has no NUL.
func records(b []byte) iter.Seq2[[]byte, byte] {
	return func(yield func([]byte, byte) bool) {
		for len(b) >= 19 {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return
			}
			rec := b[:reclen]
			b = b[reclen:]
			if binary.NativeEndian.Uint64(rec[0:8]) == 0 {
				continue // a deleted entry
			}
			name, _, ok := bytes.Cut(rec[19:], []byte{0})
			if !ok || len(name) == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			if !yield(name, rec[18]) {
				return
			}
		}
	}
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
