package shipping

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	architectureDoc = "docs/architecture.md"
	modulePath      = "github.com/podium-ml/podium"
)

// TestArchitecture holds the code to the layers docs/architecture.md
// lists: every package is in exactly one layer, and no production file
// imports a package of a layer its own row does not name. So the document
// cannot drift from the code.
func TestArchitecture(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	md, err := os.ReadFile(filepath.Join(root, architectureDoc))
	if err != nil {
		t.Fatal(err)
	}
	l, err := parseLayers(string(md))
	if err != nil {
		t.Fatalf("%s: %v", architectureDoc, err)
	}
	imports := packageImports(t, root)
	if len(imports) < 20 {
		t.Fatalf("found %d packages; the walk is broken and the check would pass vacuously", len(imports))
	}
	for _, v := range l.violations(imports) {
		t.Errorf("%s: %s", architectureDoc, v)
	}
	// "Only cli picks a host backend": the use cases work on scm.Host.
	for pkg, deps := range imports {
		for _, backend := range []string{"internal/scm/github", "internal/scm/gitlab"} {
			if slices.Contains(deps, backend) && l.of[pkg] != "cli" && l.of[pkg] != "test support" {
				t.Errorf("%s: %s imports the backend %s; only cli picks one", architectureDoc, pkg, backend)
			}
		}
	}
}

// TestArchitectureViolations: the check finds each kind of break.
func TestArchitectureViolations(t *testing.T) {
	t.Parallel()
	const doc = `# Architecture

## Layers

| Layer | Packages | May import |
| --- | --- | --- |
| cli | ` + "`internal/cli`" + ` | use case, plumbing |
| use case | ` + "`internal/gate`, `internal/report`" + ` | use case, plumbing |
| plumbing | ` + "`internal/diag`" + ` | plumbing |
| test support | ` + "`internal/fake`" + ` | any |

## Data path

| Step | Command |
| --- | --- |
| spec | ` + "`podium validate`" + ` |
`
	l, err := parseLayers(doc)
	if err != nil {
		t.Fatal(err)
	}
	clean := map[string][]string{
		"internal/cli":    {"internal/gate", "internal/diag"},
		"internal/gate":   {"internal/diag"},
		"internal/report": {"internal/gate"},
		"internal/diag":   nil,
		"internal/fake":   {"internal/cli"},
	}
	with := func(pkg string, deps ...string) map[string][]string {
		m := map[string][]string{}
		for k, v := range clean {
			m[k] = v
		}
		m[pkg] = append(slices.Clone(m[pkg]), deps...)
		return m
	}
	tests := []struct {
		name    string
		imports map[string][]string
		want    []string
	}{
		{name: "as documented", imports: clean},
		{
			name:    "plumbing reaches up",
			imports: with("internal/diag", "internal/cli"),
			want:    []string{"internal/diag (plumbing) imports internal/cli (cli); plumbing may import plumbing"},
		},
		{
			name:    "production imports a fake",
			imports: with("internal/gate", "internal/fake"),
			want:    []string{"internal/gate (use case) imports internal/fake (test support); use case may import use case, plumbing"},
		},
		{
			name:    "a package the table does not list",
			imports: with("internal/newpkg"),
			want:    []string{"internal/newpkg is in no layer: add it to the row it belongs to"},
		},
		{
			name: "a listed package that is gone",
			imports: func() map[string][]string {
				m := with("internal/cli")
				delete(m, "internal/report")
				return m
			}(),
			want: []string{"internal/report is listed but is not a package"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, l.violations(tt.imports)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

// layers is the table of docs/architecture.md's "Layers" section.
type layers struct {
	of  map[string]string   // package -> its layer
	may map[string][]string // layer -> the layers it may import, as written; "any" for all
}

var backticked = regexp.MustCompile("`([^`]+)`")

// parseLayers reads the table under "## Layers": a row per layer, with the
// layer's name, its packages in backticks, and the layers it may import.
func parseLayers(md string) (*layers, error) {
	_, section, ok := strings.Cut(md, "\n## Layers\n")
	if !ok {
		return nil, fmt.Errorf("no \"## Layers\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	l := &layers{of: map[string]string{}, may: map[string][]string{}}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) != 3 || cells[0] == "Layer" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		layer := cells[0]
		l.may[layer] = []string{}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			if prev, dup := l.of[m[1]]; dup {
				return nil, fmt.Errorf("%s is in two layers, %s and %s", m[1], prev, layer)
			}
			l.of[m[1]] = layer
		}
		for _, dep := range strings.Split(cells[2], ",") {
			l.may[layer] = append(l.may[layer], strings.TrimSpace(dep))
		}
	}
	if len(l.may) == 0 {
		return nil, fmt.Errorf("no layer rows under \"## Layers\"")
	}
	for layer, deps := range l.may {
		for _, dep := range deps {
			if _, ok := l.may[dep]; !ok && dep != "any" {
				return nil, fmt.Errorf("layer %s may import %q, which is no layer", layer, dep)
			}
		}
	}
	return l, nil
}

// violations lists what in imports (package -> the module's packages its
// production files import) breaks the table.
func (l *layers) violations(imports map[string][]string) []string {
	var out []string
	for _, pkg := range slices.Sorted(maps.Keys(imports)) {
		layer, ok := l.of[pkg]
		if !ok {
			out = append(out, pkg+" is in no layer: add it to the row it belongs to")
			continue
		}
		for _, dep := range slices.Sorted(slices.Values(imports[pkg])) {
			dl, ok := l.of[dep]
			if !ok || slices.Contains(l.may[layer], "any") || slices.Contains(l.may[layer], dl) {
				continue // an unlisted dep is reported as a package of its own
			}
			out = append(out, fmt.Sprintf("%s (%s) imports %s (%s); %s may import %s",
				pkg, layer, dep, dl, layer, strings.Join(l.may[layer], ", ")))
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(l.of)) {
		if _, ok := imports[pkg]; !ok {
			out = append(out, pkg+" is listed but is not a package")
		}
	}
	return out
}

// packageImports returns every package under cmd/ and internal/ (by its
// path in the module) with the module's packages its non-test files
// import, whatever their build constraints.
func packageImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	imports := map[string][]string{}
	fset := token.NewFileSet()
	for _, top := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") {
				return nil
			}
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			pkg := filepath.ToSlash(rel)
			if _, ok := imports[pkg]; !ok {
				imports[pkg] = nil
			}
			if strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, err := strconv.Unquote(imp.Path.Value)
				if err != nil {
					return err
				}
				if dep, ok := strings.CutPrefix(p, modulePath+"/"); ok && !slices.Contains(imports[pkg], dep) {
					imports[pkg] = append(imports[pkg], dep)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return imports
}
