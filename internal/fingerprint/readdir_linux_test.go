package fingerprint

import (
	"encoding/binary"
	"io/fs"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// dirent64 builds one getdents64 record.
func dirent64(ino uint64, typ byte, name string) []byte {
	reclen := (19 + len(name) + 1 + 7) &^ 7
	b := make([]byte, reclen)
	binary.NativeEndian.PutUint64(b[0:], ino)
	binary.NativeEndian.PutUint16(b[16:], uint16(reclen))
	b[18] = typ
	copy(b[19:], name)
	return b
}

func TestParseDirents(t *testing.T) {
	t.Parallel()
	var buf []byte
	for _, r := range [][]byte{
		dirent64(1, unix.DT_DIR, "."),
		dirent64(1, unix.DT_DIR, ".."),
		dirent64(2, unix.DT_REG, "file"),
		dirent64(0, unix.DT_REG, "deleted"),
		dirent64(3, unix.DT_DIR, "sub"),
		dirent64(4, unix.DT_LNK, "link"),
		dirent64(5, unix.DT_UNKNOWN, "unknown"),
		dirent64(6, unix.DT_FIFO, "fifo"),
	} {
		buf = append(buf, r...)
	}
	buf = append(buf, 1, 2, 3) // a torn record at the end is ignored
	type row struct {
		Name     string
		Typ      fs.FileMode
		NeedStat bool
	}
	var got []row
	for _, e := range parseDirents(buf, nil) {
		got = append(got, row{e.name, e.typ, e.needStat})
		// fstatat is given the name as it is, so a NUL must follow it.
		if b := unsafe.Slice(unsafe.StringData(e.name), len(e.name)+1); b[len(e.name)] != 0 {
			t.Errorf("%q is followed by %q, not a NUL", e.name, b[len(e.name)])
		}
	}
	clear(buf) // the names are copies: reusing the buffer leaves them as they are
	if got[0].Name != "file" {
		t.Errorf("the first name is %q after the buffer was cleared, want \"file\"", got[0].Name)
	}
	want := []row{
		{"file", 0, true},
		{"sub", fs.ModeDir, false},
		{"link", fs.ModeSymlink, false},
		{"unknown", unknownType, true},
		{"fifo", fs.ModeIrregular, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDirents (-want +got):\n%s", diff)
	}
}
