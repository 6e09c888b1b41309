package fingerprint

import (
	"errors"
	"io"

	"github.com/podium-ml/podium/internal/statcache"
)

// statFile is a file opened for hashing.
type statFile interface {
	io.Reader
	Close() error
	// stat returns the file's stat, and whether it can key the stat cache.
	// A file that is not regular (a FIFO or device swapped in for it) is
	// an error.
	stat() (st statcache.Stat, cacheable bool, err error)
}

var errNotRegular = errors.New("not a regular file")
