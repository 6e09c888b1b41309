package shipping

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fileClaim is the first line of a fenced block that quotes a file:
// `# path/to/file.yml`, the same comment the file itself starts with.
var fileClaim = regexp.MustCompile(`^# ([A-Za-z0-9_./-]+\.(?:ya?ml|sh|json|toml))$`)

// fencedBlock is a ``` block of a Markdown file.
type fencedBlock struct {
	line int // 1-based line of the opening fence
	lang string
	body string
}

// fencedBlocks returns the fenced code blocks of a Markdown document.
func fencedBlocks(md string) []fencedBlock {
	var blocks []fencedBlock
	lines := strings.SplitAfter(md, "\n")
	for i := 0; i < len(lines); i++ {
		open := strings.TrimRight(lines[i], "\n")
		fence := strings.TrimLeft(open, " ")
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		b := fencedBlock{line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(fence, "```"))}
		var body strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body.WriteString(lines[i])
		}
		b.body = body.String()
		blocks = append(blocks, b)
	}
	return blocks
}

// Every fenced block in the README and docs/ that says which file it is
// (its first line is `# <path>`) is that file, byte for byte: the snippets
// users copy are the files the tests check.
func TestDocsQuoteFilesExactly(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	quoted := 0
	for _, doc := range docs {
		data, err := os.ReadFile(doc)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, doc)
		for _, b := range fencedBlocks(string(data)) {
			first, _, _ := strings.Cut(b.body, "\n")
			m := fileClaim.FindStringSubmatch(first)
			if m == nil {
				continue
			}
			quoted++
			want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m[1])))
			if err != nil {
				t.Errorf("%s:%d: the block quotes %s, which cannot be read: %v", rel, b.line, m[1], err)
				continue
			}
			if b.body != string(want) {
				t.Errorf("%s:%d: the block differs from %s; paste the file again (first difference at byte %d)",
					rel, b.line, m[1], firstDiff(b.body, string(want)))
			}
		}
	}
	if quoted == 0 {
		t.Error("no fenced block in the docs quotes a file; the check would pass vacuously")
	}
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func TestFencedBlocks(t *testing.T) {
	t.Parallel()
	md := "text\n```yaml\n# a.yml\nx: 1\n```\n\n  ```\nplain\n  ```\n"
	got := fencedBlocks(md)
	if len(got) != 2 || got[0].lang != "yaml" || got[0].body != "# a.yml\nx: 1\n" || got[0].line != 2 || got[1].body != "plain\n" {
		t.Errorf("fencedBlocks() = %+v", got)
	}
}
