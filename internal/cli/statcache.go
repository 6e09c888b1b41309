package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/internal/statcache"
)

// statCacheHelp ends the help of every command that fingerprints.
const statCacheHelp = `Digests of files whose size, modification and change times, inode and
device are unchanged since they were hashed come from the stat cache
(<cache.path>/stat-cache next to the step cache; for podium fingerprint,
podium/stat-cache in the user cache directory) instead of being read
again. --no-stat-cache hashes every file; deleting the file clears it.`

func addNoStatCacheFlag(cmd *cobra.Command, p *bool) {
	cmd.Flags().BoolVar(p, "no-stat-cache", false, "hash every file in full, ignoring the stat cache")
}

// specStatCache opens the stat cache next to the spec's step cache; nil
// when off, or when cache.path is not a path podium would use (the
// pipeline reports that).
func specStatCache(s *spec.Spec, off bool) *statcache.Cache {
	if off {
		return nil
	}
	p := s.Cache.Path
	if p == "" {
		p = spec.DefaultCachePath
	}
	clean, err := fingerprint.Local(p)
	if err != nil {
		return nil
	}
	return statcache.Open(filepath.Join(s.Dir, filepath.FromSlash(clean), statcache.FileName))
}

// userStatCache opens the stat cache podium fingerprint uses, which has no
// spec: in the user's cache directory ($XDG_CACHE_HOME, ~/.cache,
// ~/Library/Caches). nil when off or when there is no such directory.
func userStatCache(off bool) *statcache.Cache {
	if off {
		return nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	return statcache.Open(filepath.Join(dir, "podium", statcache.FileName))
}

// saveStatCache writes what the command hashed; failing to is a warning,
// never an error: the cache only saves time.
func saveStatCache(c *statcache.Cache, errOut io.Writer) {
	if err := c.Save(); err != nil {
		fmt.Fprintf(errOut, "warning: %v\n", err)
	}
}
