package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/spec"
)

// discoverSpec finds podium.yaml as git finds .git: when --spec is not
// given and the current directory has no podium.yaml, the nearest one
// above it is used, up to the repository's root (the first directory that
// holds .git) or the filesystem's. The file used is said on stderr, so
// that running from pipeline/ does not silently read another spec.
func discoverSpec(cmd *cobra.Command, errOut io.Writer) error {
	fl := cmd.Flags().Lookup("spec")
	if fl == nil || fl.Changed || fl.Value.String() != spec.DefaultFile {
		return nil
	}
	if _, err := os.Lstat(spec.DefaultFile); err == nil {
		return nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	found := findUpward(wd, spec.DefaultFile)
	if found == "" {
		return nil
	}
	rel, err := filepath.Rel(wd, found)
	if err != nil {
		rel = found
	}
	if err := fl.Value.Set(rel); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "podium: using %s (no %s here; found it above, as git finds .git)\n", rel, spec.DefaultFile)
	return nil
}

// findUpward returns the path of name in the nearest parent of dir that
// holds it (dir itself excluded), stopping at a directory holding .git.
func findUpward(dir, name string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			return filepath.Join(dir, name)
		}
	}
}
