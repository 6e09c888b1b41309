package fingerprint

import (
	"io/fs"
	"sync"
)

// dirEntry is one entry of a directory listing: its name, and for a
// regular file its size and what the stat cache knows (or, for a file to
// hash, its stat in more). A regular file's entry is the file's
// fileEntry, the walk filling in the rest.
type dirEntry = fileEntry

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
