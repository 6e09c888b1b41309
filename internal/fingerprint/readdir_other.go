//go:build !linux

package fingerprint

import (
	"errors"
	"io/fs"
	"os"
	"slices"

	"github.com/podium-ml/podium/internal/statcache"
)

// readDir lists the directory f, calling found with the stat of each
// regular file (a directory opened through an os.Root stats its entries
// as it lists), sorted by cmpEntries.
func readDir(f *os.File, _ int, found func(e *dirEntry, st statcache.Stat, keyed bool)) ([]dirEntry, error) {
	list, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	entries := make([]dirEntry, 0, len(list))
	for _, d := range list {
		e := dirEntry{name: d.Name(), typ: d.Type()}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since it was listed
			}
			if err != nil {
				return nil, err
			}
			st, keyed := statcache.FromFileInfo(fi)
			e.size = fi.Size()
			found(&e, st, keyed)
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, cmpEntries)
	return entries, nil
}
