package shipping

import (
	"bytes"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rhysd/actionlint"
)

// actionlint over every shipped workflow, as `make lint` runs it (here
// without shellcheck, which the lint job adds when it is installed). It
// also reads the local actions a workflow uses.
func TestActionlint(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	var out bytes.Buffer
	l := newLinter(t, &out, root)
	var paths []string
	for _, f := range glob(t, root, workflowFiles...) {
		paths = append(paths, filepath.Join(root, f))
	}
	errs, err := l.LintFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint found %d problems:\n%s", len(errs), out.String())
	}
}

// linterMu serializes actionlint.NewLinter, which sets fatih/color's
// global NoColor: tests that lint run in parallel.
var linterMu sync.Mutex

// newLinter returns an actionlint linter for the repository at root,
// writing to out without color.
func newLinter(t *testing.T, out io.Writer, root string) *actionlint.Linter {
	t.Helper()
	linterMu.Lock()
	defer linterMu.Unlock()
	l, err := actionlint.NewLinter(out, &actionlint.LinterOptions{WorkingDir: root, Color: actionlint.ColorOptionKindNever})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
