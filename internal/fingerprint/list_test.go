package fingerprint

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestListersKeepTheWalkOrder: directories listed ahead of the walk by
// several goroutines give the digest and the file list of the sha256sum
// pipeline, whatever the number of workers, cold and through a warm stat
// cache; names that sort around a directory ("a.txt" before "a/x",
// "a0" after) and links to directories (which the walk may list out of
// byte order) included. Run with -race.
func TestListersKeepTheWalkOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := layout{
		"a.txt": "1", "a-b": "2", "a0": "3", "a/x": "4", "a/y/z": "5",
		"b.txt": "6", "b": "-> d", "d/x": "7", "d/y.bin": "8",
		"file-link": "-> a/x",
	}
	for i := range 40 {
		tr[fmt.Sprintf("deep/%02d/sub/f-%d", i, i)] = fmt.Sprint(i)
		tr[fmt.Sprintf("deep/%02d.txt", i)] = fmt.Sprint(-i)
	}
	tr.write(t, dir)
	settle()
	want := shellDigest(t, dir)
	cache := filepath.Join(t.TempDir(), "stat-cache")
	var wantNames []string
	for _, workers := range []int{1, 2, 3, 8} {
		for range 3 {
			res, err := Compute(t.Context(), dir, &Options{Workers: workers, ListFiles: true})
			if err != nil {
				t.Fatal(err)
			}
			names := make([]string, len(res.Entries))
			for i, e := range res.Entries {
				names[i] = e.Name
			}
			if res.Digest != want || !slices.IsSorted(names) {
				t.Fatalf("%d workers: %s, want %s; names sorted: %v", workers, res.Digest, want, slices.IsSorted(names))
			}
			if wantNames == nil {
				wantNames = names
			} else if diff := cmp.Diff(wantNames, names); diff != "" {
				t.Fatalf("%d workers: files (-first +now):\n%s", workers, diff)
			}
		}
	}
	if got, _ := digestWith(t, dir, cache); got != want {
		t.Errorf("cold: %s, want %s", got, want)
	}
	if got, hits := digestWith(t, dir, cache); got != want || hits != len(wantNames) {
		t.Errorf("warm: %s, %d hits; want %s, %d hits", got, hits, want, len(wantNames))
	}
}

// TestListersFirstErrorIsTheWalks: with links that dangle in several
// directories, the error names the first in walk order, however many
// goroutines list ahead.
func TestListersFirstErrorIsTheWalks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := layout{}
	for i := range 30 {
		tr[fmt.Sprintf("d%02d/f", i)] = "x"
		if i >= 7 {
			tr[fmt.Sprintf("d%02d/gone", i)] = "-> nowhere"
		}
	}
	tr.write(t, dir)
	for _, workers := range []int{1, 2, 8} {
		for range 5 {
			_, err := Compute(t.Context(), dir, &Options{Workers: workers})
			if err == nil || !strings.Contains(err.Error(), filepath.Join("d07", "gone")) {
				t.Fatalf("%d workers: %v, want the error of d07/gone", workers, err)
			}
		}
	}
}

func TestCmpEntries(t *testing.T) {
	t.Parallel()
	entry := func(name string, typ fs.FileMode) dirEntry {
		return dirEntry{name: name, typ: typ}
	}
	entries := []dirEntry{
		entry("a0", 0), entry("a", fs.ModeDir), entry("a.txt", 0), entry("a-b", 0),
		entry("b", 0), entry("ab", fs.ModeDir), entry("", 0),
	}
	slices.SortFunc(entries, cmpEntries)
	var got []string
	for _, e := range entries {
		got = append(got, e.name)
	}
	// As the paths below them sort: "a-b" < "a.txt" < "a/..." < "a0".
	want := []string{"", "a-b", "a.txt", "a", "a0", "ab", "b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
