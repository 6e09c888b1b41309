package rundir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/diag"
)

// LockFile is the file in a directory whose lock a run holds while it
// writes there (flock on Unix). Its content is the holder's pid, for the
// message a waiting run prints.
const LockFile = ".podium.lock"

// LockedError says another podium run held the directory's lock for
// longer than the run was willing to wait.
type LockedError struct {
	Dir    string
	Holder string // the holder's pid, when it wrote one
	Waited time.Duration
}

func (e *LockedError) Error() string {
	who := "another podium run"
	if e.Holder != "" {
		who += " (pid " + e.Holder + ")"
	}
	return fmt.Sprintf("%s: %s still holds it after %s; runs in one directory take turns (wait for it, or give this run another --run-dir)",
		e.Dir, who, e.Waited.Round(time.Second))
}

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 50 * time.Millisecond

// Lock takes the exclusive lock on dir (which must exist), waiting up to
// wait for a run that holds it; waiting calls notify once with a message
// that says who holds it. The lock goes with the process: a run killed
// with SIGKILL releases it, so a stale lock never blocks the next run.
// release drops it.
func Lock(ctx context.Context, dir string, wait time.Duration, notify func(msg string)) (release func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscallNoFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to lock %s: %w", dir, err)
	}
	start := time.Now()
	notified := false
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("failed to lock %s: %w", dir, err)
		}
		if ok {
			break
		}
		holder := readHolder(path)
		if time.Since(start) >= wait {
			f.Close()
			return nil, &LockedError{Dir: dir, Holder: holder, Waited: time.Since(start)}
		}
		if !notified && notify != nil {
			who := "another podium run"
			if holder != "" {
				who += " (pid " + holder + ")"
			}
			notify(fmt.Sprintf("%s is in use by %s; waiting up to %s for it to finish", dir, who, wait.Round(time.Second)))
			notified = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
	// The pid is a note for whoever waits next; the lock is the flock.
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		f.Truncate(0)
		unlock(f)
		f.Close()
	}, nil
}

func readHolder(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	pid := strings.TrimSpace(string(data))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return pid
}

// SymlinkError is a run directory (or a directory on the way to it, or
// its logs/) that is a symbolic link. A link committed in the repository
// (.podium/run -> /somewhere) would make podium write, replace and delete
// files outside the work tree, so it is refused.
type SymlinkError struct {
	Path   string // the link
	Target string
	What   string // "run directory", "cache directory"
}

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("%s: the %s (or a directory on the way to it) is a symbolic link to %s; podium writes only through real directories, so that a link in the repository cannot send its files elsewhere (remove the link, or name a real directory)",
		e.Path, e.What, e.Target)
}

func (e *SymlinkError) Is(target error) bool { return target == diag.ErrInvalidInput }

// CheckNoSymlinks refuses dir when it, its logs/ (sub, when not ""), or a
// directory between root and it is a symbolic link. Directories above
// root are not checked: they are the machine's (a /tmp that is a link),
// not the repository's. dir and root are absolute.
func CheckNoSymlinks(dir, root, sub, what string) error {
	dir, root = filepath.Clean(dir), filepath.Clean(root)
	paths := []string{}
	if sub != "" {
		paths = append(paths, filepath.Join(dir, sub))
	}
	for p := dir; ; p = filepath.Dir(p) {
		paths = append(paths, p)
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil || !filepath.IsLocal(rel) || filepath.Dir(p) == p {
			break // p's parent is root or above it
		}
	}
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("failed to check %s: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			return &SymlinkError{Path: p, Target: target, What: what}
		}
	}
	return nil
}
