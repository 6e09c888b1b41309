//go:build unix

package rundir

import (
	"errors"
	"os"
	"syscall"
)

// syscallNoFollow makes opening the lock file fail on a symbolic link.
const syscallNoFollow = syscall.O_NOFOLLOW

func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func unlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
