package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/podium-ml/podium/internal/ci"
)

// pathOutputs are the outputs that name a file or directory. A later step
// or job reads them, maybe on another machine or in another directory
// (GitLab jobs each get their own clone; a GitHub container step saw the
// workspace elsewhere), so each is written relative to the workspace.
var pathOutputs = map[string]bool{"run-dir": true, "report": true, "record": true}

// workspaceOutputs wraps p so that every path output is relative to the
// workspace (GITHUB_WORKSPACE, CI_PROJECT_DIR) when it lies inside it.
// Locally, or for a path outside the workspace, the value is unchanged.
func workspaceOutputs(p ci.Platform, getenv func(string) string) ci.Platform {
	ws := getenv("GITHUB_WORKSPACE")
	if p.Name() != "github-actions" || ws == "" {
		ws = getenv("CI_PROJECT_DIR")
	}
	if p.Name() == "local" || ws == "" {
		return p
	}
	return &relativeOutputs{Platform: p, workspace: ws}
}

type relativeOutputs struct {
	ci.Platform
	workspace string
}

func (r *relativeOutputs) SetOutput(name, value string) error {
	if pathOutputs[name] && value != "" {
		value = relativeTo(r.workspace, value)
	}
	return r.Platform.SetOutput(name, value)
}

// relativeTo returns path (absolute, or relative to the working directory)
// relative to dir, with forward slashes, or path unchanged when it is not
// inside dir.
func relativeTo(dir, path string) string {
	abs := path
	if !filepath.IsAbs(abs) {
		wd, err := os.Getwd()
		if err != nil {
			return path
		}
		abs = filepath.Join(wd, abs)
	}
	if rel, ok := inside(dir, abs); ok {
		return rel
	}
	// The workspace may be reached through a symbolic link (macOS /tmp).
	realDir, err1 := filepath.EvalSymlinks(dir)
	realAbs, err2 := evalExisting(abs)
	if err1 == nil && err2 == nil {
		if rel, ok := inside(realDir, realAbs); ok {
			return rel
		}
	}
	return path
}

func inside(dir, abs string) (string, bool) {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(abs))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// evalExisting resolves the symbolic links of the longest existing prefix
// of path.
func evalExisting(path string) (string, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real, nil
	}
	parent, base := filepath.Split(filepath.Clean(path))
	if parent == "" || filepath.Clean(parent) == filepath.Clean(path) {
		return path, nil
	}
	real, err := evalExisting(filepath.Clean(parent))
	if err != nil {
		return "", err
	}
	return filepath.Join(real, base), nil
}
