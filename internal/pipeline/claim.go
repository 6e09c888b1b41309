package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/rundir"
)

// DefaultLockWait is how long a run waits for another run of the same
// workspace or run directory before it fails.
const DefaultLockWait = 30 * time.Minute

// claim makes the run directory this run's, before any step starts:
//
//   - The run directory, its logs/ and the step cache must be real
//     directories below the work tree: a symbolic link committed in the
//     repository (.podium/run -> elsewhere) is refused.
//   - It takes the exclusive locks of the step cache (the workspace: the
//     steps' outputs and cache entries live there) and of the run
//     directory, in that order, so that two runs never interleave their
//     writes and run.json always describes the files on disk. A second
//     run waits, saying so, up to Options.LockWait.
//   - It removes the temporary files a killed run left behind, and the
//     previous compare.json (a decision about a run.json about to be
//     replaced). The previous run.json stays until the new one replaces
//     it whole.
//
// release drops the locks.
func (r *runner) claim(ctx context.Context) (release func(), err error) {
	if err := rundir.CheckNoSymlinks(r.runDir, r.boundary, rundir.LogsDir, "run directory"); err != nil {
		return nil, err
	}
	if err := rundir.CheckNoSymlinks(r.cache.dir, r.boundary, "steps", "cache directory"); err != nil {
		return nil, err
	}
	for _, d := range []string{filepath.Join(r.runDir, rundir.LogsDir), r.cache.dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("failed to create %s: %w", d, err)
		}
	}
	wait := r.opts.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	notify := func(msg string) { r.logf("%s", msg) }
	var releases []func()
	release = func() {
		for i := len(releases) - 1; i >= 0; i-- {
			releases[i]()
		}
	}
	dirs := []string{r.cache.dir}
	if r.runDir != r.cache.dir {
		dirs = append(dirs, r.runDir)
	}
	for _, d := range dirs {
		rel, err := rundir.Lock(ctx, d, wait, notify)
		if err != nil {
			release()
			return nil, err
		}
		releases = append(releases, rel)
	}

	var stale []string
	for _, d := range []string{r.runDir, filepath.Join(r.runDir, rundir.LogsDir), filepath.Join(r.cache.dir, "steps")} {
		removed, err := atomicfile.RemoveStale(d)
		if err != nil {
			release()
			return nil, err
		}
		stale = append(stale, removed...)
	}
	if len(stale) > 0 {
		r.logf("removed %d temporary files an interrupted run left behind (%s)", len(stale), strings.Join(stale, ", "))
	}
	if err := os.Remove(filepath.Join(r.runDir, rundir.CompareFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		release()
		return nil, fmt.Errorf("failed to clear run directory: %w", err)
	}
	return release, nil
}
