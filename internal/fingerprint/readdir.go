package fingerprint

import (
	"io/fs"
	"sync"

	"github.com/podium-ml/podium/internal/statcache"
)

// dirEntry is one entry of a directory listing, with the lstat of a
// regular file.
type dirEntry struct {
	name      string
	typ       fs.FileMode // fs.ModeIrregular for what is neither file, directory nor link
	needStat  bool
	cacheable bool           // st keys the stat cache
	st        statcache.Stat // of a regular file; Size is set even when not cacheable
}

// unknownType marks an entry whose type the listing did not give.
const unknownType = fs.ModeIrregular | fs.ModeType

// minParallelStat is the directory size from which its stats are spread
// over the CPUs: below it, starting goroutines costs more than it saves.
const minParallelStat = 256

// statAll calls stat on every entry that needs it, in workers goroutines
// for a large directory, and returns the first error.
func statAll(entries []dirEntry, workers int, stat func(*dirEntry) error) error {
	n := 0
	for i := range entries {
		if entries[i].needStat {
			n++
		}
	}
	if n < minParallelStat || workers < 2 {
		return statRange(entries, stat)
	}
	chunk := (len(entries) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := min(w*chunk, len(entries)), min((w+1)*chunk, len(entries))
		wg.Go(func() { errs[w] = statRange(entries[lo:hi], stat) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func statRange(entries []dirEntry, stat func(*dirEntry) error) error {
	for i := range entries {
		if entries[i].needStat {
			if err := stat(&entries[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
