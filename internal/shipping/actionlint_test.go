package shipping

import (
	"bytes"
	"path/filepath"
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
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{WorkingDir: root, Color: actionlint.ColorOptionKindNever})
	if err != nil {
		t.Fatal(err)
	}
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
